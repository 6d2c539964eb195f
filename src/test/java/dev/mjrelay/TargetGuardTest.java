package dev.mjrelay;

import dev.mjrelay.webhook.TargetGuard;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TargetGuardTest {

    private final TargetGuard strict = new TargetGuard(false);

    @ParameterizedTest
    @ValueSource(strings = {
            "127.0.0.1", "127.255.0.9", "0.0.0.0", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
            "169.254.169.254", "169.254.0.1", "100.64.0.1", "100.127.255.254", "224.0.0.1", "255.255.255.255",
            "198.18.0.1", "192.0.2.10",
            "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
            "::ffff:169.254.169.254", "64:ff9b::a00:1", "2002:c0a8:101::1", "2001:db8::1"})
    void nonGlobalAddressesAreRefused(String address) throws Exception {
        assertFalse(TargetGuard.isGlobal(InetAddress.getByName(address)), address);
    }

    @ParameterizedTest
    @ValueSource(strings = {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700::1111",
            "::ffff:8.8.8.8"})
    void globalAddressesAreAllowed(String address) throws Exception {
        assertTrue(TargetGuard.isGlobal(InetAddress.getByName(address)), address);
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://2130706433/hook", "http://0177.0.0.1/hook", "http://0x7f.0.0.1/hook",
            "http://0x7f000001/hook", "http://127.1/hook", "http://017700000001/"})
    void unusualNumericHostFormsAreRefused(String url) {
        // some of these are not even hosts to java.net.URI; refused either way, before any lookup
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> strict.parse(url));
        assertEquals("uses an unusual numeric form of an IP address; write it as a.b.c.d", e.getMessage());
    }

    /** What goes into the request line: ASCII only, percent-encoded as a browser would; the fragment never. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "https://example.com                       | /",
            "https://example.com/hook?a=1              | /hook?a=1",
            "https://example.com/caf\u00e9?who=Jos\u00e9 | /caf%C3%A9?who=Jos%C3%A9",
            "https://example.com/%E2%9C%93?q=%20x#top  | /%E2%9C%93?q=%20x",
            "https://example.com/a?\u2713             | /a?%E2%9C%93"})
    void theRequestTargetIsAsciiAndLeavesTheFragmentOut(String url, String requestTarget) {
        assertEquals(requestTarget, strict.parse(url).requestTarget());
    }

    @Test
    void anInternationalNameIsAskedForInItsAsciiForm() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> strict.parse("https://b\u00fccher.example:8443/hook"));
        assertEquals("must write its host in ASCII (an international name in its xn-- form)", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://example.com/x", "file:///etc/passwd", "/relative/path", "example.com/hook",
            "http://user:pw@example.com/", "http:///nohost", "gopher://example.com/", "not a url"})
    void malformedOrForeignSchemeUrlsAreRefused(String url) {
        assertThrows(IllegalArgumentException.class, () -> strict.parse(url));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://example.com:0/hook", "http://example.com:65536/hook", "https://[::1]:99999/",
            "http://example.com:00/hook"})
    void aPortOutsideOneTo65535IsRefused(String url) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> strict.parse(url));
        assertEquals("must have a port from 1 to 65535", e.getMessage());
    }

    @Test
    void aTooLongUrlIsRefused() {
        String url = "https://example.com/" + "a".repeat(2048);
        assertThrows(IllegalArgumentException.class, () -> strict.parse(url));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://localhost:8080/hook", "http://127.0.0.1/hook", "http://[::1]/hook",
            "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/", "http://[::ffff:192.168.0.1]/",
            "http://100.64.1.1/"})
    void namesAndLiteralsResolvingToPrivateSpaceAreRefused(String url) {
        TargetGuard.Target target = strict.parse(url);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> strict.resolve(target, "alice").await().indefinitely());
        assertTrue(e.getMessage().contains("non-public"), e.getMessage());
    }

    @Test
    void aNameThatDoesNotResolveIsRefused() {
        TargetGuard.Target target = strict.parse("https://no-such-host.invalid/hook");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> strict.resolve(target, "alice").await().indefinitely());
        assertTrue(e.getMessage().contains("does not resolve"), e.getMessage());
    }

    @Test
    void aPublicLiteralPassesAndKeepsItsPort() {
        TargetGuard.Target target = strict.parse("https://8.8.8.8:8443/hook?x=1");
        assertEquals(8443, target.port());
        assertDoesNotThrow(() -> strict.resolve(target, "alice").await().indefinitely());
    }

    @Test
    void privateTargetsPassWhenAllowed() {
        TargetGuard lenient = new TargetGuard(true);
        TargetGuard.Target target = lenient.parse("http://localhost:8080/hook");
        assertDoesNotThrow(() -> lenient.resolve(target, "alice").await().indefinitely());
    }

    /**
     * The name is looked up on a worker (it may block), and the answer, or the refusal, comes back on
     * the event loop that asked, in its context: what the submit or the webhook does next runs there.
     */
    @Test
    void theAnswerComesBackToTheEventLoopThatAsked() throws Exception {
        TargetGuard lenient = new TargetGuard(true);
        Vertx vertx = Vertx.vertx();
        try {
            Context caller = vertx.getOrCreateContext();
            for (String url : List.of("http://localhost:8080/hook", "http://no-such-host.invalid/hook")) {
                CompletableFuture<String> where = new CompletableFuture<>();
                caller.runOnContext(ignored -> {
                    String asked = Thread.currentThread().getName();
                    lenient.resolve(lenient.parse(url), "alice").subscribe().with(
                            resolved -> where.complete(asked + " -> " + answeredOn(caller)),
                            refused -> where.complete(asked + " -> " + answeredOn(caller)));
                });
                String seen = where.get(10, TimeUnit.SECONDS);
                String asked = seen.substring(0, seen.indexOf(" -> "));
                assertEquals(asked + " -> " + asked + " in the caller's context", seen, url);
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * An IP address needs no lookup: it is checked and answered on the caller's own thread, before
     * the call returns (no hand-over to a worker and back), and the name lookup is never asked.
     */
    @Test
    void anAddressIsCheckedOnTheCallersThreadWithoutALookup() throws Exception {
        AtomicInteger lookups = new AtomicInteger();
        TargetGuard guard = new TargetGuard(TargetGuard::isGlobal, host -> {
            lookups.incrementAndGet();
            return InetAddress.getAllByName(host);
        }, System::currentTimeMillis);
        Vertx vertx = Vertx.vertx();
        try {
            Context caller = vertx.getOrCreateContext();
            for (String url : List.of("https://8.8.8.8/hook", "https://[2606:4700:4700::1111]:8443/hook", "http://10.0.0.5/")) {
                CompletableFuture<String> where = new CompletableFuture<>();
                caller.runOnContext(ignored -> {
                    String asked = Thread.currentThread().getName();
                    StringBuilder answered = new StringBuilder();
                    guard.resolve(guard.parse(url), "alice").subscribe().with(
                            resolved -> answered.append("passed on ").append(Thread.currentThread().getName()),
                            refused -> answered.append("refused on ").append(Thread.currentThread().getName()));
                    where.complete(asked + ": " + answered);
                });
                String seen = where.get(10, TimeUnit.SECONDS);
                String asked = seen.substring(0, seen.indexOf(": "));
                String verdict = url.contains("10.0.0.5") ? "refused" : "passed";
                assertEquals(asked + ": " + verdict + " on " + asked, seen, url);
            }
            assertEquals(0, lookups.get());
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * A name's checked addresses are used again for ten seconds without a lookup (every submit and
     * every delivery attempt resolves its target), then looked up afresh; a refusal is never kept.
     */
    @Test
    void aNamesAddressesAreLookedUpAgainOnlyAfterTenSeconds() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000);
        AtomicInteger lookups = new AtomicInteger();
        InetAddress[] answer = {InetAddress.getByName("93.184.215.14")};
        TargetGuard guard = new TargetGuard(TargetGuard::isGlobal, host -> {
            lookups.incrementAndGet();
            return answer.clone();
        }, now::get);
        TargetGuard.Target target = guard.parse("https://hooks.example.com/in");

        assertEquals(List.of(answer[0]), guard.resolve(target, "alice").await().indefinitely().addresses());
        now.addAndGet(TargetGuard.REMEMBERED_MILLIS - 1);
        assertEquals(List.of(answer[0]), guard.resolve(target, "alice").await().indefinitely().addresses());
        assertEquals(1, lookups.get(), "within ten seconds: no second lookup");

        answer[0] = InetAddress.getByName("93.184.215.15");
        now.addAndGet(1);
        assertEquals(List.of(answer[0]), guard.resolve(target, "alice").await().indefinitely().addresses(), "the moved receiver");
        assertEquals(2, lookups.get());

        answer[0] = InetAddress.getByName("10.1.2.3");
        now.addAndGet(TargetGuard.REMEMBERED_MILLIS);
        for (int i = 0; i < 2; i++) {
            assertThrows(IllegalArgumentException.class, () -> guard.resolve(target, "alice").await().indefinitely());
        }
        assertEquals(4, lookups.get(), "a refusal is looked up again each time");
    }

    /** However many names pass through, the guard keeps at most a bounded number of answers. */
    @Test
    void theRememberedNamesAreBounded() throws Exception {
        AtomicInteger lookups = new AtomicInteger();
        InetAddress publicAddress = InetAddress.getByName("93.184.215.14");
        TargetGuard guard = new TargetGuard(TargetGuard::isGlobal, host -> {
            lookups.incrementAndGet();
            return new InetAddress[]{publicAddress};
        }, () -> 5_000);
        TargetGuard.Target first = guard.parse("https://h0.example.com/");
        guard.resolve(first, "alice").await().indefinitely();
        for (int i = 1; i <= 5_000; i++) {
            guard.resolve(guard.parse("https://h" + i + ".example.com/"), "alice").await().indefinitely();
        }
        int before = lookups.get();
        guard.resolve(first, "alice").await().indefinitely();
        assertEquals(before + 1, lookups.get(), "the first name was forgotten to make room");
    }

    /**
     * An account whose callback hosts' name server keeps silent holds its own few look-ups, each
     * waiting as long as the resolver does; its other names wait their turn holding no thread, and
     * another account's name is looked up at once.
     */
    @Test
    void anAccountWhoseNamesDoNotResolveHoldsItsOwnTurnsAndAnotherAccountsNameIsLookedUpAtOnce() throws Exception {
        CountDownLatch silence = new CountDownLatch(1);
        AtomicInteger silentAsked = new AtomicInteger();
        InetAddress publicAddress = InetAddress.getByName("93.184.215.14");
        TargetGuard guard = new TargetGuard(TargetGuard::isGlobal, host -> {
            if (host.endsWith(".silent.example")) {
                silentAsked.incrementAndGet();
                try {
                    silence.await(); // as a resolver waits out a name server that does not answer
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new UnknownHostException(host);
            }
            return new InetAddress[]{publicAddress};
        }, System::currentTimeMillis);
        try {
            List<CompletableFuture<TargetGuard.Resolved>> silent = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                silent.add(guard.resolve(guard.parse("https://t" + i + ".silent.example/hook"), "mallory")
                        .subscribeAsCompletionStage());
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> silentAsked.get() == TargetGuard.LOOKUPS_PER_SHARE);

            TargetGuard.Resolved other = guard.resolve(guard.parse("https://hooks.example.com/in"), "alice")
                    .await().atMost(Duration.ofSeconds(5));
            assertEquals(List.of(publicAddress), other.addresses(), "another account's name, while those wait");
            assertEquals(TargetGuard.LOOKUPS_PER_SHARE, silentAsked.get(), "the silent account's others wait their turn");

            silence.countDown();
            for (CompletableFuture<TargetGuard.Resolved> each : silent) {
                ExecutionException refused = assertThrows(ExecutionException.class, () -> each.get(10, TimeUnit.SECONDS));
                assertInstanceOf(IllegalArgumentException.class, refused.getCause(), "names a host that does not resolve");
            }
            assertEquals(20, silentAsked.get(), "each in its turn");
        } finally {
            silence.countDown();
            guard.stop();
        }
    }

    private static String answeredOn(Context caller) {
        return Thread.currentThread().getName() + (Vertx.currentContext() == caller ? " in the caller's context" : " elsewhere");
    }
}

