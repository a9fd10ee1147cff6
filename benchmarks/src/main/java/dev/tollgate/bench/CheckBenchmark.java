package dev.tollgate.bench;

import dev.tollgate.core.Decision;
import dev.tollgate.core.Reservation;
import dev.tollgate.core.Tollgate;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Average time of a decision from a held allotment: {@link Tollgate#check} ({@code oneThread},
 * {@code twoThreads}: one key from one and from two threads) and a whole admission,
 * {@link Tollgate#reserve} then {@link Reservation#settle} ({@code admitOneThread},
 * {@code admitTwoThreads}), the subject's policy and a grant taken in {@code @Setup}, so that
 * no measured call waits for the store (renewals run in the background, off the measured
 * threads). The engine runs on embedded in-memory H2 with a limit nobody reaches, so every
 * decision is an allowance. At the end of the trial the engine's counters are printed.
 *
 * <p>Run from the repository root (about 25 seconds):
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests &amp;&amp; java -jar benchmarks/target/benchmarks.jar CheckBenchmark -f 1 -wi 3 -i 5
 * </pre>
 * Target: at most 200 ns/op for an admission from a held allotment.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class CheckBenchmark {
    private static final String SUBJECT = "cached-subject";

    private Tollgate tollgate;

    /** Starts the engine and loads the subject's policy and usage into its caches. */
    @Setup(Level.Trial)
    public void start() {
        tollgate = Tollgate.builder(BenchEngines.h2("check").build()).build();
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

    /** {@code reserve} and {@code settle} from one thread: what the edge does per request. */
    @Benchmark
    @Threads(1)
    public Reservation admitOneThread() {
        Reservation r = tollgate.reserve(SUBJECT, BenchEngines.QUOTA, 1);
        r.settle(1);
        return r;
    }

    /** {@code reserve} and {@code settle} from two threads on the same key. */
    @Benchmark
    @Threads(2)
    public Reservation admitTwoThreads() {
        Reservation r = tollgate.reserve(SUBJECT, BenchEngines.QUOTA, 1);
        r.settle(1);
        return r;
    }

    /** Prints the engine's check counters and closes it. */
    @TearDown(Level.Trial)
    public void stop() {
        System.out.println("[check] totals: checks=" + tollgate.stats().checks() + " denied="
                + tollgate.stats().denied() + " storeErrors=" + tollgate.stats().storeErrors() + " grantCalls="
                + tollgate.stats().grantCalls() + " grantWaits=" + tollgate.stats().grantWaits());
        tollgate.close();
    }
}
