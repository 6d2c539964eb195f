package dev.mjrelay.suites;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * The unit phase's second JVM: the tests that run the relay under a test profile of their own and take
 * longest (about half the phase). Surefire runs this suite and {@link FirstHalf} side by side; a suite
 * keeps Quarkus's ordering of its classes, so each JVM starts each profile's relay once (surefire's own
 * forks would hand out single classes and return to a relay Quarkus had already cleaned up).
 */
@Suite
@SelectPackages("dev.mjrelay")
@IncludeClassNamePatterns(SecondHalf.TESTS)
public class SecondHalf {

    /** Every other test class is {@link FirstHalf}'s, new ones included. */
    static final String TESTS = "dev\\.mjrelay\\.(JobQueueTest|TracingTest|RedisFullTest|RedisClusterTest|EndpointHealthTest"
            + "|RedisOutageTest|TaskTimeoutTest|upstream\\.UpstreamPoolTest|upstream\\.ScriptedUpstreamTest)";
}
