package dev.tollgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.blockhound.BlockHound;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The same routes with the engine on a fresh PostgreSQL schema: stored totals are exact.
 * Skipped with a message when no PostgreSQL answers, unless {@code tollgate.test.postgres.required=true}.
 */
@SpringBootTest(classes = GatewayTestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "test.db=postgresql")
@AutoConfigureWebTestClient
@DirtiesContext
class QuotaRoutesPostgresTest {
    static final Upstream UPSTREAM = Upstream.start();

    @BeforeAll
    static void requirePostgres() {
        BlockHound.install();
        TestDatabases.requirePostgres();
    }

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
    Tollgate tollgate;
    @Autowired
    TestDatabase db;
    @Autowired
    QuotaGatewayFilterFactory quota;

    private void settleAndFlush() {
        await().atMost(Duration.ofSeconds(10)).until(() -> quota.pendingCharges() == 0);
        assertThat(tollgate.flush()).isTrue();
    }

    @Test
    void storedTotalsAreExactAfterConcurrentRequests() {
        assertThat(db.backend()).isEqualTo(TestDatabases.Backend.POSTGRESQL);
        int subjects = 4;
        int perSubject = 25;
        Flux.range(0, subjects * perSubject)
                .flatMap(i -> client.get().uri("/api/count").header("X-API-Key", "pg-" + (i % subjects))
                        .exchange().returnResult(String.class).getResponseBody().then(Mono.just(i)), 16)
                .blockLast(Duration.ofSeconds(60));
        settleAndFlush();

        for (int s = 0; s < subjects; s++) {
            assertThat(db.storedTotal(Subjects.apiKey("pg-" + s), "calls", "DAY")).isEqualTo(perSubject);
        }
    }

    @Test
    void theCostIsReadFromTheUpstreamResponseHeader() {
        client.post().uri("/api/chat").header("X-API-Key", "pg-chat").header("X-Test-Tokens", "1234")
                .exchange().expectStatus().isOk()
                .expectHeader().valueMatches("RateLimit", "\"requests-day\";r=4;t=\\d+, \"tokens-day\";r=99990;t=\\d+");
        settleAndFlush();

        assertThat(db.storedTotal(Subjects.apiKey("pg-chat"), "tokens", "DAY")).isEqualTo(1234);
        assertThat(db.storedTotal(Subjects.apiKey("pg-chat"), "requests", "DAY")).isEqualTo(1);
    }

    @Test
    void theSameIdempotencyKeyTwiceIsChargedOnceAndNoKeyEveryTime() {
        for (int i = 0; i < 2; i++) {
            client.post().uri("/api/chat").header("X-API-Key", "pg-idem").header("X-Test-Tokens", "40")
                    .header("Idempotency-Key", "order-1").exchange().expectStatus().isOk();
        }
        settleAndFlush();
        assertThat(db.storedTotal(Subjects.apiKey("pg-idem"), "requests", "DAY")).isEqualTo(1);
        assertThat(db.storedTotal(Subjects.apiKey("pg-idem"), "tokens", "DAY")).isEqualTo(40);

        for (int i = 0; i < 2; i++) {
            client.post().uri("/api/chat").header("X-API-Key", "pg-idem").header("X-Test-Tokens", "40")
                    .exchange().expectStatus().isOk();
        }
        settleAndFlush();
        assertThat(db.storedTotal(Subjects.apiKey("pg-idem"), "requests", "DAY")).isEqualTo(3);
        assertThat(db.storedTotal(Subjects.apiKey("pg-idem"), "tokens", "DAY")).isEqualTo(120);
    }
}
