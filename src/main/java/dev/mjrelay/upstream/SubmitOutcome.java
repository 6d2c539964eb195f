package dev.mjrelay.upstream;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The class of an upstream's answer to a submit (CONTRACT §8): every answer, however strange, falls
 * in exactly one.
 */
public sealed interface SubmitOutcome {

    /** A description for people: what the upstream said or did. */
    String description();

    /** The class's name, as metrics and spans give it: accepted, refused, busy, unreachable or lost. */
    default String kind() {
        return kindOf(getClass());
    }

    /** Every class's {@link #kind()}. */
    static List<String> kinds() {
        return Arrays.stream(SubmitOutcome.class.getPermittedSubclasses()).map(SubmitOutcome::kindOf).toList();
    }

    private static String kindOf(Class<?> outcome) {
        return outcome.getSimpleName().toLowerCase(Locale.ROOT);
    }

    /** The upstream took the job: a new task with this id. */
    record Accepted(String upstreamId) implements SubmitOutcome {
        @Override
        public String description() {
            return "accepted as " + upstreamId;
        }
    }

    /** The upstream said no to this job, with its own code; sending it again would get the same answer. */
    record Refused(int code, String description) implements SubmitOutcome {
    }

    /** The upstream has no room now (429, 503, code 23): the job may be sent again later. */
    record Busy(String description) implements SubmitOutcome {
    }

    /** The job never reached the upstream (or the relay's own key was refused): it may be sent again. */
    record Unreachable(String description) implements SubmitOutcome {
    }

    /** The upstream may have run the job but did not confirm it: it must never be sent again. */
    record Lost(String description) implements SubmitOutcome {
    }
}
