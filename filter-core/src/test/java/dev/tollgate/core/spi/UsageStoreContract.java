package dev.tollgate.core.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import java.time.Duration;
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
    private static final Duration EXPIRY = Duration.ofSeconds(30);

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
        return apply(id, T0, List.of(deltas));
    }

    private UsageStore.Applied apply(String id, Instant at, List<UsageDelta> deltas) {
        return store.apply(new WriteBatch(id, "node-a", at, EXPIRY, deltas));
    }

    private static UsageDelta delta(UsageKey k, long n) {
        return new UsageDelta(k, n);
    }

    private static UsageDelta delta(UsageKey k, long n, long granted) {
        return new UsageDelta(k, n, granted);
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
        apply("many", T0, written);
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

    private List<Granted> grant(String node, Duration expiry, GrantRequest... requests) {
        return store.grant(new GrantBatch(node, expiry, List.of(requests)));
    }

    private static GrantRequest ask(UsageKey k, long limit, long want, long min) {
        return new GrantRequest(UUID.randomUUID().toString(), k, limit, want, min, 0);
    }

    @Test
    void aGrantGivesWhatIsAskedWhileItFitsTheLimit() {
        UsageKey k = key("alice", "requests");
        assertThat(grant("node-a", EXPIRY, ask(k, 100, 30, 1))).containsExactly(new Granted(30, 0, 30, 1));
        assertThat(grant("node-b", EXPIRY, ask(k, 100, 50, 1))).containsExactly(new Granted(50, 0, 80, 2));
        // What is left (20) is granted when it is at least the minimum, and nothing more after it.
        assertThat(grant("node-c", EXPIRY, ask(k, 100, 50, 20))).containsExactly(new Granted(20, 0, 100, 3));
        assertThat(grant("node-a", EXPIRY, ask(k, 100, 5, 1))).containsExactly(new Granted(0, 0, 100, 3));
    }

    @Test
    void lessThanTheMinimumGrantsNothing() {
        UsageKey k = key("alice", "requests");
        grant("node-a", EXPIRY, ask(k, 10, 8, 1));
        assertThat(grant("node-b", EXPIRY, ask(k, 10, 5, 3)).get(0).granted()).isZero();
        assertThat(grant("node-b", EXPIRY, ask(k, 10, 5, 2)).get(0).granted()).isEqualTo(2);
    }

    @Test
    void storedUsageCountsAgainstGrants() {
        UsageKey k = key("alice", "requests");
        apply("b1", delta(k, 70));
        assertThat(grant("node-a", EXPIRY, ask(k, 100, 50, 1))).containsExactly(new Granted(30, 70, 30, 1));
        // Usage written beyond every grant (a final cost above its estimate) leaves nothing to grant.
        apply("b2", delta(k, 20));
        assertThat(grant("node-b", EXPIRY, ask(k, 100, 1, 1))).containsExactly(new Granted(0, 90, 30, 1));
    }

    @Test
    void usageTheNodeHasNotWrittenYetCountsAgainstItsGrant() {
        UsageKey k = key("alice", "requests");
        GrantRequest withPending = new GrantRequest(UUID.randomUUID().toString(), k, 10, 10, 1, 7);
        assertThat(grant("node-a", EXPIRY, withPending)).containsExactly(new Granted(3, 0, 3, 1));
    }

    @Test
    void aWriteRetiresWhatItUsedOfTheWritersGrant() {
        UsageKey k = key("alice", "requests");
        grant("node-a", EXPIRY, ask(k, 100, 100, 1));
        assertThat(grant("node-b", EXPIRY, ask(k, 100, 1, 1)).get(0).granted()).isZero();
        // node-a used 40 of its 100: usage 40, its grant 60, so node-b still finds nothing.
        apply("w1", delta(k, 40, 40));
        assertThat(grant("node-b", EXPIRY, ask(k, 100, 1, 1))).containsExactly(new Granted(0, 40, 60, 1));
        // It gives 50 back: 10 are free.
        store.release("node-a", List.of(delta(k, 50)));
        assertThat(grant("node-b", EXPIRY, ask(k, 100, 100, 1))).containsExactly(new Granted(50, 40, 60, 2));
    }

    @Test
    void aRetiredGrantNeverGoesBelowZeroAndAnotherNodesGrantIsUntouched() {
        UsageKey k = key("alice", "requests");
        grant("node-a", EXPIRY, ask(k, 100, 10, 1));
        grant("node-b", EXPIRY, ask(k, 100, 10, 1));
        // node-a reports more granted usage than it held (nothing is counted twice either way).
        apply("w1", delta(k, 15, 15));
        assertThat(grant("node-c", EXPIRY, ask(k, 100, 100, 1))).containsExactly(new Granted(75, 15, 85, 2));
    }

    @Test
    void theSameRequestIdIsGrantedOnce() {
        UsageKey k = key("alice", "requests");
        GrantRequest once = ask(k, 100, 30, 1);
        assertThat(grant("node-a", EXPIRY, once).get(0).granted()).isEqualTo(30);
        // Its answer was lost; the node asks again with the same id.
        assertThat(grant("node-a", EXPIRY, once).get(0).granted()).isEqualTo(30);
        assertThat(grant("node-b", EXPIRY, ask(k, 100, 100, 1)).get(0).granted()).as("only 30 were ever granted")
                .isEqualTo(70);
    }

    @Test
    void anExpiredGrantCountsForNothing() {
        UsageKey k = key("alice", "requests");
        assertThat(grant("node-a", Duration.ofMillis(300), ask(k, 100, 100, 1)).get(0).granted()).isEqualTo(100);
        assertThat(grant("node-b", EXPIRY, ask(k, 100, 1, 1)).get(0).granted()).isZero();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> grant("node-b", EXPIRY, ask(k, 100, 100, 1)).get(0).granted() == 100);
        // Usage the dead node's write reports later retires nothing it no longer holds.
        apply("late", delta(k, 5, 5));
        assertThat(grant("node-c", EXPIRY, ask(k, 100, 1, 1))).containsExactly(new Granted(0, 5, 100, 1));
    }

    @Test
    void grantsOfSeveralCountersAreDecidedTogetherAndSeparately() {
        UsageKey day = key("carol", "requests");
        UsageKey minute = new UsageKey("carol", "requests", Period.MINUTE, day.windowStart());
        UsageKey other = key("dave", "requests");
        List<Granted> g = store.grant(new GrantBatch("node-a", EXPIRY, Stream.of(
                        ask(day, 1000, 100, 1), ask(minute, 10, 100, 1), ask(other, 5, 100, 1))
                .sorted(Comparator.comparing(GrantRequest::key)).toList()));
        List<GrantRequest> order = Stream.of(ask(day, 1000, 100, 1), ask(minute, 10, 100, 1), ask(other, 5, 100, 1))
                .sorted(Comparator.comparing(GrantRequest::key)).toList();
        for (int i = 0; i < order.size(); i++) {
            long limit = order.get(i).limit();
            assertThat(g.get(i).granted()).as(order.get(i).key().toString()).isEqualTo(Math.min(100, limit));
        }
    }

    @Test
    void aCounterAskedTwiceInOneBatchIsDecidedInOrder() {
        UsageKey k = key("erin", "requests");
        List<Granted> g = store.grant(new GrantBatch("node-a", EXPIRY,
                List.of(ask(k, 100, 70, 1), ask(k, 100, 70, 1))));
        assertThat(g).containsExactly(new Granted(70, 0, 70, 1), new Granted(30, 0, 100, 1));
        assertThat(grant("node-b", EXPIRY, ask(k, 100, 1, 1)).get(0).granted()).as("the node holds all 100")
                .isZero();
        apply("w1", delta(k, 100, 100));
        assertThat(grant("node-b", EXPIRY, ask(k, 200, 200, 1))).as("its 100 retired by one write")
                .containsExactly(new Granted(100, 100, 100, 1));
    }

    @Test
    void concurrentNodesNeverTogetherGetMoreThanTheLimit() throws Exception {
        UsageKey k = key("hot", "requests");
        long limit = 500;
        int nodes = 6;
        ExecutorService pool = Executors.newFixedThreadPool(nodes);
        try {
            List<Future<Long>> used = new ArrayList<>();
            for (int n = 0; n < nodes; n++) {
                String node = "node-" + n;
                used.add(pool.submit(() -> {
                    long mine = 0;
                    int empty = 0;
                    while (empty < 3) {
                        long g = store.grant(new GrantBatch(node, EXPIRY, List.of(ask(k, limit, 7, 1))))
                                .get(0).granted();
                        if (g == 0) {
                            empty++;
                            continue;
                        }
                        // Use it all at once: the write retires it.
                        store.apply(new WriteBatch(UUID.randomUUID().toString(), node, T0, EXPIRY,
                                List.of(new UsageDelta(k, g, g))));
                        mine += g;
                    }
                    return mine;
                }));
            }
            long total = 0;
            for (Future<Long> f : used) {
                total += f.get(120, TimeUnit.SECONDS);
            }
            assertThat(total).isEqualTo(limit);
        } finally {
            pool.shutdownNow();
        }
        assertThat(used(k)).isEqualTo(limit);
    }

    @Test
    void windowsAndPeriodsAreSeparateCounters() {
        UsageKey day = key("alice", "requests");
        UsageKey nextDay = new UsageKey("alice", "requests", Period.DAY, day.windowStart() + 86_400_000L);
        UsageKey minute = new UsageKey("alice", "requests", Period.MINUTE, day.windowStart());
        apply("b", T0, Stream.of(delta(day, 1), delta(minute, 2), delta(nextDay, 3))
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

    private SubjectRecord subject(String name) {
        return store.subjects(List.of(name)).get(0);
    }

    @Test
    void aSubjectHoldsItsPlanAndOverrides() {
        assertThat(subject("alice")).isEqualTo(SubjectRecord.NONE);

        store.assignPlan("alice", "pro", T0);
        store.assignPlan("alice", "enterprise", T0);
        store.setOverride("alice", "requests", Limit.of(10, Period.MINUTE));
        store.setOverride("alice", "requests", Limit.of(500, Period.DAY));
        store.setOverride("alice", "requests", Limit.of(600, Period.DAY));

        SubjectRecord r = subject("alice");
        assertThat(r.plan()).isEqualTo(Optional.of("enterprise"));
        assertThat(r.overrides()).containsOnlyKeys("requests");
        assertThat(r.overrides().get("requests"))
                .containsExactlyInAnyOrder(Limit.of(600, Period.DAY), Limit.of(10, Period.MINUTE));

        assertThat(store.removeOverrides("alice", "requests")).isEqualTo(2);
        assertThat(subject("alice").overrides()).isEmpty();
        assertThat(store.removeOverrides("alice", "requests")).isZero();

        // Overrides without a plan, on two quotas.
        store.setOverride("bob", "tokens", Limit.of(7, Period.MONTH));
        store.setOverride("bob", "bytes", Limit.of(Long.MAX_VALUE, Period.TOTAL));
        assertThat(subject("bob")).isEqualTo(new SubjectRecord(Optional.empty(), Map.of(
                "tokens", List.of(Limit.of(7, Period.MONTH)), "bytes", List.of(Limit.of(Long.MAX_VALUE, Period.TOTAL)))));
    }

    @Test
    void severalSubjectsAreReadInTheOrderAsked() {
        store.assignPlan("carol", "pro", T0);
        store.setOverride("carol", "requests", Limit.of(5, Period.MINUTE));
        store.setOverride("dave", "tokens", Limit.of(9, Period.DAY));
        SubjectRecord carol = new SubjectRecord(Optional.of("pro"), Map.of("requests", List.of(Limit.of(5, Period.MINUTE))));
        SubjectRecord dave = new SubjectRecord(Optional.empty(), Map.of("tokens", List.of(Limit.of(9, Period.DAY))));
        assertThat(store.subjects(List.of("dave", "nobody", "carol", "dave")))
                .containsExactly(dave, SubjectRecord.NONE, carol, dave);
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            many.add("unknown-" + i);
        }
        many.add("carol");
        List<SubjectRecord> read = store.subjects(many);
        assertThat(read).hasSize(501);
        assertThat(read.subList(0, 500)).containsOnly(SubjectRecord.NONE);
        assertThat(read.get(500)).isEqualTo(carol);
    }

    private static String apiKey(int i) {
        return "key:" + String.format("%064x", i);
    }

    @Test
    void anApiKeyIsRegisteredUntilRemoved() {
        String k = apiKey(1);
        assertThat(store.keys(List.of(k))).containsExactly(false);
        assertThat(store.removeKey(k)).isFalse();

        store.putKey(k, "ci pipeline", T0);
        store.putKey(k, null, T0.plusSeconds(1));   // registered again: still one key
        assertThat(store.keys(List.of(k))).containsExactly(true);
        assertThat(store.subjects(List.of(k))).containsExactly(SubjectRecord.NONE);   // no plan implied

        assertThat(store.removeKey(k)).isTrue();
        assertThat(store.keys(List.of(k))).containsExactly(false);
        assertThat(store.removeKey(k)).isFalse();
    }

    @Test
    void severalApiKeysAreReadInTheOrderAsked() {
        store.putKey(apiKey(7), null, T0);
        store.putKey(apiKey(9), "nine", T0);
        List<String> many = new ArrayList<>();
        for (int i = 100; i < 600; i++) {
            many.add(apiKey(i));
        }
        many.add(apiKey(9));
        many.add(apiKey(7));
        many.add(apiKey(9));
        boolean[] found = store.keys(many);
        assertThat(found).hasSize(503);
        for (int i = 0; i < 500; i++) {
            assertThat(found[i]).as("unknown key %d", i).isFalse();
        }
        assertThat(new boolean[] {found[500], found[501], found[502]}).containsExactly(true, true, true);
        assertThat(store.keys(List.of())).isEmpty();
    }

    @Test
    void replaceOverridesSwapsAQuotasLimitsAtOnceAndNeverShowsHalfOfThem() throws Exception {
        List<Limit> a = List.of(Limit.of(10, Period.MINUTE), Limit.of(500, Period.DAY));
        List<Limit> b = List.of(Limit.of(20, Period.HOUR), Limit.of(900, Period.MONTH));
        store.setOverride("gus", "tokens", Limit.of(3, Period.DAY));
        store.replaceOverrides("gus", "requests", a);
        assertThat(subject("gus").overrides().get("requests")).containsExactlyInAnyOrderElementsOf(a);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> writer = pool.submit(() -> {
                for (int i = 0; i < 150; i++) {
                    store.replaceOverrides("gus", "requests", i % 2 == 0 ? b : a);
                }
            });
            Future<List<List<Limit>>> reader = pool.submit(() -> {
                List<List<Limit>> odd = new ArrayList<>();
                while (!writer.isDone()) {
                    List<Limit> seen = subject("gus").overrides().get("requests");
                    if (seen == null || !(seen.size() == 2 && (seen.containsAll(a) || seen.containsAll(b)))) {
                        odd.add(seen);
                    }
                }
                return odd;
            });
            writer.get(60, TimeUnit.SECONDS);
            assertThat(reader.get(60, TimeUnit.SECONDS)).as("reads that saw part of a set").isEmpty();
        } finally {
            pool.shutdownNow();
        }
        store.replaceOverrides("gus", "requests", List.of());
        assertThat(subject("gus").overrides()).containsOnlyKeys("tokens");
    }

    @Test
    void pruneRemovesBatchIdsRecordedBeforeTheCutOffOnly() {
        apply("old", T0, List.of());
        apply("new", T0.plusSeconds(7200), List.of());
        assertThat(store.prune(T0.minusSeconds(3600), 1_000)).isZero();
        assertThat(store.prune(T0.plusSeconds(60), 1_000)).isEqualTo(1);
        assertThat(store.appliedBatches(List.of("old", "new"))).containsExactly("new");
        // Once pruned, the id is accepted again.
        assertThat(apply("old", T0, List.of()).appliedNow()).isTrue();
    }

    @Test
    void purgeUsageTakesOnlyWindowsThatStartedBeforeTheCutOffOfThatPeriod() {
        long day = Instant.parse("2026-11-26T00:00:00Z").toEpochMilli();
        UsageKey oldMinute = new UsageKey("erin", "requests", Period.MINUTE, day);
        UsageKey olderMinute = new UsageKey("erin", "requests", Period.MINUTE, day - 60_000);
        UsageKey cutMinute = new UsageKey("erin", "requests", Period.MINUTE, day + 60_000);
        UsageKey dayWindow = new UsageKey("erin", "requests", Period.DAY, day);
        apply("p1", new UsageDelta(dayWindow, 7), new UsageDelta(olderMinute, 1), new UsageDelta(oldMinute, 2),
                new UsageDelta(cutMinute, 3));
        int n = store.purgeUsage(Period.MINUTE, day + 60_000, 1_000);
        long[] after = store.used(List.of(olderMinute, oldMinute, cutMinute, dayWindow));
        // A store whose counters expire on their own (a time to live) deletes nothing here.
        if (n == 0) {
            assertThat(after).containsExactly(1, 2, 3, 7);
        } else {
            assertThat(n).isEqualTo(2);
            assertThat(after).containsExactly(0, 0, 3, 7);
            assertThat(store.purgeUsage(Period.MINUTE, day + 60_000, 1_000)).isZero();
        }
        // The window at the cut-off and other periods' windows are never touched.
        assertThat(store.purgeUsage(Period.DAY, day, 1_000)).isZero();
        assertThat(store.used(List.of(dayWindow))).containsExactly(7);
    }

    @Test
    void pruneAndPurgeDeleteAtMostTheirLimitPerCall() {
        long day = Instant.parse("2026-11-26T00:00:00Z").toEpochMilli();
        List<UsageDelta> deltas = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            deltas.add(new UsageDelta(new UsageKey("fay", "requests", Period.HOUR, day + i * 3_600_000L), 1));
            apply("q" + i, T0, List.of());
        }
        apply("q-usage", T0, deltas);
        int purged = store.purgeUsage(Period.HOUR, day + 10 * 3_600_000L, 2);
        assertThat(purged).isIn(0, 2);
        if (purged == 2) {
            assertThat(store.purgeUsage(Period.HOUR, day + 10 * 3_600_000L, 2)).isEqualTo(2);
            assertThat(store.purgeUsage(Period.HOUR, day + 10 * 3_600_000L, 2)).isEqualTo(1);
        }
        int pruned = store.prune(T0.plusSeconds(60), 2);
        // Sorted sets (Redis) remove what is due at a bounded cost per key and may take more.
        assertThat(pruned).isGreaterThanOrEqualTo(2);
        if (pruned == 2) {
            assertThat(store.prune(T0.plusSeconds(60), 2)).isEqualTo(2);
            assertThat(store.prune(T0.plusSeconds(60), 2)).isEqualTo(2);
        }
        assertThat(store.appliedBatches(List.of("q0", "q1", "q2", "q3", "q4", "q-usage"))).isEmpty();
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
                        if (apply(UUID.randomUUID().toString(), T0, sorted).appliedNow()) {
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

    // Request ids: a record with an id is charged once per (subject, quota, id) within its retention.

    private static final Duration DAY = Duration.ofDays(1);

    private static RequestCharge request(UsageKey k, String id, long amount) {
        return new RequestCharge(k.subject(), k.quota(), id, amount, List.of(k));
    }

    private UsageStore.Applied applyWithIds(Instant at, Duration retention, List<UsageDelta> deltas,
                                            RequestCharge... requests) {
        return store.apply(new WriteBatch(UUID.randomUUID().toString(), "node-a", at, EXPIRY, deltas,
                List.of(requests), retention));
    }

    @Test
    void aRequestIdIsChargedOncePerSubjectAndQuota() {
        UsageKey k = key("alice", "requests");
        assertThat(applyWithIds(T0, DAY, List.of(delta(k, 5)), request(k, "req-1", 5)).total(0)).isEqualTo(5);
        // The same request again, in another batch (a retry, or another node): nothing is added.
        UsageStore.Applied again = applyWithIds(T0.plusSeconds(1), DAY, List.of(delta(k, 5)), request(k, "req-1", 5));
        assertThat(again.appliedNow()).isTrue();
        assertThat(again.total(0)).isEqualTo(5);
        assertThat(again.added(0, 5)).as("what the write added").isZero();
        assertThat(used(k)).isEqualTo(5);
        // The id belongs to its subject and quota: another's use of the same id is its own.
        UsageKey bob = key("bob", "requests");
        UsageKey tokens = key("alice", "tokens");
        applyWithIds(T0, DAY, List.of(delta(k, 3), delta(tokens, 7), delta(bob, 2)).stream().sorted(
                        Comparator.comparing(UsageDelta::key)).toList(),
                request(k, "req-2", 3), request(tokens, "req-1", 7), request(bob, "req-1", 2));
        assertThat(store.used(List.of(k, tokens, bob))).containsExactly(8, 7, 2);
    }

    @Test
    void aRequestRepeatedWithinOneBatchIsChargedOnceAndRecordsWithoutIdAlways() {
        UsageKey k = key("alice", "requests");
        // Two records of req-1 (4 each) and 3 without an id, summed in one delta of 11.
        assertThat(applyWithIds(T0, DAY, List.of(delta(k, 11)), request(k, "req-1", 4), request(k, "req-1", 4))
                .total(0)).isEqualTo(7);
        // Again: req-1 is known, the 3 without an id are charged again.
        UsageStore.Applied again = applyWithIds(T0, DAY, List.of(delta(k, 7)), request(k, "req-1", 4));
        assertThat(again.total(0)).isEqualTo(10);
        assertThat(again.added(0, 7)).isEqualTo(3);
    }

    @Test
    void aRequestWithSeveralWindowsIsTakenOffEachOfThem() {
        UsageKey day = key("alice", "requests");
        UsageKey minute = new UsageKey("alice", "requests", Period.MINUTE, T0.toEpochMilli());
        List<UsageDelta> both = Stream.of(delta(day, 2), delta(minute, 2)).sorted(
                Comparator.comparing(UsageDelta::key)).toList();
        RequestCharge r = new RequestCharge("alice", "requests", "req-1", 2, List.of(minute, day));
        applyWithIds(T0, DAY, both, r);
        applyWithIds(T0, DAY, both, r);
        assertThat(store.used(List.of(day, minute))).containsExactly(2, 2);
    }

    @Test
    void theGrantedPartOfARepeatedRequestIsRetiredAllTheSame() {
        UsageKey k = key("alice", "requests");
        grant("node-a", EXPIRY, ask(k, 100, 100, 1));
        applyWithIds(T0, DAY, List.of(delta(k, 10, 10)), request(k, "req-1", 10));
        // The repeat was served from node-a's grant too: its units are retired, not charged.
        applyWithIds(T0, DAY, List.of(delta(k, 10, 10)), request(k, "req-1", 10));
        assertThat(used(k)).isEqualTo(10);
        assertThat(grant("node-b", EXPIRY, ask(k, 100, 100, 1))).containsExactly(new Granted(10, 10, 90, 2));
    }

    @Test
    void aRepeatedBatchIdStillChangesNothing() {
        UsageKey k = key("alice", "requests");
        WriteBatch b = new WriteBatch("w1", "node-a", T0, EXPIRY, List.of(delta(k, 5)),
                List.of(request(k, "req-1", 5)), DAY);
        assertThat(store.apply(b).appliedNow()).isTrue();
        assertThat(store.apply(b).appliedNow()).isFalse();
        assertThat(used(k)).isEqualTo(5);
    }

    @Test
    void concurrentNodesChargeARequestIdOnce() throws Exception {
        List<UsageKey> keys = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            keys.add(key("s" + i, "requests"));
        }
        List<UsageDelta> sorted = keys.stream().sorted().map(k -> delta(k, 1)).toList();
        RequestCharge[] ids = keys.stream().map(k -> request(k, "req-" + k.subject(), 1)).toArray(RequestCharge[]::new);
        int writers = 6;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                String node = "node-" + w;
                results.add(pool.submit(() -> store.apply(new WriteBatch(UUID.randomUUID().toString(), node, T0,
                        EXPIRY, sorted, List.of(ids), DAY))));
            }
            for (Future<?> f : results) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(store.used(keys)).containsOnly(1L);
    }

    @Test
    void aRequestIdWhoseRetentionEndedIsChargedAgain() {
        UsageKey k = key("alice", "requests");
        Duration retention = Duration.ofMillis(300);
        applyWithIds(Instant.now(), retention, List.of(delta(k, 1)), request(k, "req-1", 1));
        applyWithIds(Instant.now(), DAY, List.of(delta(k, 1)), request(k, "req-2", 1));
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> applyWithIds(Instant.now(), DAY, List.of(delta(k, 1)), request(k, "req-1", 1))
                        .total(0) == 3);
        // req-2 is still within its retention; pruning what ended keeps it.
        store.pruneRequests(Instant.now(), 1000);
        assertThat(applyWithIds(Instant.now(), DAY, List.of(delta(k, 1)), request(k, "req-2", 1)).total(0))
                .isEqualTo(3);
    }

    // Listing windows: one page at a time, in the window order.

    private static UsageKey window(String subject, String quota, Period period, String start) {
        return new UsageKey(subject, quota, period, Instant.parse(start).toEpochMilli());
    }

    @Test
    void windowsAreListedInRangeInTheWindowOrderPageByPage() {
        List<UsageDelta> deltas = new ArrayList<>();
        List<UsageKey> inRange = new ArrayList<>();
        String[] starts = {"2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z"};
        for (String start : starts) {
            for (String subject : List.of("bob", "alice", "carol")) {
                UsageKey day = window(subject, "requests", Period.DAY, start);
                UsageKey tokens = window(subject, "tokens", Period.DAY, start);
                UsageKey hour = window(subject, "requests", Period.HOUR, start);
                deltas.addAll(List.of(delta(day, 2), delta(tokens, 30), delta(hour, 1)));
                if (!start.equals(starts[2])) {
                    inRange.addAll(List.of(day, tokens, hour));
                }
            }
        }
        deltas.add(delta(new UsageKey("alice", "requests", Period.TOTAL, 0L), 9));
        store.apply(new WriteBatch("w1", "node-a", T0, EXPIRY, deltas.stream().sorted(
                Comparator.comparing(UsageDelta::key)).toList()));
        inRange.sort(UsageStore.WINDOW_ORDER);

        Instant from = Instant.parse("2026-11-24T00:00:00Z");
        Instant to = Instant.parse("2026-11-26T00:00:00Z");
        List<StoredUsage> all = new ArrayList<>();
        UsageKey after = null;
        for (int pages = 0; pages < 100; pages++) {
            List<StoredUsage> page = store.windows(from, to, null, null, after, 4);
            assertThat(page.size()).isLessThanOrEqualTo(4);
            if (page.isEmpty()) {
                break;
            }
            all.addAll(page);
            after = page.get(page.size() - 1).key();
        }
        assertThat(all).extracting(StoredUsage::key).containsExactlyElementsOf(inRange);
        assertThat(all).extracting(StoredUsage::used).containsOnly(2L, 30L, 1L);
        assertThat(all.stream().mapToLong(StoredUsage::used).sum()).isEqualTo(2 * 3 * (2 + 30 + 1));

        // Filtered by subject and by period.
        assertThat(store.windows(from, to, "carol", Period.DAY, null, 100)).extracting(StoredUsage::key)
                .containsExactly(window("carol", "requests", Period.DAY, starts[0]),
                        window("carol", "tokens", Period.DAY, starts[0]),
                        window("carol", "requests", Period.DAY, starts[1]),
                        window("carol", "tokens", Period.DAY, starts[1]));
        assertThat(store.windows(to, to, null, null, null, 100)).isEmpty();
    }

    // Export streams: one lease holder at a time, a cursor only the holder moves.

    @Test
    void anExportLeaseIsHeldByOneNodeUntilItExpires() {
        String stream = "usage-" + UUID.randomUUID().toString().substring(0, 8);
        Duration ttl = Duration.ofSeconds(30);
        assertThat(store.leaseExport(stream, "node-a", T0, ttl)).contains(new ExportLease(null));
        assertThat(store.leaseExport(stream, "node-b", T0.plusSeconds(10), ttl)).isEmpty();
        // The holder renews; the other node waits until the renewed lease expires.
        assertThat(store.leaseExport(stream, "node-a", T0.plusSeconds(20), ttl)).isPresent();
        assertThat(store.leaseExport(stream, "node-b", T0.plusSeconds(40), ttl)).isEmpty();
        assertThat(store.leaseExport(stream, "node-b", T0.plusSeconds(51), ttl)).contains(new ExportLease(null));
        assertThat(store.leaseExport(stream, "node-a", T0.plusSeconds(52), ttl)).isEmpty();
        // Another stream has its own lease.
        assertThat(store.leaseExport(stream + "-2", "node-a", T0.plusSeconds(52), ttl)).isPresent();
    }

    @Test
    void onlyTheLiveLeaseHolderMovesTheExportCursorAndItIsKept() {
        String stream = "usage-" + UUID.randomUUID().toString().substring(0, 8);
        Duration ttl = Duration.ofSeconds(30);
        UsageKey first = window("alice", "requests", Period.MINUTE, "2026-11-26T10:00:00Z");
        UsageKey second = window("bob~x", "tokens", Period.MINUTE, "2026-11-26T10:01:00Z");
        assertThat(store.advanceExport(stream, "node-a", first, T0, ttl)).isFalse();
        assertThat(store.leaseExport(stream, "node-a", T0, ttl)).isPresent();
        assertThat(store.advanceExport(stream, "node-b", first, T0, ttl)).isFalse();
        assertThat(store.advanceExport(stream, "node-a", first, T0.plusSeconds(5), ttl)).isTrue();
        assertThat(store.leaseExport(stream, "node-a", T0.plusSeconds(6), ttl)).contains(new ExportLease(first));
        // Past its expiry the old holder can no longer move it; the next holder resumes from it.
        assertThat(store.advanceExport(stream, "node-a", second, T0.plusSeconds(37), ttl)).isFalse();
        assertThat(store.leaseExport(stream, "node-b", T0.plusSeconds(37), ttl)).contains(new ExportLease(first));
        assertThat(store.advanceExport(stream, "node-b", second, T0.plusSeconds(38), ttl)).isTrue();
        assertThat(store.leaseExport(stream, "node-b", T0.plusSeconds(39), ttl)).contains(new ExportLease(second));
    }

    @Test
    void twoNodesRacingForAnExportLeaseGetOneLease() throws Exception {
        String stream = "usage-" + UUID.randomUUID().toString().substring(0, 8);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Optional<ExportLease>>> taken = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String node = "node-" + i;
                taken.add(pool.submit(() -> store.leaseExport(stream, node, T0, Duration.ofSeconds(30))));
            }
            int holders = 0;
            for (Future<Optional<ExportLease>> f : taken) {
                holders += f.get(30, TimeUnit.SECONDS).isPresent() ? 1 : 0;
            }
            assertThat(holders).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }
}
