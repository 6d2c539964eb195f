package dev.mjrelay.suites;

import org.junit.platform.suite.api.ExcludeClassNamePatterns;
import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/** The unit phase's first JVM: every test class but the other three suites', new ones included (see {@link SecondFourth}). */
@Suite
@SelectPackages("dev.mjrelay")
@IncludeClassNamePatterns(".*Test")
@ExcludeClassNamePatterns({SecondFourth.TESTS, ThirdFourth.TESTS, LastFourth.TESTS})
public class FirstFourth {
}
