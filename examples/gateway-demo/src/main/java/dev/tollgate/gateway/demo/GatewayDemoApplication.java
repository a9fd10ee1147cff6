package dev.tollgate.gateway.demo;

import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.ContextClosedEvent;
import reactor.core.publisher.Mono;

/**
 * A Spring Cloud Gateway with Tollgate quotas, in front of {@link DemoUpstream} (started here,
 * on {@code DEMO_UPSTREAM_PORT}, a free port by default) or of {@code DEMO_UPSTREAM_URL}.
 * Listens on {@code PORT} (8081). Routes and quotas are in {@code application.yml}; every
 * {@code tollgate.*} property can be set by its environment variable
 * ({@code TOLLGATE_PLANS_FREE_REQUESTS=3/minute}, {@code TOLLGATE_STORE_URL=jdbc:postgresql://...}).
 *
 * <pre>
 * java -jar examples/gateway-demo/target/tollgate-gateway-demo.jar
 * </pre>
 */
@SpringBootApplication
public class GatewayDemoApplication {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayDemoApplication.class);

    /**
     * Who a request is rate limited as under the {@code redis-ratelimiter} profile (Spring Cloud
     * Gateway's RequestRateLimiter, the peer the benchmarks compare with): its API key.
     */
    @Bean
    KeyResolver apiKeyResolver() {
        return exchange -> Mono.justOrEmpty(exchange.getRequest().getHeaders().getFirst("X-API-Key"));
    }

    public static void main(String[] args) {
        String upstream = System.getenv("DEMO_UPSTREAM_URL");
        DemoUpstream own = null;
        if (upstream == null || upstream.isBlank()) {
            String port = System.getenv().getOrDefault("DEMO_UPSTREAM_PORT", "0");
            own = DemoUpstream.start(Integer.parseInt(port.trim()));
            upstream = own.url();
            LOG.info("Demo upstream listening on {}", upstream);
        }
        SpringApplication app = new SpringApplication(GatewayDemoApplication.class);
        app.setDefaultProperties(Map.of("demo.upstream.url", upstream));
        ConfigurableApplicationContext context;
        try {
            context = app.run(args);
        } catch (RuntimeException e) {
            // The upstream's server thread would keep the JVM alive after a failed start.
            if (own != null) {
                own.close();
            }
            throw e;
        }
        if (own != null) {
            DemoUpstream stop = own;
            context.addApplicationListener((ContextClosedEvent e) -> stop.close());
        }
    }
}
