package dev.tollgate.spring;

import dev.tollgate.core.Tollgate;

/**
 * Adjusts the engine's builder before the auto-configured {@link Tollgate} bean is built (for
 * example the gateway gives it an executor for writes that must not run on an event loop).
 * Every customizer bean is applied, in {@code @Order}.
 */
@FunctionalInterface
public interface TollgateBuilderCustomizer {

    /** Adjusts {@code builder}; called once, before {@link Tollgate.Builder#build()}. */
    void customize(Tollgate.Builder builder);
}
