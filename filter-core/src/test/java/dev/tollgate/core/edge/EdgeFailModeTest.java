package dev.tollgate.core.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.FailMode;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.spi.StoreException;
import dev.tollgate.core.spi.UsageStore;
import java.lang.reflect.Proxy;
import org.junit.jupiter.api.Test;

/**
 * An edge's own fail mode ({@link EdgeConfig#failMode()}) decides checks that could not read
 * the store; unset, the engine's decides.
 */
class EdgeFailModeTest {

    /** A store whose every call fails (close does nothing). */
    private static UsageStore deadStore() {
        return (UsageStore) Proxy.newProxyInstance(UsageStore.class.getClassLoader(), new Class<?>[] {UsageStore.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("close")) {
                        return null;
                    }
                    throw new StoreException("store is down", null);
                });
    }

    private static Admission admit(FailMode engine, FailMode edge) {
        TollgateConfig config = TollgateConfig.custom().failMode(engine).limit("free", "requests", "10/day").build();
        try (Tollgate tollgate = Tollgate.builder(config).store(deadStore()).build()) {
            EdgeConfig edgeConfig = EdgeConfig.custom().failMode(edge)
                    .unknownSubjects(EdgeConfig.UnknownSubjects.DEFAULT_PLAN)
                    .rule("all", "/**", null, "requests").build();
            return new QuotaGate(tollgate, edgeConfig).admit("GET", "/x", SubjectResult.of("alice"));
        }
    }

    @Test
    void withoutAnEdgeFailModeTheEnginesDecides() {
        assertThat(admit(FailMode.OPEN, null).kind()).isEqualTo(Admission.Kind.ADMIT);
        assertThat(admit(FailMode.CLOSED, null).status()).isEqualTo(503);
    }

    @Test
    void aClosedEdgeRefusesWhenTheEngineFailsOpen() {
        Admission a = admit(FailMode.OPEN, FailMode.CLOSED);

        assertThat(a.kind()).isEqualTo(Admission.Kind.REJECT);
        assertThat(a.status()).isEqualTo(503);
        assertThat(a.body()).contains("store-unavailable");
    }

    @Test
    void anOpenEdgeAdmitsWhenTheEngineFailsClosed() {
        assertThat(admit(FailMode.CLOSED, FailMode.OPEN).kind()).isEqualTo(Admission.Kind.ADMIT);
    }

    @Test
    void theEdgeReadsTheSameKeyAsTheEngine() {
        assertThat(EdgeConfig.from(dev.tollgate.core.config.Settings.of(
                java.util.Map.of("tollgate.check.fail-mode", "closed"))).failMode()).isEqualTo(FailMode.CLOSED);
        assertThat(EdgeConfig.from(dev.tollgate.core.config.Settings.empty()).failMode()).isNull();
    }
}
