package dev.mjrelay.suites;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/** The integration phase's fourth JVM (see {@link FirstQuarter}). */
@Suite
@SelectPackages("dev.mjrelay")
@IncludeClassNamePatterns(LastQuarter.TESTS)
public class LastQuarter {

    static final String TESTS = "dev\\.mjrelay\\.it\\.(RabbitSinkIT|AotTrainingIT|AttacksIT|RedisTlsIT|EgressProxyIT|BenchmarkSmokeIT|SentinelFailoverIT)";
}
