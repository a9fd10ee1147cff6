package dev.tollgate.bench;

import dev.tollgate.core.Stats;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import java.time.Duration;

/** What the JMH benchmarks share: an engine on embedded in-memory H2 with one huge limit. */
final class BenchEngines {
    static final String PLAN = "bench";
    static final String QUOTA = "requests";
    /** So large that no benchmark is ever denied: every call takes the allowed path. */
    static final String HUGE_LIMIT = "1000000000000000/day";

    private BenchEngines() {
    }

    /**
     * A config on the named in-memory H2 database (kept until the JVM exits), with
     * {@value #PLAN} as the default plan and {@value #QUOTA} limited to {@value #HUGE_LIMIT}.
     */
    static TollgateConfig.Builder h2(String database) {
        return TollgateConfig.custom()
                .storeUrl("jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1")
                .defaultPlan(PLAN)
                .limit(PLAN, QUOTA, HUGE_LIMIT)
                .metricsEnabled(false)
                .flushInterval(Duration.ofMillis(100));
    }

    /** Subject names {@code <prefix>-0 … <prefix>-(n-1)}. */
    static String[] subjects(String prefix, int n) {
        String[] s = new String[n];
        for (int i = 0; i < n; i++) {
            s[i] = prefix + "-" + i;
        }
        return s;
    }

    /**
     * Loads each subject's policy and usage into the engine's caches, as a first request
     * does; without it, {@code consume} queues unresolved records and {@code check} reads
     * the store.
     */
    static void warm(Tollgate tollgate, String... subjects) {
        for (String s : subjects) {
            if (!tollgate.check(s, QUOTA, 1).allowed()) {
                throw new IllegalStateException("warm-up check denied for " + s);
            }
        }
    }

    /** One line with the counters that tell whether the channel kept up. */
    static String describe(Stats s) {
        return String.format("records=%,d processed=%,d syncFallbacks=%,d batches=%,d upserts=%,d"
                        + " unitsWritten=%,d queueDepth=%,d/%,d deferred=%,d failed=%,d",
                s.total(), s.processed(), s.syncFallbacks(), s.batches(), s.upserts(), s.unitsWritten(),
                s.queueDepth(), s.queueCapacity(), s.deferred(), s.failed());
    }
}
