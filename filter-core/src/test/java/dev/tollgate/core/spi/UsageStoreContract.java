package dev.tollgate.core.spi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link UsageStore} contract, through the SPI alone: every backend extends this class
 * (from filter-core's test-jar) and supplies a fresh, empty store per test. The JDBC store
 * runs it on H2 and PostgreSQL.
 */
public abstract class UsageStoreContract {
    private static final Instant T0 = Instant.parse("2026-11-26T10:00:00Z");

    protected UsageStore store;

    /** A store over empty storage, used by one test and closed after it. */
    protected abstract UsageStore openStore();

    @BeforeEach
    void openContractStore() {
        store = openStore();
    }

    @AfterEach
    void closeContractStore() {
        if (store != null) {
            store.close();
        }
    }

    protected static UsageKey key(String subject, String quota) {
        return new UsageKey(subject, quota, Period.DAY, Instant.parse("2026-11-26T00:00:00Z").toEpochMilli());
    }

    private long used(UsageKey k) {
        return store.used(List.of(k))[0];
    }

    private UsageStore.Applied apply(String id, UsageDelta... deltas) {
        return store.apply(id, T0, List.of(deltas));
    }

    private static UsageDelta delta(UsageKey k, long n) {
        return new UsageDelta(k, n);
    }

    @Test
    void aMissingCounterReadsZero() {
        assertThat(used(key("alice", "requests"))).isZero();
        assertThat(store.used(List.of())).isEmpty();
    }

    @Test
    void applyAddsDeltasAndCreatesMissingCounters() {
        assertThat(apply("b1", delta(key("alice", "requests"), 3), delta(key("bob", "requests"), 5)).appliedNow())
                .isTrue();
        assertThat(apply("b2", delta(key("alice", "requests"), 4)).appliedNow()).isTrue();

        assertThat(used(key("alice", "requests"))).isEqualTo(7);
        assertThat(used(key("bob", "requests"))).isEqualTo(5);
    }

    @Test
    void applyReportsEachCounterRightAfterTheWrite() {
        apply("b0", delta(key("alice", "requests"), 100));
        // alice's counter exists (updated), bob's is new (created): both report their value after the write.
        UsageStore.Applied a = apply("b1", delta(key("alice", "requests"), 5), delta(key("bob", "requests"), 7));
        assertThat(a.appliedNow()).isTrue();
        assertThat(a.totals()).containsExactly(105, 7);
    }

    @Test
    void aBatchIdAppliedBeforeChangesNothing() {
        assertThat(apply("same-id", delta(key("alice", "requests"), 10)).appliedNow()).isTrue();
        UsageStore.Applied again = apply("same-id", delta(key("alice", "requests"), 10));
        assertThat(again.appliedNow()).isFalse();
        assertThat(again.total(0)).isEqualTo(-1);
        assertThat(apply("same-id", delta(key("alice", "requests"), 99)).appliedNow()).isFalse();

        assertThat(used(key("alice", "requests"))).isEqualTo(10);
    }

    @Test
    void severalCountersAreReadInTheOrderAsked() {
        int n = 450;
        List<UsageDelta> written = new ArrayList<>();
        List<UsageKey> asked = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            UsageKey k = key("s" + i, "requests");
            if (i % 3 != 0) {
                written.add(delta(k, i));
            }
            asked.add(k);
        }
        // Another period of the same subject and a window a day earlier must not be confused with it.
        written.add(delta(new UsageKey("s1", "requests", Period.MONTH,
                Instant.parse("2026-11-01T00:00:00Z").toEpochMilli()), 1_000));
        written.add(delta(new UsageKey("s1", "requests", Period.DAY,
                Instant.parse("2026-11-25T00:00:00Z").toEpochMilli()), 2_000));
        written.sort(Comparator.comparing(UsageDelta::key));
        store.apply("many", T0, written);
        asked.add(key("s1", "requests")); // asked twice

        long[] used = store.used(asked);

        assertThat(used).hasSize(n + 1);
        for (int i = 0; i < n; i++) {
            assertThat(used[i]).as("s" + i).isEqualTo(i % 3 != 0 ? i : 0);
        }
        assertThat(used[n]).isEqualTo(1);
    }

    @Test
    void appliedBatchesTellsWhichIdsWereApplied() {
        apply("applied-1", delta(key("alice", "requests"), 1));
        apply("applied-2");
        List<String> asked = new ArrayList<>(List.of("applied-1", "never", "applied-2"));
        for (int i = 0; i < 1_200; i++) {
            asked.add("other-" + i);
        }
        assertThat(store.appliedBatches(asked)).containsExactlyInAnyOrder("applied-1", "applied-2");
        assertThat(store.appliedBatches(List.of())).isEmpty();
    }

    @Test
    void addWithinAddsUpToTheMaxAndNoFurther() {
        UsageKey k = key("alice", "requests");
        assertThat(store.addWithin(T0, List.of(new BoundedDelta(k, 2, 5)))).isEqualTo(new BoundedResult(true, List.of(2L)));
        assertThat(store.addWithin(T0, List.of(new BoundedDelta(k, 3, 5)))).isEqualTo(new BoundedResult(true, List.of(5L)));
        assertThat(store.addWithin(T0, List.of(new BoundedDelta(k, 1, 5)))).isEqualTo(new BoundedResult(false, List.of(5L)));
        assertThat(used(k)).isEqualTo(5);
        // Usage written unconditionally counts against the bound too.
        apply("b", delta(k, 10));
        assertThat(store.addWithin(T0, List.of(new BoundedDelta(k, 0, 5)))).isEqualTo(new BoundedResult(false, List.of(15L)));
    }

    @Test
    void addWithinRefusesAnAmountAboveTheMaxOnAMissingCounter() {
        UsageKey k = key("bob", "requests");
        assertThat(store.addWithin(T0, List.of(new BoundedDelta(k, 6, 5)))).isEqualTo(new BoundedResult(false, List.of(0L)));
        assertThat(store.addWithin(T0, List.of(new BoundedDelta(k, 5, 5)))).isEqualTo(new BoundedResult(true, List.of(5L)));
    }

    @Test
    void addWithinIsAllOrNothingAcrossCounters() {
        UsageKey day = key("carol", "requests");
        UsageKey minute = new UsageKey("carol", "requests", Period.MINUTE, day.windowStart());
        List<UsageKey> sorted = Stream.of(day, minute).sorted().toList();
        Function<Long, List<BoundedDelta>> both = n -> sorted.stream()
                .map(k -> new BoundedDelta(k, n, k.period() == Period.DAY ? 100 : 3)).toList();

        assertThat(store.addWithin(T0, both.apply(2L)).applied()).isTrue();
        BoundedResult refused = store.addWithin(T0, both.apply(2L));
        assertThat(refused.applied()).isFalse();
        assertThat(refused.used()).containsExactly(2L, 2L);
        assertThat(used(day)).isEqualTo(2);
        assertThat(used(minute)).isEqualTo(2);
    }

    @Test
    void concurrentBoundedAddsNeverPassTheMax() throws Exception {
        UsageKey k = key("hot", "requests");
        int writers = 6;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                results.add(pool.submit(() -> {
                    int applied = 0;
                    for (int i = 0; i < 40; i++) {
                        if (store.addWithin(T0, List.of(new BoundedDelta(k, 1, 100))).applied()) {
                            applied++;
                        }
                    }
                    return applied;
                }));
            }
            int applied = 0;
            for (Future<Integer> f : results) {
                applied += f.get(120, TimeUnit.SECONDS);
            }
            assertThat(applied).isEqualTo(100);
        } finally {
            pool.shutdownNow();
        }
        assertThat(used(k)).isEqualTo(100);
    }

    @Test
    void windowsAndPeriodsAreSeparateCounters() {
        UsageKey day = key("alice", "requests");
        UsageKey nextDay = new UsageKey("alice", "requests", Period.DAY, day.windowStart() + 86_400_000L);
        UsageKey minute = new UsageKey("alice", "requests", Period.MINUTE, day.windowStart());
        store.apply("b", T0, Stream.of(delta(day, 1), delta(minute, 2), delta(nextDay, 3))
                .sorted(Comparator.comparing(UsageDelta::key)).toList());

        assertThat(used(day)).isEqualTo(1);
        assertThat(used(minute)).isEqualTo(2);
        assertThat(used(nextDay)).isEqualTo(3);
    }

    @Test
    void largeAmountsStayExact() {
        long big = Long.MAX_VALUE / 4;
        apply("b1", delta(key("alice", "bytes"), big));
        apply("b2", delta(key("alice", "bytes"), big));
        assertThat(used(key("alice", "bytes"))).isEqualTo(2 * big);
    }

    @Test
    void aSubjectHoldsItsPlanAndOverrides() {
        assertThat(store.subject("alice")).isEqualTo(SubjectRecord.NONE);

        store.assignPlan("alice", "pro", T0);
        store.assignPlan("alice", "enterprise", T0);
        store.setOverride("alice", "requests", Limit.of(10, Period.MINUTE));
        store.setOverride("alice", "requests", Limit.of(500, Period.DAY));
        store.setOverride("alice", "requests", Limit.of(600, Period.DAY));

        SubjectRecord r = store.subject("alice");
        assertThat(r.plan()).isEqualTo(Optional.of("enterprise"));
        assertThat(r.overrides()).containsOnlyKeys("requests");
        assertThat(r.overrides().get("requests"))
                .containsExactlyInAnyOrder(Limit.of(600, Period.DAY), Limit.of(10, Period.MINUTE));

        assertThat(store.removeOverrides("alice", "requests")).isEqualTo(2);
        assertThat(store.subject("alice").overrides()).isEmpty();
        assertThat(store.removeOverrides("alice", "requests")).isZero();

        // Overrides without a plan, on two quotas.
        store.setOverride("bob", "tokens", Limit.of(7, Period.MONTH));
        store.setOverride("bob", "bytes", Limit.of(Long.MAX_VALUE, Period.TOTAL));
        assertThat(store.subject("bob")).isEqualTo(new SubjectRecord(Optional.empty(), Map.of(
                "tokens", List.of(Limit.of(7, Period.MONTH)), "bytes", List.of(Limit.of(Long.MAX_VALUE, Period.TOTAL)))));
    }

    @Test
    void pruneRemovesBatchIdsRecordedBeforeTheCutOffOnly() {
        store.apply("old", T0, List.of());
        store.apply("new", T0.plusSeconds(7200), List.of());
        assertThat(store.prune(T0.minusSeconds(3600))).isZero();
        assertThat(store.prune(T0.plusSeconds(60))).isEqualTo(1);
        assertThat(store.appliedBatches(List.of("old", "new"))).containsExactly("new");
        // Once pruned, the id is accepted again.
        assertThat(store.apply("old", T0, List.of()).appliedNow()).isTrue();
    }

    @Test
    void pingAnswers() {
        store.ping();
        assertThat(used(key("alice", "requests"))).isZero();
    }

    @Test
    void concurrentWritersOnTheSameCountersNeverDeadlockAndStayExact() throws Exception {
        List<UsageKey> keys = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            keys.add(key("s" + (char) ('a' + i % 26) + i, "requests"));
        }
        List<UsageDelta> sorted = keys.stream().sorted().map(k -> delta(k, 1)).toList();
        int writers = 6;
        int rounds = 30;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                results.add(pool.submit(() -> {
                    int applied = 0;
                    for (int r = 0; r < rounds; r++) {
                        if (store.apply(UUID.randomUUID().toString(), T0, sorted).appliedNow()) {
                            applied++;
                        }
                    }
                    return applied;
                }));
            }
            for (Future<Integer> f : results) {
                assertThat(f.get(120, TimeUnit.SECONDS)).isEqualTo(rounds);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(store.used(keys)).containsOnly((long) writers * rounds);
    }
}
