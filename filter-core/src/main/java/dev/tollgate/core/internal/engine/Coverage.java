package dev.tollgate.core.internal.engine;

import dev.tollgate.core.internal.journal.Cover;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ObjLongConsumer;

/**
 * Where the records behind one subject's quota came from in the journal: units and records
 * per (segment, minute). Empty, and never touched, without a journal. Not thread-safe.
 */
final class Coverage {

    private record Part(long segment, long minute) {
    }

    /** Part → {units, records}. */
    private final Map<Part, long[]> parts = new HashMap<>(4);

    void add(long segment, long minute, long units, long records) {
        long[] p = parts.computeIfAbsent(new Part(segment, minute), k -> new long[2]);
        p[0] += units;
        p[1] += records;
    }

    void merge(Coverage other) {
        other.parts.forEach((k, v) -> add(k.segment, k.minute, v[0], v[1]));
    }

    long records() {
        long n = 0;
        for (long[] v : parts.values()) {
            n += v[1];
        }
        return n;
    }

    void addCovers(String subject, String quota, List<Cover> out) {
        parts.forEach((k, v) -> out.add(new Cover(k.segment, subject, quota, k.minute, v[0], v[1])));
    }

    /** Calls {@code action} with each segment and the records it holds here. */
    void forEachSegment(ObjLongConsumer<Long> action) {
        Map<Long, long[]> bySegment = new HashMap<>(2);
        parts.forEach((k, v) -> bySegment.computeIfAbsent(k.segment, s -> new long[1])[0] += v[1]);
        bySegment.forEach((segment, n) -> action.accept(segment, n[0]));
    }
}
