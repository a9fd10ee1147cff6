package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.testing.MutableClock;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

/** Calendar windows roll over with the (injected) clock; TOTAL never does. */
class WindowRolloverTest {

    @Test
    void usageStartsAfreshInTheNextWindowAndOldWindowsKeepTheirTotals() {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-26T23:59:58Z"));
        try (TestDatabase db = TestDatabases.h2()) {
            Tollgate t = Tollgate.builder(config().limit("free", "requests", "3/day").limit("free", "bytes", "10/total")
                    .build()).dataSource(db.dataSource()).clock(clock).build();
            try {
                assertThat(t.check("alice", "requests", 1).allowed()).isTrue();
                for (int i = 0; i < 3; i++) {
                    t.consume("alice", "requests", 1);
                }
                t.consume("alice", "bytes", 10);
                Decision denied = t.check("alice", "requests", 1);
                assertThat(denied.allowed()).isFalse();
                assertThat(denied.resetAt()).isEqualTo(Instant.parse("2026-11-27T00:00:00Z"));
                assertThat(denied.secondsUntilReset(clock.instant())).isEqualTo(2);

                clock.advance(Duration.ofSeconds(3));
                Decision next = t.check("alice", "requests", 1);
                assertThat(next.allowed()).isTrue();
                assertThat(next.used()).isZero();
                assertThat(next.windowStart()).isEqualTo(Instant.parse("2026-11-27T00:00:00Z"));
                t.consume("alice", "requests", 1);

                // TOTAL never resets.
                Decision bytes = t.check("alice", "bytes", 1);
                assertThat(bytes.allowed()).isFalse();
                assertThat(bytes.resetAt()).isNull();

                assertThat(t.flush()).isTrue();
                java.util.List<Long> perWindow = db.jdbi().withHandle(h -> h.createQuery(
                        "SELECT used FROM tollgate_usage WHERE subject = 'alice' AND quota = 'requests'"
                                + " ORDER BY window_start").mapTo(Long.class).list());
                assertThat(perWindow).containsExactly(3L, 1L);
            } finally {
                t.close();
            }
        }
    }

    @Test
    void windowsFollowTheConfiguredZone() {
        ZoneId paris = ZoneId.of("Europe/Paris");
        // 23:30 UTC on 26 Nov is 00:30 on 27 Nov in Paris.
        Instant now = Instant.parse("2026-11-26T23:30:00Z");
        assertThat(Period.DAY.windowStart(now, paris)).isEqualTo(Instant.parse("2026-11-26T23:00:00Z"));
        assertThat(Period.DAY.windowStart(now, ZoneId.of("UTC"))).isEqualTo(Instant.parse("2026-11-26T00:00:00Z"));
        assertThat(Period.MONTH.windowStart(now, paris)).isEqualTo(Instant.parse("2026-11-30T23:00:00Z").minus(
                Duration.ofDays(30)));
        assertThat(Period.MONTH.windowEnd(Period.MONTH.windowStart(now, ZoneId.of("UTC")), ZoneId.of("UTC")))
                .isEqualTo(Instant.parse("2026-12-01T00:00:00Z"));
        // A day across a daylight-saving change is 23 or 25 hours long.
        Instant dst = Instant.parse("2026-03-29T12:00:00Z");
        Instant start = Period.DAY.windowStart(dst, paris);
        assertThat(Duration.between(start, Period.DAY.windowEnd(start, paris))).isEqualTo(Duration.ofHours(23));
        assertThat(Period.MINUTE.windowStart(Instant.parse("2026-11-26T10:15:42.5Z"), paris))
                .isEqualTo(Instant.parse("2026-11-26T10:15:00Z"));
        assertThat(Period.HOUR.windowStart(Instant.parse("2026-11-26T10:15:42Z"), paris))
                .isEqualTo(Instant.parse("2026-11-26T10:00:00Z"));
    }
}
