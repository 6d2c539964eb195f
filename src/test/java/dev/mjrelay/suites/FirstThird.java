package dev.mjrelay.suites;

import org.junit.platform.suite.api.ExcludeClassNamePatterns;
import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/** The unit phase's first JVM: every test class but {@link SecondThird}'s and {@link LastThird}'s, new ones included. */
@Suite
@SelectPackages("dev.mjrelay")
@IncludeClassNamePatterns(".*Test")
@ExcludeClassNamePatterns({SecondThird.TESTS, LastThird.TESTS})
public class FirstThird {
}
