package dev.tollgate.core.internal.engine;

import dev.tollgate.core.internal.journal.Bucket;
import dev.tollgate.core.spi.RequestCharge;
import dev.tollgate.core.spi.UsageKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Usage summed per counter, waiting to be written: memory grows with distinct counters,
 * not with records, except for records that carry a request id: each of those is also kept
 * by itself, so that the store can take it off the sums when its id was charged before.
 * Not thread-safe; each owner guards its own.
 */
final class Aggregate {

    /** The sum for one counter, how much of it grants covered, and the allotment to tell once written. */
    static final class Entry {
        final UsageKey key;
        long amount;
        long granted;
        long records;
        /** Of {@code records}, how many were already counted in the "deferred" stat. */
        long deferredRecords;
        Allotment allotment;
        /** Its sum passed {@code Long.MAX_VALUE}: no store can hold it, and it is set aside unwritten. */
        boolean overflowed;
        /** Pending took it in under its cap once: kept again whatever the cap, since it is counted there. */
        boolean admitted;

        Entry(UsageKey key) {
            this.key = key;
        }

        void add(long amount, long granted, long records, Allotment allotment, long deferredRecords) {
            try {
                this.amount = Math.addExact(this.amount, amount);
                this.granted = Math.addExact(this.granted, granted);
            } catch (ArithmeticException e) {
                overflowed = true;
                this.amount = Long.MAX_VALUE;
                this.granted = 0;
            }
            this.records += records;
            this.deferredRecords += deferredRecords;
            if (allotment != null) {
                this.allotment = allotment;
            }
        }

        void merge(Entry other) {
            add(other.amount, other.granted, other.records, other.allotment, other.deferredRecords);
            overflowed |= other.overflowed;
            admitted |= other.admitted;
        }
    }

    /**
     * Records not yet resolved to counters, summed per subject, quota and minute; the value
     * holds {amount, records, records already counted as deferred, 1 when Pending admitted it}.
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
    /** The records with a request id among {@code entries}, per subject and quota. */
    final Map<SubjectQuota, List<RequestCharge>> requests = new HashMap<>();
    /** The records with a request id among {@code unresolved}: request id and amount. */
    final Map<Unresolved, List<Map.Entry<String, Long>>> unresolvedRequests = new HashMap<>();

    void add(UsageEvent e) {
        if (e.keys == null) {
            Unresolved u = new Unresolved(e.subject, e.quota, Bucket.minuteOf(e.at));
            long[] sums = unresolved.computeIfAbsent(u, x -> new long[4]);
            sums[0] = saturatedAdd(sums[0], e.amount);
            sums[1]++;
            if (e.segment >= 0) {
                unresolvedCover.computeIfAbsent(u, x -> new Coverage()).add(e.segment, u.minute(), e.amount, 1);
            }
            if (e.requestId != null) {
                unresolvedRequests.computeIfAbsent(u, x -> new ArrayList<>()).add(Map.entry(e.requestId, e.amount));
            }
            return;
        }
        if (e.requestId != null) {
            requests.computeIfAbsent(new SubjectQuota(e.subject, e.quota), x -> new ArrayList<>())
                    .add(new RequestCharge(e.subject, e.quota, e.requestId, e.amount, List.of(e.keys)));
        }
        for (int i = 0; i < e.keys.length; i++) {
            entry(e.keys[i]).add(e.amount, e.granted == null ? 0 : e.granted[i], i == 0 ? 1 : 0,
                    e.allotments == null ? null : e.allotments[i], 0);
        }
        if (e.segment >= 0) {
            cover.computeIfAbsent(new SubjectQuota(e.subject, e.quota), x -> new Coverage())
                    .add(e.segment, Bucket.minuteOf(e.at), e.amount, 1);
        }
    }

    /**
     * {@code a + b}, or {@code Long.MAX_VALUE} when that overflows: an unresolved sum that
     * reaches it is treated as overflowed once it has counters (no store could add it to anything).
     */
    static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    /**
     * The records of an unresolved group now have counters ({@code keys}): their journal origin
     * and their request ids move with them.
     */
    void resolved(Unresolved u, List<UsageKey> keys) {
        Coverage c = unresolvedCover.remove(u);
        if (c != null) {
            cover.computeIfAbsent(new SubjectQuota(u.subject(), u.quota()), x -> new Coverage()).merge(c);
        }
        List<Map.Entry<String, Long>> ids = unresolvedRequests.remove(u);
        if (ids != null) {
            List<RequestCharge> to = requests.computeIfAbsent(new SubjectQuota(u.subject(), u.quota()),
                    x -> new ArrayList<>());
            for (Map.Entry<String, Long> id : ids) {
                to.add(new RequestCharge(u.subject(), u.quota(), id.getKey(), id.getValue(), keys));
            }
        }
    }

    /** Removes and returns the records with a request id of the subjects' quotas among {@code chunk}. */
    List<RequestCharge> takeRequests(List<Entry> chunk) {
        if (requests.isEmpty()) {
            return List.of();
        }
        List<RequestCharge> out = new ArrayList<>();
        SubjectQuota last = null;
        for (Entry e : chunk) {
            SubjectQuota sq = new SubjectQuota(e.key.subject(), e.key.quota());
            if (!sq.equals(last)) {
                List<RequestCharge> r = requests.remove(sq);
                if (r != null) {
                    out.addAll(r);
                }
                last = sq;
            }
        }
        return out;
    }

    void mergeRequests(List<RequestCharge> other) {
        for (RequestCharge r : other) {
            requests.computeIfAbsent(new SubjectQuota(r.subject(), r.quota()), x -> new ArrayList<>()).add(r);
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
            long[] sums = unresolved.computeIfAbsent(u, x -> new long[4]);
            sums[0] = saturatedAdd(sums[0], s[0]);
            sums[3] |= s[3];
            sums[1] += s[1];
            sums[2] += s[2];
        });
        mergeCover(other.cover);
        other.unresolvedCover.forEach((u, c) -> unresolvedCover.computeIfAbsent(u, x -> new Coverage()).merge(c));
        other.requests.forEach((sq, r) -> requests.computeIfAbsent(sq, x -> new ArrayList<>()).addAll(r));
        other.unresolvedRequests.forEach((u, r) -> unresolvedRequests.computeIfAbsent(u, x -> new ArrayList<>())
                .addAll(r));
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
        requests.clear();
        unresolvedRequests.clear();
    }
}
