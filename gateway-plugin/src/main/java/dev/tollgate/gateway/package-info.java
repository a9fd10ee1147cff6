/**
 * Tollgate for Spring Cloud Gateway (WebFlux): the {@code Quota} route filter
 * ({@link dev.tollgate.gateway.QuotaGatewayFilterFactory}), the {@code tollgate.*} properties
 * ({@link dev.tollgate.gateway.TollgateProperties}) and the auto-configuration that starts the
 * engine, its health indicator and its meters.
 */
package dev.tollgate.gateway;
