package dev.mjrelay.suites;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/** The unit phase's third JVM (see {@link SecondFourth}). */
@Suite
@SelectPackages("dev.mjrelay")
@IncludeClassNamePatterns(ThirdFourth.TESTS)
public class ThirdFourth {

    static final String TESTS = "dev\\.mjrelay\\.(UnreachableRedisTest|UnreachableUpstreamTest|ConnectTimeGuardTest"
            + "|EndpointHealthTest|WebhookPlatformTest|SecretRotationTest|CompactTaskRecordsTest|WebhookDeliveryTest)";
}
