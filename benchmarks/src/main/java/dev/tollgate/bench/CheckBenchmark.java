package dev.tollgate.bench;

import dev.tollgate.core.Decision;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.config.Settings;
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

/**
 * Average time of {@link Tollgate#check} on a cached key: the subject's policy and the
 * counter's usage were loaded in {@code @Setup}, so no call reads the store (the cache's
 * background refresh still runs every {@code refresh-after}, off the measured threads).
 * {@code oneThread} and {@code twoThreads} call it on the same key from one and from two
 * threads. The engine runs on embedded in-memory H2 with a limit nobody reaches, so every
 * decision is an allowance. At the end of the trial the engine's counters are printed.
 * Parameters {@code executor} and {@code refreshAfter} as in {@link ConsumeBenchmark}.
 *
 * <p>Run from the repository root (about 1 minute):
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests &amp;&amp; java -jar benchmarks/target/benchmarks.jar CheckBenchmark -f 1 -wi 3 -i 5
 * </pre>
 * Target: at most 200 ns/op.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class CheckBenchmark {
    private static final String SUBJECT = "cached-subject";

    /** What runs the caches' maintenance and refreshes: see {@code BenchEngines.EXECUTORS}. */
    @Param({"default", "pool", "split"})
    String executor;

    /** {@code tollgate.check.cache.refresh-after}: the engine's default, or e.g. {@code 1m} to see what refreshes cost. */
    @Param("1s")
    String refreshAfter;

    private BenchEngines.Engine engine;
    private Tollgate tollgate;

    /** Starts the engine and loads the subject's policy and usage into its caches. */
    @Setup(Level.Trial)
    public void start() {
        engine = new BenchEngines.Engine(BenchEngines.h2("check")
                .cacheRefreshAfter(Settings.parseDuration(refreshAfter)).build(), executor);
        tollgate = engine.tollgate;
        BenchEngines.warm(tollgate, SUBJECT);
    }

    /** {@code check} from one thread. */
    @Benchmark
    @Threads(1)
    public Decision oneThread() {
        return tollgate.check(SUBJECT, BenchEngines.QUOTA, 1);
    }

    /** {@code check} from two threads on the same key. */
    @Benchmark
    @Threads(2)
    public Decision twoThreads() {
        return tollgate.check(SUBJECT, BenchEngines.QUOTA, 1);
    }

    /** Prints the engine's check counters and closes it. */
    @TearDown(Level.Trial)
    public void stop() {
        System.out.println("[check] totals: checks=" + tollgate.stats().checks() + " denied="
                + tollgate.stats().denied() + " storeErrors=" + tollgate.stats().storeErrors());
        engine.close();
    }
}
