package dev.tollgate.gateway;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Tells BlockHound (when an application or its tests install it) which of Tollgate's calls on
 * an event loop are not blocking: queuing a settled request's usage in the engine's channel
 * ({@code Channel.Stripe.offer}) takes the queue's lock for a few instructions and never waits
 * for room (a full channel hands the write to {@code boundedElastic}). Under contention that lock
 * may park for a moment, which BlockHound would otherwise report as a blocking call — and the
 * error it throws inside the settlement would cost the request its charge. Found through
 * {@code META-INF/services}; BlockHound is an optional dependency.
 */
public final class TollgateBlockHoundIntegration implements BlockHoundIntegration {

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.allowBlockingCallsInside("dev.tollgate.core.internal.engine.Channel$Stripe", "offer");
    }
}
