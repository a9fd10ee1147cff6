package dev.tollgate.core.durability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Reservation;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The long versions of the crash and multi-node scenarios, with measurements. Not part of the
 * default test run (its name matches no surefire include); {@code .ci/run} runs it through
 * the {@code long-scenarios} profile ({@code mvn -pl filter-core -Plong-scenarios test}), and
 * {@code scripts/scenarios.sh} runs all or one of them. Results are printed and written to
 * {@code filter-core/target/scenarios/}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LongScenarios {

    @TempDir
    Path tmp;

    private static void createSchema(TestDatabase db) {
        Tollgate.builder(TollgateConfig.custom().metricsEnabled(false).build()).dataSource(db.dataSource()).build()
                .close();
    }

    private static void report(String file, String text) throws IOException {
        System.out.println(text);
        Path dir = Path.of("target", "scenarios");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(file), text);
    }

    /** kill -9 after a few seconds of steady load, with and without a journal, at two flush intervals. */
    @Test
    @Order(1)
    void lossOfAKillWithAndWithoutAJournal() throws Exception {
        StringBuilder out = new StringBuilder("# SIGKILL under steady load (1 node, 4 threads, PostgreSQL)\n\n"
                + "| journal | flush-interval | rate (consumes/s) | acknowledged | stored after restart | lost |"
                + " lost, in ms of traffic |\n|---|---|---|---|---|---|---|\n");
        int rate = 5_000;
        for (String flush : List.of("500", "100")) {
            for (boolean journal : List.of(false, true)) {
                for (int run = 0; run < 3; run++) {
                    try (TestDatabase db = TestDatabases.postgres()) {
                        createSchema(db);
                        List<String> args = Nodes.base(db);
                        args.addAll(List.of("mode=crash", "subject=s", "threads=4", "flush=" + flush, "rate=" + rate));
                        Path dir = tmp.resolve("j-" + flush + "-" + run);
                        if (journal) {
                            args.add("journal=" + dir);
                        }
                        try (ChildJvm node = ChildJvm.start("loss", args.toArray(String[]::new))) {
                            node.await("READY"::equals, Nodes.STARTUP);
                            // About three seconds of steady load before the kill.
                            node.awaitAcks(3L * rate, Nodes.STARTUP);
                            node.kill();
                            long acked = node.acked();
                            TollgateConfig.Builder c = TollgateConfig.custom().metricsEnabled(false)
                                    .limit("free", "requests", "1000000000000/day");
                            if (journal) {
                                c.journalPath(dir);
                            }
                            try (Tollgate t = Tollgate.builder(c.build()).dataSource(db.dataSource()).build()) {
                                t.flush();
                            }
                            long stored = db.storedTotal("s", "requests", "DAY");
                            long lost = Math.max(0, acked - stored);
                            out.append(String.format(Locale.ROOT, "| %s | %sms | %d | %d | %d | %d | %.0f |%n",
                                    journal ? "on" : "off", flush, rate, acked, stored, lost, lost * 1000.0 / rate));
                            assertThat(stored).isLessThanOrEqualTo(acked + 4);
                            if (journal) {
                                assertThat(stored).isGreaterThanOrEqualTo(acked);
                            }
                        }
                    }
                }
            }
        }
        report("crash-loss.md", out.toString());
    }

    /** Four nodes, 100,000 consumes each, on shared subjects: exact totals. */
    @Test
    @Order(2)
    void fourNodesStoreExactTotals() throws Exception {
        try (TestDatabase db = TestDatabases.postgres()) {
            createSchema(db);
            List<String> args = Nodes.base(db);
            args.addAll(List.of("mode=totals", "subject=shared", "subjects=10", "count=100000", "threads=2",
                    "flush=100"));
            List<ChildJvm> nodes = Nodes.start(4, "totals", args);
            Nodes.go(nodes);
            for (ChildJvm n : nodes) {
                assertThat(n.await(l -> l.startsWith("DONE"), Duration.ofMinutes(5))).isEqualTo("DONE dropped=0");
                n.waitFor(Duration.ofSeconds(60));
                n.close();
            }
            long total = db.storedTotal("requests", "DAY");
            report("multi-node-totals.md", "# Four nodes on one PostgreSQL\n\n4 nodes x 100000 consumes on 10 shared"
                    + " subjects: stored total " + total + " (expected 400000)\n");
            assertThat(total).isEqualTo(400_000);
        }
    }

    /**
     * Several nodes admitting against one limit, paced: how far past the limit they go (the
     * allotments' guarantee says not at all) and how much of the limit was used when the
     * window closed.
     */
    @Test
    @Order(3)
    void overshootTable() throws Exception {
        long limit = 500;
        int seconds = 4;
        StringBuilder out = new StringBuilder("# Several nodes, one limit of " + limit + " (TOTAL window, reserve +"
                + " settle, flush-interval 500ms, " + seconds + "s per cell, PostgreSQL)\n\n| nodes | rate per node"
                + " (req/s) | admitted | stored | overshoot | share of the limit used |\n|---|---|---|---|---|---|\n");
        for (int nodes : List.of(2, 4)) {
            for (int rate : List.of(200, 1000)) {
                try (TestDatabase db = TestDatabases.postgres()) {
                    createSchema(db);
                    List<String> args = Nodes.base(db);
                    args.addAll(List.of("mode=overshoot", "subject=o", "limit=" + limit, "period=total",
                            "rate=" + rate, "seconds=" + seconds, "flush=500"));
                    List<ChildJvm> n = Nodes.start(nodes, "overshoot", args);
                    Nodes.go(n);
                    long admitted = Nodes.done(n, Duration.ofMinutes(2)).stream().mapToLong(r -> r[0]).sum();
                    long stored = db.storedTotal("o", "requests", "TOTAL");
                    assertThat(stored).isEqualTo(admitted);
                    assertThat(admitted).isLessThanOrEqualTo(limit);
                    out.append(String.format(Locale.ROOT, "| %d | %d | %d | %d | %d | %.1f%% |%n", nodes, rate,
                            admitted, stored, Math.max(0, stored - limit), 100.0 * admitted / limit));
                }
            }
        }
        report("overshoot.md", out.toString());
    }

    /**
     * The last units of a limit: four nodes hammer one key whose usage is already at 95 % of its
     * limit, so every grant is small. Decisions per second while the last 5 % is handed out,
     * and the stored value watched throughout.
     */
    @Test
    @Order(4)
    void theLastUnitsOfALimitAcrossFourJvms() throws Exception {
        long limit = 100_000;
        long preloaded = limit * 95 / 100;
        StringBuilder out = new StringBuilder("# The last 5 % of a limit of " + limit + ": 4 nodes x 2 threads,"
                + " unpaced, reserve + settle, flush-interval 100ms (PostgreSQL)\n\n| admitted | denied | stored at end |"
                + " highest stored seen | seconds to hand out the last 5 % | admissions/s meanwhile | decisions/s"
                + " (admitted + denied) |\n|---|---|---|---|---|---|---|\n");
        try (TestDatabase db = TestDatabases.postgres()) {
            createSchema(db);
            try (Tollgate t = Tollgate.builder(TollgateConfig.custom().metricsEnabled(false)
                    .limit("free", "requests", limit + "/day").build()).dataSource(db.dataSource()).build()) {
                t.consume("hot", "requests", preloaded);
                t.flush();
            }
            List<String> args = Nodes.base(db);
            args.addAll(List.of("mode=admit", "subject=hot", "limit=" + limit, "threads=2", "seconds=5", "flush=100"));
            List<ChildJvm> nodes = Nodes.start(4, "last", args);
            AtomicLong maxSeen = new AtomicLong();
            AtomicBoolean watching = new AtomicBoolean(true);
            Thread watcher = new Thread(() -> {
                while (watching.get()) {
                    maxSeen.accumulateAndGet(db.storedTotal("hot", "requests", "DAY"), Math::max);
                    LockSupport.parkNanos(1_000_000);
                }
            });
            watcher.start();
            Nodes.go(nodes);
            List<long[]> results = Nodes.done(nodes, Duration.ofMinutes(2));
            watching.set(false);
            watcher.join();
            long admitted = results.stream().mapToLong(r -> r[0]).sum();
            long denied = results.stream().mapToLong(r -> r[1]).sum();
            long lastNanos = results.stream().mapToLong(r -> r[4]).max().orElse(0);
            long runNanos = results.stream().mapToLong(r -> r[3]).max().orElse(1);
            long stored = db.storedTotal("hot", "requests", "DAY");
            maxSeen.accumulateAndGet(stored, Math::max);
            double secs = lastNanos / 1e9;
            out.append(String.format(Locale.ROOT, "| %d | %d | %d | %d | %.2f | %.0f | %.0f |%n", admitted, denied,
                    stored, maxSeen.get(), secs, admitted / Math.max(secs, 1e-9), (admitted + denied) * 1e9 / runNanos));
            assertThat(stored).isEqualTo(preloaded + admitted);
            assertThat(maxSeen.get()).isLessThanOrEqualTo(limit);
        }
        report("last-units.md", out.toString());
    }

    /** What the journal costs on the consume path: 4 threads consuming as fast as they can. */
    @Test
    @Order(6)
    void journalThroughputPrice() throws Exception {
        StringBuilder out = new StringBuilder("# consume() throughput, 1 engine, 4 threads, 64 subjects, PostgreSQL,"
                + " 3s each\n\n| journal | consumes/s | stored = consumed |\n|---|---|---|\n");
        for (String mode : List.of("off", "50ms", "0")) {
            try (TestDatabase db = TestDatabases.postgres()) {
                TollgateConfig.Builder c = TollgateConfig.custom().metricsEnabled(false)
                        .limit("free", "requests", "1000000000000/day");
                if (!mode.equals("off")) {
                    c.journalPath(tmp.resolve("price-" + mode)).journalFsyncInterval(
                            dev.tollgate.core.config.Settings.parseDuration(mode));
                }
                long consumed;
                try (Tollgate t = Tollgate.builder(c.build()).dataSource(db.dataSource()).build()) {
                    for (int s = 0; s < 64; s++) {
                        t.check("p" + s, "requests", 1);
                    }
                    AtomicLong ops = new AtomicLong();
                    long end = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                    List<Thread> threads = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        int id = i;
                        Thread th = new Thread(() -> {
                            long n = 0;
                            while (System.nanoTime() - end < 0) {
                                t.consume("p" + ((n * 4 + id) & 63), "requests", 1);
                                n++;
                            }
                            ops.addAndGet(n);
                        });
                        th.start();
                        threads.add(th);
                    }
                    for (Thread th : threads) {
                        th.join();
                    }
                    consumed = ops.get();
                    t.flush();
                }
                long stored = db.storedTotal("requests", "DAY");
                out.append(String.format(Locale.ROOT, "| %s | %.0f | %s |%n", mode.equals("off") ? "off"
                        : "on, fsync-interval " + (mode.equals("0") ? "0 (every consume)" : mode), consumed / 3.0,
                        stored == consumed));
                assertThat(stored).isEqualTo(consumed);
            }
        }
        report("journal-price.md", out.toString());
    }

    /** What an admission costs: reserve + settle per request from allotments, one hot key or many. */
    @Test
    @Order(5)
    void admissionThroughput() throws Exception {
        StringBuilder out = new StringBuilder("# Throughput of reserve + settle (PostgreSQL, limit never reached)\n\n"
                + "| engines | threads | keys | requests/s | mean latency (us) | grant calls | grants asked |\n"
                + "|---|---|---|---|---|---|---|\n");
        for (int keys : List.of(1, 64)) {
            try (TestDatabase db = TestDatabases.postgres()) {
                TollgateConfig c = TollgateConfig.custom().metricsEnabled(false)
                        .limit("free", "requests", "1000000000000/day").build();
                try (Tollgate t = Tollgate.builder(c).dataSource(db.dataSource()).build()) {
                    for (int k = 0; k < keys; k++) {
                        t.reserve("price" + k, "requests", 1).settle(1);
                    }
                    AtomicLong ops = new AtomicLong();
                    long end = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                    List<Thread> threads = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        int id = i;
                        Thread th = new Thread(() -> {
                            long n = 0;
                            while (System.nanoTime() - end < 0) {
                                t.reserve("price" + ((n * 4 + id) % keys), "requests", 1).settle(1);
                                n++;
                            }
                            ops.addAndGet(n);
                        });
                        th.start();
                        threads.add(th);
                    }
                    for (Thread th : threads) {
                        th.join();
                    }
                    double perSecond = ops.get() / 3.0;
                    out.append(String.format(Locale.ROOT, "| 1 | 4 | %d | %.0f | %.2f | %d | %d |%n", keys, perSecond,
                            4 * 1e6 / perSecond, t.stats().grantCalls(), t.stats().grantRequests()));
                    assertThat(ops.get()).isPositive();
                }
            }
        }
        report("admission-price.md", out.toString());
    }
}
