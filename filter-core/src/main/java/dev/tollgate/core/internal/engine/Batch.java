package dev.tollgate.core.internal.engine;

import dev.tollgate.core.internal.journal.Cover;
import dev.tollgate.core.spi.RequestCharge;
import dev.tollgate.core.spi.UsageDelta;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One transaction's worth of usage: entries sorted in the store's order under one id, and
 * the journal records they cover. A batch whose commit outcome is unknown is kept whole and
 * re-sent under the same id, which the store turns into a no-op if it had been applied.
 * Not thread-safe; owned by one writer at a time.
 */
final class Batch {
    final String id = UUID.randomUUID().toString();
    final List<Aggregate.Entry> entries;
    final Map<Aggregate.SubjectQuota, Coverage> cover;
    /** The records among the entries that carry a request id (the store charges each id once). */
    final List<RequestCharge> requests;
    /** The last attempt's commit outcome is unknown. */
    boolean inDoubt;
    /** Its journal intent has been written (once is enough, whatever the retries). */
    boolean announced;

    Batch(List<Aggregate.Entry> entries, Map<Aggregate.SubjectQuota, Coverage> cover, List<RequestCharge> requests) {
        this.entries = entries;
        this.cover = cover;
        this.requests = requests;
    }

    List<Cover> covers() {
        List<Cover> out = new ArrayList<>();
        cover.forEach((sq, c) -> c.addCovers(sq.subject(), sq.quota(), out));
        return out;
    }

    List<UsageDelta> deltas() {
        List<UsageDelta> d = new ArrayList<>(entries.size());
        for (Aggregate.Entry e : entries) {
            d.add(new UsageDelta(e.key, e.amount, Math.min(e.granted, Math.max(0, e.amount))));
        }
        return d;
    }

    long records() {
        long n = 0;
        for (Aggregate.Entry e : entries) {
            n += e.records;
        }
        return n;
    }

    long journaledRecords() {
        long n = 0;
        for (Coverage c : cover.values()) {
            n += c.records();
        }
        return n;
    }
}
