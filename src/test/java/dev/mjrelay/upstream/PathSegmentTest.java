package dev.mjrelay.upstream;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** An upstream task id goes into the fetch path as one segment, whatever it holds. */
class PathSegmentTest {

    @Test
    void plainIdsAreLeftAlone() {
        assertEquals("mj-task_1.2~x", UpstreamClient.pathSegment("mj-task_1.2~x"));
    }

    @Test
    void anIdCannotLeaveItsSegment() {
        assertEquals("..%2F..%2Fadmin%3Fx%3D1%23y", UpstreamClient.pathSegment("../../admin?x=1#y"));
        assertEquals("a%20b%25", UpstreamClient.pathSegment("a b%"));
        assertEquals("%C3%A9", UpstreamClient.pathSegment("é"));
    }
}
