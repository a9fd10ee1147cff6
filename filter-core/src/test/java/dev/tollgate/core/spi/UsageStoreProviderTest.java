package dev.tollgate.core.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.config.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Store providers: found by their URL through ServiceLoader, and the URL check that follows them. */
class UsageStoreProviderTest {

    @Test
    void aUrlAProviderAcceptsPassesTheCheckAndBuildsTheEngineOnItsStore() {
        assertThat(UsageStoreProvider.find("h2-test:x")).get().isInstanceOf(H2TestStoreProvider.class);
        TollgateConfig config = TollgateConfig.from(Settings.of(Map.of("tollgate.store.url", "h2-test:provided",
                "tollgate.plans.free.requests", "10/day", "tollgate.metrics.enabled", "false")));
        try (Tollgate t = Tollgate.builder(config).build()) {
            t.consume("alice", "requests", 3);
            assertThat(t.flush()).isTrue();
        }
        // The data went to the provider's database, which outlives the engine (DB_CLOSE_DELAY=-1).
        try (UsageStore again = new H2TestStoreProvider().open(config);
             Tollgate t = Tollgate.builder(config).store(again).build()) {
            assertThat(t.check("alice", "requests", 1).used()).isEqualTo(3);
        }
    }

    @Test
    void aUrlNoProviderAcceptsFailsNamingTheKeyTheValueAndWhatIsAllowed() {
        assertThat(UsageStoreProvider.find("mongodb://db/x")).isEmpty();
        assertThatThrownBy(() -> TollgateConfig.custom().storeUrl("mongodb://user:secret@db/x"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("tollgate.store.url")
                .hasMessageContaining("mongodb://user:****@db/x")
                .hasMessageNotContaining("secret")
                .hasMessageContaining("a jdbc:h2: or jdbc:postgresql: URL, or one a store provider on the class path"
                        + " accepts");
    }
}
