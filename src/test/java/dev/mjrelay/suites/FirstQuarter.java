package dev.mjrelay.suites;

import org.junit.platform.suite.api.ExcludeClassNamePatterns;
import org.junit.platform.suite.api.IncludeClassNamePatterns;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * The integration phase's first JVM: every packaged-relay test ({@code *IT}) but {@link SecondQuarter}'s,
 * {@link ThirdQuarter}'s and {@link LastQuarter}'s, new ones included.
 * <p>
 * The phase runs four suites side by side, one per JVM, each about a quarter of the phase's work. Handed
 * out one class at a time in name order, the long classes started minutes apart and the last one
 * (RabbitSinkIT) ended a minute after the others; here each long class opens its own suite and the short
 * ones fill in behind it. Move a class between suites when the phase's reports show one suite running
 * long. {@code -Dit.test=...} still runs any class alone.
 */
@Suite
@SelectPackages("dev.mjrelay")
@IncludeClassNamePatterns(".*IT")
@ExcludeClassNamePatterns({SecondQuarter.TESTS, ThirdQuarter.TESTS, LastQuarter.TESTS})
public class FirstQuarter {
}
