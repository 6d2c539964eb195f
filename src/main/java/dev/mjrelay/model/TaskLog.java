package dev.mjrelay.model;

import dev.mjrelay.lane.Causes;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Log lines about one task: the task id and account are in the message and, for JSON logs, in the
 * MDC fields {@code taskId} and {@code account}. Text arguments, often an upstream's words (a fail
 * reason, a status word), have their control characters escaped. Never pass a key, secret or signature.
 */
public final class TaskLog {

    private TaskLog() {
    }

    public static void info(Logger log, String taskId, String account, String format, Object... args) {
        log(log, Logger.Level.INFO, taskId, account, format, args);
    }

    public static void warn(Logger log, String taskId, String account, String format, Object... args) {
        log(log, Logger.Level.WARN, taskId, account, format, args);
    }

    private static void log(Logger log, Logger.Level level, String taskId, String account, String format, Object... args) {
        if (!log.isEnabled(level)) {
            return;
        }
        MDC.put("taskId", taskId);
        MDC.put("account", account);
        try {
            log.logf(level, "task %s of account %s: " + format, prepend(taskId, account, args));
        } finally {
            MDC.remove("taskId");
            MDC.remove("account");
        }
    }

    /** The arguments after the task's id and account, each text among them {@link Causes#loggable}. */
    private static Object[] prepend(String taskId, String account, Object[] args) {
        Object[] all = new Object[args.length + 2];
        all[0] = taskId;
        all[1] = account;
        for (int i = 0; i < args.length; i++) {
            all[i + 2] = args[i] instanceof CharSequence text ? Causes.loggable(text.toString()) : args[i];
        }
        return all;
    }
}
