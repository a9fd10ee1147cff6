package dev.tollgate.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.testing.MutableClock;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link Tollgate#isCached}: true only once a decision needs nothing from the store. */
class TollgateIsCachedTest {
    private TestDatabase db;
    private Tollgate tollgate;

    @BeforeEach
    void setUp() {
        db = TestDatabases.h2();
        TollgateConfig config = TollgateConfig.custom().limit("free", "requests", "10/minute,100/day").build();
        // An injected clock: a minute window that ended between a check and isCached would not be cached.
        tollgate = Tollgate.builder(config).dataSource(db.dataSource())
                .clock(new MutableClock(Instant.parse("2026-11-26T10:15:30Z"))).build();
    }

    @AfterEach
    void tearDown() {
        tollgate.close();
        db.close();
    }

    @Test
    void aSubjectSeenForTheFirstTimeIsNotCached() {
        assertThat(tollgate.isCached("alice", "requests", 1)).isFalse();
    }

    @Test
    void everyWindowOfTheQuotaIsCachedOnceThisNodeHoldsTheAmount() {
        tollgate.check("alice", "requests", 1);

        // The first grant of a 10/minute limit is one unit (a tenth of a hundredth, at least 1).
        assertThat(tollgate.isCached("alice", "requests", 1)).isTrue();
        assertThat(tollgate.isCached("alice", "requests", 11)).as("more than this node holds").isFalse();
        assertThat(tollgate.isCached("bob", "requests", 1)).isFalse();
    }

    @Test
    void aCounterTheStoreHasNothingLeftOfIsDecidedFromMemory() {
        for (int i = 0; i < 10; i++) {
            assertThat(tollgate.reserve("carol", "requests", 1).decision().allowed()).isTrue();
        }
        assertThat(tollgate.reserve("carol", "requests", 1).decision().allowed()).isFalse();
        assertThat(tollgate.isCached("carol", "requests", 1)).as("denied without asking the store again").isTrue();
    }

    @Test
    void aQuotaWithoutLimitsIsCachedOnceThePolicyIs() {
        tollgate.check("alice", "requests", 1);

        assertThat(tollgate.isCached("alice", "unmetered", 1)).isTrue();
    }
}
