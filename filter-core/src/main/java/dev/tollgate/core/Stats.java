package dev.tollgate.core;

import java.time.Duration;

/**
 * A snapshot of the engine's counters (the seed's ConsumerStats, and more). Counts are
 * since start. A "record" is one {@code consume} call (or one element of a batch).
 *
 * @param total            records accepted by consume, consumeSync and consumeBatch
 * @param processed        records whose usage is committed to the store
 * @param failed           store writes that failed after their retries
 * @param dropped          records given up at close, each logged with subject and amount, and
 *                         records dropped because the usage kept in memory for the store was at
 *                         its cap ({@code tollgate.async.deferred.max-entries}; logged per subject,
 *                         at most one line every ten seconds)
 * @param deferred         records put aside because the store failed (written later)
 * @param pendingDeferred  records currently waiting in the deferred aggregate
 * @param syncFallbacks    records written by the caller because the channel was full
 * @param batches          transactions committed
 * @param queueDepth       records in the channel right now
 * @param queueCapacity    capacity of the channel
 * @param lastFlushLatency duration of the last committed flush
 * @param unitsWritten     units (sum of amounts) committed
 * @param upserts          rows upserted (one per distinct key per flush)
 * @param checks           check calls
 * @param denied           checks that were denied
 * @param failOpen         checks allowed because the store was unavailable and fail mode is open
 * @param failClosed       checks denied because the store was unavailable and fail mode is closed
 * @param storeErrors      failed store calls of any kind (reads and writes, before retries)
 * @param policyReads      reads of a subject's plan and overrides
 * @param grantCalls       calls to the store asking for units of limited counters (each serves
 *                         up to 200 counters)
 * @param grantRequests    counters those calls asked units for (first grants and renewals)
 * @param unitsGranted     units the store granted this node
 * @param grantWaits       admissions that waited for a grant (this node held too little of the
 *                         counter; the others were decided from what it held)
 * @param journalErrors    journal appends and intents that failed (the usage was still recorded,
 *                         but not crash-safe)
 * @param poisoned         counters set aside unwritten because the store refused their data (a
 *                         value out of range, a broken constraint) or their sum passed
 *                         {@code Long.MAX_VALUE}; each is logged with subject, quota, window and
 *                         amount, and the rest of its batch is written
 * @param batchersReplaced batcher threads that died of something unexpected (an error out of a
 *                         driver, a bug) and were replaced; what each held was kept
 * @param exportDelivered  events this node's push export delivered (receiver answered 2xx)
 * @param exportFailures   push export runs that ended on a failure (POST after its retries, store
 *                         call) and threshold events dropped
 * @param exportLag        age of the oldest closed window this node's push export found undelivered
 *                         in its last run ({@code ZERO} when none, or when another node exports)
 */
public record Stats(long total, long processed, long failed, long dropped, long deferred, long pendingDeferred,
                    long syncFallbacks, long batches, int queueDepth, int queueCapacity,
                    Duration lastFlushLatency, long unitsWritten, long upserts, long checks, long denied,
                    long failOpen, long failClosed, long storeErrors, long policyReads, long grantCalls,
                    long grantRequests, long unitsGranted, long grantWaits, long journalErrors,
                    long poisoned, long batchersReplaced,
                    long exportDelivered, long exportFailures, Duration exportLag) {
}
