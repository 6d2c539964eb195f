package dev.mjrelay.suites;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/** The unit phase's fourth JVM (see {@link SecondFourth}). */
@Suite
@SelectPackages("dev.mjrelay")
@IncludeClassNamePatterns(LastFourth.TESTS)
public class LastFourth {

    static final String TESTS = "dev\\.mjrelay\\.(RedisFullTest|RedisClusterTest|RedisOutageTest|TaskTimeoutTest"
            + "|upstream\\.ScriptedUpstreamTest|EndpointOptionsTest|HostConcurrencyTest)";
}
