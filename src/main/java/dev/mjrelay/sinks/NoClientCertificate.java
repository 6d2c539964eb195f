package dev.mjrelay.sinks;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The key manager of a TLS client with no certificate of its own: it shows none, and remembers
 * that a server asked for one. A server that then refuses the connection says so only in an alert
 * that, under TLS 1.3, the client often never reads ("Connection reset by peer"); this is how the
 * relay can name the missing setting instead.
 */
final class NoClientCertificate extends X509ExtendedKeyManager {

    private volatile boolean asked;

    /** Whether a server asked for a client certificate since the last {@link #forget()}. */
    boolean asked() {
        return asked;
    }

    void forget() {
        asked = false;
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        asked = true;
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        asked = true;
        return null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return null;
    }
}
