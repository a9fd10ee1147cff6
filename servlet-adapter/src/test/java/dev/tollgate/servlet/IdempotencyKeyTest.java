package dev.tollgate.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.testing.TestDatabases.Backend;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The {@code Idempotency-Key} request header through the servlet filter over real HTTP: a
 * request repeated with the same key is served each time and charged once; without the header
 * every request is charged; a malformed key is refused with 400 and nothing is charged.
 */
class IdempotencyKeyTest extends ServletTestSupport {
    private static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    /** Waits until {@code n} requests have been settled (they are charged after their response). */
    private void settled(long n) {
        await().atMost(Duration.ofSeconds(10)).until(() -> server.tollgate().stats().total() == n);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void theSameKeyTwiceIsChargedOnceAndNoKeyIsChargedEveryTime(Backend backend) throws Exception {
        boot(backend);
        String key = newKey();
        server.tollgate().assignPlan(subject(key), "big");
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> r = server.post("/api/chat?tokens=7", "hi", API_KEY, key, IDEMPOTENCY_KEY, "order-1");
            assertThat(r.statusCode()).as("a repeat is served").isEqualTo(200);
        }
        // The structured-field form of the same key ("…") names the same request.
        assertThat(server.post("/api/chat?tokens=7", "hi", API_KEY, key, IDEMPOTENCY_KEY, "\"order-1\"")
                .statusCode()).isEqualTo(200);
        settled(6);
        assertThat(storedToday(subject(key), "requests")).isEqualTo(1);
        assertThat(storedToday(subject(key), "tokens")).isEqualTo(7);

        assertThat(server.post("/api/chat?tokens=7", "hi", API_KEY, key).statusCode()).isEqualTo(200);
        assertThat(server.post("/api/chat?tokens=7", "hi", API_KEY, key).statusCode()).isEqualTo(200);
        settled(10);
        assertThat(storedToday(subject(key), "requests")).isEqualTo(3);
        assertThat(storedToday(subject(key), "tokens")).isEqualTo(21);
    }

    @Test
    void theKeyBelongsToItsSubject() throws Exception {
        boot(Backend.H2);
        String alice = newKey();
        String bob = newKey();
        server.get("/api/hello", API_KEY, alice, IDEMPOTENCY_KEY, "same");
        server.get("/api/hello", API_KEY, bob, IDEMPOTENCY_KEY, "same");
        settled(2);
        assertThat(storedToday(subject(alice), "requests")).isEqualTo(1);
        assertThat(storedToday(subject(bob), "requests")).isEqualTo(1);
    }

    @Test
    void aMalformedOrRepeatedKeyIsRefusedWith400AndNothingIsCharged() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        HttpResponse<String> repeated = server.get("/api/hello", API_KEY, key, IDEMPOTENCY_KEY, "a",
                IDEMPOTENCY_KEY, "b");
        assertThat(repeated.statusCode()).isEqualTo(400);
        assertThat(JsonBodies.parse(repeated.body()))
                .containsEntry("type", "https://tollgate.dev/problems/bad-request-id")
                .containsEntry("detail", "The Idempotency-Key header must appear once");
        HttpResponse<String> tooLong = server.get("/api/hello", API_KEY, key, IDEMPOTENCY_KEY, "k".repeat(256));
        assertThat(tooLong.statusCode()).isEqualTo(400);
        assertThat((String) JsonBodies.parse(tooLong.body()).get("detail"))
                .contains("Idempotency-Key").contains("1 to 255 characters");
        assertThat(server.filter().gate().stats()).containsEntry("rejectedBadRequestId", 2L);
        assertThat(storedToday(subject(key), "requests")).isZero();
        // Nothing was taken: the whole day's 3 requests are left.
        for (int i = 0; i < 3; i++) {
            assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void theHeaderIsConfigurable() throws Exception {
        boot(Backend.H2, "tollgate.idempotency.header", "X-Request-Id");
        String key = newKey();
        server.get("/api/hello", API_KEY, key, "X-Request-Id", "r-1");
        server.get("/api/hello", API_KEY, key, "X-Request-Id", "r-1");
        server.get("/api/hello", API_KEY, key, IDEMPOTENCY_KEY, "r-1");
        settled(3);
        assertThat(storedToday(subject(key), "requests")).as("Idempotency-Key is now an ordinary header")
                .isEqualTo(2);
    }
}
