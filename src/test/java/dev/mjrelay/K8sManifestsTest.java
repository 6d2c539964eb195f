package dev.mjrelay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mjrelay.testing.ImageJvmOptions;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.runtime.configuration.DurationConverter;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kubernetes manifests render (with `kubectl kustomize` where kubectl exists, else by reading
 * the listed files) and agree with the application: probe paths answer, ports match, the grace
 * period outlasts the shutdown (delay, requests in flight, drain).
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class K8sManifestsTest {

    private static final YAMLMapper YAML = new YAMLMapper();

    @ConfigProperty(name = "relay.shutdown.drain-timeout")
    Duration drainTimeout;

    @Test
    void theBaseDeploymentMatchesTheApplication() throws Exception {
        List<JsonNode> objects = render("k8s/base");
        JsonNode deployment = find(objects, "Deployment", "mj-relay");
        JsonNode pod = deployment.path("spec").path("template").path("spec");
        JsonNode container = pod.path("containers").get(0);

        // the port the packaged application listens on (tests run on the test port)
        int httpPort = prodHttpPort();
        JsonNode port = container.path("ports").get(0);
        assertEquals(httpPort, port.path("containerPort").asInt());
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            JsonNode get = container.path(probe).path("httpGet");
            assertEquals(port.path("name").asText(), get.path("port").asText(), probe + " port");
            given().get(get.path("path").asText()).then().statusCode(200);
        }
        // SIGTERM: served while load balancers take the pod out, then requests held, then the workers' drain
        long shutdown = prodDuration("quarkus.shutdown.delay").plus(prodDuration("quarkus.shutdown.timeout"))
                .plus(drainTimeout).toSeconds();
        assertTrue(pod.path("terminationGracePeriodSeconds").asLong() >= shutdown + 5,
                "grace period outlasts the shutdown's " + shutdown + " s");
        // the deployment's JAVA_OPTS replace the image's: it must keep them all (the collector among them)
        assertEquals(ImageJvmOptions.image(), javaOpts(container), "JAVA_OPTS of the deployment and of deploy/Dockerfile");
        assertTrue(container.path("securityContext").path("readOnlyRootFilesystem").asBoolean());
        assertTrue(pod.path("securityContext").path("runAsNonRoot").asBoolean());
        assertEquals(2, deployment.path("spec").path("replicas").asInt());

        JsonNode service = find(objects, "Service", "mj-relay");
        assertEquals(port.path("name").asText(), service.path("spec").path("ports").get(0).path("targetPort").asText());
        assertNotNull(find(objects, "HorizontalPodAutoscaler", "mj-relay"));
        assertNotNull(find(objects, "PodDisruptionBudget", "mj-relay"));
        assertEquals(prodHttpPort(), find(objects, "NetworkPolicy", "mj-relay").path("spec").path("ingress").get(0)
                .path("ports").get(0).path("port").asInt());
    }

    @Test
    void theTryItOverlayAddsRedisWithAofAndASimulator() throws Exception {
        List<JsonNode> objects = render("k8s/overlays/try-it");
        JsonNode redis = find(objects, "StatefulSet", "redis");
        assertTrue(redis.path("spec").path("template").path("spec").path("containers").get(0).path("args").toString()
                .contains("\"--appendonly\",\"yes\""));
        assertFalse(redis.path("spec").path("volumeClaimTemplates").isEmpty());
        JsonNode simulator = find(objects, "Deployment", "mj-sim");
        assertNotNull(simulator);
        assertEquals(ImageJvmOptions.image() + " -Dquarkus.profile=demo",
                javaOpts(simulator.path("spec").path("template").path("spec").path("containers").get(0)),
                "the simulator is the image's relay in demo mode, on the image's JVM options");
        assertNotNull(find(objects, "Secret", "mj-relay-secrets"));
        assertEquals("http://mj-sim:8080/sim", find(objects, "ConfigMap", "mj-relay-config").path("data")
                .path("RELAY_UPSTREAM_URL").asText());
    }

    @Test
    void thePrometheusOperatorComponentScrapesTheServiceAndCarriesTheAlertRules() throws Exception {
        List<JsonNode> objects = render("k8s/overlays/monitored");
        JsonNode service = find(objects, "Service", "mj-relay");
        JsonNode monitor = find(objects, "ServiceMonitor", "mj-relay");
        assertFalse(monitor.path("spec").path("selector").path("matchLabels").isEmpty(), "the monitor selects by label");
        monitor.path("spec").path("selector").path("matchLabels").fields().forEachRemaining(label ->
                assertEquals(label.getValue().asText(), service.path("metadata").path("labels").path(label.getKey()).asText(),
                        "the monitor selects the Service by " + label.getKey()));
        JsonNode endpoint = monitor.path("spec").path("endpoints").get(0);
        List<String> servicePorts = new ArrayList<>();
        service.path("spec").path("ports").forEach(port -> servicePorts.add(port.path("name").asText()));
        assertTrue(servicePorts.contains(endpoint.path("port").asText()), "a port the Service names: " + servicePorts);
        JsonNode annotations = find(objects, "Deployment", "mj-relay").path("spec").path("template").path("metadata")
                .path("annotations");
        assertEquals(annotations.path("prometheus.io/path").asText(), endpoint.path("path").asText());
        given().get(endpoint.path("path").asText()).then().statusCode(200);

        JsonNode rules = find(objects, "PrometheusRule", "mj-relay");
        assertEquals(YAML.readTree(new File("deploy/prometheus-alerts.yaml")).path("groups"), rules.path("spec").path("groups"),
                "the PrometheusRule carries deploy/prometheus-alerts.yaml's groups as they are");
    }

    private static String javaOpts(JsonNode container) {
        for (JsonNode env : container.path("env")) {
            if ("JAVA_OPTS".equals(env.path("name").asText())) {
                return env.path("value").asText();
            }
        }
        throw new AssertionError("the container sets no JAVA_OPTS");
    }

    private static int prodHttpPort() throws IOException {
        return Integer.parseInt(prodSetting("quarkus.http.port"));
    }

    private static Duration prodDuration(String key) throws IOException {
        return DurationConverter.parseDuration(prodSetting(key));
    }

    /** A setting as application.properties gives it to the packaged application (the prod profile). */
    private static String prodSetting(String key) throws IOException {
        Properties properties = new Properties();
        try (var in = Files.newInputStream(Path.of("src/main/resources/application.properties"))) {
            properties.load(in);
        }
        return properties.getProperty(key);
    }

    private static JsonNode find(List<JsonNode> objects, String kind, String name) {
        return objects.stream().filter(o -> kind.equals(o.path("kind").asText())
                        && name.equals(o.path("metadata").path("name").asText()))
                .findFirst().orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    private static List<JsonNode> render(String dir) throws Exception {
        String yaml = kubectlKustomize(dir);
        if (yaml == null) {
            yaml = concatenate(Path.of(dir));
        }
        List<JsonNode> objects = new ArrayList<>();
        try (MappingIterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc != null && !doc.isEmpty()) {
                    objects.add(doc);
                }
            }
        }
        return objects;
    }

    /** The kustomize rendering, or null where kubectl is not installed. */
    private static String kubectlKustomize(String dir) throws Exception {
        boolean present = List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)).stream()
                .anyMatch(p -> Files.isExecutable(Path.of(p, "kubectl")));
        if (!present) {
            return null;
        }
        Process process = new ProcessBuilder("kubectl", "kustomize", dir).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize finished");
        assertEquals(0, process.exitValue(), "kubectl kustomize " + dir + ": " + out);
        return out;
    }

    /** Without kubectl: the resources a kustomization lists, read as they are (patches not applied). */
    private static String concatenate(Path dir) throws IOException {
        JsonNode kustomization = YAML.readTree(dir.resolve("kustomization.yaml").toFile());
        StringBuilder all = new StringBuilder();
        for (String list : List.of("resources", "components")) {
            for (JsonNode resource : kustomization.path(list)) {
                Path path = dir.resolve(resource.asText()).normalize();
                all.append(Files.isDirectory(path) ? concatenate(path) : Files.readString(path)).append("\n---\n");
            }
        }
        return all.toString();
    }
}
