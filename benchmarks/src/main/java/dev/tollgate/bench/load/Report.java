package dev.tollgate.bench.load;

import dev.tollgate.bench.load.Model.Config;
import dev.tollgate.bench.load.Model.Row;
import dev.tollgate.bench.load.Model.Run;
import dev.tollgate.bench.load.Server.Db;
import dev.tollgate.bench.load.Server.Kind;
import dev.tollgate.bench.load.Server.Mode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Renders {@code REPORT.md} and the PNG charts of one harness run, and the summary that the
 * harness prints. Targets are computed as ratios of figures from the same run; a missed target
 * is reported, never thrown. Not thread-safe.
 */
final class Report {
    private final LoadHarness.Plan plan;
    private final Path out;
    private final List<Run> runs;
    private final List<String> notes;
    private final String pgVersion;
    private final double minutes;

    Report(LoadHarness.Plan plan, Path out, List<Run> runs, List<String> notes, String pgVersion, double minutes) {
        this.plan = plan;
        this.out = out;
        this.runs = runs;
        this.notes = notes;
        this.pgVersion = pgVersion;
        this.minutes = minutes;
    }

    /** Writes REPORT.md and the charts; returns the summary (headline and targets) as Markdown. */
    String write() throws IOException {
        List<String> charts = charts();
        StringBuilder summary = new StringBuilder();
        summary.append(headline()).append('\n').append(targets());
        StringBuilder md = new StringBuilder();
        md.append("# Tollgate load report — ").append(out.getFileName()).append("\n\n");
        md.append("Command: `benchmarks/run.sh --").append(plan.name()).append("` (")
                .append(String.format(Locale.ROOT, "%.1f", minutes)).append(" min). ").append(machine()).append("\n\n");
        md.append(method()).append('\n');
        for (String n : notes) {
            md.append("> ").append(n).append("\n\n");
        }
        md.append("## Headline (servlet demo, max throughput, `wrk`)\n\n").append(headline()).append('\n');
        md.append("## Targets (ratios from this run)\n\n").append(targets()).append('\n');
        for (String c : charts) {
            md.append("![").append(c).append("](").append(c).append(")\n\n");
        }
        md.append("## All scenarios\n\n").append(scenarios()).append('\n');
        md.append("## What the database and the engine did\n\n").append(engine()).append('\n');
        md.append("## Per server run\n\n").append(perRun()).append('\n');
        if (runs.stream().anyMatch(r -> r.config().baseline())) {
            md.append("## Against the baseline\n\n").append(baselineTable()).append('\n');
        }
        if (runs.stream().anyMatch(r -> r.config().sweep())) {
            md.append("## Settings sweep (servlet demo, async, 10,000 subjects)\n\n").append(sweep()).append('\n');
        }
        md.append("## Burst, latency per second (open loop)\n\n").append(burstTable()).append('\n');
        Files.writeString(out.resolve("REPORT.md"), md.toString(), StandardCharsets.UTF_8);
        return summary.toString();
    }

    private String machine() {
        String cpu = "?";
        String mem = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
            mem = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                    .findFirst().map(l -> String.format(Locale.ROOT, "%.0f GiB",
                            Long.parseLong(l.replaceAll("\\D", "")) / 1048576.0)).orElse("?");
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return "Machine: " + Runtime.getRuntime().availableProcessors() + " CPUs (" + cpu + "), " + mem + " RAM, "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", Java "
                + System.getProperty("java.runtime.version") + ", " + Wrk.version() + ", " + pgVersion + ". Server JVM flags: `"
                + String.join(" ", LoadHarness.SERVER_JVM_FLAGS) + "`. Generated "
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")) + ".";
    }

    private String method() {
        return String.format(Locale.ROOT, """
                Every configuration runs in a fresh server process (fresh H2 file, or PostgreSQL schema `%s` dropped and \
                recreated), warmed up with `wrk` over the 10,000 keys in 5 s steps until two steps in a row grow the best rate by less than \
                10 %% (at least %d s, at most %d s; then 3 s on one key), then: **max hot** / **max many** — `wrk -t%d -c%d` for %d s \
                with one API key / %,d keys round-robin (closed loop; latencies as wrk measures them, not corrected for \
                coordinated omission); **100 QPS** (%.0f s), **1000 QPS** (%.0f s), **burst** (100 QPS %.0f s → 2000 QPS %.0f s \
                → 100 QPS %.0f s) — open loop over %d keep-alive connections, %,d keys, latency from each request's \
                intended start (corrected for coordinated omission), HdrHistogram; timeout %d ms. `GET /api/hello` costs 1 \
                `requests`; plans set to 1e9/day so nothing is denied. **others CPU** is the share of the machine's CPUs \
                used during the scenario by processes other than the server, the harness and wrk (from /proc); **load** the \
                1-minute load average. The machine is shared with other agents' builds and tests: figures with high \
                *others CPU* are disturbed.
                """, Pg.SCHEMA, plan.warmup(), plan.warmupMax(), LoadHarness.WRK_THREADS, LoadHarness.WRK_CONNECTIONS, plan.max(),
                LoadHarness.MANY_KEYS, plan.fixed100(), plan.fixed1000(), plan.burstLow(), plan.burstHigh(), plan.burstAfter(),
                LoadHarness.OPEN_LOOP_CONNECTIONS, LoadHarness.MANY_KEYS, LoadHarness.TIMEOUT_MS);
    }

    /** The edge-speed targets: ratios to the same server without the filter, and to the gateway's own limiter. */
    private void edgeTargets(StringBuilder sb) {
        for (Db db : new Db[] {Db.H2, Db.PG}) {
            ratio(sb, Kind.SERVLET, db, "max hot", 0.93, "servlet filter, one key");
            ratio(sb, Kind.SERVLET, db, "max many", 0.85, "servlet filter, 10,000 keys");
            ratio(sb, Kind.GATEWAY, db, "max hot", 0.90, "gateway filter, one key");
        }
        for (Kind k : Kind.values()) {
            Optional<Row> none = row(k, Mode.NONE, Db.H2, "max many");
            for (Db db : new Db[] {Db.H2, Db.PG}) {
                Optional<Run> run = runs.stream().filter(r -> r.config().variant() == null && r.config().kind() == k
                        && r.config().mode() == Mode.ASYNC && r.config().db() == db && !r.warmup().isEmpty()).findFirst();
                Optional<Row> warm = row(k, Mode.ASYNC, db, "max many");
                if (run.isEmpty() || warm.isEmpty()) {
                    continue;
                }
                List<Double> series = run.get().warmup();
                int step = run.get().warmupStep();
                double first = series.get(0);
                double warmRps = Math.max(warm.get().result().rps(), series.stream().mapToDouble(d -> d).max().orElse(0));
                sb.append(String.format(Locale.ROOT, "| %s, cold start with 10,000 new subjects: ≥ 0.5 × warm throughput"
                                + " within 5 s (%s) | first %d s: %,.0f / warm %,.0f = **%.2f** | %s |\n", k.label, db.label,
                        step, first, warmRps, first / warmRps, step <= 5 && first >= 0.5 * warmRps ? "met" : "**missed**"));
                if (k == Kind.GATEWAY && none.isPresent()) {
                    int steps = Math.max(1, 30 / step);
                    double best30 = series.stream().limit(steps).mapToDouble(d -> d).max().orElse(0);
                    double ratio = best30 / none.get().result().rps();
                    sb.append(String.format(Locale.ROOT, "| gateway filter, 10,000 keys from a cold start: ≥ 0.8 × no-filter"
                                    + " within 30 s (%s) | best %d s step in the first %d s: %,.0f / %,.0f = **%.2f** | %s |\n",
                            db.label, step, steps * step, best30, none.get().result().rps(), ratio,
                            ratio >= 0.8 ? "met" : "**missed**"));
                }
            }
        }
        Optional<Row> peerHot = row(Kind.GATEWAY, Mode.PEER, Db.REDIS, "max hot");
        Optional<Row> peerMany = row(Kind.GATEWAY, Mode.PEER, Db.REDIS, "max many");
        Optional<Row> peer1000 = row(Kind.GATEWAY, Mode.PEER, Db.REDIS, "1000 QPS");
        for (Db db : new Db[] {Db.H2, Db.PG}) {
            for (Optional<Row> peer : List.of(peerHot, peerMany)) {
                Optional<Row> ours = peer.flatMap(p -> row(Kind.GATEWAY, Mode.ASYNC, db, p.scenario()));
                if (peer.isPresent() && ours.isPresent()) {
                    double ratio = ours.get().result().rps() / peer.get().result().rps();
                    sb.append(String.format(Locale.ROOT, "| gateway: Quota ≥ 1.5 × RequestRateLimiter (RedisRateLimiter)"
                                    + " throughput (%s, %s) | %,.0f / %,.0f = **%.2f** | %s |\n", db.label,
                            peer.get().scenario(), ours.get().result().rps(), peer.get().result().rps(), ratio,
                            ratio >= 1.5 ? "met" : "**missed**"));
                }
            }
            Optional<Row> ours1000 = row(Kind.GATEWAY, Mode.ASYNC, db, "1000 QPS");
            if (peer1000.isPresent() && ours1000.isPresent()) {
                long a = ours1000.get().result().p99();
                long b = peer1000.get().result().p99();
                sb.append(String.format(Locale.ROOT, "| gateway: Quota's p99 below RequestRateLimiter's at 1000 QPS (%s) |"
                        + " %s vs %s ms | %s |\n", db.label, ms(a), ms(b), a < b ? "met" : "**missed**"));
            }
        }
    }

    private void ratio(StringBuilder sb, Kind k, Db db, String scenario, double target, String what) {
        Optional<Row> none = row(k, Mode.NONE, Db.H2, scenario);
        Optional<Row> ours = row(k, Mode.ASYNC, db, scenario);
        if (none.isPresent() && ours.isPresent()) {
            double r = ours.get().result().rps() / none.get().result().rps();
            sb.append(String.format(Locale.ROOT, "| %s: ≥ %.2f × no-filter max throughput (%s) | %,.0f / %,.0f = **%.2f**"
                            + " (others CPU %s / %s) | %s |\n", what, target, db.label, ours.get().result().rps(),
                    none.get().result().rps(), r, pct(ours.get().othersShare()), pct(none.get().othersShare()),
                    r >= target ? "met" : "**missed**"));
        }
    }

    /**
     * This build's asynchronous servers next to the baseline's (an earlier revision, same run,
     * same machine): max throughput on one key and on 10,000 keys, target at least 0.95.
     */
    private String baselineTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("The same demo built from an earlier revision (`benchmarks/baseline.sh`), run in this harness run;")
                .append(" ratio = this build / baseline, target ≥ 0.95.\n\n");
        sb.append("| demo | store | scenario | this build req/s | baseline req/s | ratio | verdict |\n|---|---|---|---:|---:|---:|---|\n");
        for (Run b : runs) {
            if (!b.config().baseline()) {
                continue;
            }
            for (Row br : b.rows()) {
                if (!br.scenario().startsWith("max")) {
                    continue;
                }
                String sc = br.scenario().startsWith("max hot") ? "max hot" : "max many";
                Optional<Row> ours = row(b.config().kind(), Mode.ASYNC, b.config().db(), sc);
                if (ours.isEmpty()) {
                    continue;
                }
                double ratio = ours.get().result().rps() / br.result().rps();
                sb.append(String.format(Locale.ROOT, "| %s | %s | %s (%s) | %,.0f | %,.0f | **%.2f** | %s |\n",
                        b.config().kind().label, b.config().db().label, sc, b.config().variant(),
                        ours.get().result().rps(), br.result().rps(), ratio, ratio >= 0.95 ? "met" : "**missed**"));
            }
        }
        return sb.toString();
    }

    // ---- lookups

    private Optional<Row> row(Kind k, Mode m, Db db, String scenarioPrefix) {
        return runs.stream().filter(r -> r.config().variant() == null && r.config().kind() == k && r.config().mode() == m
                        && (m == Mode.NONE || m == Mode.PEER || r.config().db() == db))
                .flatMap(r -> r.rows().stream()).filter(r -> r.scenario().startsWith(scenarioPrefix)).findFirst();
    }

    private static String ms(long us) {
        return String.format(Locale.ROOT, "%.2f", us / 1000.0);
    }

    private static String pct(double share) {
        return Double.isNaN(share) ? "–" : String.format(Locale.ROOT, "%.0f %%", 100 * share);
    }

    private static String num(double v, String fmt) {
        return Double.isNaN(v) || v < 0 ? "–" : String.format(Locale.ROOT, fmt, v);
    }

    private String headline() {
        StringBuilder sb = new StringBuilder();
        sb.append("| servlet demo | store | max req/s, 1 key | max req/s, 10,000 keys | p99 at 1000 QPS (ms) | p99.9 at 1000 QPS (ms) | others CPU |\n");
        sb.append("|---|---|---:|---:|---:|---:|---:|\n");
        for (Kind k : Kind.values()) {
            for (Mode m : new Mode[] {Mode.NONE, Mode.PEER, Mode.ASYNC, Mode.SYNC}) {
                for (Db db : Db.values()) {
                    if ((m == Mode.NONE && db != Db.H2) || (m == Mode.PEER) != (db == Db.REDIS)) {
                        continue;
                    }
                    Optional<Row> hot = row(k, m, db, "max hot");
                    Optional<Row> many = row(k, m, db, "max many");
                    Optional<Row> k1000 = row(k, m, db, "1000 QPS");
                    if (hot.isEmpty() && many.isEmpty()) {
                        continue;
                    }
                    double others = List.of(hot, many, k1000).stream().filter(Optional::isPresent)
                            .mapToDouble(o -> o.get().othersShare()).max().orElse(Double.NaN);
                    sb.append("| ").append(k.label).append(' ').append(m.label).append(" | ")
                            .append(m == Mode.NONE ? "–" : db.label).append(" | ")
                            .append(hot.map(r -> num(r.result().rps(), "%,.0f")).orElse("–")).append(" | ")
                            .append(many.map(r -> num(r.result().rps(), "%,.0f")).orElse("–")).append(" | ")
                            .append(k1000.map(r -> ms(r.result().p99())).orElse("–")).append(" | ")
                            .append(k1000.map(r -> ms(r.result().p999())).orElse("–")).append(" | ")
                            .append(pct(others)).append(" |\n");
                }
            }
        }
        return sb.toString().replace("| servlet demo |", "| server, mode |");
    }

    private String targets() {
        StringBuilder sb = new StringBuilder();
        sb.append("| target | measured | verdict |\n|---|---|---|\n");
        edgeTargets(sb);
        for (Kind k : Kind.values()) {
            for (Db db : new Db[] {Db.H2, Db.PG}) {
                Optional<Row> none = row(k, Mode.NONE, Db.H2, "1000 QPS");
                Optional<Row> async = row(k, Mode.ASYNC, db, "1000 QPS");
                if (none.isPresent() && async.isPresent()) {
                    double d = (async.get().result().p99() - none.get().result().p99()) / 1000.0;
                    sb.append(String.format(Locale.ROOT, "| %s: p99 of async − no-filter ≤ 0.5 ms at 1000 QPS (%s) | %s − %s = **%.2f ms** (others CPU %s / %s) | %s |\n",
                            k.label, db.label, ms(async.get().result().p99()), ms(none.get().result().p99()), d,
                            pct(async.get().othersShare()), pct(none.get().othersShare()), d <= 0.5 ? "met" : "**missed**"));
                }
            }
        }
        for (Kind k : Kind.values()) {
            for (String sc : new String[] {"max hot", "max many"}) {
                Optional<Row> sync = row(k, Mode.SYNC, Db.PG, sc);
                Optional<Row> async = row(k, Mode.ASYNC, Db.PG, sc);
                if (sync.isPresent() && async.isPresent()) {
                    double ratio = async.get().result().rps() / sync.get().result().rps();
                    sb.append(String.format(Locale.ROOT, "| %s: async ≥ 10 × sync max throughput on PostgreSQL (%s) | %,.0f / %,.0f = **%.1f×** | %s |\n",
                            k.label, sc, async.get().result().rps(), sync.get().result().rps(), ratio, ratio >= 10 ? "met" : "**missed**"));
                }
            }
        }
        double worst = 0;
        String worstAt = "";
        for (Run r : runs) {
            if (r.config().mode() != Mode.ASYNC || r.config().baseline()) {
                continue;
            }
            for (Row row : r.rows()) {
                if (!row.scenario().startsWith("max")) {
                    continue;
                }
                double v = row.upsertsPerKeyPerFlush();
                if (!Double.isNaN(v) && v > worst) {
                    worst = v;
                    worstAt = r.config().name() + ", " + row.scenario();
                }
            }
        }
        if (!worstAt.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "| ≤ 1 upsert per distinct key per flush (async, max throughput) | worst **%.2f** (%s) | %s |\n",
                    worst, worstAt, worst <= 1.0001 ? "met" : "**missed**"));
        }
        for (Run r : runs) {
            if (r.config().variant() == null && r.config().kind() == Kind.SERVLET && r.config().mode() == Mode.ASYNC
                    && r.heapStartMiB() > 0 && r.heapEndMiB() > 0) {
                double growth = r.heapEndMiB() - r.heapStartMiB();
                boolean longRun = r.rows().stream().anyMatch(x -> x.scenario().contains("60s"));
                sb.append(String.format(Locale.ROOT, "| heap flat %s (%s) | after GC %.1f → %.1f MiB (%+.1f MiB) | %s |\n",
                        longRun ? "over a 60 s max-throughput run" : "over the run (no 60 s run in this mode)",
                        r.config().name(), r.heapStartMiB(), r.heapEndMiB(), growth, growth <= 5 ? "met" : "**missed**"));
            }
        }
        return sb.toString();
    }

    private String scenarios() {
        StringBuilder sb = new StringBuilder();
        sb.append("| configuration | scenario | generator | req/s | mean ms | p50 ms | p99 ms | p99.9 ms | max ms | errors | timeouts | not sent | server CPU | others CPU | load |\n");
        sb.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Run r : runs) {
            for (Row row : r.rows()) {
                Result x = row.result();
                sb.append("| ").append(r.config().name()).append(" | ").append(row.scenario()).append(" | ").append(x.generator())
                        .append(" | ").append(num(x.rps(), "%,.0f")).append(" | ").append(num(x.mean() / 1000, "%.2f"))
                        .append(" | ").append(ms(x.p50())).append(" | ").append(ms(x.p99())).append(" | ").append(ms(x.p999()))
                        .append(" | ").append(ms(x.max())).append(" | ").append(x.errors()).append(" | ").append(x.timeouts())
                        .append(" | ").append(x.notSent()).append(" | ").append(pct(row.serverShare()))
                        .append(" | ").append(pct(row.othersShare())).append(" | ").append(num(row.loadAvg(), "%.1f")).append(" |\n");
            }
            if (r.error() != null) {
                sb.append("| ").append(r.config().name()).append(" | **run failed**: ").append(r.error().replace('|', '/'))
                        .append(" |||||||||||||\n");
            }
        }
        return sb.toString();
    }

    private String engine() {
        StringBuilder sb = new StringBuilder();
        sb.append("Engine counters are deltas over each scenario (read 1.5 s after it ended, so its last flush is in). ")
                .append("*upserts/key/flush* = (upserts ÷ batches) ÷ min(records per batch, subjects in the load); ")
                .append("*grants + reads* are the counters the engine asked the store units for (first grants and renewals of ")
                .append("allotments) and its reads of plans.\n\n");
        sb.append("| configuration | scenario | records | upserts / 1,000 req | grants + reads / 1,000 req | batches | upserts / batch | upserts / key / flush | channel peak | sync fallbacks | deferred | store errors |\n");
        sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Run r : runs) {
            if (!r.config().mode().tollgate()) {
                continue;
            }
            for (Row row : r.rows()) {
                double batches = row.engine("batches");
                sb.append("| ").append(r.config().name()).append(" | ").append(row.scenario()).append(" | ")
                        .append(num(row.engine("total"), "%,.0f")).append(" | ").append(num(row.upsertsPer1000(), "%,.1f"))
                        .append(" | ").append(num(row.readsPer1000(), "%,.1f"))
                        .append(" | ").append(num(batches, "%,.0f")).append(" | ")
                        .append(batches > 0 ? num(row.engine("upserts") / batches, "%,.1f") : "–").append(" | ")
                        .append(num(row.upsertsPerKeyPerFlush(), "%.2f")).append(" | ").append(num(row.channelPeak(), "%,.0f"))
                        .append(" | ").append(num(row.engine("syncFallbacks"), "%,.0f")).append(" | ")
                        .append(num(row.engine("deferred"), "%,.0f")).append(" | ").append(num(row.engine("storeErrors"), "%,.0f"))
                        .append(" |\n");
            }
        }
        return sb.toString();
    }

    private String perRun() {
        StringBuilder sb = new StringBuilder();
        sb.append("PostgreSQL rows are `pg_stat_user_tables` n_tup_ins + n_tup_upd of `").append(Pg.SCHEMA)
                .append(".tollgate_usage` over the whole server run (warm-up included), read after the server exited; ")
                .append("commits are `pg_stat_database.xact_commit` of the whole database, which other agents may share.\n\n");
        sb.append("| configuration | startup s | warm-up s | requests | heap after GC, after warm-up MiB | heap after GC, end MiB | PG usage rows written / 1,000 req | PG applied-batch rows | PG commits / 1,000 req | H2 file MiB (after stop) | error |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (Run r : runs) {
            Pg.Counters pg = r.pg();
            double k = r.requests() / 1000.0;
            sb.append("| ").append(r.config().name()).append(" | ").append(num(r.startupSeconds(), "%.1f")).append(" | ")
                    .append(num(r.warmupSeconds(), "%.0f")).append(" | ")
                    .append(String.format(Locale.ROOT, "%,d", r.requests())).append(" | ").append(num(r.heapStartMiB(), "%.1f"))
                    .append(" | ").append(num(r.heapEndMiB(), "%.1f")).append(" | ")
                    .append(pg == null ? "–" : num((pg.usageInserts() + pg.usageUpdates()) / k, "%,.1f")).append(" | ")
                    .append(pg == null ? "–" : String.format(Locale.ROOT, "%,d", pg.batchInserts())).append(" | ")
                    .append(pg == null ? "–" : num(pg.xactCommit() / k, "%,.1f")).append(" | ")
                    .append(num(r.h2FileMiB(), "%,.0f")).append(" | ")
                    .append(r.error() == null ? "" : r.error().replace('|', '/')).append(" |\n");
        }
        return sb.toString();
    }

    private String sweep() {
        StringBuilder sb = new StringBuilder();
        sb.append("One server per row, warmed up like the others; *max* is `wrk` over 10,000 subjects, *1000 QPS* the open-loop ")
                .append("scenario. Settings not listed are the defaults.\n\n");
        sb.append("| variant | store | settings | max req/s | max p99 ms | upserts / 1,000 req | grants + reads / 1,000 req | upserts / batch ")
                .append("| channel peak | sync fallbacks | p99 at 1000 QPS ms | others CPU |\n");
        sb.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Run r : runs) {
            if (!r.config().sweep()) {
                continue;
            }
            Row max = r.rows().stream().filter(x -> x.scenario().startsWith("max many")).findFirst().orElse(null);
            Row fixed = r.rows().stream().filter(x -> x.scenario().equals("1000 QPS")).findFirst().orElse(null);
            String settings = r.config().env().isEmpty() ? "defaults" : r.config().env().entrySet().stream()
                    .map(e -> e.getKey().replace("TOLLGATE_ASYNC_", "").toLowerCase(Locale.ROOT) + "=" + e.getValue())
                    .collect(Collectors.joining(", "));
            sb.append("| ").append(r.config().variant()).append(" | ").append(r.config().db().label).append(" | ")
                    .append(settings).append(" | ");
            if (max == null) {
                sb.append("– | – | – | – | – | – | –");
            } else {
                double batches = max.engine("batches");
                sb.append(num(max.result().rps(), "%,.0f")).append(" | ").append(ms(max.result().p99())).append(" | ")
                        .append(num(max.upsertsPer1000(), "%,.1f")).append(" | ").append(num(max.readsPer1000(), "%,.1f"))
                        .append(" | ").append(batches > 0 ? num(max.engine("upserts") / batches, "%,.1f") : "–").append(" | ")
                        .append(num(max.channelPeak(), "%,.0f")).append(" | ").append(num(max.engine("syncFallbacks"), "%,.0f"));
            }
            sb.append(" | ").append(fixed == null ? "–" : ms(fixed.result().p99()))
                    .append(" | ").append(max == null ? "–" : pct(max.othersShare()))
                    .append(r.error() == null ? "" : " (" + r.error().replace('|', '/') + ")").append(" |\n");
        }
        return sb.toString();
    }

    private String burstTable() {
        StringBuilder sb = new StringBuilder();
        List<Run> withBurst = runs.stream().filter(r -> !r.burst().isEmpty()).collect(Collectors.toList());
        if (withBurst.isEmpty()) {
            return "(no burst data)\n";
        }
        sb.append("p99 in ms of the requests intended in each second (second: p99).\n\n");
        for (Run r : withBurst) {
            sb.append("- ").append(r.config().name()).append(": ");
            sb.append(r.burst().stream().map(s -> s.second() + "s " + ms(s.p99())).collect(Collectors.joining(", ")));
            sb.append('\n');
        }
        return sb.toString();
    }

    // ---- charts

    private List<String> charts() {
        List<String> files = new ArrayList<>();
        try {
            List<String> names = new ArrayList<>();
            List<Double> hot = new ArrayList<>();
            List<Double> many = new ArrayList<>();
            List<String> latNames = new ArrayList<>();
            List<Double> p50 = new ArrayList<>();
            List<Double> p99 = new ArrayList<>();
            List<Double> p999 = new ArrayList<>();
            for (Run r : runs) {
                if (r.config().variant() != null) {
                    continue;
                }
                Optional<Row> h = r.rows().stream().filter(x -> x.scenario().startsWith("max hot")).findFirst();
                Optional<Row> m = r.rows().stream().filter(x -> x.scenario().startsWith("max many")).findFirst();
                if (h.isPresent() && m.isPresent()) {
                    names.add(r.config().shortName());
                    hot.add(h.get().result().rps());
                    many.add(m.get().result().rps());
                }
                Optional<Row> k = r.rows().stream().filter(x -> x.scenario().equals("1000 QPS")).findFirst();
                if (k.isPresent()) {
                    latNames.add(r.config().shortName());
                    p50.add(Math.max(0.01, k.get().result().p50() / 1000.0));
                    p99.add(Math.max(0.01, k.get().result().p99() / 1000.0));
                    p999.add(Math.max(0.01, k.get().result().p999() / 1000.0));
                }
            }
            if (!names.isEmpty()) {
                CategoryChart c = new CategoryChartBuilder().width(1000).height(500).title("Max throughput (wrk, closed loop)")
                        .xAxisTitle("server-mode-store").yAxisTitle("requests/s").build();
                c.getStyler().setXAxisLabelRotation(30);
                c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
                c.addSeries("1 key", names, hot);
                c.addSeries("10,000 keys", names, many);
                BitmapEncoder.saveBitmap(c, out.resolve("throughput.png").toString(), BitmapEncoder.BitmapFormat.PNG);
                files.add("throughput.png");
            }
            if (!latNames.isEmpty()) {
                CategoryChart c = new CategoryChartBuilder().width(1000).height(500).title("Latency at 1000 QPS (open loop, CO-corrected)")
                        .xAxisTitle("server-mode-store").yAxisTitle("ms").build();
                c.getStyler().setXAxisLabelRotation(30);
                c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
                c.addSeries("p50", latNames, p50);
                c.addSeries("p99", latNames, p99);
                c.addSeries("p99.9", latNames, p999);
                BitmapEncoder.saveBitmap(c, out.resolve("latency-1000qps.png").toString(), BitmapEncoder.BitmapFormat.PNG);
                files.add("latency-1000qps.png");
            }
            List<String> gwNames = new ArrayList<>();
            List<Double> gwHot = new ArrayList<>();
            List<Double> gwMany = new ArrayList<>();
            for (Run r : runs) {
                if (r.config().variant() != null || r.config().kind() != Kind.GATEWAY || r.config().mode() == Mode.SYNC) {
                    continue;
                }
                Optional<Row> h = r.rows().stream().filter(x -> x.scenario().startsWith("max hot")).findFirst();
                Optional<Row> m = r.rows().stream().filter(x -> x.scenario().startsWith("max many")).findFirst();
                if (h.isPresent() && m.isPresent()) {
                    gwNames.add(r.config().mode() == Mode.PEER ? "RequestRateLimiter (Redis)"
                            : r.config().mode() == Mode.NONE ? "no filter" : "Quota (" + r.config().db().label + ")");
                    gwHot.add(h.get().result().rps());
                    gwMany.add(m.get().result().rps());
                }
            }
            if (gwNames.stream().anyMatch(n -> n.startsWith("RequestRateLimiter"))) {
                CategoryChart c = new CategoryChartBuilder().width(1000).height(500)
                        .title("Gateway demo: Tollgate's Quota filter and Spring Cloud Gateway's RequestRateLimiter")
                        .xAxisTitle("gateway").yAxisTitle("requests/s (wrk, closed loop)").build();
                c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
                c.addSeries("1 key", gwNames, gwHot);
                c.addSeries("10,000 keys", gwNames, gwMany);
                BitmapEncoder.saveBitmap(c, out.resolve("gateway-peer.png").toString(), BitmapEncoder.BitmapFormat.PNG);
                files.add("gateway-peer.png");
            }
            XYChart b = new XYChartBuilder().width(1000).height(500).title("Burst 100 → 2000 → 100 QPS: p99 per second (open loop)")
                    .xAxisTitle("second").yAxisTitle("p99 ms (log)").build();
            b.getStyler().setYAxisLogarithmic(true);
            b.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
            int series = 0;
            for (Run r : runs) {
                if (r.burst().isEmpty()) {
                    continue;
                }
                List<Double> x = new ArrayList<>();
                List<Double> y = new ArrayList<>();
                for (OpenLoop.Second s : r.burst()) {
                    x.add((double) s.second());
                    y.add(Math.max(0.01, s.p99() / 1000.0));
                }
                b.addSeries(r.config().shortName(), x, y);
                series++;
            }
            if (series > 0) {
                BitmapEncoder.saveBitmap(b, out.resolve("burst.png").toString(), BitmapEncoder.BitmapFormat.PNG);
                files.add("burst.png");
            }
        } catch (IOException | RuntimeException e) {
            notes.add("Charts could not be drawn: " + e);
        }
        return files;
    }
}
