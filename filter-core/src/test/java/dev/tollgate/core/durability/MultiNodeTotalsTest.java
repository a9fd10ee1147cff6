package dev.tollgate.core.durability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Three engines in three JVMs, each with its own cache and batchers, share one PostgreSQL
 * schema and consume on the same subjects at once: after they close, every subject's stored
 * total is exactly what all of them consumed. The longer version with four nodes runs in
 * {@code scripts/scenarios.sh}.
 */
class MultiNodeTotalsTest {
    static final int NODES = 3;
    static final long PER_NODE = 30_000;
    static final int SUBJECTS = 5;

    @Test
    void nodesSharingOneDatabaseStoreExactTotals() throws Exception {
        try (TestDatabase db = TestDatabases.postgres()) {
            // The schema is created once, before the nodes race to create it.
            dev.tollgate.core.Tollgate.builder(dev.tollgate.core.TollgateConfig.custom().metricsEnabled(false).build())
                    .dataSource(db.dataSource()).build().close();
            List<ChildJvm> nodes = new ArrayList<>();
            try {
                for (int i = 0; i < NODES; i++) {
                    nodes.add(ChildJvm.start("totals-" + i, "mode=totals", "url=" + db.url(), "user=" + db.user(),
                            "password=" + db.password(), "subject=shared", "subjects=" + SUBJECTS,
                            "count=" + PER_NODE, "threads=2", "flush=50", "refresh=100"));
                }
                for (ChildJvm n : nodes) {
                    n.await("READY"::equals, Duration.ofSeconds(90));
                }
                for (ChildJvm n : nodes) {
                    n.send("GO");
                }
                for (ChildJvm n : nodes) {
                    assertThat(n.await(l -> l.startsWith("DONE"), Duration.ofSeconds(120))).isEqualTo("DONE dropped=0");
                    assertThat(n.waitFor(Duration.ofSeconds(60))).isZero();
                }
            } finally {
                for (ChildJvm n : nodes) {
                    n.close();
                }
            }
            for (int s = 0; s < SUBJECTS; s++) {
                assertThat(db.storedTotal("shared-" + s, "requests", "DAY"))
                        .as("subject shared-%d", s).isEqualTo(NODES * PER_NODE / SUBJECTS);
            }
            assertThat(db.storedTotal("requests", "DAY")).isEqualTo(NODES * PER_NODE);
        }
    }
}
