package dev.tollgate.gateway;

import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.security.Principal;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.cloud.gateway.filter.GatewayFilter;
import org.springframework.cloud.gateway.filter.factory.AbstractGatewayFilterFactory;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.web.server.WebFilter;
import reactor.core.publisher.Mono;

/**
 * The application the route tests start: auto-configuration, a fresh test database
 * ({@code test.db=h2|postgresql}) as the application's DataSource, a KeyResolver, a stand-in
 * for authentication and a
 * filter that blocks on purpose (to show that BlockHound watches the event loop).
 */
@SpringBootConfiguration
@EnableAutoConfiguration
class GatewayTestApplication {

    @Bean(destroyMethod = "close")
    TestDatabase testDatabase(Environment env) {
        return TestDatabases.open(TestDatabases.Backend.valueOf(env.getProperty("test.db", "H2").toUpperCase()));
    }

    @Bean
    DataSource dataSource(TestDatabase db) {
        return db.dataSource();
    }

    /** Subject from the {@code X-Tenant} header, for routes with {@code subject-source: resolver}. */
    @Bean
    KeyResolver tenantKeyResolver() {
        return exchange -> Mono.justOrEmpty(exchange.getRequest().getHeaders().getFirst("X-Tenant"));
    }

    /** Stands in for authentication: the {@code X-Test-User} header becomes the exchange's principal. */
    @Bean
    WebFilter testUserPrincipal() {
        return (exchange, chain) -> {
            String user = exchange.getRequest().getHeaders().getFirst("X-Test-User");
            if (user == null) {
                return chain.filter(exchange);
            }
            Principal principal = () -> user;
            return chain.filter(exchange.mutate().principal(Mono.just(principal)).build());
        };
    }

    @Bean
    BlockingProbeGatewayFilterFactory blockingProbeGatewayFilterFactory() {
        return new BlockingProbeGatewayFilterFactory();
    }

    /** Sleeps on the thread that runs the filter and records what that did. */
    static class BlockingProbeGatewayFilterFactory extends AbstractGatewayFilterFactory<Object> {
        static final AtomicReference<Throwable> LAST = new AtomicReference<>();

        BlockingProbeGatewayFilterFactory() {
            super(Object.class);
        }

        @Override
        public GatewayFilter apply(Object config) {
            return (exchange, chain) -> {
                try {
                    Thread.sleep(1);
                } catch (Throwable e) {
                    LAST.set(e);
                    return Mono.error(e);
                }
                return chain.filter(exchange);
            };
        }
    }
}
