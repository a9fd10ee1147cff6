package dev.tollgate.core.edge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.testing.MutableClock;
import dev.tollgate.core.testing.OnEachDatabase;
import io.cloudevents.CloudEvent;
import io.cloudevents.SpecVersion;
import io.cloudevents.core.format.EventFormat;
import io.cloudevents.core.provider.EventFormatProvider;
import io.cloudevents.jackson.JsonFormat;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Usage export and history through the admin API on a real database, with the engine's clock
 * moved over several windows: the exported events parse with the CloudEvents SDK, their amounts
 * add up to the stored usage, their ids are the same at every export, only closed windows are
 * exported, and pages follow their {@code Link}.
 */
class UsageExportTest extends OnEachDatabase {
    private static final String TOKEN = "an-admin-token-of-some-length";
    private static final Instant T0 = Instant.parse("2026-11-26T10:15:00Z");
    private static final Pattern NEXT = Pattern.compile("<([^>]+)>; rel=\"next\"");
    private static final EventFormat FORMAT = EventFormatProvider.getInstance().resolveFormat(JsonFormat.CONTENT_TYPE);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MutableClock clock = new MutableClock(T0);
    private Tollgate tollgate;
    private AdminApi api;

    @BeforeEach
    void start() {
        tollgate = Tollgate.builder(TollgateConfig.custom().limit("free", "requests", "100000/hour,1000000/day")
                        .flushInterval(Duration.ofMillis(50)).metricsEnabled(false).build())
                .dataSource(db.dataSource()).clock(clock).build();
        // Subjects here are not registered API keys: this test is about the usage routes.
        api = new AdminApi(new QuotaGate(tollgate, EdgeConfig.custom().adminToken(TOKEN)
                .unknownSubjects(EdgeConfig.UnknownSubjects.DEFAULT_PLAN)
                .exportSource("https://billing.example/tollgate").build()));
    }

    @AfterEach
    void stop() {
        tollgate.close();
    }

    /** alice 5, bob 3 in hour 10; alice 7 in hour 11; bob 2 in hour 12; all on 2026-11-26. */
    private void consumeOverThreeHours() {
        tollgate.consume("alice", "requests", 5);
        tollgate.consume("bob", "requests", 3);
        assertThat(tollgate.flush()).isTrue();
        clock.advance(Duration.ofHours(1));
        tollgate.consume("alice", "requests", 7);
        assertThat(tollgate.flush()).isTrue();
        clock.advance(Duration.ofHours(1));
        tollgate.consume("bob", "requests", 2);
        assertThat(tollgate.flush()).isTrue();
    }

    private AdminApi.Response get(String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        return api.handle("GET", q < 0 ? pathAndQuery : pathAndQuery.substring(0, q),
                q < 0 ? null : pathAndQuery.substring(q + 1), "Bearer " + TOKEN, null, SubjectResult::absent);
    }

    /** Every event of an export, following the pages. */
    private List<CloudEvent> export(String query) {
        List<CloudEvent> events = new ArrayList<>();
        String next = "/usage?" + query;
        for (int pages = 0; next != null && pages < 100; pages++) {
            AdminApi.Response r = get(next);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.contentType()).isEqualTo("application/x-ndjson");
            for (String line : r.body().split("\n")) {
                if (!line.isEmpty()) {
                    events.add(FORMAT.deserialize(line.getBytes(StandardCharsets.UTF_8)));
                }
            }
            next = null;
            for (Map.Entry<String, String> h : r.headers()) {
                Matcher m = NEXT.matcher(h.getValue());
                if (h.getKey().equals("Link") && m.matches()) {
                    next = "/" + m.group(1);
                }
            }
        }
        return events;
    }

    private static JsonNode data(CloudEvent e) {
        try {
            return JSON.readTree(e.getData().toBytes());
        } catch (java.io.IOException x) {
            throw new AssertionError(x);
        }
    }

    @Test
    void closedWindowsExportAsCloudEventsWhoseAmountsAddUpAndWhoseIdsAreStable() {
        consumeOverThreeHours();
        clock.set(Instant.parse("2026-11-27T00:30:00Z"));
        String query = "from=2026-11-26&to=2026-11-27T00:00:00Z&limit=2";

        List<CloudEvent> events = export(query);
        // Hours 10, 11 and 12 (alice 2 windows, bob 2) and the day (alice, bob): 6 windows.
        assertThat(events).hasSize(6);
        Map<String, Long> sums = new HashMap<>();
        for (CloudEvent e : events) {
            assertThat(e.getSpecVersion()).isEqualTo(SpecVersion.V1);
            assertThat(e.getType()).isEqualTo("dev.tollgate.usage");
            assertThat(e.getSource()).isEqualTo(URI.create("https://billing.example/tollgate"));
            assertThat(e.getDataContentType()).isEqualTo("application/json");
            JsonNode d = data(e);
            assertThat(d.get("quota").asText()).isEqualTo("requests");
            assertThat(e.getTime().toInstant()).isEqualTo(Instant.parse(d.get("windowStart").asText()));
            assertThat(Instant.parse(d.get("windowEnd").asText())).isAfter(e.getTime().toInstant());
            sums.merge(e.getSubject() + "/" + d.get("period").asText(), d.get("amount").asLong(), Long::sum);
        }
        assertThat(sums).containsEntry("alice/hour", db.storedTotal("alice", "requests", "HOUR"))
                .containsEntry("bob/hour", db.storedTotal("bob", "requests", "HOUR"))
                .containsEntry("alice/day", 12L).containsEntry("bob/day", 5L);
        assertThat(sums.get("alice/hour")).isEqualTo(12);

        List<String> ids = events.stream().map(CloudEvent::getId).toList();
        assertThat(ids).doesNotHaveDuplicates();
        assertThat(export(query).stream().map(CloudEvent::getId).toList()).as("the same ids at a second export")
                .isEqualTo(ids);
    }

    @Test
    void openWindowsAreNotExportedUntilTheyClose() {
        consumeOverThreeHours();
        // 12:15 on the same day: hours 10 and 11 are closed; hour 12 and the day are not.
        List<CloudEvent> events = export("from=2026-11-26&to=2026-11-27");
        assertThat(events).extracting(CloudEvent::getSubject).containsExactly("alice", "bob", "alice");
        assertThat(events).allSatisfy(e -> assertThat(data(e).get("period").asText()).isEqualTo("hour"));
        clock.set(Instant.parse("2026-11-27T00:00:00Z"));
        assertThat(export("from=2026-11-26&to=2026-11-27")).hasSize(6);
        assertThat(export("from=2026-11-26&to=2026-11-27&subject=bob&period=day")).singleElement()
                .satisfies(e -> assertThat(data(e).get("amount").asLong()).isEqualTo(5));
    }

    @Test
    void historyListsASubjectsWindowsAndMeUsageTheCallersOwn() {
        consumeOverThreeHours();
        AdminApi.Response r = get("/subjects/alice/usage?period=hour&from=2026-11-26&to=2026-11-27");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"subject\":\"alice\",\"windows\":["
                + "{\"quota\":\"requests\",\"period\":\"hour\",\"windowStart\":\"2026-11-26T10:00:00Z\","
                + "\"windowEnd\":\"2026-11-26T11:00:00Z\",\"used\":5,\"closed\":true},"
                + "{\"quota\":\"requests\",\"period\":\"hour\",\"windowStart\":\"2026-11-26T11:00:00Z\","
                + "\"windowEnd\":\"2026-11-26T12:00:00Z\",\"used\":7,\"closed\":true}],\"next\":null}");

        Supplier<SubjectResult> bob = () -> SubjectResult.of("bob");
        AdminApi.Response mine = api.handle("GET", "/me/usage", "from=2026-11-26&to=2026-11-27&period=day", null,
                null, bob);
        assertThat(mine.status()).isEqualTo(200);
        assertThat(mine.body()).startsWith("{\"subject\":\"bob\",\"windows\":[{\"quota\":\"requests\",\"period\":\"day\"")
                .contains("\"used\":5,\"closed\":false}");
        AdminApi.Response nobody = api.handle("GET", "/me/usage", "from=2026-11-26&to=2026-11-27", null, null,
                SubjectResult::absent);
        assertThat(nobody.status()).isEqualTo(401);
    }

    @Test
    void badQueriesAreRefusedNamingTheParameter() {
        assertThat(get("/usage?to=2026-11-27").body()).contains("Parameter 'from' is required");
        assertThat(get("/usage?from=yesterday&to=2026-11-27").body()).contains("Parameter 'from' is 'yesterday'");
        assertThat(get("/usage?from=2026-11-27&to=2026-11-26").status()).isEqualTo(400);
        assertThat(get("/usage?from=2026-11-26&to=2026-11-27&period=total").body())
                .contains("Parameter 'period' is 'total'");
        assertThat(get("/usage?from=2026-11-26&to=2026-11-27&limit=0").body()).contains("from 1 to 10000");
        assertThat(get("/usage?from=2026-11-26&to=2026-11-27&after=nonsense").body()).contains("Parameter 'after'");
        assertThat(get("/usage?from=2026-11-26&to=2026-11-27&color=red").body()).contains("Unknown parameter 'color'");
        assertThat(api.handle("GET", "/usage", "from=2026-11-26&to=2026-11-27", null, null, SubjectResult::absent)
                .status()).as("the export needs the admin token").isEqualTo(401);
    }
}
