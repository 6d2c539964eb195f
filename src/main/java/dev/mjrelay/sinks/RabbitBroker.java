package dev.mjrelay.sinks;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where the RabbitMQ sink connects, from the keys users already know from SmallRye's RabbitMQ
 * connector: {@code rabbitmq-host}, {@code -port}, {@code -username}, {@code -password},
 * {@code -virtual-host}, and for TLS ({@code amqps}, what hosted brokers ask for) {@code rabbitmq-ssl},
 * {@code rabbitmq-trust-store-path} and {@code rabbitmq-trust-store-password}.
 * <p>
 * With TLS the broker's certificate is verified, host name included, against the trust store given
 * (a PKCS#12 or JKS store, or a PEM file of certificates) or else the JVM's own (public CAs); there
 * is no "trust all". Settings that cannot work stop the relay at start, naming the key.
 *
 * @param tls null for plain AMQP
 */
record RabbitBroker(String host, int port, String username, String password, String virtualHost, SSLContext tls) {

    static final int AMQP_PORT = 5672;
    static final int AMQPS_PORT = 5671;

    /** Read from the settings ({@code setting} answers a key's value, if given). */
    static RabbitBroker of(Function<String, Optional<String>> setting) {
        boolean ssl = setting.apply("rabbitmq-ssl").map(value -> bool("rabbitmq-ssl", value)).orElse(false);
        Optional<String> trustStore = setting.apply("rabbitmq-trust-store-path").filter(path -> !path.isBlank());
        if (trustStore.isPresent() && !ssl) {
            throw refused("rabbitmq-trust-store-path is set but rabbitmq-ssl is not true: the sink would connect"
                    + " without TLS; set rabbitmq-ssl=true");
        }
        int port = setting.apply("rabbitmq-port").map(RabbitBroker::port).orElse(ssl ? AMQPS_PORT : AMQP_PORT);
        SSLContext tls = ssl ? tls(trustStore.map(Path::of), setting.apply("rabbitmq-trust-store-password").orElse(null)) : null;
        return new RabbitBroker(setting.apply("rabbitmq-host").orElse("localhost"), port,
                setting.apply("rabbitmq-username").orElse("guest"), setting.apply("rabbitmq-password").orElse("guest"),
                setting.apply("rabbitmq-virtual-host").orElse("/"), tls);
    }

    @Override
    public String toString() {
        // never the password
        return (tls == null ? "amqp://" : "amqps://") + host + ":" + port + " (virtual host " + virtualHost + ")";
    }

    private static SSLContext tls(Optional<Path> trustStore, String password) {
        try {
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trustStore.isPresent() ? load(trustStore.get(), password) : null); // null: the JVM's own
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw refused("rabbitmq-ssl: no TLS context (" + e.getMessage() + ")");
        }
    }

    /** A PEM file of certificates (.pem, .crt, .cer), or a PKCS#12 or JKS store (Java reads either as PKCS#12). */
    static KeyStore load(Path path, String password) {
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean pem = name.endsWith(".pem") || name.endsWith(".crt") || name.endsWith(".cer");
        try (InputStream in = Files.newInputStream(path)) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            if (pem) {
                store.load(null, null);
                Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
                if (certificates.isEmpty()) {
                    throw refused("rabbitmq-trust-store-path: " + path + " holds no PEM certificate");
                }
                int i = 0;
                for (Certificate certificate : certificates) {
                    store.setCertificateEntry("ca-" + i++, certificate);
                }
            } else {
                store.load(in, password == null ? null : password.toCharArray());
                if (store.size() == 0) {
                    throw refused("rabbitmq-trust-store-path: " + path + " holds no certificate"
                            + (password == null ? " readable without a password: set rabbitmq-trust-store-password" : ""));
                }
            }
            return store;
        } catch (IOException e) {
            // a wrong password shows as an IOException whose cause is UnrecoverableKeyException
            String why = e.getCause() instanceof java.security.UnrecoverableKeyException
                    ? "wrong rabbitmq-trust-store-password, or not a PKCS#12 or JKS store"
                    : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            throw refused("rabbitmq-trust-store-path: cannot read " + path + " (" + why + ")");
        } catch (GeneralSecurityException e) {
            throw refused("rabbitmq-trust-store-path: cannot read " + path + " (" + e.getMessage() + ")");
        }
    }

    private static boolean bool(String key, String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw refused(key + ": '" + value + "' is not true or false");
        };
    }

    private static int port(String value) {
        try {
            int port = Integer.parseInt(value.trim());
            if (port >= 1 && port <= 65_535) {
                return port;
            }
        } catch (NumberFormatException ignored) {
            // said below
        }
        throw refused("rabbitmq-port: '" + value + "' is not a port (1-65535)");
    }

    private static IllegalStateException refused(String problem) {
        return new IllegalStateException("mj-relay cannot start: " + problem);
    }
}
