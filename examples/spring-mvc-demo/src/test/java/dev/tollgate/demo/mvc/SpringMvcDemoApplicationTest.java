package dev.tollgate.demo.mvc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.Tollgate;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The demo as it ships (its application.yml), on a random port and its own in-memory H2
 * database, through real HTTP: metered, denied with 429 at the limit, charged exactly in the
 * store, healthy.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "tollgate.store.url=" + SpringMvcDemoApplicationTest.STORE, "tollgate.plans.free.requests=3/day",
        "tollgate.admin.token=" + SpringMvcDemoApplicationTest.TOKEN})
class SpringMvcDemoApplicationTest {
    static final String STORE = "jdbc:h2:mem:spring-mvc-demo-test;DB_CLOSE_DELAY=-1";
    static final String TOKEN = "mvc-demo-admin-token-0123";
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    @LocalServerPort
    int port;
    @Autowired
    Tollgate tollgate;

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    }

    /** A new API key from the admin API, as the README's one command gets it. */
    private String issueKey() throws Exception {
        HttpResponse<String> r = send(request("/tollgate/keys").header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(r.statusCode()).isEqualTo(201);
        return JsonMapper.builder().build().readTree(r.body()).at("/key").asString();
    }

    private static long stored(String subject, String quota) throws Exception {
        try (Connection c = DriverManager.getConnection(STORE);
             PreparedStatement s = c.prepareStatement(
                     "SELECT COALESCE(SUM(used), 0) FROM tollgate_usage WHERE subject = ? AND quota = ?")) {
            s.setString(1, subject);
            s.setString(2, quota);
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        }
    }

    @Test
    void metersHelloUpToTheLimitThen429WithTheFieldsAndAProblemBody() throws Exception {
        String key = issueKey();
        for (int i = 1; i <= 3; i++) {
            HttpResponse<String> ok = send(request("/api/hello").header("X-API-Key", key));
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).contains("Hello from behind the tollgate");
            assertThat(ok.headers().firstValue("RateLimit-Policy")).hasValue("\"requests-day\";q=3;w=86400");
            assertThat(ok.headers().firstValue("RateLimit").orElseThrow()).startsWith("\"requests-day\";r=" + (3 - i) + ";t=");
        }

        HttpResponse<String> denied = send(request("/api/hello").header("X-API-Key", key));
        assertThat(denied.statusCode()).isEqualTo(429);
        assertThat(denied.headers().firstValue("Retry-After").orElseThrow()).matches("\\d+");
        assertThat(denied.headers().firstValue("RateLimit-Policy")).hasValue("\"requests-day\";q=3;w=86400");
        assertThat(denied.headers().firstValue("RateLimit").orElseThrow()).startsWith("\"requests-day\";r=0;t=");
        assertThat(denied.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(denied.body()).startsWith("{\"type\":\"https://tollgate.dev/problems/quota-exceeded\","
                + "\"title\":\"Quota exceeded\",\"status\":429,").contains("\"instance\":\"/api/hello\"",
                "\"policy\":\"requests-day\"", "\"limit\":3", "\"used\":3", "\"remaining\":0");

        assertThat(tollgate.flush()).isTrue();
        assertThat(stored(Subjects.apiKey(key), "requests")).isEqualTo(3);
    }

    @Test
    void chargesTheTokensTheChatEndpointReports() throws Exception {
        String key = issueKey();
        HttpResponse<String> chat = send(request("/api/chat").header("X-API-Key", key)
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("x".repeat(40))));
        assertThat(chat.statusCode()).isEqualTo(200);
        long tokens = Long.parseLong(chat.headers().firstValue("X-Usage-Tokens").orElseThrow());
        assertThat(tokens).isEqualTo(10 + 6);

        assertThat(tollgate.flush()).isTrue();
        assertThat(stored(Subjects.apiKey(key), "tokens")).isEqualTo(tokens);
        assertThat(stored(Subjects.apiKey(key), "requests")).isEqualTo(1);
    }

    @Test
    void aRequestWithoutAKeyIs401AndOtherPathsAreNotMetered() throws Exception {
        HttpResponse<String> anonymous = send(request("/api/hello"));
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.body()).contains("Send your API key in the X-API-Key header.");
        HttpResponse<String> madeUp = send(request("/api/hello").header("X-API-Key", "made-up-key"));
        assertThat(madeUp.statusCode()).as("only registered keys are metered").isEqualTo(401);
        assertThat(madeUp.headers().firstValue("WWW-Authenticate"))
                .hasValue("ApiKey realm=\"tollgate\", header=\"X-API-Key\"");
        assertThat(send(request("/actuator/health")).statusCode()).isEqualTo(200);
    }

    @Test
    void theCallersOwnQuotaIsServedAtTheAdminPathAndHealthShowsTheTollgateComponent() throws Exception {
        String key = issueKey();
        HttpResponse<String> me = send(request("/tollgate/me").header("X-API-Key", key));
        assertThat(me.statusCode()).isEqualTo(200);
        assertThat(me.body()).startsWith("{\"subject\":\"" + Subjects.apiKey(key) + "\",\"plan\":\"free\"");

        HttpResponse<String> health = send(request("/actuator/health"));
        assertThat(health.statusCode()).isEqualTo(200);
        JsonNode body = JsonMapper.builder().build().readTree(health.body());
        assertThat(body.at("/status").asString()).isEqualTo("UP");
        assertThat(body.at("/components/tollgate/status").asString()).isEqualTo("UP");

        HttpResponse<String> metrics = send(request("/actuator/metrics"));
        assertThat(metrics.body()).contains("tollgate.check.calls", "tollgate.edge.events");
    }

    @Test
    void prometheusServesTheMetersTheGrafanaDashboardReads() throws Exception {
        send(request("/api/hello").header("X-API-Key", issueKey()));
        HttpResponse<String> r = send(request("/actuator/prometheus"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("tollgate_consume_records_total", "tollgate_store_batches_total",
                "tollgate_channel_depth", "tollgate_health", "tollgate_edge_events_total{event=\"admitted\"",
                "tollgate_quota_threshold_crossed_total{threshold=\"80%\"}");
        // Every series the Grafana dashboard queries is one this endpoint serves.
        String dashboard = Files.readString(Path.of("..", "..", "docs", "grafana", "tollgate.json"));
        Matcher m = Pattern.compile("tollgate_[a-z_]+").matcher(dashboard);
        Set<String> queried = new TreeSet<>();
        while (m.find()) {
            queried.add(m.group());
        }
        assertThat(queried).hasSizeGreaterThan(15);
        for (String series : queried) {
            assertThat(r.body()).as("the dashboard's %s", series).contains(series);
        }
    }
}
