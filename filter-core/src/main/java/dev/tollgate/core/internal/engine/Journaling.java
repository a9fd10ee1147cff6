package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.internal.journal.Journal;
import dev.tollgate.core.internal.journal.JournalException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's side of the journal: appends records, announces batches and reports commits,
 * and turns the journal's failures into a counted, rate-limited error log instead of a
 * failed consume (usage is still recorded, only not crash-safe). With {@link Journal#NONE}
 * every call returns at once. Thread-safe.
 */
final class Journaling {
    private static final Logger LOG = LoggerFactory.getLogger(Journaling.class);
    private static final long ERROR_LOG_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Journal journal;
    private final Counters counters;
    private final Ticker ticker;
    private final AtomicLong lastErrorLog;

    Journaling(Journal journal, Counters counters, Ticker ticker) {
        this.journal = journal;
        this.counters = counters;
        this.ticker = ticker;
        this.lastErrorLog = new AtomicLong(ticker.read() - ERROR_LOG_NANOS);
    }

    Journal journal() {
        return journal;
    }

    boolean enabled() {
        return journal.enabled();
    }

    /** Appends a record before it is queued, and remembers the segment that holds it. */
    void append(UsageEvent event) {
        if (!journal.enabled()) {
            return;
        }
        try {
            event.segment = journal.append(event.subject, event.quota, event.amount, event.at);
        } catch (JournalException e) {
            error("Cannot journal usage (it is still recorded, but not crash-safe)", e);
        }
    }

    /** Records, once per batch, which journal records it covers, before it is sent. */
    void announce(Batch b) {
        if (!journal.enabled() || b.announced || b.cover.isEmpty()) {
            return;
        }
        try {
            journal.intent(b.id, b.covers());
        } catch (RuntimeException e) {
            // Never out of the writer: the batch is written anyway, only its journal record is missing.
            error("Cannot journal the intent of batch " + b.id + " (after a crash, its records could be replayed"
                    + " although it was committed)", e);
        }
        b.announced = true;
    }

    /** Tells the journal that a batch's records are in the store. */
    void committed(Batch b) {
        if (!journal.enabled()) {
            return;
        }
        for (Coverage c : b.cover.values()) {
            c.forEachSegment(journal::committed);
        }
    }

    /** Releases journal records whose usage was given up: their segments may go. */
    void release(Coverage c) {
        if (journal.enabled()) {
            c.forEachSegment(journal::committed);
        }
    }

    private void error(String what, RuntimeException e) {
        counters.journalErrors.increment();
        long last = lastErrorLog.get();
        long now = ticker.read();
        if (now - last >= ERROR_LOG_NANOS && lastErrorLog.compareAndSet(last, now)) {
            LOG.error("{}: {} ({} journal errors so far)", what, e.getMessage(), counters.journalErrors.sum());
        }
    }
}
