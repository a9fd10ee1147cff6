package dev.tollgate.bench;

import dev.tollgate.core.Stats;
import dev.tollgate.core.Tollgate;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Throughput of {@link Tollgate#consume} from two threads: the request path's enqueue,
 * with the channel large enough that it does not fill within an iteration.
 *
 * <ul>
 *   <li>{@code hotKey}: every call charges one subject (one usage counter, one view adder).
 *   <li>{@code manySubjects}: each call charges the next of {@code subjects} subjects
 *       (10,000 by default), from a per-thread index; both threads start half-way apart.
 * </ul>
 *
 * <p>The engine runs on embedded in-memory H2 with a limit nobody reaches; the subjects are
 * warmed (policy and usage cached) before measuring, as after their first request. Between
 * iterations the channel is flushed, outside the measurement, so each iteration starts
 * empty. After each iteration a {@code [consume]} line on stdout gives what was offered
 * and what the batchers committed meanwhile (their sustainable rate), the backlog left in
 * the channel and the sync fallbacks (channel full: the caller wrote to the store itself);
 * at the end of the trial, the engine's totals. Non-zero sync fallbacks mean the channel
 * saturated and the score measures store writes, not the fast path.
 *
 * <p>Parameters: {@code subjects}, {@code channelCapacity}.
 *
 * <p>Run from the repository root (about 1 minute):
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests &amp;&amp; java -jar benchmarks/target/benchmarks.jar ConsumeBenchmark -f 1 -wi 5 -i 5
 * </pre>
 * Target: at least 5,000,000 ops/s in total over the two threads.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(2)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms4g", "-Xmx4g"})
@State(Scope.Benchmark)
public class ConsumeBenchmark {
    private static final String HOT = "hot-subject";
    private static final int WORKERS = 2;

    /** Distinct subjects of {@code manySubjects}. */
    @Param("10000")
    int subjects;

    /** Records the channel holds: big enough to absorb one iteration's surplus over the batchers. */
    @Param("16000000")
    int channelCapacity;

    private Tollgate tollgate;
    private String[] names;
    private Stats before;
    private long startNanos;

    /** Each thread's position in the subject list. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;

        /** Starts each thread at its own share of the subject list. */
        @Setup(Level.Trial)
        public void start(ConsumeBenchmark b, ThreadParams threads) {
            next = (int) ((long) b.subjects * threads.getThreadIndex() / threads.getThreadCount());
            // The engine picks a channel stripe by thread id modulo workers: show whether the
            // two threads share one.
            System.out.printf("%n[consume] thread %d: id %d, stripe %d of %d%n", threads.getThreadIndex(),
                    Thread.currentThread().getId(), Thread.currentThread().getId() % WORKERS, WORKERS);
        }
    }

    /** Starts the engine and warms the hot subject and the {@code subjects} subjects. */
    @Setup(Level.Trial)
    public void start() {
        tollgate = Tollgate.builder(BenchEngines.h2("bench")
                .workers(WORKERS)
                .channelCapacity(channelCapacity)
                .batchSize(20_000)
                .build()).build();
        names = BenchEngines.subjects("subject", subjects);
        BenchEngines.warm(tollgate, HOT);
        BenchEngines.warm(tollgate, names);
    }

    /** Remembers the counters at the start of the iteration. */
    @Setup(Level.Iteration)
    public void mark() {
        before = tollgate.stats();
        startNanos = System.nanoTime();
    }

    /** One unit for the one hot subject. */
    @Benchmark
    public void hotKey() {
        tollgate.consume(HOT, BenchEngines.QUOTA, 1);
    }

    /** One unit for this thread's next subject. */
    @Benchmark
    public void manySubjects(Cursor c) {
        int i = c.next;
        tollgate.consume(names[i], BenchEngines.QUOTA, 1);
        c.next = i + 1 == names.length ? 0 : i + 1;
    }

    /** Reports the iteration's offered and committed rates, then drains the channel. */
    @TearDown(Level.Iteration)
    public void drain() {
        Stats end = tollgate.stats();
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        long offered = end.total() - before.total();
        long committed = end.processed() - before.processed();
        long t0 = System.nanoTime();
        tollgate.flush();
        System.out.printf("%n[consume] offered=%,.0f/s committedByBatchers=%,.0f/s backlog=%,d syncFallbacks=%,d"
                        + " batches=%,d upserts=%,d drain=%dms%n",
                offered / seconds, committed / seconds, end.queueDepth(),
                end.syncFallbacks() - before.syncFallbacks(), end.batches() - before.batches(),
                end.upserts() - before.upserts(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    /** Flushes, prints the engine's totals and closes it. */
    @TearDown(Level.Trial)
    public void stop() {
        tollgate.flush();
        System.out.println("[consume] totals: " + BenchEngines.describe(tollgate.stats()));
        tollgate.close();
    }
}
