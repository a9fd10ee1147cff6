package dev.tollgate.core.internal.jdbc;

import dev.tollgate.core.spi.BoundedDelta;
import dev.tollgate.core.spi.BoundedResult;
import dev.tollgate.core.spi.SubjectRecord;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import dev.tollgate.core.TollgateConfig.SchemaMode;
import dev.tollgate.core.TollgateException;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import dev.tollgate.core.testing.TestDatabases.Backend;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** The {@link UsageStore} contract, run against H2 and PostgreSQL. */
@ParameterizedClass
@EnumSource(Backend.class)
class UsageStoreContractTest {

    @Parameter
    Backend backend;

    TestDatabase db;
    JdbiUsageStore store;

    @BeforeEach
    void open() {
        db = TestDatabases.open(backend);
        store = JdbiUsageStore.create(db.dataSource(), dialect(), SchemaMode.CREATE, Duration.ofSeconds(10), null);
    }

    @AfterEach
    void close() {
        store.close();
        db.close();
    }

    private Dialect dialect() {
        return backend == Backend.H2 ? Dialect.H2 : Dialect.POSTGRESQL;
    }

    private static UsageKey key(String subject, String quota) {
        return new UsageKey(subject, quota, Period.DAY, Instant.parse("2026-11-26T00:00:00Z").toEpochMilli());
    }

    @Test
    void missingCounterReadsZero() {
        assertThat(store.used(key("alice", "requests"))).isZero();
    }

    @Test
    void applyAddsDeltasAndInsertsMissingRows() {
        assertThat(store.apply("b1", List.of(new UsageDelta(key("alice", "requests"), 3),
                new UsageDelta(key("bob", "requests"), 5)))).isTrue();
        assertThat(store.apply("b2", List.of(new UsageDelta(key("alice", "requests"), 4)))).isTrue();

        assertThat(store.used(key("alice", "requests"))).isEqualTo(7);
        assertThat(store.used(key("bob", "requests"))).isEqualTo(5);
    }

    @Test
    void applyReportsEachCounterAfterTheWrite() {
        store.apply("b0", List.of(new UsageDelta(key("alice", "requests"), 100)));
        long[] totals = new long[2];
        // alice's row exists (updated), bob's is new (inserted): both report their value after the write.
        assertThat(store.apply("b1", List.of(new UsageDelta(key("alice", "requests"), 5),
                new UsageDelta(key("bob", "requests"), 7)), totals)).isTrue();
        assertThat(totals).containsExactly(105, 7);

        long[] again = {42, 42};
        assertThatThrownBy(() -> store.apply("b2", List.of(new UsageDelta(key("alice", "requests"), 1)), again))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("totals has 2 places for 1 deltas");
        assertThat(store.used(key("alice", "requests"))).as("nothing written by the refused call").isEqualTo(105);
    }

    @Test
    void severalCountersAreReadAtOnceInTheirOrder() {
        int n = JdbiUsageStore.READ_CHUNK * 2 + 50;
        List<UsageDelta> written = new ArrayList<>();
        List<UsageKey> asked = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            UsageKey k = key("s" + i, "requests");
            if (i % 3 != 0) {
                written.add(new UsageDelta(k, i));
            }
            asked.add(k);
        }
        // Another period of the same subject and a window a day earlier must not be confused with it.
        written.add(new UsageDelta(new UsageKey("s1", "requests", Period.MONTH,
                Instant.parse("2026-11-01T00:00:00Z").toEpochMilli()), 1_000));
        written.add(new UsageDelta(new UsageKey("s1", "requests", Period.DAY,
                Instant.parse("2026-11-25T00:00:00Z").toEpochMilli()), 2_000));
        written.sort(java.util.Comparator.comparing(UsageDelta::key));
        store.apply("many", written);
        asked.add(key("s1", "requests")); // asked twice

        long[] used = store.used(asked);

        assertThat(used).hasSize(n + 1);
        for (int i = 0; i < n; i++) {
            assertThat(used[i]).as("s" + i).isEqualTo(i % 3 != 0 ? i : 0);
        }
        assertThat(used[n]).isEqualTo(1);
        assertThat(store.used(List.of())).isEmpty();
    }

    @Test
    void replayOfABatchIdIsANoOp() {
        List<UsageDelta> deltas = List.of(new UsageDelta(key("alice", "requests"), 10));
        assertThat(store.apply("same-id", deltas)).isTrue();
        assertThat(store.apply("same-id", deltas)).isFalse();
        assertThat(store.apply("same-id", List.of(new UsageDelta(key("alice", "requests"), 99)))).isFalse();

        assertThat(store.used(key("alice", "requests"))).isEqualTo(10);
    }

    @Test
    void appliedBatchesTellsWhichIdsWereApplied() {
        store.apply("applied-1", List.of(new UsageDelta(key("alice", "requests"), 1)));
        store.apply("applied-2", List.of());
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
        assertThat(store.addWithin(List.of(new BoundedDelta(k, 2, 5)))).isEqualTo(new BoundedResult(true, List.of(2L)));
        assertThat(store.addWithin(List.of(new BoundedDelta(k, 3, 5)))).isEqualTo(new BoundedResult(true, List.of(5L)));
        assertThat(store.addWithin(List.of(new BoundedDelta(k, 1, 5)))).isEqualTo(new BoundedResult(false, List.of(5L)));
        assertThat(store.used(k)).isEqualTo(5);
        // Usage written unconditionally counts against the bound too.
        store.apply("b", List.of(new UsageDelta(k, 10)));
        assertThat(store.addWithin(List.of(new BoundedDelta(k, 0, 5)))).isEqualTo(new BoundedResult(false, List.of(15L)));
    }

    @Test
    void addWithinRefusesAnAmountAboveTheMaxOnAMissingCounter() {
        UsageKey k = key("bob", "requests");
        assertThat(store.addWithin(List.of(new BoundedDelta(k, 6, 5)))).isEqualTo(new BoundedResult(false, List.of(0L)));
        assertThat(store.addWithin(List.of(new BoundedDelta(k, 5, 5)))).isEqualTo(new BoundedResult(true, List.of(5L)));
    }

    @Test
    void addWithinIsAllOrNothingAcrossCounters() {
        UsageKey day = key("carol", "requests");
        UsageKey minute = new UsageKey("carol", "requests", Period.MINUTE, day.windowStart());
        List<UsageKey> sorted = java.util.stream.Stream.of(day, minute).sorted().toList();
        long dayMax = 100;
        long minuteMax = 3;
        java.util.function.Function<Long, List<BoundedDelta>> both = n -> sorted.stream()
                .map(k -> new BoundedDelta(k, n, k.period() == Period.DAY ? dayMax : minuteMax)).toList();

        assertThat(store.addWithin(both.apply(2L)).applied()).isTrue();
        BoundedResult refused = store.addWithin(both.apply(2L));
        assertThat(refused.applied()).isFalse();
        assertThat(refused.used()).containsExactly(2L, 2L);
        assertThat(store.used(day)).isEqualTo(2);
        assertThat(store.used(minute)).isEqualTo(2);
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
                        if (store.addWithin(List.of(new BoundedDelta(k, 1, 100))).applied()) {
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
        assertThat(store.used(k)).isEqualTo(100);
    }

    @Test
    void windowsAndPeriodsAreSeparateCounters() {
        UsageKey day = key("alice", "requests");
        UsageKey nextDay = new UsageKey("alice", "requests", Period.DAY, day.windowStart() + 86_400_000L);
        UsageKey minute = new UsageKey("alice", "requests", Period.MINUTE, day.windowStart());
        store.apply("b", List.of(new UsageDelta(day, 1), new UsageDelta(minute, 2), new UsageDelta(nextDay, 3)));

        assertThat(store.used(day)).isEqualTo(1);
        assertThat(store.used(minute)).isEqualTo(2);
        assertThat(store.used(nextDay)).isEqualTo(3);
    }

    @Test
    void largeAmountsStayExact() {
        long big = Long.MAX_VALUE / 4;
        store.apply("b1", List.of(new UsageDelta(key("alice", "bytes"), big)));
        store.apply("b2", List.of(new UsageDelta(key("alice", "bytes"), big)));
        assertThat(store.used(key("alice", "bytes"))).isEqualTo(2 * big);
    }

    @Test
    void subjectHoldsPlanAndOverrides() {
        assertThat(store.subject("alice")).isEqualTo(SubjectRecord.NONE);

        store.assignPlan("alice", "pro");
        store.assignPlan("alice", "enterprise");
        store.setOverride("alice", "requests", Limit.of(10, Period.MINUTE));
        store.setOverride("alice", "requests", Limit.of(500, Period.DAY));
        store.setOverride("alice", "requests", Limit.of(600, Period.DAY));

        SubjectRecord r = store.subject("alice");
        assertThat(r.plan()).isEqualTo(Optional.of("enterprise"));
        assertThat(r.overrides()).isEqualTo(Map.of("requests",
                List.of(Limit.of(600, Period.DAY), Limit.of(10, Period.MINUTE))));

        assertThat(store.removeOverrides("alice", "requests")).isEqualTo(2);
        assertThat(store.subject("alice").overrides()).isEmpty();

        // Overrides without a plan, on two quotas.
        store.setOverride("bob", "tokens", Limit.of(7, Period.MONTH));
        store.setOverride("bob", "bytes", Limit.of(Long.MAX_VALUE, Period.TOTAL));
        assertThat(store.subject("bob")).isEqualTo(new SubjectRecord(Optional.empty(), Map.of(
                "tokens", List.of(Limit.of(7, Period.MONTH)), "bytes", List.of(Limit.of(Long.MAX_VALUE, Period.TOTAL)))));
    }

    @Test
    void pruneRemovesOldBatchIdsOnly() {
        store.apply("old", List.of());
        assertThat(store.pruneAppliedBatches(Instant.now().minusSeconds(3600))).isZero();
        assertThat(store.pruneAppliedBatches(Instant.now().plusSeconds(60))).isEqualTo(1);
        // Once pruned, the id is accepted again.
        assertThat(store.apply("old", List.of())).isTrue();
    }

    @Test
    void createIsIdempotentAndValidatePassesOnACreatedSchema() {
        JdbiUsageStore.create(db.dataSource(), dialect(), SchemaMode.CREATE, Duration.ofSeconds(10), null);
        JdbiUsageStore.create(db.dataSource(), dialect(), SchemaMode.VALIDATE, Duration.ofSeconds(10), null);
    }

    @Test
    void validateOnAnEmptyDatabaseFailsWithAClearMessage() {
        try (TestDatabase empty = TestDatabases.open(backend)) {
            assertThatThrownBy(() -> JdbiUsageStore.create(empty.dataSource(), dialect(), SchemaMode.VALIDATE,
                    Duration.ofSeconds(10), null))
                    .isInstanceOf(TollgateException.class)
                    .hasMessageContaining("tollgate.store.schema=validate")
                    .hasMessageContaining("tollgate_usage")
                    .hasMessageContaining("tollgate.store.schema=create");
        }
    }

    @Test
    void concurrentWritersOnTheSameKeysNeverDeadlockAndStayExact() throws Exception {
        List<UsageKey> keys = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            keys.add(key("s" + (char) ('a' + i % 26) + i, "requests"));
        }
        List<UsageDelta> sorted = keys.stream().sorted().map(k -> new UsageDelta(k, 1)).toList();
        int writers = 6;
        int rounds = 30;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                Callable<Integer> task = () -> {
                    int applied = 0;
                    for (int r = 0; r < rounds; r++) {
                        if (store.apply(UUID.randomUUID().toString(), sorted)) {
                            applied++;
                        }
                    }
                    return applied;
                };
                results.add(pool.submit(task));
            }
            for (Future<Integer> f : results) {
                assertThat(f.get(120, TimeUnit.SECONDS)).isEqualTo(rounds);
            }
        } finally {
            pool.shutdownNow();
        }
        for (UsageKey k : keys) {
            assertThat(store.used(k)).isEqualTo((long) writers * rounds);
        }
    }
}
