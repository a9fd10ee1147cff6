package dev.tollgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.TollgateConfig.SchemaMode;
import dev.tollgate.core.TollgateException;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.UsageStoreContract;
import dev.tollgate.core.spi.WriteBatch;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import dev.tollgate.core.testing.TestDatabases.Backend;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** The JDBC store: the store contract, and its schema handling, on H2 and on PostgreSQL. */
@ParameterizedClass(name = "[{index}] {0}")
@EnumSource(Backend.class)
class JdbiUsageStoreTest {

    @Parameter
    Backend backend;

    private final java.util.List<TestDatabase> opened = new java.util.ArrayList<>();

    @AfterEach
    void closeDatabases() {
        opened.forEach(TestDatabase::close);
    }

    private TestDatabase database() {
        TestDatabase db = TestDatabases.open(backend);
        opened.add(db);
        return db;
    }

    private Dialect dialect() {
        return backend == Backend.H2 ? Dialect.H2 : Dialect.POSTGRESQL;
    }

    private JdbiUsageStore create(TestDatabase db, SchemaMode mode) {
        return JdbiUsageStore.create(db.dataSource(), dialect(), mode, Duration.ofSeconds(10), null);
    }

    @Nested
    class Contract extends UsageStoreContract {
        @Override
        protected UsageStore openStore() {
            return create(database(), SchemaMode.CREATE);
        }
    }

    @Test
    void createIsIdempotentAndValidateAcceptsTheCreatedSchema() {
        TestDatabase db = database();
        UsageKey k = new UsageKey("alice", "requests", dev.tollgate.core.Period.DAY, 0L);
        try (JdbiUsageStore first = create(db, SchemaMode.CREATE)) {
            first.apply(new WriteBatch("b1", "n", Instant.EPOCH, Duration.ofSeconds(1), List.of(new UsageDelta(k, 3))));
        }
        try (JdbiUsageStore again = create(db, SchemaMode.CREATE);
             JdbiUsageStore validated = create(db, SchemaMode.VALIDATE)) {
            assertThat(again.used(List.of(k))).containsExactly(3);
            validated.apply(new WriteBatch("b2", "n", Instant.EPOCH, Duration.ofSeconds(1), List.of(new UsageDelta(k, 4))));
            assertThat(validated.used(List.of(k))).as("the data survived a second create").containsExactly(7);
        }
    }

    @Test
    void validateOnAnEmptyDatabaseFailsWithAClearMessage() {
        TestDatabase empty = database();
        assertThatThrownBy(() -> create(empty, SchemaMode.VALIDATE))
                .isInstanceOf(TollgateException.class)
                .hasMessageContaining("tollgate.store.schema=validate")
                .hasMessageContaining("tollgate_usage")
                .hasMessageContaining("tollgate/schema-")
                .hasMessageContaining("tollgate.store.schema=create");
    }

    @Test
    void expiredRequestIdsArePrunedInChunksAndLiveOnesKept() {
        TestDatabase db = database();
        Instant t0 = Instant.parse("2026-11-26T10:00:00Z");
        try (JdbiUsageStore store = create(db, SchemaMode.CREATE)) {
            UsageKey k = new UsageKey("alice", "requests", dev.tollgate.core.Period.TOTAL, 0L);
            List<dev.tollgate.core.spi.RequestCharge> ids = new java.util.ArrayList<>();
            for (int i = 0; i < 5; i++) {
                ids.add(new dev.tollgate.core.spi.RequestCharge("alice", "requests", "old-" + i, 1, List.of(k)));
            }
            store.apply(new WriteBatch("b1", "n", t0, Duration.ofSeconds(1), List.of(new UsageDelta(k, 5)), ids,
                    Duration.ofMinutes(1)));
            store.apply(new WriteBatch("b2", "n", t0, Duration.ofSeconds(1), List.of(new UsageDelta(k, 1)),
                    List.of(new dev.tollgate.core.spi.RequestCharge("alice", "requests", "live", 1, List.of(k))),
                    Duration.ofDays(1)));
            Instant later = t0.plus(Duration.ofMinutes(2));
            assertThat(store.pruneRequests(t0, 2)).as("nothing has expired yet").isZero();
            assertThat(store.pruneRequests(later, 2)).isEqualTo(2);
            assertThat(store.pruneRequests(later, 2)).isEqualTo(2);
            assertThat(store.pruneRequests(later, 2)).isEqualTo(1);
            assertThat(store.pruneRequests(later, 2)).isZero();
            // The live id still makes its repeat free.
            store.apply(new WriteBatch("b3", "n", later, Duration.ofSeconds(1), List.of(new UsageDelta(k, 1)),
                    List.of(new dev.tollgate.core.spi.RequestCharge("alice", "requests", "live", 1, List.of(k))),
                    Duration.ofDays(1)));
            assertThat(store.used(List.of(k))).containsExactly(6);
        }
    }
}
