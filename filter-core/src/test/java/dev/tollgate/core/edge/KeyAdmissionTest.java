package dev.tollgate.core.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.spi.StoreException;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.testing.ForwardingStore;
import dev.tollgate.core.testing.OnEachDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code tollgate.subject.unknown=reject} through the edge and the admin API, on H2 and
 * PostgreSQL: unknown keys get 401 and cost no row, issued keys work on every node sharing the
 * store, revoked keys stop within {@code tollgate.subject.key-cache-ttl} (time moved by an
 * injected ticker), a flood of unknown keys costs a bounded number of store reads, and a key
 * nobody can vouch for is never admitted while the store is down.
 */
class KeyAdmissionTest extends OnEachDatabase {
    private static final String TOKEN = "admin-token-0123456789";
    private static final Duration TTL = Duration.ofSeconds(5);

    private final List<Tollgate> engines = new ArrayList<>();
    private final AtomicLong nanos = new AtomicLong();

    @AfterEach
    void closeEngines() {
        engines.forEach(Tollgate::close);
    }

    /** Counts the store calls that read keys, plans and usage, and can be made to fail. */
    static class CountingStore extends ForwardingStore {
        final AtomicLong keyReads = new AtomicLong();
        final AtomicLong keysAsked = new AtomicLong();
        final AtomicLong subjectReads = new AtomicLong();
        final AtomicLong grants = new AtomicLong();
        final AtomicLong usedReads = new AtomicLong();
        final AtomicBoolean down = new AtomicBoolean();

        CountingStore(UsageStore delegate) {
            super(delegate);
        }

        @Override
        public boolean[] keys(List<String> subjects) {
            keyReads.incrementAndGet();
            keysAsked.addAndGet(subjects.size());
            if (down.get()) {
                throw new StoreException("store is down", null);
            }
            return super.keys(subjects);
        }

        @Override
        public List<dev.tollgate.core.spi.SubjectRecord> subjects(List<String> subjects) {
            subjectReads.incrementAndGet();
            return super.subjects(subjects);
        }

        @Override
        public List<dev.tollgate.core.spi.Granted> grant(dev.tollgate.core.spi.GrantBatch batch) {
            grants.incrementAndGet();
            return super.grant(batch);
        }

        @Override
        public long[] used(List<dev.tollgate.core.spi.UsageKey> keys) {
            usedReads.incrementAndGet();
            return super.used(keys);
        }

        /** Every call that reaches the store to decide an admission. */
        long reads() {
            return keyReads.get() + subjectReads.get() + grants.get();
        }
    }

    private Tollgate engine(UsageStore store) {
        TollgateConfig config = TollgateConfig.custom().limit("free", "requests", "100/day")
                .limit("pro", "requests", "1000/day").keyCacheTtl(TTL).metricsEnabled(false).build();
        Tollgate t = Tollgate.builder(config).store(store).ticker(nanos::get).build();
        engines.add(t);
        return t;
    }

    private static QuotaGate gate(Tollgate t, EdgeConfig.UnknownSubjects unknown) {
        return new QuotaGate(t, EdgeConfig.custom().adminToken(TOKEN).unknownSubjects(unknown)
                .rule("hello", "/api/hello", "GET", "requests").build());
    }

    private static Admission get(QuotaGate gate, String key) {
        Admission a = gate.admit("GET", "/api/hello", gate.subjectFromHeader(List.of(key)));
        gate.settle(a, 200, h -> List.of());
        return a;
    }

    private static String issue(AdminApi api, String body) {
        AdminApi.Response r = api.handle("POST", "/keys", "Bearer " + TOKEN, body, SubjectResult::absent);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        Map<String, Object> json = FlatJson.parseObject(r.body());
        assertThat((String) json.get("subject")).isEqualTo(Subjects.apiKey((String) json.get("key")));
        return (String) json.get("key");
    }

    private long usageRows() {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM tollgate_usage").mapTo(Long.class).one());
    }

    @Test
    void rotatingUnknownKeysAreRefusedWithAChallengeAndLeaveNoRow() {
        QuotaGate gate = gate(engine(store()), EdgeConfig.UnknownSubjects.REJECT);
        for (int i = 0; i < 20; i++) {
            Admission a = get(gate, "random-" + UUID.randomUUID());
            assertThat(a.status()).isEqualTo(401);
            assertThat(a.body()).contains("\"type\":\"https://tollgate.dev/problems/unknown-key\"", "X-API-Key");
            assertThat(a.headers()).contains(Map.entry("WWW-Authenticate",
                    "ApiKey realm=\"tollgate\", header=\"X-API-Key\""));
        }
        engines.get(0).flush();
        assertThat(usageRows()).isZero();
        assertThat(gate.stats()).containsEntry("rejectedUnknownKey", 20L).containsEntry("admitted", 0L);
    }

    @Test
    void defaultPlanKeepsAdmittingAnyKey() {
        QuotaGate gate = gate(engine(store()), EdgeConfig.UnknownSubjects.DEFAULT_PLAN);
        assertThat(get(gate, "whatever-key").kind()).isEqualTo(Admission.Kind.ADMIT);
    }

    @Test
    void anIssuedKeyWorksOnTwoNodesAndARevokedOneStopsOnEveryNodeWithinTheTtl() {
        Tollgate a = engine(store());
        Tollgate b = engine(store());
        QuotaGate gateA = gate(a, EdgeConfig.UnknownSubjects.REJECT);
        QuotaGate gateB = gate(b, EdgeConfig.UnknownSubjects.REJECT);
        AdminApi adminA = new AdminApi(gateA);

        String key = issue(adminA, "{\"plan\":\"pro\",\"name\":\"ci\"}");
        assertThat(key).startsWith("tg_").hasSize(46);
        assertThat(get(gateA, key).kind()).isEqualTo(Admission.Kind.ADMIT);
        Admission onB = get(gateB, key);
        assertThat(onB.kind()).isEqualTo(Admission.Kind.ADMIT);
        assertThat(onB.decisions().get(0).limit()).as("the plan given at issue").isEqualTo(1000);

        String subject = Subjects.apiKey(key);
        AdminApi.Response revoked = adminA.handle("DELETE", "/keys/" + subject, "Bearer " + TOKEN, null,
                SubjectResult::absent);
        assertThat(revoked.status()).isEqualTo(200);
        assertThat(get(gateA, key).status()).as("refused at once on the node that revoked it").isEqualTo(401);
        assertThat(get(gateB, key).kind()).as("the other node trusts its read for the TTL").isEqualTo(
                Admission.Kind.ADMIT);
        nanos.addAndGet(TTL.toNanos());
        assertThat(get(gateB, key).status()).as("refused on the other node once the TTL is over").isEqualTo(401);
        assertThat(adminA.handle("DELETE", "/keys/" + subject, "Bearer " + TOKEN, null, SubjectResult::absent)
                .status()).isEqualTo(404);
    }

    @Test
    void aRevocationOnThisNodeWinsOverAKeyReadUnderWayWhenItWasMade() throws Exception {
        CountDownLatch inRead = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean hold = new AtomicBoolean();
        CountingStore gated = new CountingStore(store()) {
            @Override
            public boolean[] keys(List<String> subjects) {
                boolean[] found = super.keys(subjects);   // read before the revocation commits
                if (hold.get()) {
                    inRead.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return found;
            }
        };
        Tollgate t = engine(gated);
        QuotaGate gate = gate(t, EdgeConfig.UnknownSubjects.REJECT);
        String key = issue(new AdminApi(gate), "{}");
        nanos.addAndGet(TTL.toNanos());   // what this node read is too old: the next request reads again
        hold.set(true);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Admission> during = pool.submit(() -> get(gate, key));
            assertThat(inRead.await(10, TimeUnit.SECONDS)).isTrue();
            t.revokeKey(Subjects.apiKey(key));
            release.countDown();
            assertThat(during.get(10, TimeUnit.SECONDS).status()).isEqualTo(401);
        } finally {
            pool.shutdownNow();
        }
        hold.set(false);
        assertThat(get(gate, key).status()).isEqualTo(401);
    }

    @Test
    void aKeyTheCallerHoldsIsRegisteredByItsFingerprintOnly() {
        Tollgate t = engine(store());
        QuotaGate gate = gate(t, EdgeConfig.UnknownSubjects.REJECT);
        AdminApi api = new AdminApi(gate);
        String mine = "my-own-key-" + UUID.randomUUID();
        String fingerprint = Subjects.apiKey(mine).substring("key:".length());

        AdminApi.Response r = api.handle("POST", "/keys", "Bearer " + TOKEN,
                "{\"fingerprint\":\"" + fingerprint.toUpperCase() + "\"}", SubjectResult::absent);
        assertThat(r.status()).isEqualTo(201);
        assertThat(r.body()).isEqualTo("{\"subject\":\"key:" + fingerprint + "\",\"plan\":\"free\"}");
        assertThat(get(gate, mine).kind()).isEqualTo(Admission.Kind.ADMIT);

        assertThat(api.handle("POST", "/keys", "Bearer " + TOKEN, "{\"fingerprint\":\"abc\"}",
                SubjectResult::absent).body()).contains("64 hex digits");
        assertThat(api.handle("POST", "/keys", "Bearer " + TOKEN, "{\"plan\":\"gold\"}",
                SubjectResult::absent).body()).contains("plan 'gold' is not configured");
        assertThat(api.handle("POST", "/keys", null, "{}", SubjectResult::absent).status()).isEqualTo(401);
    }

    @Test
    void issuedKeysAreDistinctAndCarryAtLeast128RandomBits() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            keys.add(AdminApi.newKey());
        }
        assertThat(keys).doesNotHaveDuplicates().allMatch(k -> k.matches("tg_[A-Za-z0-9_-]{43}"));
    }

    @Test
    void theSelfServiceRouteRefusesAnUnknownKey() {
        QuotaGate gate = gate(engine(store()), EdgeConfig.UnknownSubjects.REJECT);
        AdminApi api = new AdminApi(gate);
        Supplier<SubjectResult> caller = () -> gate.subjectFromHeader(List.of("not-registered"));
        AdminApi.Response me = api.handle("GET", "/me", null, null, caller);
        assertThat(me.status()).isEqualTo(401);
        assertThat(me.headers()).contains(gate.wwwAuthenticate());
        assertThat(api.handle("GET", "/me", null, null, SubjectResult::absent).headers())
                .contains(gate.wwwAuthenticate());
    }

    @Test
    void aFloodOfUnknownKeysCostsBoundedStoreReads() throws Exception {
        CountingStore counting = new CountingStore(store());
        QuotaGate gate = gate(engine(counting), EdgeConfig.UnknownSubjects.REJECT);

        // The same 10 unknown keys, 1,000 times: each is read once per TTL.
        for (int i = 0; i < 1000; i++) {
            assertThat(get(gate, "unknown-" + (i % 10)).status()).isEqualTo(401);
        }
        assertThat(counting.keysAsked.get()).isEqualTo(10);
        assertThat(counting.subjectReads.get() + counting.grants.get()).as("no plan read, no grant").isZero();

        // 32 threads with a new key per request: never more than one key read per key, never a
        // plan read or a grant, and many keys share a read.
        counting.keyReads.set(0);
        counting.keysAsked.set(0);
        int threads = 32;
        int perThread = 100;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Integer>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            done.add(pool.submit(() -> {
                start.await();
                int refused = 0;
                for (int i = 0; i < perThread; i++) {
                    refused += get(gate, "flood-" + UUID.randomUUID()).status() == 401 ? 1 : 0;
                }
                return refused;
            }));
        }
        start.countDown();
        int refused = 0;
        for (Future<Integer> f : done) {
            refused += f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(refused).isEqualTo(threads * perThread);
        assertThat(counting.keysAsked.get()).isEqualTo(threads * perThread);
        assertThat(counting.keyReads.get()).isLessThanOrEqualTo(threads * perThread);
        assertThat(counting.subjectReads.get() + counting.grants.get()).isZero();
        engines.get(0).flush();
        assertThat(usageRows()).isZero();
    }

    @Test
    void whileTheStoreCannotTellAnUnknownKeyIsRefusedWith503AndAKnownOneStaysAdmitted() {
        CountingStore counting = new CountingStore(store());
        Tollgate t = engine(counting);
        QuotaGate gate = gate(t, EdgeConfig.UnknownSubjects.REJECT);
        String key = issue(new AdminApi(gate), "{}");
        assertThat(get(gate, key).kind()).isEqualTo(Admission.Kind.ADMIT);

        counting.down.set(true);
        Admission stranger = get(gate, "never-seen");
        assertThat(stranger.status()).isEqualTo(503);
        assertThat(stranger.body()).contains("store-unavailable", "API keys cannot be checked");
        assertThat(stranger.headers()).extracting(Map.Entry::getKey).contains("Retry-After");
        nanos.addAndGet(TTL.toNanos());
        assertThat(get(gate, key).kind()).as("its revocation could not have been recorded either")
                .isEqualTo(Admission.Kind.ADMIT);
    }
}
