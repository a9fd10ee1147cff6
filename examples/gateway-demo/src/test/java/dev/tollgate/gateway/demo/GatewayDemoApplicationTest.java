package dev.tollgate.gateway.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * The demo's routes and quotas, through its own upstream, on an in-memory H2 store: unknown keys
 * refused, an issued key metered up to its plan's limit, and the stored totals read back.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"tollgate.store.url=jdbc:h2:mem:gateway-demo;DB_CLOSE_DELAY=-1",
                "tollgate.plans.free.requests=2/day", "tollgate.admin.token=" + GatewayDemoApplicationTest.TOKEN})
@AutoConfigureWebTestClient
class GatewayDemoApplicationTest {
    static final String TOKEN = "gateway-demo-admin-token-0123";
    static final DemoUpstream UPSTREAM = DemoUpstream.start(0);

    @DynamicPropertySource
    static void upstream(DynamicPropertyRegistry registry) {
        registry.add("demo.upstream.url", UPSTREAM::url);
    }

    @AfterAll
    static void stop() {
        UPSTREAM.close();
    }

    @Autowired
    WebTestClient client;

    @Test
    void helloAndChatAreMeteredAndTheHealthShowsTollgate() {
        client.get().uri("/api/hello").header("X-API-Key", "made-up-key").exchange()
                .expectStatus().isUnauthorized()
                .expectHeader().valueEquals("WWW-Authenticate", "ApiKey realm=\"tollgate\", header=\"X-API-Key\"");
        Map<String, Object> issued = issue();
        String key = issued.get("key").toString();
        client.get().uri("/api/hello").header("X-API-Key", key).exchange()
                .expectStatus().isOk()
                .expectHeader().valueEquals("RateLimit-Policy", "\"requests-day\";q=2;w=86400")
                .expectBody().jsonPath("$.message").isEqualTo("Hello from the demo upstream");
        client.post().uri("/api/chat?tokens=42").header("X-API-Key", key).exchange()
                .expectStatus().isOk()
                .expectHeader().valueEquals("X-Usage-Tokens", "42")
                .expectHeader().valueMatches("RateLimit-Policy", ".*\"tokens-day\";q=100000;qu=\"tokens\";w=86400");
        // The plan's 2 requests a day are used: the third is refused and costs nothing.
        client.get().uri("/api/hello").header("X-API-Key", key).exchange()
                .expectStatus().isEqualTo(429)
                .expectHeader().valueMatches("RateLimit", "\"requests-day\";r=0;t=\\d+");
        client.get().uri("/api/hello").exchange().expectStatus().isUnauthorized();
        client.get().uri("/actuator/health").exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.components.tollgate.status").isEqualTo("UP");

        // A request is charged just after its response; flush until the chat's charge is in.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            client.post().uri("/tollgate/flush").header("Authorization", "Bearer " + TOKEN).exchange()
                    .expectStatus().isOk();
            Map<String, Object> view = client.get().uri("/tollgate/subjects/{subject}", issued.get("subject"))
                    .header("Authorization", "Bearer " + TOKEN).exchange().expectStatus().isOk()
                    .expectBody(new ParameterizedTypeReference<Map<String, Object>>() { }).returnResult()
                    .getResponseBody();
            assertThat(stored(view, "requests")).as("hello and chat, not the refused one").isEqualTo(2);
            assertThat(stored(view, "tokens")).as("what the upstream reported").isEqualTo(42);
        });
    }

    /** The stored usage of {@code quota} in a subject view of the admin API. */
    @SuppressWarnings("unchecked")
    private static long stored(Map<String, Object> view, String quota) {
        return ((List<Map<String, Object>>) view.get("quotas")).stream().filter(q -> quota.equals(q.get("quota")))
                .mapToLong(q -> ((Number) q.get("stored")).longValue()).sum();
    }

    /** A new API key from the admin API, as the README's one command gets it: key, subject and plan. */
    private Map<String, Object> issue() {
        return client.post().uri("/tollgate/keys").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isCreated()
                .expectBody(new ParameterizedTypeReference<Map<String, Object>>() { }).returnResult()
                .getResponseBody();
    }

    private String issueKey() {
        return issue().get("key").toString();
    }

    @Test
    void prometheusServesTheMetersTheGrafanaDashboardReads() {
        client.get().uri("/api/hello").header("X-API-Key", issueKey()).exchange().expectStatus().isOk();
        String body = client.get().uri("/actuator/prometheus").exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        assertThat(body).contains("tollgate_consume_records_total",
                "tollgate_store_batches_total", "tollgate_health", "tollgate_edge_events_total{event=\"admitted\"",
                "tollgate_quota_threshold_crossed_total{threshold=\"100%\"}");
    }
}
