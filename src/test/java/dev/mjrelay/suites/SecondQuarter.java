package dev.mjrelay.suites;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/** The integration phase's second JVM (see {@link FirstQuarter}). */
@Suite
@SelectPackages("dev.mjrelay")
@IncludeClassNamePatterns(SecondQuarter.TESTS)
public class SecondQuarter {

    static final String TESTS = "dev\\.mjrelay\\.it\\.(FaultToleranceIT|WebhookTlsIT|RollingRestartIT|StartupRefusalIT|AlertSeriesIT)";
}
