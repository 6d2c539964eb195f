package dev.mjrelay.it;

import java.io.IOException;

/**
 * Signals to a process a test started: {@code -STOP} freezes it (its connections stay open and
 * nothing is answered: a server that hangs), {@code -CONT} lets it go on.
 */
final class ProcessSignals {

    private ProcessSignals() {
    }

    static void send(Process process, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill " + signal + " " + process.pid() + " failed");
        }
    }
}
