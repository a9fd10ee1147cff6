package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.core.config.TollgateKeys;
import dev.tollgate.core.testing.EventReceiver;
import dev.tollgate.core.testing.MutableClock;
import dev.tollgate.core.testing.OnEachDatabase;
import io.cloudevents.CloudEvent;
import io.cloudevents.core.format.EventFormat;
import io.cloudevents.core.provider.EventFormatProvider;
import io.cloudevents.jackson.JsonFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The push export ({@code tollgate.export.*}) on H2 and PostgreSQL, to a real HTTP receiver on
 * loopback: closed windows delivered at least once with the cursor in the store, none lost while
 * the receiver is down or failing, one node per stream, threshold crossings pushed too. Runs are
 * triggered with {@link Tollgate#exportNow()} (the scheduled interval is an hour).
 */
class PushExportTest extends OnEachDatabase {
    private static final Instant T0 = Instant.parse("2026-11-26T10:00:30Z");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final EventFormat FORMAT = EventFormatProvider.getInstance().resolveFormat(JsonFormat.CONTENT_TYPE);

    private Tollgate node(MutableClock clock, String url, String authHeader) {
        TollgateConfig c = config().limit("meter", "requests", "1000000/minute").limit("small", "requests", "10/hour")
                .export(new TollgateConfig.Export(url, 500, Duration.ofHours(1), authHeader, "urn:test")).build();
        return Tollgate.builder(c).dataSource(db.dataSource()).clock(clock).build();
    }

    /** Charges {@code subjects} in {@code minutes} minute windows, one flush per minute, and moves past them. */
    private static void charge(Tollgate t, MutableClock clock, List<String> subjects, int minutes) {
        for (String s : subjects) {
            t.assignPlan(s, "meter");
        }
        for (int m = 0; m < minutes; m++) {
            for (int i = 0; i < subjects.size(); i++) {
                t.consume(subjects.get(i), "requests", 1 + i + m);
            }
            assertThat(t.flush()).isTrue();
            clock.advance(Duration.ofMinutes(1));
        }
        clock.advance(Duration.ofSeconds(5));
    }

    /** The usage events of the 2xx-answered POSTs, each parsed with the CloudEvents SDK. */
    private static List<CloudEvent> delivered(EventReceiver r, String type) {
        List<CloudEvent> out = new ArrayList<>();
        for (EventReceiver.Post p : r.posts()) {
            if (p.answered() / 100 == 2) {
                out.addAll(events(p, type));
            }
        }
        return out;
    }

    private static List<CloudEvent> events(EventReceiver.Post p, String type) {
        List<CloudEvent> out = new ArrayList<>();
        try {
            for (JsonNode n : JSON.readTree(p.body())) {
                CloudEvent e = FORMAT.deserialize(JSON.writeValueAsBytes(n));
                if (e.getType().equals(type)) {
                    out.add(e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static long amount(CloudEvent e) {
        try {
            return JSON.readTree(e.getData().toBytes()).get("amount").asLong();
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    @Test
    void aReceiverDownThenUpGetsEveryClosedWindowOnceAndARestartResumesAfterTheCursor() {
        MutableClock clock = new MutableClock(T0);
        try (EventReceiver receiver = new EventReceiver()) {
            try (Tollgate t = node(clock, receiver.url(), null)) {
                charge(t, clock, List.of("ann", "bob"), 3);
                // Nothing listens: the run fails, the health says why, nothing is lost.
                assertThat(t.exportNow()).isFalse();
                assertThat(t.stats().exportFailures()).isPositive();
                assertThat(t.stats().exportLag()).isGreaterThan(Duration.ofMinutes(1));
                assertThat(t.health().status()).isEqualTo(Health.Status.DEGRADED);
                assertThat(t.health().reason()).contains("usage export failing");

                receiver.start();
                assertThat(t.exportNow()).isTrue();
                List<CloudEvent> got = delivered(receiver, "dev.tollgate.usage");
                assertThat(got).hasSize(6);
                assertThat(got.stream().map(CloudEvent::getId).distinct()).hasSize(6);
                assertThat(got.stream().mapToLong(PushExportTest::amount).sum())
                        .isEqualTo(db.storedTotal("requests", "MINUTE"));
                assertThat(got).allSatisfy(e -> assertThat(e.getSource().toString()).isEqualTo("urn:test"));
                assertThat(t.stats().exportDelivered()).isEqualTo(6);
                assertThat(t.stats().exportLag()).isZero();
                assertThat(t.health()).isEqualTo(Health.up());

                // The cursor moved: a second run sends nothing again.
                int posts = receiver.posts().size();
                assertThat(t.exportNow()).isTrue();
                assertThat(receiver.posts()).hasSize(posts);
            }
            // Another engine (a restart) resumes after the cursor once the old lease expired.
            clock.advance(Duration.ofHours(4));
            try (Tollgate t = node(clock, receiver.url(), null)) {
                charge(t, clock, List.of("cat"), 2);
                assertThat(t.exportNow()).isTrue();
                List<CloudEvent> got = delivered(receiver, "dev.tollgate.usage");
                assertThat(got).hasSize(8);
                assertThat(got.stream().map(CloudEvent::getId).distinct()).hasSize(8);
                assertThat(got.subList(6, 8)).extracting(CloudEvent::getSubject).containsOnly("cat");
            }
        }
    }

    @Test
    void aFailingAnswerIsRetriedAndTheCursorMovesOnlyAfterA2xx() {
        MutableClock clock = new MutableClock(T0);
        try (EventReceiver receiver = new EventReceiver().start();
             Tollgate t = node(clock, receiver.url(), "Bearer s3cret-token")) {
            charge(t, clock, List.of("ann"), 2);
            receiver.answer(503);
            assertThat(t.exportNow()).isFalse();
            // One POST per attempt, the same events each time.
            assertThat(receiver.posts()).hasSize(4).extracting(EventReceiver.Post::body).containsOnly(
                    receiver.posts().get(0).body());
            receiver.answer(400);
            assertThat(t.exportNow()).isFalse();
            assertThat(receiver.posts()).hasSize(8);
            assertThat(t.stats().exportDelivered()).isZero();
            assertThat(t.health().reason()).contains("answered 400").doesNotContain("s3cret");

            receiver.answer(202);
            assertThat(t.exportNow()).isTrue();
            assertThat(receiver.posts()).hasSize(9);
            EventReceiver.Post ok = receiver.posts().get(8);
            assertThat(ok.body()).isEqualTo(receiver.posts().get(0).body());
            assertThat(ok.contentType()).isEqualTo("application/cloudevents-batch+json");
            assertThat(ok.authorization()).isEqualTo("Bearer s3cret-token");
            assertThat(delivered(receiver, "dev.tollgate.usage")).hasSize(2);
            assertThat(t.config().toString()).contains("authHeader=****").doesNotContain("s3cret");
        }
    }

    @Test
    void twoEnginesExportingAtOnceDeliverEachWindowOnce() throws Exception {
        MutableClock clock = new MutableClock(T0);
        List<String> subjects = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            subjects.add("s" + i);
        }
        try (EventReceiver receiver = new EventReceiver().start();
             Tollgate a = node(clock, receiver.url(), null); Tollgate b = node(clock, receiver.url(), null)) {
            charge(a, clock, subjects.subList(0, 20), 15);
            clock.advance(Duration.ofMinutes(-16));
            charge(b, clock, subjects.subList(20, 40), 15);
            clock.advance(Duration.ofMinutes(2));
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<Boolean>> runs = new ArrayList<>();
                for (Tollgate n : List.of(a, b, a, b)) {
                    runs.add(pool.submit(n::exportNow));
                }
                for (Future<Boolean> f : runs) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            List<CloudEvent> got = delivered(receiver, "dev.tollgate.usage");
            Map<String, Integer> times = new HashMap<>();
            got.forEach(e -> times.merge(e.getId(), 1, Integer::sum));
            assertThat(times.size()).isEqualTo(40 * 15);
            assertThat(got.size()).isEqualTo(times.size());
            assertThat(got.stream().mapToLong(PushExportTest::amount).sum())
                    .isEqualTo(db.storedTotal("requests", "MINUTE"));
            assertThat(a.stats().exportDelivered() + b.stats().exportDelivered()).isEqualTo(600);
        }
    }

    @Test
    void aThresholdCrossingIsPushedAsACloudEvent() {
        MutableClock clock = new MutableClock(T0);
        try (EventReceiver receiver = new EventReceiver().start();
             Tollgate t = node(clock, receiver.url(), null)) {
            t.assignPlan("dan", "small");
            t.consume("dan", "requests", 8);
            assertThat(t.flush()).isTrue();
            assertThat(t.exportNow()).isTrue();
            List<CloudEvent> got = delivered(receiver, "dev.tollgate.quota.threshold");
            assertThat(got).singleElement().satisfies(e -> {
                assertThat(e.getSubject()).isEqualTo("dan");
                assertThat(JSON.readTree(e.getData().toBytes()).get("percent").asInt()).isEqualTo(80);
            });
        }
    }

    @Test
    void badExportSettingsAreRefusedNamingTheKey() {
        assertThatThrownBy(() -> new TollgateConfig.Export("ftp://x", 500, Duration.ofSeconds(30), null, "t"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining(TollgateKeys.EXPORT_URL.name())
                .hasMessageContaining("ftp://x");
        assertThatThrownBy(() -> new TollgateConfig.Export("http://x", 0, Duration.ofSeconds(30), null, "t"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("tollgate.export.batch-size");
        assertThatThrownBy(() -> new TollgateConfig.Export("http://x", 500, Duration.ofMillis(1), null, "t"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("tollgate.export.interval");
        assertThat(TollgateConfig.ofDefaults().export().enabled()).isFalse();
    }
}
