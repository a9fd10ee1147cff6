/**
 * Tollgate for Spring Cloud Gateway (WebFlux): the {@code Quota} route filter
 * ({@link dev.tollgate.gateway.QuotaGatewayFilterFactory}) and the auto-configuration that
 * registers it, its meters and the admin routes. The engine, the {@code tollgate.*}
 * properties, health and engine meters come from the shared module {@code dev.tollgate.spring}.
 */
package dev.tollgate.gateway;
