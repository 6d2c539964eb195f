package dev.mjrelay.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed server certificate made by the JDK's own {@code keytool}, valid for a day, in the
 * forms a TLS server and a client's trust store take: {@code server.p12} (key and certificate),
 * {@code key.pem} and {@code cert.pem} (for a server that reads PEM, such as RabbitMQ), and
 * {@code trust.p12} (the certificate alone, as a trust store). The directory and files are readable
 * by every user: a broker running as its own user reads them.
 */
public final class TestCertificate implements AutoCloseable {

    public static final String PASSWORD = "changeit";

    public final Path dir;

    private TestCertificate(Path dir) {
        this.dir = dir;
    }

    /** A certificate whose subject alternative names are {@code names} (e.g. "dns:localhost", "ip:127.0.0.1"). */
    public static TestCertificate create(String... names) throws Exception {
        Path dir = Files.createTempDirectory("mjrelay-tls");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path server = dir.resolve("server.p12");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048", "-validity", "1",
                "-dname", "CN=mj-relay test broker", "-storetype", "PKCS12", "-keystore", server.toString(),
                "-storepass", PASSWORD, "-keypass", PASSWORD));
        if (names.length > 0) {
            command.add("-ext");
            command.add("SAN=" + String.join(",", names));
        }
        Process keytool = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
            throw new IOException("keytool failed: " + output);
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(server)) {
            store.load(in, PASSWORD.toCharArray());
        }
        PrivateKey key = (PrivateKey) store.getKey("server", PASSWORD.toCharArray());
        Certificate certificate = store.getCertificate("server");
        TestCertificate made = new TestCertificate(dir);
        made.writePem(made.keyPem(), "PRIVATE KEY", key.getEncoded());
        made.writePem(made.certPem(), "CERTIFICATE", certificate.getEncoded());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", certificate);
        try (OutputStream out = Files.newOutputStream(made.trustStore())) {
            trust.store(out, PASSWORD.toCharArray());
        }
        for (Path file : List.of(server, made.keyPem(), made.certPem(), made.trustStore())) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        }
        return made;
    }

    public Path keyPem() {
        return dir.resolve("key.pem");
    }

    public Path certPem() {
        return dir.resolve("cert.pem");
    }

    /** The certificate alone, PKCS#12, password {@link #PASSWORD}. */
    public Path trustStore() {
        return dir.resolve("trust.p12");
    }

    @Override
    public void close() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
        }
        Files.deleteIfExists(dir);
    }

    private void writePem(Path file, String type, byte[] der) throws IOException {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        Files.writeString(file, "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n");
    }
}
