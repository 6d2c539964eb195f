package dev.mjrelay.testing;

import io.restassured.response.ValidatableResponse;

import java.util.Map;

import static io.restassured.RestAssured.given;

/** The relay's HTTP API as the test accounts use it. */
public final class Api {

    public static final String ALICE = "alice-key";
    public static final String BOB = "bob-key";
    public static final String ALICE_SECRET = "whsec_87a7qHKu+/Q3yx/byKHZvKMqLfo7rVLclGVZf6nppYQ=";
    public static final String BOB_SECRET = "whsec_Zxb54sG+2RUFPY5bAE2JGWk7F68Yk5X9QdyH5eRHWcs=";

    private Api() {
    }

    public static ValidatableResponse post(String key, String path, Object body) {
        return given().header("Authorization", "Bearer " + key).contentType("application/json").body(body)
                .when().post(path).then();
    }

    /** Submits and returns the new task id, failing unless the relay answered 200 / code 1. */
    public static String submit(String key, String path, Map<String, ?> body) {
        return post(key, path, body).statusCode(200).extract().path("result");
    }

    public static ValidatableResponse fetch(String key, String taskId) {
        return given().header("Authorization", "Bearer " + key).when().get("/mj/task/" + taskId + "/fetch").then();
    }
}
