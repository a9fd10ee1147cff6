package dev.tollgate.core.internal.engine;

import java.util.concurrent.atomic.LongAdder;

/** The engine's counters, written from many threads. Thread-safe. */
public final class Counters {
    public final LongAdder total = new LongAdder();
    public final LongAdder processed = new LongAdder();
    public final LongAdder failed = new LongAdder();
    public final LongAdder dropped = new LongAdder();
    public final LongAdder deferred = new LongAdder();
    public final LongAdder syncFallbacks = new LongAdder();
    public final LongAdder batches = new LongAdder();
    public final LongAdder unitsWritten = new LongAdder();
    public final LongAdder upserts = new LongAdder();
    public final LongAdder checks = new LongAdder();
    public final LongAdder denied = new LongAdder();
    public final LongAdder failOpen = new LongAdder();
    public final LongAdder failClosed = new LongAdder();
    public volatile long lastFlushNanos;
}
