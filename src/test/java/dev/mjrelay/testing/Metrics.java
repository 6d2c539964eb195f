package dev.mjrelay.testing;

import static io.restassured.RestAssured.given;

/** Reads the test relay's /q/metrics. */
public final class Metrics {

    private Metrics() {
    }

    /** The value of one series, written as /q/metrics writes it (labels in order); 0 when it is not there. */
    public static double value(String series) {
        String start = series + " ";
        return given().get("/q/metrics").then().statusCode(200).extract().asString().lines()
                .filter(line -> line.startsWith(start))
                // a counter's line may go on with an exemplar: "12.0 # {span_id=...} 1.0 ..."
                .mapToDouble(line -> Double.parseDouble(line.substring(start.length()).split(" ")[0])).sum();
    }

    /** Whether the series is on /q/metrics at all. */
    public static boolean shows(String series) {
        return given().get("/q/metrics").then().statusCode(200).extract().asString().lines()
                .anyMatch(line -> line.startsWith(series + " "));
    }
}
