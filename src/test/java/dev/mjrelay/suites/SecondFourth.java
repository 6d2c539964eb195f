package dev.mjrelay.suites;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * The unit phase's second JVM. The phase's tests mostly wait (on deliveries, retries, leases), so
 * surefire runs four suites side by side, each about a quarter of the phase: this one,
 * {@link ThirdFourth}, {@link LastFourth} and {@link FirstFourth}, which takes every class the others
 * do not name. A suite keeps Quarkus's ordering of its classes, so each JVM starts each test profile's
 * relay once (surefire's own forks would hand out single classes and return to a relay Quarkus had
 * already cleaned up); classes that share a profile belong in one suite. Move a class between suites
 * when the phase's reports show one suite running long.
 */
@Suite
@SelectPackages("dev.mjrelay")
@IncludeClassNamePatterns(SecondFourth.TESTS)
public class SecondFourth {

    static final String TESTS = "dev\\.mjrelay\\.(JobQueueTest|TracingTest|upstream\\.UpstreamPoolTest)";
}
