package dev.tollgate.core.internal.engine;

import java.util.concurrent.atomic.LongAdder;

/**
 * The engine's counters, written from many threads and read by {@link Reports}. Thread-safe.
 */
final class Counters {
    /** Records accepted by consume (a settled reservation is a record too). */
    final LongAdder total = new LongAdder();
    /** Records committed to the store. */
    final LongAdder processed = new LongAdder();
    /** Failed batch writes (each attempt the retry gave up on). */
    final LongAdder failed = new LongAdder();
    /** Records neither written nor kept in a journal when the engine closed. */
    final LongAdder dropped = new LongAdder();
    /** Records whose write failed and which were kept in memory to be written later. */
    final LongAdder deferred = new LongAdder();
    /** Records the caller wrote itself because the channel was full. */
    final LongAdder syncFallbacks = new LongAdder();
    final LongAdder batches = new LongAdder();
    final LongAdder unitsWritten = new LongAdder();
    final LongAdder upserts = new LongAdder();
    final LongAdder checks = new LongAdder();
    final LongAdder denied = new LongAdder();
    final LongAdder failOpen = new LongAdder();
    final LongAdder failClosed = new LongAdder();
    /** Journal appends and intents that failed. */
    final LongAdder journalErrors = new LongAdder();
    /** Counters set aside because the store refused their data (or their sum overflowed). */
    final LongAdder poisoned = new LongAdder();
    /** Batcher threads that died of something unexpected and were replaced. */
    final LongAdder batchersReplaced = new LongAdder();
    volatile long lastFlushNanos;
}
