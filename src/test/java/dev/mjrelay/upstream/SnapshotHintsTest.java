package dev.mjrelay.upstream;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** An upstream's eta and progress are hints: read into their ranges, whatever the upstream wrote. */
class SnapshotHintsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static FetchOutcome.Snapshot read(String task) throws Exception {
        return FetchOutcome.Snapshot.of(JSON.readTree("{\"task\":{\"status\":\"TASK_STATUS_PROCESSING\"," + task + "}}"));
    }

    @Test
    void hintsInRangeAreReadAsTheUpstreamWroteThem() throws Exception {
        assertEquals(40, read("\"progress_percent\":40,\"eta\":12").progress());
        assertEquals(12, read("\"progress_percent\":40,\"eta\":12").eta());
        assertEquals(99, read("\"progress_percent\":99.9,\"eta\":2.5").progress(), "rounded down");
        assertEquals(2, read("\"progress_percent\":99.9,\"eta\":2.5").eta(), "whole seconds");
        assertEquals(55, read("\"progress_percent\":\"55\",\"eta\":\"7\"").progress(), "a number written as a string");
        assertEquals(7, read("\"progress_percent\":\"55\",\"eta\":\"7\"").eta());
    }

    @Test
    void hugeNumbersAreHeldToTheirRangeNotWrappedAround() throws Exception {
        // read as an int, 3,000,000,000 was -1,294,967,296; as a long, 10^23 was 200,376,420,520,689,663,
        // which times 1,000 overflowed the next poll's time into the past
        assertEquals(100, read("\"progress_percent\":3000000000,\"eta\":99999999999999999999999").progress());
        assertEquals(FetchOutcome.Snapshot.MAX_ETA_SECONDS, read("\"progress_percent\":3000000000,\"eta\":99999999999999999999999").eta());
        assertEquals(100, read("\"progress_percent\":1e400,\"eta\":1e400").progress());
        assertEquals(FetchOutcome.Snapshot.MAX_ETA_SECONDS, read("\"progress_percent\":1e400,\"eta\":9223372036854775").eta());
    }

    @Test
    void anythingElseIsNoHint() throws Exception {
        for (String odd : new String[] {"\"progress_percent\":-5,\"eta\":-100", "\"progress_percent\":\"abc\",\"eta\":\"soon\"",
                "\"progress_percent\":null,\"eta\":null", "\"progress_percent\":{},\"eta\":[]", "\"progress_percent\":-1e400,\"eta\":-1e400"}) {
            assertEquals(0, read(odd).progress(), odd);
            assertEquals(0, read(odd).eta(), odd);
        }
        assertEquals(0, read("\"x\":1").progress(), "absent");
        assertEquals(0, read("\"x\":1").eta(), "absent");
    }
}
