package dev.tollgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * BlockHound finds Tollgate's integration by itself ({@code BlockHound.install()} loads every
 * {@link BlockHoundIntegration} on the class path): without it, a settlement on the event loop
 * whose channel offer met a contended lock was reported as blocking and lost its charge
 * (QuotaRoutesTest, which runs under BlockHound, stored 4 of 5 admitted requests once).
 */
class TollgateBlockHoundIntegrationTest {

    @Test
    void blockHoundFindsTheIntegrationThroughTheServiceLoader() {
        assertThat(ServiceLoader.load(BlockHoundIntegration.class).stream().map(ServiceLoader.Provider::type))
                .contains(TollgateBlockHoundIntegration.class);
    }
}
