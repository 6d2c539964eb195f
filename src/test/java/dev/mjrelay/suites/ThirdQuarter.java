package dev.mjrelay.suites;

import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/** The integration phase's third JVM (see {@link FirstQuarter}). */
@Suite
@SelectPackages("dev.mjrelay")
@IncludeClassNamePatterns(ThirdQuarter.TESTS)
public class ThirdQuarter {

    static final String TESTS = "dev\\.mjrelay\\.it\\.(QueueIT|ConsoleIT|TracingExportIT|RateLimitIT)";
}
