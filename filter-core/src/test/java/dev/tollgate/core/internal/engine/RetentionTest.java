package dev.tollgate.core.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.Period;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.config.Settings;
import dev.tollgate.core.internal.journal.Journal;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.WriteBatch;
import dev.tollgate.core.testing.MutableClock;
import dev.tollgate.core.testing.OnEachDatabase;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Retention on an injected clock: the maintenance run purges usage rows of windows past their
 * period's retention, in bounded chunks, and never a current window; applied batch ids are
 * pruned in chunks the same way.
 */
class RetentionTest extends OnEachDatabase {
    private static final Instant START = Instant.parse("2026-11-01T00:00:00Z");
    private static final int SUBJECTS = 10;

    private UsageStore store;

    private Maintenance maintenance(TollgateConfig config, MutableClock clock) {
        return new Maintenance(config, store, new StoreGuard(config), Journal.NONE, null, clock);
    }

    private void write(Instant at, List<UsageDelta> deltas) {
        store.apply(new WriteBatch(UUID.randomUUID().toString(), "node-a", at, Duration.ofSeconds(30), deltas));
    }

    private static UsageDelta delta(String subject, Period period, Instant at) {
        return new UsageDelta(new UsageKey(subject, "requests", period,
                period.windowStart(at, ZoneOffset.UTC).toEpochMilli()), 1);
    }

    private long rows(Period period) {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM tollgate_usage WHERE period = :p")
                .bind("p", period.name()).mapTo(Long.class).one());
    }

    private long batchIds() {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM tollgate_applied_batch")
                .mapTo(Long.class).one());
    }

    /**
     * Three simulated days of minute, hour and day windows for ten subjects, one flush per minute
     * and a maintenance run every ten minutes: what is left is two days (the default minute
     * retention) of minute rows, every hour and day row, and the current windows.
     */
    @Test
    void threeDaysOfMinuteWindowsLeaveTheRetainedTwoDays() {
        store = store();
        MutableClock clock = new MutableClock(START);
        TollgateConfig config = TollgateConfig.custom().batchRetention(Duration.ofDays(1)).build();
        Maintenance m = maintenance(config, clock);
        int minutes = 3 * 1440;
        long purged = 0;
        for (int i = 0; i < minutes; i++) {
            Instant now = START.plus(Duration.ofMinutes(i)).plusSeconds(30);
            clock.set(now);
            List<UsageDelta> deltas = new ArrayList<>();
            for (int s = 0; s < SUBJECTS; s++) {
                String subject = "s" + s;
                deltas.add(delta(subject, Period.DAY, now));
                deltas.add(delta(subject, Period.HOUR, now));
                deltas.add(delta(subject, Period.MINUTE, now));
            }
            deltas.sort((a, b) -> a.key().compareTo(b.key()));
            write(now, deltas);
            if (i % 10 == 9) {
                purged += m.upkeep()[1];
            }
        }
        Instant now = clock.instant();
        long written = (long) minutes * SUBJECTS;
        long left = rows(Period.MINUTE);
        // Kept: windows from the one holding (now - 2d) on, up to the current one.
        long kept = Duration.between(Period.MINUTE.windowStart(now.minus(Duration.ofDays(2)), ZoneOffset.UTC),
                now).toMinutes() + 1;
        assertThat(left).isEqualTo(kept * SUBJECTS);
        assertThat(purged).isEqualTo(written - left);
        System.out.printf("Retention, %d subjects x 3 simulated days of minute windows (%s): %d minute rows written"
                + " (all left with retention off), %d left with tollgate.store.retention.minute=2d; hour rows %d,"
                + " day rows %d, batch ids %d%n", SUBJECTS, backend, written, left, rows(Period.HOUR),
                rows(Period.DAY), batchIds());
        assertThat(rows(Period.HOUR)).isEqualTo(72L * SUBJECTS);
        assertThat(rows(Period.DAY)).isEqualTo(3L * SUBJECTS);
        // The current windows are there, with what they hold.
        for (Period p : List.of(Period.MINUTE, Period.HOUR, Period.DAY)) {
            assertThat(store.used(List.of(delta("s0", p, now).key()))[0]).as(p.name()).isPositive();
        }
        // Batch ids: a day's worth (one per minute) is kept, the rest was pruned.
        assertThat(batchIds()).isBetween(1440L, 1440L + 10);

        // The same store with every period kept forever: a run deletes no usage row.
        TollgateConfig forever = TollgateConfig.custom()
                .retention(Period.MINUTE, Duration.ZERO).retention(Period.HOUR, Duration.ZERO).build();
        assertThat(maintenance(forever, clock).upkeep()[1]).isZero();
        assertThat(rows(Period.MINUTE)).isEqualTo(left);
    }

    @Test
    void aRunDeletesAtMostTenChunksAndTheNextRunGoesOn() {
        store = store();
        int old = Maintenance.CHUNK * Maintenance.STATEMENTS + 2_345;
        List<UsageDelta> deltas = new ArrayList<>();
        for (int i = 0; i < old; i++) {
            // Distinct minute windows of one subject, all long past.
            deltas.add(delta("old", Period.MINUTE, START.plus(Duration.ofMinutes(i))));
            if (deltas.size() == 1_000) {
                write(START, deltas);
                deltas = new ArrayList<>();
            }
        }
        write(START, deltas);
        MutableClock clock = new MutableClock(START.plus(Duration.ofDays(30)));
        write(clock.instant(), List.of(delta("current", Period.MINUTE, clock.instant())));
        Maintenance m = maintenance(TollgateConfig.custom().build(), clock);

        assertThat(m.upkeep()[1]).isEqualTo(Maintenance.CHUNK * Maintenance.STATEMENTS);
        assertThat(rows(Period.MINUTE)).isEqualTo(2_345 + 1);
        assertThat(m.upkeep()[1]).isEqualTo(2_345);
        assertThat(m.upkeep()[1]).isZero();
        assertThat(rows(Period.MINUTE)).isEqualTo(1);
        assertThat(store.used(List.of(delta("current", Period.MINUTE, clock.instant()).key()))[0]).isEqualTo(1);
        // The batch ids (older than batch-retention) went too, in chunks.
        assertThat(batchIds()).isEqualTo(1);
    }

    @Test
    void aRetentionIsForeverOrADurationAndABadOneNamesTheKey() {
        TollgateConfig c = TollgateConfig.from(Settings.of(Map.of("tollgate.store.retention.minute", "3h",
                "tollgate.store.retention.day", "400d", "tollgate.store.retention.hour", "forever")));
        assertThat(c.retention(Period.MINUTE)).isEqualTo(Duration.ofHours(3));
        assertThat(c.retention(Period.HOUR)).isZero();
        assertThat(c.retention(Period.DAY)).isEqualTo(Duration.ofDays(400));
        assertThat(c.retention(Period.MONTH)).isZero();
        assertThat(c.retention(Period.TOTAL)).isZero();
        assertThat(TollgateConfig.custom().build().retention(Period.MINUTE)).isEqualTo(Duration.ofDays(2));
        assertThat(TollgateConfig.custom().build().retention(Period.HOUR)).isEqualTo(Duration.ofDays(35));
        assertThatThrownBy(() -> TollgateConfig.from(Settings.of(Map.of("tollgate.store.retention.minute", "10s"))))
                .hasMessageContaining("tollgate.store.retention.minute").hasMessageContaining("10s")
                .hasMessageContaining("forever or a duration from 1m to 36500d");
    }
}
