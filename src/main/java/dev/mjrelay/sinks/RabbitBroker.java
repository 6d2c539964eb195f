package dev.mjrelay.sinks;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Collections;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where the RabbitMQ sink connects, from the keys users already know from SmallRye's RabbitMQ
 * connector: {@code rabbitmq-host}, {@code -port}, {@code -username}, {@code -password},
 * {@code -virtual-host}, and for TLS ({@code amqps}, what hosted brokers ask for) {@code rabbitmq-ssl},
 * {@code rabbitmq-trust-store-path} and {@code rabbitmq-trust-store-password}, and for a broker that
 * asks for a client certificate {@code rabbitmq-key-store-path} and {@code rabbitmq-key-store-password}.
 * <p>
 * With TLS the broker's certificate is verified, host name included, against the trust store given
 * (a PKCS#12 or JKS store, or a PEM file of certificates) or else the JVM's own (public CAs); there
 * is no "trust all". The key store (PKCS#12 or JKS) holds the relay's own key and certificate.
 * Settings that cannot work stop the relay at start, naming the key.
 *
 * @param tls null for plain AMQP
 * @param noCertificate with TLS and no key store, what notes a broker asking for a client certificate; else null
 */
record RabbitBroker(String host, int port, String username, String password, String virtualHost, SSLContext tls,
                    NoClientCertificate noCertificate) {

    static final int AMQP_PORT = 5672;
    static final int AMQPS_PORT = 5671;

    /** Read from the settings ({@code setting} answers a key's value, if given). */
    static RabbitBroker of(Function<String, Optional<String>> setting) {
        boolean ssl = setting.apply("rabbitmq-ssl").map(value -> bool("rabbitmq-ssl", value)).orElse(false);
        Optional<String> trustStore = setting.apply("rabbitmq-trust-store-path").filter(path -> !path.isBlank());
        Optional<String> keyStore = setting.apply("rabbitmq-key-store-path").filter(path -> !path.isBlank());
        if (!ssl && (trustStore.isPresent() || keyStore.isPresent())) {
            throw refused((trustStore.isPresent() ? "rabbitmq-trust-store-path" : "rabbitmq-key-store-path")
                    + " is set but rabbitmq-ssl is not true: the sink would connect without TLS; set rabbitmq-ssl=true");
        }
        int port = setting.apply("rabbitmq-port").map(RabbitBroker::port).orElse(ssl ? AMQPS_PORT : AMQP_PORT);
        SSLContext tls = null;
        NoClientCertificate noCertificate = null;
        if (ssl) {
            KeyManager[] keys;
            if (keyStore.isPresent()) {
                keys = keys(Path.of(keyStore.get()), setting.apply("rabbitmq-key-store-password").orElse(null));
            } else {
                noCertificate = new NoClientCertificate();
                keys = new KeyManager[] {noCertificate};
            }
            tls = tls(trustStore.map(Path::of), setting.apply("rabbitmq-trust-store-password").orElse(null), keys);
        }
        return new RabbitBroker(setting.apply("rabbitmq-host").orElse("localhost"), port,
                setting.apply("rabbitmq-username").orElse("guest"), setting.apply("rabbitmq-password").orElse("guest"),
                setting.apply("rabbitmq-virtual-host").orElse("/"), tls, noCertificate);
    }

    @Override
    public String toString() {
        // never the password
        return (tls == null ? "amqp://" : "amqps://") + host + ":" + port + " (virtual host " + virtualHost + ")";
    }

    private static SSLContext tls(Optional<Path> trustStore, String trustPassword, KeyManager[] keys) {
        try {
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trustStore.isPresent() ? load(trustStore.get(), trustPassword) : null); // null: the JVM's own
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw refused("rabbitmq-ssl: no TLS context (" + e.getMessage() + ")");
        }
    }

    /** The relay's own key and certificate, shown to a broker that asks for one. */
    private static KeyManager[] keys(Path path, String password) {
        String key = "rabbitmq-key-store-path";
        if (isPem(path)) {
            throw refused(key + ": " + path + " is PEM; give a PKCS#12 or JKS store holding the key and its certificate"
                    + " (openssl pkcs12 -export -inkey key.pem -in cert.pem -out client.p12)");
        }
        if (password == null) {
            throw refused(key + " is set but rabbitmq-key-store-password is not: a private key is read with its password");
        }
        KeyStore store = read(key, "rabbitmq-key-store-password", path, password);
        try {
            if (!hasKey(store)) {
                throw refused(key + ": " + path + " holds no private key, only certificates");
            }
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, password.toCharArray());
            return factory.getKeyManagers();
        } catch (GeneralSecurityException e) {
            throw refused(key + ": cannot use the key in " + path + " (" + e.getMessage() + ")");
        }
    }

    private static boolean hasKey(KeyStore store) throws KeyStoreException {
        for (String alias : Collections.list(store.aliases())) {
            if (store.isKeyEntry(alias)) {
                return true;
            }
        }
        return false;
    }

    /** A PEM file of certificates (.pem, .crt, .cer), or a PKCS#12 or JKS store (Java reads either as PKCS#12). */
    static KeyStore load(Path path, String password) {
        String key = "rabbitmq-trust-store-path";
        if (!isPem(path)) {
            KeyStore store = read(key, "rabbitmq-trust-store-password", path, password);
            if (size(store) == 0) {
                throw refused(key + ": " + path + " holds no certificate"
                        + (password == null ? " readable without a password: set rabbitmq-trust-store-password" : ""));
            }
            return store;
        }
        try (InputStream in = Files.newInputStream(path)) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certificates.isEmpty()) {
                throw refused(key + ": " + path + " holds no PEM certificate");
            }
            int i = 0;
            for (Certificate certificate : certificates) {
                store.setCertificateEntry("ca-" + i++, certificate);
            }
            return store;
        } catch (IOException e) {
            throw refused(key + ": cannot read " + path + " (" + describe(e) + ")");
        } catch (GeneralSecurityException e) {
            throw refused(key + ": cannot read " + path + " (" + e.getMessage() + ")");
        }
    }

    /** A PKCS#12 or JKS store, refused naming {@code key} when it cannot be read. */
    private static KeyStore read(String key, String passwordKey, Path path, String password) {
        try (InputStream in = Files.newInputStream(path)) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(in, password == null ? null : password.toCharArray());
            return store;
        } catch (IOException e) {
            // a wrong password shows as an IOException whose cause is UnrecoverableKeyException
            String why = e.getCause() instanceof UnrecoverableKeyException
                    ? "wrong " + passwordKey + ", or not a PKCS#12 or JKS store"
                    : describe(e);
            throw refused(key + ": cannot read " + path + " (" + why + ")");
        } catch (GeneralSecurityException e) {
            throw refused(key + ": cannot read " + path + " (" + e.getMessage() + ")");
        }
    }

    private static int size(KeyStore store) {
        try {
            return store.size();
        } catch (KeyStoreException e) {
            return 0; // a loaded store answers
        }
    }

    private static boolean isPem(Path path) {
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".pem") || name.endsWith(".crt") || name.endsWith(".cer");
    }

    private static String describe(IOException e) {
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
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
