package dev.mjrelay.suites;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * The unit phase's second JVM. The phase's tests mostly wait (on deliveries, retries, leases), so
 * surefire runs three suites side by side, each about a third of the phase: this one, {@link LastThird}
 * and {@link FirstThird}, which takes every class the other two do not name. A suite keeps Quarkus's
 * ordering of its classes, so each JVM starts each test profile's relay once (surefire's own forks would
 * hand out single classes and return to a relay Quarkus had already cleaned up). Move a class between
 * suites when the phase's reports show one suite running long.
 */
@Suite
@SelectPackages("dev.mjrelay")
@IncludeClassNamePatterns(SecondThird.TESTS)
public class SecondThird {

    static final String TESTS = "dev\\.mjrelay\\.(JobQueueTest|TracingTest|upstream\\.UpstreamPoolTest"
            + "|UnreachableRedisTest|UnreachableUpstreamTest|ConnectTimeGuardTest)";
}
