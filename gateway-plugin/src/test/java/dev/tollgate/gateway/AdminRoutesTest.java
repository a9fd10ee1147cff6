package dev.tollgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.Subjects;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.http.MediaType;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

/** The admin API served by the gateway at {@code tollgate.admin.path}, over real HTTP. */
@SpringBootTest(classes = GatewayTestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"tollgate.admin.path=/ops/quota", "tollgate.admin.token=" + AdminRoutesTest.TOKEN})
@AutoConfigureWebTestClient
@DirtiesContext
class AdminRoutesTest {
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

    @Test
    void theCallerSeesItsOwnQuotaAtTheAdminPathWithoutAToken() {
        client.get().uri("/api/hello").header("X-API-Key", "k-me").exchange().expectStatus().isOk();
        await().atMost(Duration.ofSeconds(10)).until(() -> quota.pendingCharges() == 0);

        client.get().uri("/ops/quota/me").header("X-API-Key", "k-me").exchange()
                .expectStatus().isOk()
                .expectHeader().contentType(MediaType.APPLICATION_JSON)
                .expectHeader().valueEquals("Cache-Control", "no-store")
                .expectBody()
                .jsonPath("$.subject").isEqualTo(Subjects.apiKey("k-me"))
                .jsonPath("$.plan").isEqualTo("free")
                .jsonPath("$.quotas[?(@.quota == 'requests')].used").isEqualTo(2);   // /me counts itself
        client.get().uri("/ops/quota/me").exchange().expectStatus().isUnauthorized();
    }

    @Test
    void tokenRoutesNeedTheTokenAndActOnTheEngine() {
        client.get().uri("/ops/quota/health").exchange().expectStatus().isUnauthorized();
        client.get().uri("/ops/quota/health").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk().expectBody().jsonPath("$.status").isEqualTo("UP");

        String subject = Subjects.apiKey("k-limited");
        client.put().uri("/ops/quota/subjects/" + subject + "/limits/requests")
                .header("Authorization", "Bearer " + TOKEN).bodyValue("{\"limit\":\"1/day\"}").exchange()
                .expectStatus().isOk()
                .expectBody().jsonPath("$.quotas[?(@.quota == 'requests')].limit").isEqualTo(1);
        client.get().uri("/api/hello").header("X-API-Key", "k-limited").exchange().expectStatus().isOk();
        await().atMost(Duration.ofSeconds(10)).until(() -> quota.pendingCharges() == 0);
        client.get().uri("/api/hello").header("X-API-Key", "k-limited").exchange().expectStatus().isEqualTo(429);

        client.get().uri("/ops/quota/stats").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk().expectBody().jsonPath("$.edge.rejectedQuota").isEqualTo(1);
    }

    @Test
    void aBodyOverTheLimitIsRefusedAndTheDefaultPathIsNotServed() {
        client.put().uri("/ops/quota/subjects/someone/plan").header("Authorization", "Bearer " + TOKEN)
                .bodyValue("{\"plan\":\"" + "x".repeat(20_000) + "\"}").exchange()
                .expectStatus().isEqualTo(413);
        client.get().uri("/tollgate/me").header("X-API-Key", "k-me").exchange().expectStatus().isNotFound();
    }

    @Test
    void usageHistoryAndExportReadTheirQuery() {
        client.get().uri("/api/hello").header("X-API-Key", "k-history").exchange().expectStatus().isOk();
        await().atMost(Duration.ofSeconds(10)).until(() -> quota.pendingCharges() == 0);
        client.post().uri("/ops/quota/flush").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk();
        java.time.LocalDate today = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
        String range = "from=" + today.minusDays(1) + "&to=" + today.plusDays(1) + "&period=day";

        client.get().uri("/ops/quota/me/usage?" + range).header("X-API-Key", "k-history").exchange()
                .expectStatus().isOk()
                .expectBody()
                .jsonPath("$.subject").isEqualTo(Subjects.apiKey("k-history"))
                .jsonPath("$.windows[?(@.quota == 'requests')].used").isEqualTo(1)
                .jsonPath("$.next").doesNotExist();
        client.get().uri("/ops/quota/usage?" + range).header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk()
                .expectHeader().contentType("application/x-ndjson");
        client.get().uri("/ops/quota/usage?from=2026-11-02&to=2026-11-01").header("Authorization", "Bearer " + TOKEN)
                .exchange().expectStatus().isBadRequest();
    }
}
