package dev.mjrelay.model;

import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Log lines about one task: the task id and account are in the message and, for JSON logs, in the
 * MDC fields {@code taskId} and {@code account}. Never pass a key, secret or signature.
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

    private static Object[] prepend(String taskId, String account, Object[] args) {
        Object[] all = new Object[args.length + 2];
        all[0] = taskId;
        all[1] = account;
        System.arraycopy(args, 0, all, 2, args.length);
        return all;
    }
}
