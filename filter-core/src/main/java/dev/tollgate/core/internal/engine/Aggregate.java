package dev.tollgate.core.internal.engine;

import dev.tollgate.core.internal.journal.Bucket;
import dev.tollgate.core.spi.UsageKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Usage summed per counter, waiting to be written: memory grows with distinct counters,
 * not with records. Not thread-safe; each owner guards its own.
 */
final class Aggregate {

    /** The sum for one counter, and which view adders hold how much of it. */
    static final class Entry {
        final UsageKey key;
        long amount;
        long records;
        /** Of {@code records}, how many were already counted in the "deferred" stat. */
        long deferredRecords;
        LongAdder cell;
        long cellAmount;
        Map<LongAdder, long[]> otherCells;

        Entry(UsageKey key) {
            this.key = key;
        }

        void add(long amount, long records, LongAdder adder) {
            add(amount, records, adder, 0);
        }

        void add(long amount, long records, LongAdder adder, long deferredRecords) {
            this.amount += amount;
            this.records += records;
            this.deferredRecords += deferredRecords;
            if (adder != null) {
                addCell(adder, amount);
            }
        }

        /** Which adders hold how much of this entry's amount in the view. */
        Map<LongAdder, Long> debits() {
            Map<LongAdder, Long> d = new IdentityHashMap<>();
            if (cell != null) {
                d.put(cell, cellAmount);
            }
            if (otherCells != null) {
                otherCells.forEach((a, n) -> d.merge(a, n[0], Long::sum));
            }
            return d;
        }

        /** After a failed write the whole amount sits in one adder. */
        void heldBy(LongAdder adder) {
            cell = adder;
            cellAmount = amount;
            otherCells = null;
        }

        void merge(Entry other) {
            amount += other.amount;
            records += other.records;
            deferredRecords += other.deferredRecords;
            if (other.cell != null) {
                addCell(other.cell, other.cellAmount);
            }
            if (other.otherCells != null) {
                other.otherCells.forEach((a, n) -> addCell(a, n[0]));
            }
        }

        private void addCell(LongAdder adder, long n) {
            if (cell == null || cell == adder) {
                cell = adder;
                cellAmount += n;
            } else {
                if (otherCells == null) {
                    otherCells = new IdentityHashMap<>();
                }
                otherCells.computeIfAbsent(adder, a -> new long[1])[0] += n;
            }
        }
    }

    /**
     * Records not yet resolved to counters, summed per subject, quota and minute; the value
     * holds {amount, records, records already counted as deferred}.
     */
    record Unresolved(String subject, String quota, long minute) {
    }

    /** One subject's quota: its counters are always written in one transaction. */
    record SubjectQuota(String subject, String quota) {
    }

    final Map<UsageKey, Entry> entries = new HashMap<>();
    final Map<Unresolved, long[]> unresolved = new HashMap<>();
    /** Journal origin of the records in {@code entries}, per subject and quota (empty without a journal). */
    final Map<SubjectQuota, Coverage> cover = new HashMap<>();
    /** Journal origin of the records in {@code unresolved}. */
    final Map<Unresolved, Coverage> unresolvedCover = new HashMap<>();

    void add(UsageEvent e) {
        if (e.keys == null) {
            Unresolved u = new Unresolved(e.subject, e.quota, Bucket.minuteOf(e.at));
            long[] sums = unresolved.computeIfAbsent(u, x -> new long[3]);
            sums[0] += e.amount;
            sums[1]++;
            if (e.segment >= 0) {
                unresolvedCover.computeIfAbsent(u, x -> new Coverage()).add(e.segment, u.minute(), e.amount, 1);
            }
            return;
        }
        for (int i = 0; i < e.keys.length; i++) {
            entry(e.keys[i]).add(e.amount, i == 0 ? 1 : 0, e.cells == null ? null : e.cells[i]);
        }
        if (e.segment >= 0) {
            cover.computeIfAbsent(new SubjectQuota(e.subject, e.quota), x -> new Coverage())
                    .add(e.segment, Bucket.minuteOf(e.at), e.amount, 1);
        }
    }

    /** The records of an unresolved group now have counters: their journal origin moves with them. */
    void resolved(Unresolved u) {
        Coverage c = unresolvedCover.remove(u);
        if (c != null) {
            cover.computeIfAbsent(new SubjectQuota(u.subject(), u.quota()), x -> new Coverage()).merge(c);
        }
    }

    /** Removes and returns the journal origin of the subjects' quotas among {@code chunk}. */
    Map<SubjectQuota, Coverage> takeCover(List<Entry> chunk) {
        if (cover.isEmpty()) {
            return Map.of();
        }
        Map<SubjectQuota, Coverage> out = new HashMap<>();
        for (Entry e : chunk) {
            SubjectQuota sq = new SubjectQuota(e.key.subject(), e.key.quota());
            if (!out.containsKey(sq)) {
                Coverage c = cover.remove(sq);
                if (c != null) {
                    out.put(sq, c);
                }
            }
        }
        return out;
    }

    void mergeCover(Map<SubjectQuota, Coverage> other) {
        other.forEach((sq, c) -> cover.computeIfAbsent(sq, x -> new Coverage()).merge(c));
    }

    /** Records held here that are in the journal. */
    long journaledRecords() {
        long n = 0;
        for (Coverage c : cover.values()) {
            n += c.records();
        }
        for (Coverage c : unresolvedCover.values()) {
            n += c.records();
        }
        return n;
    }

    Entry entry(UsageKey key) {
        Entry en = entries.get(key);
        if (en == null) {
            en = new Entry(key);
            entries.put(key, en);
        }
        return en;
    }

    void mergeFrom(Aggregate other) {
        other.entries.forEach((k, e) -> entry(k).merge(e));
        other.unresolved.forEach((u, s) -> {
            long[] sums = unresolved.computeIfAbsent(u, x -> new long[3]);
            sums[0] += s[0];
            sums[1] += s[1];
            sums[2] += s[2];
        });
        mergeCover(other.cover);
        other.unresolvedCover.forEach((u, c) -> unresolvedCover.computeIfAbsent(u, x -> new Coverage()).merge(c));
    }

    void mergeEntries(List<Entry> list) {
        for (Entry e : list) {
            entry(e.key).merge(e);
        }
    }

    boolean isEmpty() {
        return entries.isEmpty() && unresolved.isEmpty();
    }

    int keys() {
        return entries.size();
    }

    long records() {
        long n = 0;
        for (Entry e : entries.values()) {
            n += e.records;
        }
        for (long[] s : unresolved.values()) {
            n += s[1];
        }
        return n;
    }

    /** Removes and returns the entries, sorted in the one order all writers use. */
    List<Entry> takeSorted() {
        List<Entry> list = new ArrayList<>(entries.values());
        entries.clear();
        list.sort((a, b) -> a.key.compareTo(b.key));
        return list;
    }

    void clear() {
        entries.clear();
        unresolved.clear();
        cover.clear();
        unresolvedCover.clear();
    }
}
