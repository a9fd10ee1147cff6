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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    static final Duration STARTUP = Duration.ofSeconds(120);
    static final Pattern DONE = Pattern.compile("DONE admitted=(\\d+) denied=(\\d+)(?: ops=(\\d+) nanos=(\\d+))?");

    @TempDir
    Path tmp;

    private static List<String> base(TestDatabase db) {
        return new ArrayList<>(List.of("url=" + db.url(), "user=" + db.user(), "password=" + db.password()));
    }

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

    private static List<ChildJvm> start(int n, String name, List<String> args) throws IOException {
        List<ChildJvm> nodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            nodes.add(ChildJvm.start(name + "-" + i, args.toArray(String[]::new)));
        }
        return nodes;
    }

    private static void go(List<ChildJvm> nodes) throws Exception {
        for (ChildJvm c : nodes) {
            c.await("READY"::equals, STARTUP);
        }
        for (ChildJvm c : nodes) {
            c.send("GO");
        }
    }

    private static List<long[]> done(List<ChildJvm> nodes, Duration timeout) throws Exception {
        List<long[]> out = new ArrayList<>();
        for (ChildJvm c : nodes) {
            Matcher m = DONE.matcher(c.await(l -> l.startsWith("DONE"), timeout));
            assertThat(m.matches()).isTrue();
            out.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)),
                    m.group(3) == null ? 0 : Long.parseLong(m.group(3)), m.group(4) == null ? 0 : Long.parseLong(m.group(4))});
            c.waitFor(Duration.ofSeconds(60));
            c.close();
        }
        return out;
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
                        List<String> args = base(db);
                        args.addAll(List.of("mode=crash", "subject=s", "threads=4", "flush=" + flush, "rate=" + rate));
                        Path dir = tmp.resolve("j-" + flush + "-" + run);
                        if (journal) {
                            args.add("journal=" + dir);
                        }
                        try (ChildJvm node = ChildJvm.start("loss", args.toArray(String[]::new))) {
                            node.await("READY"::equals, STARTUP);
                            // About three seconds of steady load before the kill.
                            node.awaitAcks(3L * rate, STARTUP);
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
            List<String> args = base(db);
            args.addAll(List.of("mode=totals", "subject=shared", "subjects=10", "count=100000", "threads=2",
                    "flush=100", "refresh=200"));
            List<ChildJvm> nodes = start(4, "totals", args);
            go(nodes);
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

    /** The overshoot past a limit that the cached, asynchronous design allows. */
    @Test
    @Order(3)
    void overshootTable() throws Exception {
        long limit = 500;
        int seconds = 4;
        StringBuilder out = new StringBuilder("# Overshoot past a limit of " + limit + " (TOTAL window, flush-interval"
                + " 500ms, " + seconds + "s per cell, PostgreSQL)\n\n| nodes | rate per node (req/s) | refresh-after |"
                + " admitted | stored | overshoot | overshoot % of limit |\n|---|---|---|---|---|---|---|\n");
        for (int nodes : List.of(2, 4)) {
            for (int rate : List.of(200, 1000)) {
                for (String refresh : List.of("100", "1000")) {
                    try (TestDatabase db = TestDatabases.postgres()) {
                        createSchema(db);
                        List<String> args = base(db);
                        args.addAll(List.of("mode=overshoot", "subject=o", "limit=" + limit, "period=total",
                                "rate=" + rate, "seconds=" + seconds, "refresh=" + refresh, "flush=500"));
                        List<ChildJvm> n = start(nodes, "overshoot", args);
                        go(n);
                        long admitted = done(n, Duration.ofMinutes(2)).stream().mapToLong(r -> r[0]).sum();
                        long stored = db.storedTotal("o", "requests", "TOTAL");
                        assertThat(stored).isEqualTo(admitted);
                        out.append(String.format(Locale.ROOT, "| %d | %d | %sms | %d | %d | %d | %.0f%% |%n", nodes,
                                rate, refresh, admitted, stored, stored - limit, 100.0 * (stored - limit) / limit));
                    }
                }
            }
        }
        report("overshoot.md", out.toString());
    }

    /**
     * Four nodes hammer one key in strict mode; a reader watches the stored value throughout.
     * With a threshold of 100% every check is strict and the limit holds whatever the load.
     * A lower threshold holds only while what all nodes consume within refresh-after plus
     * flush-interval stays below it: shown with paced and with unpaced nodes.
     */
    @Test
    @Order(4)
    void strictModeAcrossFourJvms() throws Exception {
        long limit = 2_000;
        StringBuilder out = new StringBuilder("# Strict mode, 4 nodes x 2 threads on one key, limit " + limit
                + ", flush-interval 100ms, 5s (PostgreSQL)\n\n| threshold | refresh-after | load per node |"
                + " admitted | stored at end | highest stored seen |\n|---|---|---|---|---|---|\n");
        String[][] cells = {{"100%", "1000", ""}, {"25%", "100", "200"}, {"25%", "100", ""}};
        for (String[] cell : cells) {
            try (TestDatabase db = TestDatabases.postgres()) {
                createSchema(db);
                List<String> args = base(db);
                args.addAll(List.of("mode=strict", "subject=hot", "limit=" + limit, "threads=2", "seconds=5",
                        "threshold=" + cell[0], "refresh=" + cell[1], "flush=100"));
                if (!cell[2].isEmpty()) {
                    args.add("rate=" + cell[2]);
                }
                List<ChildJvm> nodes = start(4, "strict", args);
                AtomicLong maxSeen = new AtomicLong();
                AtomicBoolean watching = new AtomicBoolean(true);
                Thread watcher = new Thread(() -> {
                    while (watching.get()) {
                        maxSeen.accumulateAndGet(db.storedTotal("hot", "requests", "DAY"), Math::max);
                        LockSupport.parkNanos(1_000_000);
                    }
                });
                watcher.start();
                go(nodes);
                List<long[]> results = done(nodes, Duration.ofMinutes(2));
                watching.set(false);
                watcher.join();
                long admitted = results.stream().mapToLong(r -> r[0]).sum();
                long stored = db.storedTotal("hot", "requests", "DAY");
                maxSeen.accumulateAndGet(stored, Math::max);
                out.append(String.format(Locale.ROOT, "| %s | %sms | %s | %d | %d | %d |%n", cell[0], cell[1],
                        cell[2].isEmpty() ? "unpaced" : cell[2] + "/s", admitted, stored, maxSeen.get()));
                assertThat(stored).isEqualTo(admitted);
                if (cell[0].equals("100%")) {
                    assertThat(maxSeen.get()).isLessThanOrEqualTo(limit);
                }
            }
        }
        report("strict-nodes.md", out.toString());
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

    /** What strict mode costs: reserve + settle per request, strict or cached, one hot key or many. */
    @Test
    @Order(5)
    void strictModeThroughputPrice() throws Exception {
        StringBuilder out = new StringBuilder("# Throughput of reserve + settle (PostgreSQL, limit never reached)\n\n"
                + "| engines | threads | keys | mode | requests/s | mean latency (us) |\n|---|---|---|---|---|---|\n");
        for (int keys : List.of(1, 64)) {
            for (String threshold : List.of("0", "100%")) {
                try (TestDatabase db = TestDatabases.postgres()) {
                    TollgateConfig c = TollgateConfig.custom().metricsEnabled(false)
                            .limit("free", "requests", "1000000000000/day").strictThreshold(threshold).build();
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
                        out.append(String.format(Locale.ROOT, "| 1 | 4 | %d | %s | %.0f | %.1f |%n", keys,
                                threshold.equals("0") ? "cached (strict off)" : "strict (threshold 100%)", perSecond,
                                4 * 1e6 / perSecond));
                    }
                }
            }
        }
        for (String threshold : List.of("0", "100%")) {
            try (TestDatabase db = TestDatabases.postgres()) {
                createSchema(db);
                List<String> args = base(db);
                args.addAll(List.of("mode=strict", "subject=hot", "threads=2", "seconds=5", "threshold=" + threshold));
                List<ChildJvm> nodes = start(4, "price", args);
                go(nodes);
                List<long[]> results = done(nodes, Duration.ofMinutes(2));
                double perSecond = results.stream().mapToDouble(r -> r[2] * 1e9 / r[3]).sum();
                out.append(String.format(Locale.ROOT, "| 4 JVMs | 2 each | 1 | %s | %.0f | %.1f |%n",
                        threshold.equals("0") ? "cached (strict off)" : "strict (threshold 100%)", perSecond,
                        8 * 1e6 / perSecond));
            }
        }
        report("strict-price.md", out.toString());
    }
}
