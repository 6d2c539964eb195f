package dev.mjrelay.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** The log records a logger (and the loggers below it) takes while a piece of work runs. */
public final class LogCapture {

    private LogCapture() {
    }

    /** Runs {@code work} and answers what {@code logger} took meanwhile, in order; the root logger is {@code ""}. */
    public static List<LogRecord> during(String logger, Runnable work) {
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger target = Logger.getLogger(logger);
        target.addHandler(handler);
        try {
            work.run();
        } finally {
            target.removeHandler(handler);
        }
        return records;
    }

    /** A record's message with its parameters put in, as a log line shows it. */
    public static String text(LogRecord record) {
        String message = record.getMessage() == null ? "" : record.getMessage();
        Object[] params = record.getParameters();
        if (params != null && params.length > 0) {
            try {
                message = String.format(message, params);
            } catch (RuntimeException e) {
                message = message + " " + List.of(params);
            }
        }
        return message;
    }
}
