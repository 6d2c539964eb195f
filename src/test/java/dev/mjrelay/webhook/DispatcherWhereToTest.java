package dev.mjrelay.webhook;

import dev.mjrelay.store.DeliveryRecord;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * How a failed attempt's log line names its target. It named the host alone ("webhook task.succeeded
 * to localhost: attempt 1 failed (HTTP 500)"), so that a task's callbackUrl and a registered endpoint
 * on one host, or two endpoints on two ports of it, read the same, and an operator could not tell
 * which receiver failed.
 */
class DispatcherWhereToTest {

    @Test
    void anEndpointIsNamedByItsIdAndTheCallbackUrlAsSuchEachWithHostAndPort() {
        assertEquals("endpoint ep_abc at localhost:18099",
                Dispatcher.whereTo(delivery("http://localhost:18099/500", "endpoint:ep_abc")));
        assertEquals("callbackUrl at localhost:18080",
                Dispatcher.whereTo(delivery("http://localhost:18080/sim/inbox", DeliveryRecord.ACCOUNT_REF)));
        assertEquals("callbackUrl at hooks.example.com",
                Dispatcher.whereTo(delivery("https://hooks.example.com/in", DeliveryRecord.ACCOUNT_REF)));
    }

    @Test
    void neitherThePathNorTheQueryNorUserInfoIsTold() {
        assertEquals("endpoint ep_abc at hooks.example.com:8443", Dispatcher.whereTo(
                delivery("https://user:s3cret@hooks.example.com:8443/t/tok_live_123?key=k9", "endpoint:ep_abc")));
        assertEquals("callbackUrl at (invalid URL)", Dispatcher.whereTo(delivery("not a url", DeliveryRecord.ACCOUNT_REF)));
    }

    private static DeliveryRecord delivery(String target, String secretRef) {
        return new DeliveryRecord("t1:callback", "t1", "alpha", "msg_1", "task.succeeded", target, secretRef, 0, "{}", 0L, null);
    }
}
