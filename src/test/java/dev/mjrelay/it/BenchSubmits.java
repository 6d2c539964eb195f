package dev.mjrelay.it;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/** The benchmark parts' submitting clients: imagine jobs, a number at a time, as fast as the relay takes them. */
final class BenchSubmits {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One job: whose key, a label for the results (its account, say), and the body. */
    record Job(String key, String label, String body) {
    }

    /** A job the relay accepted: its task id, its label, and when it was sent. */
    record Accepted(String taskId, String label, long at) {
    }

    private BenchSubmits() {
    }

    /** Submits {@code n} jobs, {@code concurrency} at a time; a job not answered 200 is left out (counted lost). */
    static List<Accepted> submit(RelayProcess relay, int n, int concurrency, IntFunction<Job> jobs) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        Semaphore inFlight = new Semaphore(concurrency);
        List<Accepted> accepted = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<?>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Job job = jobs.apply(i);
            inFlight.acquire();
            long at = System.currentTimeMillis();
            HttpRequest request = HttpRequest.newBuilder(URI.create(relay.url() + "/mj/submit/imagine"))
                    .header("Authorization", "Bearer " + job.key()).header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(job.body())).build();
            all.add(client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
                inFlight.release();
                if (error == null && response.statusCode() == 200) {
                    try {
                        accepted.add(new Accepted(JSON.readTree(response.body()).path("result").asText(), job.label(), at));
                    } catch (IOException ignored) {
                        // counted as lost
                    }
                }
            }));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
        return accepted;
    }
}
