package dev.tollgate.spring;

import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.config.ConfigKey;
import dev.tollgate.core.config.TollgateKeys;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;

/**
 * Turns a rejected Tollgate setting into Spring Boot's "APPLICATION FAILED TO START" report:
 * the message (key, value, what is allowed) and where to fix it. Ordered first, so that a
 * {@code tollgate.*} value Spring could not convert is reported this way rather than as a
 * bare binding failure. Stateless and thread-safe.
 */
@Order(Ordered.HIGHEST_PRECEDENCE)
public class InvalidConfigFailureAnalyzer extends AbstractFailureAnalyzer<InvalidConfigException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidConfigException cause) {
        String key = cause.key();
        ConfigKey<?> described = TollgateKeys.describe(key);
        String action;
        if (described != null) {
            action = "Fix " + key + " in the application's properties or YAML, or the environment variable "
                    + key.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_')
                    + " (" + described.description() + ") The README's configuration reference lists every"
                    + " property and its default.";
        } else if (key.startsWith("route ")) {
            action = "Fix the Quota filter's arguments in the route definition"
                    + " (spring.cloud.gateway.server.webflux.routes).";
        } else {
            action = "Fix the Tollgate configuration named in the message.";
        }
        return new FailureAnalysis("Invalid Tollgate configuration: " + cause.getMessage(), action, cause);
    }
}
