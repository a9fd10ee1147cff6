package dev.tollgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.testing.RawHttp;
import dev.tollgate.core.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A bare {@code Quota} filter on a route for {@code /api/**}, charged by the global
 * {@code tollgate.rules.*}, over real HTTP: whatever spelling of {@code /api/hello} the route
 * serves ({@code %6F}, {@code ;x=1}, {@code //}, {@code ..}, a HEAD) is charged by the hello
 * rule, and a CORS preflight is passed through uncharged.
 */
@SpringBootTest(classes = GatewayTestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "spring.cloud.gateway.server.webflux.routes[0].id=api",
            "spring.cloud.gateway.server.webflux.routes[0].uri=${upstream.url}",
            "spring.cloud.gateway.server.webflux.routes[0].predicates[0]=Path=/api/**",
            "spring.cloud.gateway.server.webflux.routes[0].filters[0]=Quota",
            "tollgate.rules.hello.path=/api/hello",
            "tollgate.rules.hello.methods=GET",
            "tollgate.rules.hello.quotas=requests:1",
            "tollgate.rules.any.path=/api/any/**",
            "tollgate.rules.any.quotas=requests:1",
            "tollgate.plans.free.requests=1000/day"})
@DirtiesContext
class GlobalRulesOverHttpTest {
    static final Upstream UPSTREAM = Upstream.start();

    @DynamicPropertySource
    static void upstream(DynamicPropertyRegistry registry) {
        registry.add("upstream.url", UPSTREAM::url);
        registry.add("dead.url", Upstream::deadUrl);
    }

    @AfterAll
    static void stopUpstream() {
        UPSTREAM.close();
    }

    @LocalServerPort
    int port;
    @Autowired
    QuotaGatewayFilterFactory quota;
    @Autowired
    Tollgate tollgate;
    @Autowired
    TestDatabase db;

    private RawHttp.Response send(String method, String target, String key, String... headers) {
        List<byte[]> lines = new ArrayList<>();
        lines.add(("X-API-Key: " + key).getBytes(StandardCharsets.US_ASCII));
        for (String h : headers) {
            lines.add(h.getBytes(StandardCharsets.US_ASCII));
        }
        return RawHttp.exchange(port, RawHttp.request(method, target, lines, null));
    }

    private long charged(String key) {
        await().atMost(Duration.ofSeconds(10)).until(() -> quota.pendingCharges() == 0);
        assertThat(tollgate.flush()).isTrue();
        return db.storedTotal(Subjects.apiKey(key), "requests", "DAY");
    }

    @Test
    void everySpellingOfTheRoutedPathIsChargedByItsRule() {
        String key = "spelling-" + UUID.randomUUID();
        for (String target : List.of("/api/hello", "/api/hell%6F", "/api/hello;x=1", "/api//hello",
                "/api/x/../hello")) {
            RawHttp.Response r = send("GET", target, key);
            assertThat(r.status()).as(target).isEqualTo(200);
            assertThat(r.header("RateLimit-Policy")).as(target + " is metered").isNotEmpty();
        }
        assertThat(charged(key)).isEqualTo(5);
    }

    @Test
    void aHeadIsChargedLikeItsGet() {
        String key = "head-" + UUID.randomUUID();
        for (int i = 0; i < 3; i++) {
            assertThat(send("HEAD", "/api/hello", key).status()).isEqualTo(200);
        }
        assertThat(send("GET", "/api/hello", key).status()).isEqualTo(200);
        assertThat(charged(key)).isEqualTo(4);
    }

    @Test
    void aCorsPreflightIsNotCharged() {
        String key = "preflight-" + UUID.randomUUID();
        RawHttp.Response r = send("OPTIONS", "/api/any/thing", key, "Origin: https://shop.example",
                "Access-Control-Request-Method: GET");
        assertThat(r.status()).isNotIn(401, 429);
        assertThat(r.header("RateLimit-Policy")).isEmpty();
        assertThat(send("OPTIONS", "/api/any/thing", key).header("RateLimit-Policy"))
                .as("a plain OPTIONS is metered").isNotEmpty();
        assertThat(charged(key)).isEqualTo(1);
    }
}
