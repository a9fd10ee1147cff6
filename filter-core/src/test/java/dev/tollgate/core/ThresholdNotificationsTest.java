package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.testing.MutableClock;
import dev.tollgate.core.testing.OnEachDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code tollgate.notify.thresholds} on a real database: crossing 80 % and 100 % of a window's
 * limit is told once per window, on one node and across two nodes writing the same counter.
 */
class ThresholdNotificationsTest extends OnEachDatabase {
    private static final Instant T0 = Instant.parse("2026-11-26T10:05:00Z");

    private Tollgate node(MutableClock clock, List<ThresholdCrossing> told) {
        return Tollgate.builder(config().limit("meter", "requests", "10/hour").build())
                .dataSource(db.dataSource()).clock(clock).thresholdListener(told::add).build();
    }

    private static List<Integer> percents(List<ThresholdCrossing> told) {
        return told.stream().map(ThresholdCrossing::percent).toList();
    }

    @Test
    void eachThresholdIsToldOncePerWindow() {
        MutableClock clock = new MutableClock(T0);
        List<ThresholdCrossing> told = new CopyOnWriteArrayList<>();
        try (Tollgate t = node(clock, told)) {
            t.assignPlan("ann", "meter");
            t.consume("ann", "requests", 7);
            assertThat(t.flush()).isTrue();
            assertThat(told).isEmpty();
            t.consume("ann", "requests", 1);
            assertThat(t.flush()).isTrue();
            assertThat(told).singleElement().isEqualTo(new ThresholdCrossing("ann", "requests", Period.HOUR,
                    Instant.parse("2026-11-26T10:00:00Z"), Instant.parse("2026-11-26T11:00:00Z"), 80, 10, 8));
            t.consume("ann", "requests", 1);
            assertThat(t.flush()).isTrue();
            t.consume("ann", "requests", 5);
            assertThat(t.flush()).isTrue();
            t.consume("ann", "requests", 1);
            assertThat(t.flush()).isTrue();
            assertThat(percents(told)).containsExactly(80, 100);
            assertThat(told.get(1).used()).isEqualTo(14);

            // The next window starts over; one write past both tells both.
            clock.advance(Duration.ofHours(1));
            t.consume("ann", "requests", 12);
            assertThat(t.flush()).isTrue();
            assertThat(percents(told)).containsExactly(80, 100, 80, 100);
            assertThat(told.get(3).windowStart()).isEqualTo(Instant.parse("2026-11-26T11:00:00Z"));
            assertThat(t.thresholdCrossings(80)).isEqualTo(2);
            assertThat(t.thresholdCrossings(100)).isEqualTo(2);
            assertThat(t.thresholdCrossings(50)).isZero();
            // Unlimited usage has no threshold.
            t.consume("ann", "tokens", 1_000_000);
            assertThat(t.flush()).isTrue();
            assertThat(told).hasSize(4);
        }
    }

    @Test
    void twoNodesWritingTheSameWindowTellEachThresholdOnce() throws Exception {
        MutableClock clock = new MutableClock(T0);
        List<ThresholdCrossing> toldA = new CopyOnWriteArrayList<>();
        List<ThresholdCrossing> toldB = new CopyOnWriteArrayList<>();
        try (Tollgate a = node(clock, toldA); Tollgate b = node(clock, toldB)) {
            a.assignPlan("bea", "meter");
            b.assignPlan("bea", "meter");
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (Tollgate n : List.of(a, b, a, b)) {
                    done.add(pool.submit(() -> {
                        for (int i = 0; i < 5; i++) {
                            n.consume("bea", "requests", 1);
                            n.flush();
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(a.flush()).isTrue();
            assertThat(b.flush()).isTrue();
            assertThat(db.storedTotal("bea", "requests", "HOUR")).isEqualTo(20);
            List<ThresholdCrossing> all = new ArrayList<>(toldA);
            all.addAll(toldB);
            assertThat(all).extracting(ThresholdCrossing::percent).containsExactlyInAnyOrder(80, 100);
            assertThat(a.thresholdCrossings(100) + b.thresholdCrossings(100)).isEqualTo(1);
        }
    }

    @Test
    void aBadThresholdListIsRefusedNamingTheKey() {
        assertThatThrownBy(() -> TollgateConfig.custom().notifyThresholds("80,100%"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("tollgate.notify.thresholds")
                .hasMessageContaining("80,100%");
        assertThatThrownBy(() -> TollgateConfig.custom().notifyThresholds("0%"))
                .isInstanceOf(InvalidConfigException.class);
        assertThat(TollgateConfig.custom().notifyThresholds("100%, 50%,100%").build().notifyThresholds())
                .containsExactly(50, 100);
        assertThat(TollgateConfig.custom().notifyThresholds("").build().notifyThresholds()).isEmpty();
    }
}
