package dev.mjrelay.it;

import dev.mjrelay.testing.TestCertificate;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * An HTTPS webhook receiver on a free port with a test certificate: answers 204 and records each
 * webhook with the host name its TLS handshake named (SNI).
 */
final class TlsReceiver implements AutoCloseable {

    /** A webhook as it arrived, with the host name its TLS handshake named (null: none). */
    record Hit(String serverName, String body) {
    }

    private final Vertx vertx = Vertx.vertx();
    private final List<Hit> hits = new CopyOnWriteArrayList<>();
    private final HttpServer server;

    /** Listening on {@code host} (an address), presenting {@code certificate}. */
    TlsReceiver(TestCertificate certificate, String host) throws Exception {
        server = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setSni(true)
                        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(certificate.certPem().toString())
                                .setKeyPath(certificate.keyPem().toString())))
                .requestHandler(request -> request.body().onSuccess(body -> {
                    hits.add(new Hit(request.connection().indicatedServerName(), body.toString()));
                    request.response().setStatusCode(204).end();
                }))
                .listen(0, host).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    int port() {
        return server.actualPort();
    }

    /** Whether a webhook whose body holds {@code text} has arrived. */
    boolean got(String text) {
        return hits.stream().anyMatch(hit -> hit.body().contains(text));
    }

    /** The first webhook whose body holds {@code text}. */
    Hit hit(String text) {
        return hits.stream().filter(hit -> hit.body().contains(text)).findFirst().orElseThrow();
    }

    /** The packaged relay's JVM options, trusting the certificate as an operator with a private CA would. */
    static List<String> trusting(TestCertificate certificate) {
        List<String> jvm = new ArrayList<>(RelayProcess.suiteJvmOptions());
        jvm.addAll(List.of("-Djavax.net.ssl.trustStore=" + certificate.trustStore(),
                "-Djavax.net.ssl.trustStorePassword=" + TestCertificate.PASSWORD));
        return jvm;
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
