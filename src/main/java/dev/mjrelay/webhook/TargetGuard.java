package dev.mjrelay.webhook;

import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.lane.Lanes;
import dev.mjrelay.lane.Slots;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Keeps webhooks away from the relay's own network (SSRF): a target must be an absolute http(s) URL
 * whose host resolves only to globally routable addresses. Checked when a URL is submitted and again
 * at connect time, when the dispatcher connects to exactly the addresses checked here.
 */
@ApplicationScoped
public class TargetGuard {

    public static final int MAX_URL_LENGTH = 2048;

    private static final Pattern NUMERIC_HOST = Pattern.compile("^(0x[0-9a-f]*|[0-9]+)(\\.(0x[0-9a-f]*|[0-9]*))*\\.?$");
    private static final Pattern DOTTED_QUAD = Pattern.compile("^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
            + "(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$");

    /**
     * How long a name's checked addresses are used again without a lookup: every submit and every
     * delivery attempt resolves its target, and most go to a few hosts. Short beside DNS's usual
     * time-to-live (and the JVM's own cache of 30 s), so a moved receiver is found again soon.
     */
    public static final long REMEMBERED_MILLIS = 10_000;
    /** At most this many names are remembered: past it, answers out of date are dropped, and if that leaves too many, all. */
    static final int MAX_REMEMBERED = 4_096;

    /**
     * Look-ups under way at once, all together, on threads of their own: a name server that does not
     * answer holds a look-up for as long as the system's resolver waits (20 s with its usual two tries
     * of 5 s, for each of IPv4 and IPv6), and on the worker pool that the media store and the rest
     * share, a few hundred such look-ups left every other name waiting behind them.
     */
    static final int LOOKUP_THREADS = 64;
    /**
     * Look-ups under way at once for one account (or for the images of mirroring): its others wait
     * their turn holding no thread, so an account whose callback hosts' DNS does not answer (a name
     * for every task, under a domain whose name server keeps silent) slows its own submits and
     * webhooks, never another account's.
     */
    public static final int LOOKUPS_PER_SHARE = 4;
    /** The share the look-ups of image hosts (media mirroring) wait their turns in. */
    public static final String IMAGES = "(images)";

    /** Looks a host name up (it may block). */
    @FunctionalInterface
    public interface Lookup {
        InetAddress[] all(String host) throws UnknownHostException;
    }

    /** The addresses a target may resolve to. */
    private final Predicate<InetAddress> allowed;
    private final Lookup lookup;
    private final LongSupplier millis;
    /** Names whose every address was allowed, with when that answer is to be looked up again. */
    private final Map<String, Checked> remembered = new ConcurrentHashMap<>();
    private final ExecutorService lookups = lookupThreads();
    /** Each share's turns at a look-up: one entry per account that has looked a name up. */
    private final Map<String, Slots> shares = new ConcurrentHashMap<>();

    private record Checked(List<InetAddress> addresses, long until) {
    }

    @Inject
    TargetGuard(RelayConfig config) {
        this(config.webhook().allowPrivateTargets());
    }

    public TargetGuard(boolean allowPrivate) {
        this(allowPrivate ? address -> true : TargetGuard::isGlobal);
    }

    /** A guard that lets through the addresses {@code allowed} accepts (tests: loopback, but nothing else private). */
    public TargetGuard(Predicate<InetAddress> allowed) {
        this(allowed, InetAddress::getAllByName, System::currentTimeMillis);
    }

    /** A guard with its own name lookup and clock (tests). */
    public TargetGuard(Predicate<InetAddress> allowed, Lookup lookup, LongSupplier millis) {
        this.allowed = allowed;
        this.lookup = lookup;
        this.millis = millis;
    }

    /** A URL that passed the syntax checks. */
    public record Target(URI uri, String host, int port, boolean https) {

        /**
         * The request's target: the path ({@code /} when there is none) and the query, with every
         * character outside ASCII percent-encoded as its UTF-8 bytes, as a browser sends
         * {@code ?name=José}. Sent raw, as written, those bytes make an invalid request line that
         * strict servers and proxies refuse; the fragment is never sent.
         */
        public String requestTarget() {
            URI ascii = URI.create(uri.toASCIIString());
            String path = ascii.getRawPath() == null || ascii.getRawPath().isEmpty() ? "/" : ascii.getRawPath();
            return ascii.getRawQuery() == null ? path : path + "?" + ascii.getRawQuery();
        }
    }

    /** A target and the addresses it may be reached at. */
    public record Resolved(Target target, List<InetAddress> addresses) {
    }

    /**
     * Checks the form of a URL: absolute, http or https, a host, no user info, a port (if given)
     * from 1 to 65535, at most 2,048 characters, and no unusual numeric host (decimal, octal or hex
     * IPv4 forms).
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public Target parse(String url) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("must be an absolute http or https URL");
        }
        if (url.length() > MAX_URL_LENGTH) {
            throw new IllegalArgumentException("must be at most " + MAX_URL_LENGTH + " characters");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("is not a valid URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("must use http or https");
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("must not carry user credentials");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException(whyNoHost(uri.getAuthority()));
        }
        host = host.toLowerCase(Locale.ROOT);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (NUMERIC_HOST.matcher(host).matches() && !DOTTED_QUAD.matcher(host).matches()) {
            throw new IllegalArgumentException("uses an unusual numeric form of an IP address; write it as a.b.c.d");
        }
        if (uri.getPort() == 0 || uri.getPort() > 65535) {
            // java.net.URI takes any digits for a port; nothing could ever be delivered there
            throw new IllegalArgumentException("must have a port from 1 to 65535");
        }
        boolean https = scheme.equals("https");
        int port = uri.getPort() == -1 ? (https ? 443 : 80) : uri.getPort();
        return new Target(uri, host, port, https);
    }

    /** java.net.URI finds no host in a name that is not ASCII, nor in one like {@code 127.1}. */
    private static String whyNoHost(String authority) {
        String name = authority == null ? "" : authority.replaceFirst(":[0-9]*$", "").toLowerCase(Locale.ROOT);
        if (name.chars().anyMatch(c -> c > 0x7e)) {
            return "must write its host in ASCII (an international name in its xn-- form)";
        }
        if (NUMERIC_HOST.matcher(name).matches()) {
            return "uses an unusual numeric form of an IP address; write it as a.b.c.d";
        }
        return "must name a host";
    }

    /**
     * Resolves the target's host and checks every address. An IP address, or a name whose addresses
     * were checked in the last {@link #REMEMBERED_MILLIS}, is answered at once on the caller's thread;
     * a name is otherwise looked up on a look-up thread (DNS may block) in its turn among the
     * look-ups of {@code share} (the account, or {@link #IMAGES}), and the answer comes back to the
     * caller's event loop. Fails with {@link IllegalArgumentException} when the name does not resolve
     * or any address is not globally routable (unless private targets are allowed); refusals are not
     * remembered.
     */
    public Uni<Resolved> resolve(Target target, String share) {
        return Uni.createFrom().deferred(() -> {
            if (isLiteral(target.host())) {
                return Uni.createFrom().item(() -> check(target, literal(target.host())));
            }
            Resolved known = known(target);
            if (known != null) {
                return Uni.createFrom().item(known);
            }
            Uni<Resolved> resolved = shares.computeIfAbsent(share, name -> new Slots(LOOKUPS_PER_SHARE))
                    .run(() -> {
                        // a look-up of the same name may have ended while this one waited its turn
                        Resolved meanwhile = known(target);
                        return meanwhile != null ? Uni.createFrom().item(meanwhile)
                                : Uni.createFrom().item(() -> remember(resolveNow(target))).runSubscriptionOn(lookups);
                    });
            // the answer goes back to the caller's event loop: what follows there (the submit's Redis
            // calls, the webhook's exchange) then runs on that loop's own connections, not from a worker
            return Lanes.backToCaller(resolved);
        });
    }

    /** The target's addresses as checked in the last {@link #REMEMBERED_MILLIS}; null when none are. */
    private Resolved known(Target target) {
        Checked known = remembered.get(target.host());
        return known != null && millis.getAsLong() < known.until() ? new Resolved(target, known.addresses()) : null;
    }

    private static ExecutorService lookupThreads() {
        AtomicInteger made = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(LOOKUP_THREADS, LOOKUP_THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), work -> {
                    Thread thread = new Thread(work, "mj-relay-dns-" + made.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    @PreDestroy
    public void stop() {
        lookups.shutdownNow();
    }

    private Resolved resolveNow(Target target) {
        try {
            return check(target, lookup.all(target.host()));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("names a host that does not resolve");
        }
    }

    private Resolved check(Target target, InetAddress[] addresses) {
        for (InetAddress address : addresses) {
            if (!allowed.test(address)) {
                throw new IllegalArgumentException("resolves to a non-public address, which webhooks may not reach");
            }
        }
        return new Resolved(target, List.of(addresses));
    }

    private Resolved remember(Resolved resolved) {
        long now = millis.getAsLong();
        if (remembered.size() >= MAX_REMEMBERED) {
            remembered.values().removeIf(checked -> checked.until() <= now);
            if (remembered.size() >= MAX_REMEMBERED) {
                remembered.clear();
            }
        }
        remembered.put(resolved.target().host(), new Checked(resolved.addresses(), now + REMEMBERED_MILLIS));
        return resolved;
    }

    /** Whether a host (as {@link #parse} leaves it) is an IP address: no lookup, nothing that blocks. */
    private static boolean isLiteral(String host) {
        return host.indexOf(':') >= 0 || DOTTED_QUAD.matcher(host).matches();
    }

    private static InetAddress[] literal(String host) {
        try {
            return InetAddress.getAllByName(host); // an address literal: parsed, never looked up
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("is not a valid IP address");
        }
    }

    /** Whether an address is in globally routable unicast space. */
    public static boolean isGlobal(InetAddress address) {
        if (address instanceof Inet4Address) {
            return isGlobalV4(address.getAddress());
        }
        if (address instanceof Inet6Address) {
            return isGlobalV6(address.getAddress());
        }
        return false;
    }

    private static boolean isGlobalV4(byte[] a) {
        int b0 = a[0] & 0xff;
        int b1 = a[1] & 0xff;
        int b2 = a[2] & 0xff;
        return !(b0 == 0                                   // "this network", 0.0.0.0
                || b0 == 10                                // RFC 1918
                || b0 == 127                               // loopback
                || (b0 == 100 && b1 >= 64 && b1 <= 127)    // CGNAT 100.64/10
                || (b0 == 169 && b1 == 254)                // link-local, cloud metadata
                || (b0 == 172 && b1 >= 16 && b1 <= 31)     // RFC 1918
                || (b0 == 192 && b1 == 0 && b2 == 0)       // IETF protocol assignments
                || (b0 == 192 && b1 == 0 && b2 == 2)       // TEST-NET-1
                || (b0 == 192 && b1 == 88 && b2 == 99)     // 6to4 relay anycast
                || (b0 == 192 && b1 == 168)                // RFC 1918
                || (b0 == 198 && (b1 == 18 || b1 == 19))   // benchmarking
                || (b0 == 198 && b1 == 51 && b2 == 100)    // TEST-NET-2
                || (b0 == 203 && b1 == 0 && b2 == 113)     // TEST-NET-3
                || b0 >= 224);                             // multicast, reserved, broadcast
    }

    private static boolean isGlobalV6(byte[] a) {
        boolean firstTenZero = true;
        for (int i = 0; i < 10; i++) {
            firstTenZero &= a[i] == 0;
        }
        if (firstTenZero && ((a[10] == (byte) 0xff && a[11] == (byte) 0xff) || (a[10] == 0 && a[11] == 0))) {
            // IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d (which covers :: and ::1)
            return isGlobalV4(new byte[]{a[12], a[13], a[14], a[15]});
        }
        int w0 = ((a[0] & 0xff) << 8) | (a[1] & 0xff);
        int w1 = ((a[2] & 0xff) << 8) | (a[3] & 0xff);
        if (w0 == 0x0064 && w1 == 0xff9b) {                 // NAT64 64:ff9b::/96 embeds an IPv4 address
            return isGlobalV4(new byte[]{a[12], a[13], a[14], a[15]});
        }
        if (w0 == 0x2002) {                                 // 6to4 embeds an IPv4 address
            return isGlobalV4(new byte[]{a[2], a[3], a[4], a[5]});
        }
        return !((w0 & 0xfe00) == 0xfc00                    // unique local fc00::/7
                || (w0 & 0xffc0) == 0xfe80                  // link-local fe80::/10
                || (w0 & 0xffc0) == 0xfec0                  // site-local fec0::/10
                || (w0 & 0xff00) == 0xff00                  // multicast
                || (w0 == 0x2001 && w1 == 0x0db8)           // documentation
                || (w0 == 0x2001 && w1 == 0x0000)           // Teredo
                || (w0 == 0x0100 && w1 == 0)                // discard-only 100::/64
                || w0 == 0);                                // anything else under ::/16
    }
}
