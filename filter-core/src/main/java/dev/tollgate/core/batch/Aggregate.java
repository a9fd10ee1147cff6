package dev.tollgate.core.batch;

import dev.tollgate.core.store.UsageKey;
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

    final Map<UsageKey, Entry> entries = new HashMap<>();
    final Map<Unresolved, long[]> unresolved = new HashMap<>();

    void add(UsageEvent e) {
        if (e.keys == null) {
            long[] sums = unresolved.computeIfAbsent(
                    new Unresolved(e.subject, e.quota, e.at - Math.floorMod(e.at, 60_000L)), u -> new long[3]);
            sums[0] += e.amount;
            sums[1]++;
            return;
        }
        for (int i = 0; i < e.keys.length; i++) {
            entry(e.keys[i]).add(e.amount, i == 0 ? 1 : 0, e.cells == null ? null : e.cells[i]);
        }
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
    }
}
