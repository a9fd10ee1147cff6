package dev.tollgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.testing.TestDatabase;
import java.io.OutputStream;
import org.assertj.core.api.InstanceOfAssertFactories;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.http.MediaType;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.blockhound.BlockHound;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The Quota filter through real routes to a real upstream on loopback, with the engine on a
 * fresh H2 database (the application's DataSource). BlockHound is installed before the
 * gateway starts: any blocking call on an event loop fails the request that made it.
 */
@SpringBootTest(classes = GatewayTestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureWebTestClient
@DirtiesContext
class QuotaRoutesTest {
    static {
        BlockHound.install();
    }

    static final Upstream UPSTREAM = Upstream.start();
    static final String DEAD = Upstream.deadUrl();

    @DynamicPropertySource
    static void upstream(DynamicPropertyRegistry registry) {
        registry.add("upstream.url", UPSTREAM::url);
        registry.add("dead.url", () -> DEAD);
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
    @LocalServerPort
    int port;

    private WebTestClient.ResponseSpec get(String path, String apiKey) {
        return client.get().uri(path).header("X-API-Key", apiKey).exchange();
    }

    /** Waits until every admitted request is charged, then writes the usage to the store. */
    private void settleAndFlush() {
        await().atMost(Duration.ofSeconds(10)).until(() -> quota.pendingCharges() == 0);
        assertThat(tollgate.flush()).isTrue();
    }

    private long stored(String apiKey, String quotaName) {
        return db.storedTotal(Subjects.apiKey(apiKey), quotaName, "DAY");
    }

    private long edge(String event) {
        return quota.stats().getOrDefault(event, 0L);
    }

    @Test
    void fiftyConcurrentSlowRequestsOnAFivePerDayPlanAdmitExactlyFive() throws Exception {
        UPSTREAM.resetSlow();
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + "/api/slow")).header("X-API-Key", "k-in-flight")
                .timeout(Duration.ofSeconds(60)).build();
        List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<Void>>> responses = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            responses.add(http.sendAsync(request, java.net.http.HttpResponse.BodyHandlers.discarding()));
        }
        try {
            // The 45 refused answer at once; the 5 admitted are still held by the upstream.
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> responses.stream().filter(java.util.concurrent.CompletableFuture::isDone).count() == 45);
            assertThat(UPSTREAM.slowHeld.get()).isEqualTo(5);
        } finally {
            UPSTREAM.releaseSlow();
        }
        long ok = 0;
        for (var r : responses) {
            if (r.get(30, TimeUnit.SECONDS).statusCode() == 200) {
                ok++;
            }
        }
        assertThat(ok).isEqualTo(5);
        settleAndFlush();
        assertThat(stored("k-in-flight", "requests")).isEqualTo(5);
    }

    @Test
    void allowedRequestsCarryTheRateLimitFieldsAndTheOneOverTheLimitGets429WithAProblemBody() {
        for (int i = 1; i <= 5; i++) {
            get("/api/hello", "k-limit").expectStatus().isOk()
                    .expectHeader().valueEquals("RateLimit-Policy", "\"requests-day\";q=5;w=86400")
                    .expectHeader().valueMatches("RateLimit", "\"requests-day\";r=" + (5 - i) + ";t=\\d+")
                    .expectHeader().doesNotExist("Retry-After")
                    .expectBody(String.class).isEqualTo("hello");
            settleAndFlush();
        }

        get("/api/hello", "k-limit").expectStatus().isEqualTo(429)
                .expectHeader().valueMatches("Retry-After", "\\d+")
                .expectHeader().valueEquals("RateLimit-Policy", "\"requests-day\";q=5;w=86400")
                .expectHeader().valueMatches("RateLimit", "\"requests-day\";r=0;t=\\d+")
                .expectHeader().contentType(MediaType.valueOf("application/problem+json"))
                .expectBody()
                .jsonPath("$.type").isEqualTo("https://tollgate.dev/problems/quota-exceeded")
                .jsonPath("$.title").isEqualTo("Quota exceeded")
                .jsonPath("$.status").isEqualTo(429)
                .jsonPath("$.instance").isEqualTo("/api/hello")
                .jsonPath("$.policy").isEqualTo("requests-day")
                .jsonPath("$.quota").isEqualTo("requests")
                .jsonPath("$.limit").isEqualTo(5)
                .jsonPath("$.used").isEqualTo(5)
                .jsonPath("$.remaining").isEqualTo(0);
        settleAndFlush();
        assertThat(stored("k-limit", "requests")).isEqualTo(5);
    }

    @Test
    void aRequestWithoutAnApiKeyGets401() {
        client.get().uri("/api/hello").exchange()
                .expectStatus().isUnauthorized()
                .expectHeader().contentType(MediaType.valueOf("application/problem+json"))
                .expectHeader().doesNotExist("RateLimit")
                .expectBody()
                .jsonPath("$.status").isEqualTo(401)
                .jsonPath("$.detail").isEqualTo("Send your API key in the X-API-Key header.");
    }

    @Test
    void theCostIsReadFromTheUpstreamResponseHeaderAndTheEstimateChargedWithoutIt() {
        for (String tokens : new String[] {"100", "250", "7"}) {
            client.post().uri("/api/chat").header("X-API-Key", "k-chat").header("X-Test-Tokens", tokens)
                    .exchange().expectStatus().isOk()
                    .expectHeader().valueEquals("X-Usage-Tokens", tokens);
        }
        client.post().uri("/api/chat").header("X-API-Key", "k-chat").exchange().expectStatus().isOk();
        settleAndFlush();

        assertThat(stored("k-chat", "tokens")).isEqualTo(100 + 250 + 7 + 10);
        assertThat(stored("k-chat", "requests")).isEqualTo(4);
    }

    @Test
    void storedTotalsAreExactAfterConcurrentRequests() {
        int subjects = 4;
        int perSubject = 25;
        Flux.range(0, subjects * perSubject)
                .flatMap(i -> client.get().uri("/api/count").header("X-API-Key", "k-total-" + (i % subjects))
                        .exchange().returnResult(String.class).getResponseBody().then(Mono.just(i)), 16)
                .blockLast(Duration.ofSeconds(60));
        settleAndFlush();

        for (int s = 0; s < subjects; s++) {
            assertThat(stored("k-total-" + s, "calls")).as("subject %d", s).isEqualTo(perSubject);
        }
    }

    @Test
    void anUpstream500IsNotChargedByDefault() {
        long notCharged = edge("notCharged");

        get("/api/status/500", "k-500").expectStatus().isEqualTo(500);
        settleAndFlush();

        assertThat(stored("k-500", "requests")).isZero();
        assertThat(edge("notCharged")).isEqualTo(notCharged + 1);
    }

    @Test
    void aRouteChargesTheStatusesItCounts() {
        get("/counted/status/503", "k-503").expectStatus().isEqualTo(503);
        get("/counted/status/500", "k-503").expectStatus().isEqualTo(500);
        settleAndFlush();

        assertThat(stored("k-503", "requests")).isEqualTo(1);
    }

    @Test
    void anUnreachableUpstreamIsSettledOnceWithTheErrorStatus() {
        long notCharged = edge("notCharged");

        get("/api/dead", "k-dead").expectStatus().is5xxServerError();
        get("/counted/dead", "k-dead-counted").expectStatus().is5xxServerError();
        settleAndFlush();

        assertThat(stored("k-dead", "requests")).isZero();
        assertThat(edge("notCharged")).isEqualTo(notCharged + 1);
        assertThat(stored("k-dead-counted", "requests")).isEqualTo(1);
    }

    /**
     * The client closes its connection while the upstream works; the gateway notices when it
     * writes the response, and the request is charged once (QuotaFilterSignalsTest drives the
     * cancellation signal itself).
     */
    @Test
    void aClientThatDisconnectsIsChargedOnce() throws Exception {
        UPSTREAM.resetSlow();
        long admitted = edge("admitted");
        try (Socket socket = new Socket("127.0.0.1", port)) {
            OutputStream out = socket.getOutputStream();
            out.write("GET /api/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: k-gone\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(UPSTREAM.slowArrived.await(10, TimeUnit.SECONDS)).isTrue();
        }
        UPSTREAM.releaseSlow();
        settleAndFlush();

        assertThat(edge("admitted")).isEqualTo(admitted + 1);
        assertThat(stored("k-gone", "requests")).isEqualTo(1);
    }

    @Test
    void aShadowRouteNeverDeniesButCountsWhatItWouldHaveDenied() {
        long shadowDenied = edge("shadowDenied");
        for (int i = 0; i < 6; i++) {
            get("/api/shadow", "k-shadow").expectStatus().isOk();
            settleAndFlush();
        }

        assertThat(edge("shadowDenied")).isEqualTo(shadowDenied + 1);
        assertThat(stored("k-shadow", "requests")).isEqualTo(6);
    }

    @Test
    void aKeyResolverBeanNamesTheSubject() {
        client.get().uri("/api/tenant").header("X-Tenant", "acme").exchange().expectStatus().isOk();
        client.get().uri("/api/tenant").exchange().expectStatus().isUnauthorized()
                .expectBody().jsonPath("$.detail").isEqualTo("The request does not identify who pays for it.");
        settleAndFlush();

        assertThat(db.storedTotal("acme", "requests", "DAY")).isEqualTo(2);
    }

    @Test
    void theAuthenticatedPrincipalIsTheSubject() {
        client.get().uri("/api/me").header("X-Test-User", "alice").exchange().expectStatus().isOk();
        client.get().uri("/api/me").exchange().expectStatus().isUnauthorized()
                .expectBody().jsonPath("$.detail").isEqualTo("Authenticate to use this API.");
        settleAndFlush();

        assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(1);
    }

    @Test
    void blockHoundCatchesABlockingCallOnTheEventLoop() {
        client.get().uri("/probe/blocking").exchange().expectStatus().is5xxServerError();

        assertThat(GatewayTestApplication.BlockingProbeGatewayFilterFactory.LAST.get())
                .isInstanceOf(BlockingOperationError.class);
    }

    @Test
    void healthShowsTheTollgateComponentAndMetricsListItsMeters() {
        client.get().uri("/actuator/health").exchange().expectStatus().isOk()
                .expectBody()
                .jsonPath("$.components.tollgate.status").isEqualTo("UP")
                .jsonPath("$.components.tollgate.details.queueCapacity").isEqualTo(65536);

        Map<?, ?> metrics = client.get().uri("/actuator/metrics").exchange().expectStatus().isOk()
                .expectBody(Map.class).returnResult().getResponseBody();
        assertThat(metrics).isNotNull();
        assertThat(metrics.get("names")).asInstanceOf(InstanceOfAssertFactories.LIST)
                .contains("tollgate.consume.records", "tollgate.check.calls", "tollgate.health", "tollgate.edge.events");
    }

    @Test
    void theSameIdempotencyKeyTwiceIsChargedOnceAndAMalformedOneIsRefused() {
        String key = "idem-key";
        for (int i = 0; i < 2; i++) {
            client.get().uri("/api/hello").header("X-API-Key", key).header("Idempotency-Key", "req-1").exchange()
                    .expectStatus().isOk();
        }
        client.get().uri("/api/hello").header("X-API-Key", key).exchange().expectStatus().isOk();
        client.get().uri("/api/hello").header("X-API-Key", key).header("Idempotency-Key", "has space")
                .exchange().expectStatus().isBadRequest()
                .expectBody().jsonPath("$.type").isEqualTo("https://tollgate.dev/problems/bad-request-id");
        settleAndFlush();
        assertThat(db.storedTotal(Subjects.apiKey(key), "requests", "DAY")).isEqualTo(2);
    }
}
