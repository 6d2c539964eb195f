package dev.mjrelay.suites;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/** The unit phase's third JVM (see {@link SecondThird}). */
@Suite
@SelectPackages("dev.mjrelay")
@IncludeClassNamePatterns(LastThird.TESTS)
public class LastThird {

    static final String TESTS = "dev\\.mjrelay\\.(RedisFullTest|RedisClusterTest|EndpointHealthTest|RedisOutageTest"
            + "|TaskTimeoutTest|upstream\\.ScriptedUpstreamTest|EndpointOptionsTest|WebhookPlatformTest"
            + "|SecretRotationTest|CompactTaskRecordsTest)";
}
