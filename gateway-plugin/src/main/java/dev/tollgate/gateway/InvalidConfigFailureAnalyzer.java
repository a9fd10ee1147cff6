package dev.tollgate.gateway;

import dev.tollgate.core.InvalidConfigException;
import java.util.Locale;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns a rejected Tollgate setting into Spring Boot's "APPLICATION FAILED TO START" report:
 * the engine's message (key, value, what is allowed) and where to fix it.
 */
public class InvalidConfigFailureAnalyzer extends AbstractFailureAnalyzer<InvalidConfigException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidConfigException cause) {
        String key = cause.key();
        String action = key.startsWith("tollgate.")
                ? "Fix " + key + " in the application's properties or YAML, or the environment variable "
                        + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_')
                        + "; the Tollgate gateway README lists every property and its default."
                : "Fix the Quota filter's arguments in the route definition"
                        + " (spring.cloud.gateway.server.webflux.routes).";
        return new FailureAnalysis("Invalid Tollgate configuration: " + cause.getMessage(), action, cause);
    }
}
