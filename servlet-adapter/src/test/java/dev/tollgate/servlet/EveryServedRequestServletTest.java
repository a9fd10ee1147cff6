package dev.tollgate.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.testing.TestDatabases.Backend;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Through the servlet filter over real HTTP: a HEAD is charged by the rule of its GET (the
 * container serves it with {@code doGet}), a CORS preflight is passed through uncharged even
 * on a rule without methods, and server errors (an exception, an async timeout, a 503) are
 * charged when {@code tollgate.count.statuses} lists them (by default they are not).
 */
class EveryServedRequestServletTest extends ServletTestSupport {

    private HttpResponse<String> send(String method, String path, String... headers) {
        return TestServer.send(server.request(path, headers).method(method, HttpRequest.BodyPublishers.noBody())
                .build());
    }

    private long chargedAfter(long records, String key) {
        await().atMost(Duration.ofSeconds(10)).until(() -> server.tollgate().stats().total() >= records);
        return storedToday(subject(key), "requests");
    }

    @Test
    void threeHeadsAndAGetAreFourRequests() throws Exception {
        boot(Backend.H2, "tollgate.plans.free.requests", "100/day");
        String key = newKey();
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> head = send("HEAD", "/api/hello", API_KEY, key);
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(header(head, "RateLimit-Policy")).isNotNull();
        }
        assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(200);
        assertThat(chargedAfter(4, key)).isEqualTo(4);
    }

    @Test
    void aCorsPreflightIsNotChargedNorRefused() throws Exception {
        boot(Backend.H2, "tollgate.plans.free.requests", "100/day");
        String key = newKey();
        HttpResponse<String> preflight = send("OPTIONS", "/api/status", "Origin", "https://shop.example",
                "Access-Control-Request-Method", "GET");
        assertThat(preflight.statusCode()).as("no key, yet not 401").isEqualTo(200);
        assertThat(header(preflight, "RateLimit-Policy")).isNull();

        HttpResponse<String> plain = send("OPTIONS", "/api/status");
        assertThat(plain.statusCode()).as("a plain OPTIONS needs a key").isEqualTo(401);
        assertThat(header(plain, "WWW-Authenticate")).isEqualTo("ApiKey realm=\"tollgate\", header=\"X-API-Key\"");
        assertThat(send("OPTIONS", "/api/status", API_KEY, key).statusCode()).isEqualTo(200);
        assertThat(chargedAfter(1, key)).isEqualTo(1);
        assertThat(server.filter().gate().stats()).containsEntry("admitted", 1L);
    }

    @Test
    void withServerErrorsCountedAnExceptionAndAnAsyncTimeoutAreCharged() throws Exception {
        boot(Backend.H2, "tollgate.plans.free.requests", "100/day",
                "tollgate.count.statuses", "1xx,2xx,3xx,4xx,5xx,!429");
        String key = newKey();
        assertThat(server.get("/api/status?throw=true", API_KEY, key).statusCode()).isEqualTo(500);
        assertThat(server.get("/async/work?mode=timeout", API_KEY, key).statusCode()).isEqualTo(500);
        assertThat(server.get("/api/status?status=503", API_KEY, key).statusCode()).isEqualTo(503);
        assertThat(chargedAfter(3, key)).isEqualTo(3);
        assertThat(server.filter().gate().stats()).containsEntry("notCharged", 0L);
    }
}
