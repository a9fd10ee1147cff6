package dev.tollgate.core.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.testing.OnEachDatabase;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What a flood of 1,000 requests, each with a new random API key (20 threads), costs the store,
 * before key registration ({@code tollgate.subject.unknown=default-plan}: every key is a new
 * subject) and with it ({@code reject}): store calls on the request path per 1,000 requests,
 * and usage rows left. Prints one {@code MEASURE} line per run:
 * {@code mvn -B -pl filter-core test -Dtest=UnknownKeyFloodTest}.
 */
class UnknownKeyFloodTest extends OnEachDatabase {
    private static final int THREADS = 20;
    private static final int REQUESTS = 1000;

    /** Store calls and rows of one flood. */
    record Cost(long keyReads, long planReads, long grantCalls, long rows, int admitted, int refused) {
        long reads() {
            return keyReads + planReads + grantCalls;
        }
    }

    private Cost flood(EdgeConfig.UnknownSubjects unknown) throws Exception {
        KeyAdmissionTest.CountingStore store = new KeyAdmissionTest.CountingStore(store());
        long rowsBefore = rows();
        TollgateConfig config = TollgateConfig.custom().limit("free", "requests", "100/day").metricsEnabled(false)
                .build();
        int admitted = 0;
        int refused = 0;
        try (Tollgate t = Tollgate.builder(config).store(store).build()) {
            QuotaGate gate = new QuotaGate(t, EdgeConfig.custom().unknownSubjects(unknown)
                    .rule("hello", "/api/hello", "GET", "requests").build());
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<int[]>> done = new ArrayList<>();
            for (int n = 0; n < THREADS; n++) {
                done.add(pool.submit(() -> {
                    start.await();
                    int[] outcome = new int[2];
                    for (int i = 0; i < REQUESTS / THREADS; i++) {
                        Admission a = gate.admit("GET", "/api/hello",
                                gate.subjectFromHeader(List.of("random-" + UUID.randomUUID())));
                        gate.settle(a, 200, h -> List.of());
                        outcome[a.kind() == Admission.Kind.ADMIT ? 0 : 1]++;
                    }
                    return outcome;
                }));
            }
            start.countDown();
            for (Future<int[]> f : done) {
                int[] o = f.get(120, TimeUnit.SECONDS);
                admitted += o[0];
                refused += o[1];
            }
            pool.shutdown();
            assertThat(t.flush()).isTrue();
        }
        Cost c = new Cost(store.keyReads.get(), store.subjectReads.get(), store.grants.get(), rows() - rowsBefore,
                admitted, refused);
        System.out.printf("MEASURE %s %s: %d requests with a new random key each (%d threads): store reads on the"
                        + " request path %d (key reads %d, plan reads %d, grant calls %d), usage rows added %d,"
                        + " admitted %d, refused %d%n", backend, unknown, REQUESTS - REQUESTS % THREADS, THREADS,
                c.reads(), c.keyReads, c.planReads, c.grantCalls, c.rows, c.admitted, c.refused);
        return c;
    }

    private long rows() {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM tollgate_usage").mapTo(Long.class).one());
    }

    @Test
    void withRegistrationAFloodOfUnknownKeysCostsNoRowAndAtMostOneKeyReadPerKey() throws Exception {
        Cost before = flood(EdgeConfig.UnknownSubjects.DEFAULT_PLAN);
        assertThat(before.admitted()).isEqualTo(REQUESTS - REQUESTS % THREADS);
        assertThat(before.rows()).as("a row per made-up key").isEqualTo(before.admitted());

        Cost after = flood(EdgeConfig.UnknownSubjects.REJECT);
        assertThat(after.refused()).isEqualTo(REQUESTS - REQUESTS % THREADS);
        assertThat(after.planReads() + after.grantCalls()).isZero();
        assertThat(after.keyReads()).isLessThanOrEqualTo(after.refused());
        assertThat(after.rows()).as("no row added by the unknown keys").isZero();
    }
}
