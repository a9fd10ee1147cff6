package dev.tollgate.core.testing;

import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.internal.jdbc.Dialect;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.testing.TestDatabases.Backend;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Runs every test of a subclass once on a fresh in-memory H2 database and once on a fresh
 * schema of the test PostgreSQL ({@link TestDatabases}), with {@link #db} open during each
 * test. Where PostgreSQL does not answer, its runs are skipped with a message, or fail when
 * PostgreSQL is required; a skipped set-up leaves nothing for the tear-down to trip over.
 */
@ParameterizedClass(name = "[{index}] {0}")
@EnumSource(Backend.class)
public abstract class OnEachDatabase {

    @Parameter
    protected Backend backend;

    /** The database of the current run. */
    protected TestDatabase db;

    /** A store on {@link #db}, as the engine would build it, for tests that wrap it. */
    protected UsageStore store() {
        return JdbiUsageStore.create(db.dataSource(), backend == Backend.H2 ? Dialect.H2 : Dialect.POSTGRESQL,
                TollgateConfig.SchemaMode.CREATE, Duration.ofSeconds(10), null);
    }

    @BeforeEach
    void openDatabase() {
        db = TestDatabases.open(backend);
    }

    @AfterEach
    void closeDatabase() {
        if (db != null) {
            db.close();
            db = null;
        }
    }
}
