package dev.mjrelay.upstream;

/** The upstream gave no usable answer to a submit: unreachable, timed out, 5xx or garbage. */
public class UpstreamUnavailableException extends RuntimeException {

    public UpstreamUnavailableException(String reason) {
        super(reason, null, false, false);
    }
}
