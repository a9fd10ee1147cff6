package dev.tollgate.core.durability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Two engines in two JVMs on one PostgreSQL schema record the same requests, each under its
 * request id, twice per node (a retry after a flush): every request is charged once over both
 * nodes, and records without an id are charged every time.
 */
class IdempotentNodesTest {
    static final int NODES = 2;
    static final long REQUESTS = 2_000;
    static final int SUBJECTS = 4;

    @Test
    void aRequestIdSentToTwoNodesIsChargedOnce() throws Exception {
        try (TestDatabase db = TestDatabases.postgres()) {
            dev.tollgate.core.Tollgate.builder(dev.tollgate.core.TollgateConfig.custom().metricsEnabled(false).build())
                    .dataSource(db.dataSource()).build().close();
            List<String> args = Nodes.base(db);
            args.addAll(List.of("mode=idempotent", "subject=idem", "subjects=" + SUBJECTS, "count=" + REQUESTS,
                    "flush=50"));
            List<ChildJvm> nodes = Nodes.start(NODES, "idempotent", args);
            try {
                Nodes.go(nodes);
                for (ChildJvm n : nodes) {
                    assertThat(n.await(l -> l.startsWith("DONE"), Duration.ofSeconds(180))).isEqualTo("DONE dropped=0");
                    assertThat(n.waitFor(Duration.ofSeconds(60))).isZero();
                }
            } finally {
                for (ChildJvm n : nodes) {
                    n.close();
                }
            }
            for (int s = 0; s < SUBJECTS; s++) {
                assertThat(db.storedTotal("idem-" + s, "requests", "DAY")).as("subject idem-%d", s)
                        .isEqualTo(REQUESTS / SUBJECTS + NODES);
            }
            long ids = db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM tollgate_request")
                    .mapTo(Long.class).one());
            assertThat(ids).isEqualTo(REQUESTS);
        }
    }
}
