package dev.tollgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.testing.TestDatabase;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * {@code tollgate.subject.unknown=reject} (the default) through the gateway's Quota filter and
 * its admin routes, over real HTTP: made-up keys get 401 with a challenge and leave no row, an
 * issued key is metered, a revoked key is refused.
 */
@SpringBootTest(classes = GatewayTestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"tollgate.subject.unknown=reject", "tollgate.admin.token=" + GatewayKeyAdmissionTest.TOKEN})
@AutoConfigureWebTestClient
@DirtiesContext
class GatewayKeyAdmissionTest {
    static final String TOKEN = "gateway-admin-token-0123456789";
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

    @Autowired
    WebTestClient client;
    @Autowired
    QuotaGatewayFilterFactory quota;
    @Autowired
    Tollgate tollgate;
    @Autowired
    TestDatabase db;

    private long usageRows() {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM tollgate_usage").mapTo(Long.class).one());
    }

    @Test
    void madeUpKeysAreRefusedIssuedKeysAreMeteredRevokedKeysAreRefused() {
        for (int i = 0; i < 10; i++) {
            client.get().uri("/api/hello").header("X-API-Key", "made-up-" + UUID.randomUUID()).exchange()
                    .expectStatus().isUnauthorized()
                    .expectHeader().valueEquals("WWW-Authenticate", "ApiKey realm=\"tollgate\", header=\"X-API-Key\"")
                    .expectBody().jsonPath("$.type").isEqualTo("https://tollgate.dev/problems/unknown-key");
        }
        assertThat(tollgate.flush()).isTrue();
        assertThat(usageRows()).as("made-up keys leave no row").isZero();

        Map<String, Object> issued = client.post().uri("/tollgate/keys").header("Authorization", "Bearer " + TOKEN)
                .bodyValue("{\"plan\":\"free\"}").exchange()
                .expectStatus().isCreated()
                .expectBody(new ParameterizedTypeReference<Map<String, Object>>() { }).returnResult().getResponseBody();
        String key = (String) issued.get("key");
        String subject = Subjects.apiKey(key);
        assertThat(issued).containsEntry("subject", subject).containsEntry("plan", "free");

        client.get().uri("/api/hello").header("X-API-Key", key).exchange().expectStatus().isOk()
                .expectHeader().exists("RateLimit");
        client.get().uri("/tollgate/me").header("X-API-Key", key).exchange().expectStatus().isOk();
        await().atMost(Duration.ofSeconds(10)).until(() -> quota.pendingCharges() == 0);
        assertThat(tollgate.flush()).isTrue();
        assertThat(db.storedTotal(subject, "requests", "DAY")).as("the request and /me").isEqualTo(2);

        client.delete().uri("/tollgate/keys/" + subject).header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk();
        client.get().uri("/api/hello").header("X-API-Key", key).exchange().expectStatus().isUnauthorized();
        client.get().uri("/tollgate/me").header("X-API-Key", key).exchange().expectStatus().isUnauthorized()
                .expectHeader().exists("WWW-Authenticate");
    }
}
