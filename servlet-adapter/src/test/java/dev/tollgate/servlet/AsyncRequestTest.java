package dev.tollgate.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.testing.LogCapture;
import dev.tollgate.core.testing.TestDatabases.Backend;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Asynchronous servlet requests are charged once, when they complete, with the status and
 * cost header of the final response. The {@code async} rule charges 1 request and the tokens
 * in {@code X-Usage-Tokens} (estimate 10); the filter is mapped for ASYNC and ERROR dispatches
 * too, which must not charge again.
 */
class AsyncRequestTest extends ServletTestSupport {

    private void awaitCharged(long records) {
        await().atMost(Duration.ofSeconds(10))
                .until(() -> server.tollgate().stats().total() + server.filter().gate().stats().get("notCharged")
                        >= records);
    }

    @Test
    void completedOnAnotherThreadIsChargedOnceWithItsCostHeader() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        server.tollgate().assignPlan(subject(key), "big");
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = server.get("/async/work?mode=complete&tokens=7", API_KEY, key);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ok");
            assertThat(r.headers().allValues("RateLimit")).hasSize(1);
        }
        awaitCharged(10);
        assertThat(storedToday(subject(key), "requests")).isEqualTo(5);
        assertThat(db.storedTotal(subject(key), "tokens", "DAY")).isEqualTo(35);
    }

    @Test
    void startAsyncWithWrappersIsChargedOnce() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        assertThat(server.get("/async/work?mode=wrapped&tokens=4", API_KEY, key).statusCode()).isEqualTo(200);
        awaitCharged(2);
        assertThat(storedToday(subject(key), "requests")).isEqualTo(1);
        assertThat(db.storedTotal(subject(key), "tokens", "DAY")).isEqualTo(4);
    }

    @Test
    void dispatchedToAnotherServletIsChargedOnceForTheOriginalRule() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        server.tollgate().assignPlan(subject(key), "big");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = server.get("/async/work?mode=dispatch&tokens=6", API_KEY, key);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().allValues("RateLimit")).as("the ASYNC dispatch adds no second set").hasSize(1);
        }
        awaitCharged(6);
        // The dispatch target /api/hello is metered by the hello rule, but only REQUEST dispatches are.
        assertThat(storedToday(subject(key), "requests")).isEqualTo(3);
        assertThat(db.storedTotal(subject(key), "tokens", "DAY")).isEqualTo(18);
    }

    @Test
    void aTimedOutRequestIsSettledOnceAsAServerErrorAndNotCharged() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        HttpResponse<String> r = server.get("/async/work?mode=timeout", API_KEY, key);
        assertThat(r.statusCode()).isEqualTo(500);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> server.filter().gate().stats().get("notCharged") == 1L);
        assertThat(storedToday(subject(key), "requests")).isZero();
        assertThat(server.tollgate().stats().total()).isZero();
    }

    @Test
    void aRequestThatFailsAfterStartingAsyncIsSettledOnceThroughOnErrorAndNotCharged() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        try (LogCapture log = LogCapture.start()) {
            HttpResponse<String> r = server.get("/async/work?mode=error", API_KEY, key);
            assertThat(r.statusCode()).isEqualTo(500);
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> server.filter().gate().stats().get("notCharged") == 1L);
        // A later request is charged as usual: the failed one settled once and left nothing open.
        assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(200);
        awaitCharged(2);
        assertThat(server.filter().gate().stats().get("notCharged")).isEqualTo(1L);
        assertThat(storedToday(subject(key), "requests")).isEqualTo(1);
        assertThat(db.storedTotal(subject(key), "tokens", "DAY")).isZero();
    }

    @Test
    void asyncRequestsCountAgainstTheLimitLikeOthers() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        for (int i = 0; i < 3; i++) {
            assertThat(server.get("/async/work?mode=complete&tokens=1", API_KEY, key).statusCode()).isEqualTo(200);
            awaitCharged(2L * (i + 1));
        }
        HttpResponse<String> denied = server.get("/async/work?mode=complete", API_KEY, key);
        assertThat(denied.statusCode()).isEqualTo(429);
        assertThat(storedToday(subject(key), "requests")).isEqualTo(3);
    }
}
