package dev.tollgate.bench;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.config.Settings;
import dev.tollgate.core.edge.Admission;
import dev.tollgate.core.edge.EdgeConfig;
import dev.tollgate.core.edge.QuotaGate;
import dev.tollgate.core.edge.QuotaRule;
import dev.tollgate.core.edge.SubjectResult;
import java.util.List;
import java.util.Map;
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
 * The edge's own work for one metered request, as both adapters do it: match the rule, turn
 * the API key into its subject, admit (the engine takes the estimate from a held allotment),
 * build the RateLimit fields, and after the response settle the final cost. The adapters add
 * only the translation of their HTTP objects. {@code oneKey}: one API key; {@code manyKeys}:
 * 10,000 keys round-robin, each registered and granted in {@code @Setup}. Engine on embedded in-memory H2, a
 * limit nobody reaches, a channel large enough to absorb what the batchers cannot write during
 * an iteration (the {@code [edge]} line after each iteration shows sync fallbacks: they must be
 * 0 for the score to be the edge's CPU rather than store writes).
 *
 * <p>Run from the repository root:
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests &amp;&amp; java -jar benchmarks/target/benchmarks.jar EdgeBenchmark -f 1 -wi 3 -i 5
 * </pre>
 * Target: at most 1 µs per request.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms4g", "-Xmx4g"})
@State(Scope.Benchmark)
public class EdgeBenchmark {
    private static final int KEYS = 10_000;

    private Tollgate tollgate;
    private QuotaGate gate;
    private String[] keys;

    /** Each thread's position in the key list. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;
    }

    /** Starts the engine and the edge, and admits every key once (its policy and first grant). */
    @Setup(Level.Trial)
    public void start() {
        // A channel big enough that the measured thread never writes to the store itself.
        tollgate = Tollgate.builder(BenchEngines.h2("edge").channelCapacity(16_000_000).batchSize(20_000).build())
                .build();
        gate = new QuotaGate(tollgate, EdgeConfig.from(Settings.of(Map.of(
                "tollgate.rules.api.path", "/api/**", "tollgate.rules.api.quotas", BenchEngines.QUOTA))));
        keys = new String[KEYS];
        for (int i = 0; i < KEYS; i++) {
            keys[i] = "bench-api-key-" + i;
            tollgate.registerKey(Subjects.apiKey(keys[i]), null, null);   // only registered keys are metered
            request(keys[i]);
        }
    }

    private Admission request(String key) {
        QuotaRule rule = gate.rule("GET", "/api/hello");
        SubjectResult subject = gate.subjectFromHeader(List.of(key));
        Admission a = gate.admit(rule, "GET", "/api/hello", subject);
        if (a.kind() != Admission.Kind.ADMIT || a.headers().size() != 2) {
            throw new IllegalStateException("not admitted with its RateLimit fields: " + a.kind());
        }
        gate.settle(a, 200, name -> List.of());
        return a;
    }

    /** One key, one thread: the hot path. */
    @Benchmark
    @Threads(1)
    public Admission oneKey() {
        return request(keys[0]);
    }

    /** 10,000 keys round-robin, one thread. */
    @Benchmark
    @Threads(1)
    public Admission manyKeys(Cursor c) {
        String key = keys[c.next];
        c.next = (c.next + 1) % KEYS;
        return request(key);
    }

    /** Prints what the engine did and closes it. */
    @TearDown(Level.Trial)
    public void stop() {
        System.out.println("[edge] " + BenchEngines.describe(tollgate.stats()) + " grantCalls="
                + tollgate.stats().grantCalls() + " grantWaits=" + tollgate.stats().grantWaits());
        tollgate.close();
    }
}
