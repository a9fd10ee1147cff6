package dev.tollgate.core.spi;

import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.internal.jdbc.Dialect;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import java.time.Duration;
import org.h2.jdbcx.JdbcDataSource;

/**
 * A {@link UsageStoreProvider} for the provider tests: {@code h2-test:<name>} opens the JDBC
 * store on an in-memory H2 database of that name. Listed in this module's test
 * {@code META-INF/services}, so it is found the way a real backend is.
 */
public final class H2TestStoreProvider implements UsageStoreProvider {
    static final String SCHEME = "h2-test:";

    @Override
    public boolean accepts(String url) {
        return url.startsWith(SCHEME);
    }

    @Override
    public UsageStore open(TollgateConfig config) {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:mem:" + config.storeUrl().substring(SCHEME.length()) + ";DB_CLOSE_DELAY=-1");
        return JdbiUsageStore.create(ds, Dialect.H2, TollgateConfig.SchemaMode.CREATE, Duration.ofSeconds(5), null);
    }

    @Override
    public String describe() {
        return SCHEME + "<name>";
    }
}
