package dev.mjrelay.suites;

import org.junit.platform.suite.api.ExcludeClassNamePatterns;
import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/** The unit phase's first JVM: every test class but {@link SecondHalf}'s. */
@Suite
@SelectPackages("dev.mjrelay")
@IncludeClassNamePatterns(".*Test")
@ExcludeClassNamePatterns(SecondHalf.TESTS)
public class FirstHalf {
}
