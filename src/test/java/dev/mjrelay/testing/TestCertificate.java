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
 * A certificate made by the JDK's own {@code keytool}, valid for a day, in the forms TLS servers and
 * clients take: {@code key.p12} (the key and its certificate: a server's, or a client's key store),
 * {@code key.pem} and {@code cert.pem} (for a server that reads PEM, such as RabbitMQ), and
 * {@code trust.p12} (the certificate alone, as a trust store). A server's is self-signed; a
 * client's is signed by a CA of its own, {@code ca.pem}, which is what a server that asks for client
 * certificates trusts. The directory and files are readable by every user: a broker running as its
 * own user reads them.
 */
public final class TestCertificate implements AutoCloseable {

    public static final String PASSWORD = "changeit";
    private static final String ALIAS = "key";

    public final Path dir;

    private TestCertificate(Path dir) {
        this.dir = dir;
    }

    /** A server's certificate whose subject alternative names are {@code names} (e.g. "dns:localhost", "ip:127.0.0.1"). */
    public static TestCertificate create(String... names) throws Exception {
        TestCertificate made = new TestCertificate(directory());
        List<String> arguments = new ArrayList<>(List.of("-genkeypair", "-alias", ALIAS, "-keyalg", "RSA", "-keysize", "2048",
                "-validity", "1", "-dname", "CN=mj-relay test broker", "-keystore", made.keyStore().toString()));
        if (names.length > 0) {
            arguments.add("-ext");
            arguments.add("SAN=" + String.join(",", names));
        }
        keytool(arguments);
        made.writeForms();
        return made;
    }

    /**
     * A client's certificate, signed by a CA made for it ({@link #caPem()}). A self-signed client
     * certificate, even one the server trusts, RabbitMQ refuses ("Bad Certificate"); operators issue
     * client certificates from a CA, as here.
     */
    public static TestCertificate client() throws Exception {
        TestCertificate made = new TestCertificate(directory());
        Path ca = made.dir.resolve("ca.p12");
        Path request = made.dir.resolve("client.csr");
        Path signed = made.dir.resolve("client.crt");
        keytool(List.of("-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-validity", "1",
                "-dname", "CN=mj-relay test client CA", "-ext", "bc:c", "-keystore", ca.toString()));
        keytool(List.of("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-file", made.caPem().toString()));
        keytool(List.of("-genkeypair", "-alias", ALIAS, "-keyalg", "RSA", "-keysize", "2048", "-validity", "1",
                "-dname", "CN=mj-relay test client", "-keystore", made.keyStore().toString()));
        keytool(List.of("-certreq", "-alias", ALIAS, "-keystore", made.keyStore().toString(), "-file", request.toString()));
        keytool(List.of("-gencert", "-alias", "ca", "-keystore", ca.toString(), "-infile", request.toString(),
                "-outfile", signed.toString(), "-validity", "1", "-ext", "ku:c=digitalSignature", "-ext", "eku=clientAuth"));
        // the CA first, so that the signed certificate's chain is complete when it replaces the self-signed one
        keytool(List.of("-importcert", "-noprompt", "-alias", "ca", "-keystore", made.keyStore().toString(),
                "-file", made.caPem().toString()));
        keytool(List.of("-importcert", "-noprompt", "-alias", ALIAS, "-keystore", made.keyStore().toString(),
                "-file", signed.toString()));
        made.writeForms();
        return made;
    }

    /** The key and its certificate (a client's: with its CA's), PKCS#12, password {@link #PASSWORD}. */
    public Path keyStore() {
        return dir.resolve("key.p12");
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

    /** A client certificate's CA, PEM: what a server asking for client certificates trusts. */
    public Path caPem() {
        return dir.resolve("ca.pem");
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

    private static Path directory() throws IOException {
        Path dir = Files.createTempDirectory("mjrelay-tls");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    private static void keytool(List<String> arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(arguments);
        command.addAll(List.of("-storetype", "PKCS12", "-storepass", PASSWORD));
        Process keytool = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
            throw new IOException("keytool " + arguments.get(0) + " failed: " + output);
        }
    }

    /** The PEM files and the trust store, from the key store. */
    private void writeForms() throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore())) {
            store.load(in, PASSWORD.toCharArray());
        }
        PrivateKey key = (PrivateKey) store.getKey(ALIAS, PASSWORD.toCharArray());
        Certificate certificate = store.getCertificate(ALIAS);
        writePem(keyPem(), "PRIVATE KEY", key.getEncoded());
        writePem(certPem(), "CERTIFICATE", certificate.getEncoded());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("certificate", certificate);
        try (OutputStream out = Files.newOutputStream(trustStore())) {
            trust.store(out, PASSWORD.toCharArray());
        }
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
            }
        }
    }

    private void writePem(Path file, String type, byte[] der) throws IOException {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        Files.writeString(file, "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n");
    }
}
