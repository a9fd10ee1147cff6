package dev.tollgate.core.internal.journal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The journal segments found at start-up, and what of them is still to be written.
 *
 * <p>Replay is idempotent without knowing which record went into which batch. Records of
 * one {@link Bucket} are interchangeable, so per segment and bucket, what is still to be
 * written is what was appended minus what the committed batches cover. A batch is committed
 * when its id is in the store's applied-batch table: its intent was forced to disk before
 * the batch was sent. What remains is written under ids derived from the segment's own id
 * and a chunk number, which are the same at every start, so a replay cut short by another
 * crash is finished, not repeated. A segment is deleted only once all of it is written.
 * Thread-safe for one replayer at a time.
 */
public final class Recovery {
    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

    /** What one segment still owes the store. */
    public record Pending(long segment, String idPrefix, SortedMap<Bucket, Long> units, long records) {
        /** The batch id of replay chunk {@code chunk} of this segment: the same at every start. */
        public String batchId(int chunk) {
            return idPrefix + "-" + chunk;
        }
    }

    private final List<SegmentReader.Contents> segments;

    Recovery(List<SegmentReader.Contents> segments) {
        this.segments = new ArrayList<>(segments);
    }

    /** Nothing to replay. */
    static Recovery none() {
        return new Recovery(List.of());
    }

    /** Whether there is nothing to replay. */
    public synchronized boolean isEmpty() {
        return segments.isEmpty();
    }

    /** Segments still to replay. */
    public synchronized int segments() {
        return segments.size();
    }

    /** When the oldest recovered segment was created (epoch milliseconds), or -1 when there is none. */
    public synchronized long oldestCreatedMillis() {
        long oldest = -1;
        for (SegmentReader.Contents c : segments) {
            if (c.id != null && (oldest < 0 || c.createdMillis < oldest)) {
                oldest = c.createdMillis;
            }
        }
        return oldest;
    }

    /** The ids of all batches the recovered segments announced, to be looked up in the store. */
    public synchronized Set<String> batchIds() {
        Set<String> ids = new LinkedHashSet<>();
        for (SegmentReader.Contents c : segments) {
            for (SegmentReader.Intent i : c.intents) {
                ids.add(Records.batchOf(i.batchId()));
            }
        }
        return ids;
    }

    /**
     * Per segment, oldest first, the units not covered by a committed batch, by bucket
     * (buckets that net to zero are left out).
     *
     * @param applied the ids among {@link #batchIds()} that the store has applied
     */
    public synchronized List<Pending> pending(Set<String> applied) {
        Map<Long, Map<Bucket, Long>> committed = new HashMap<>();
        Set<String> seen = new HashSet<>();
        for (SegmentReader.Contents c : segments) {
            for (SegmentReader.Intent i : c.intents) {
                // A large batch's intent comes in parts, each under its own id ("<batch>#<part>").
                if (!applied.contains(Records.batchOf(i.batchId())) || !seen.add(i.batchId())) {
                    continue;
                }
                for (Cover cv : i.covers()) {
                    committed.computeIfAbsent(cv.segment(), s -> new HashMap<>())
                            .merge(new Bucket(cv.subject(), cv.quota(), cv.minute()), cv.units(), Long::sum);
                }
            }
        }
        List<Pending> out = new ArrayList<>();
        for (SegmentReader.Contents c : segments) {
            SortedMap<Bucket, Long> left = new TreeMap<>();
            Map<Bucket, Long> done = committed.getOrDefault(c.number, Map.of());
            c.usage.forEach((bucket, units) -> {
                long rest = units - done.getOrDefault(bucket, 0L);
                if (rest != 0) {
                    left.put(bucket, rest);
                }
            });
            done.forEach((bucket, units) -> {
                if (!c.usage.containsKey(bucket)) {
                    // Only possible when the records were lost to a corrupt tail.
                    LOG.warn("Journal segment {}: committed batches cover {} units of {}/{} that the segment no"
                            + " longer holds; nothing of it is replayed", c.path, units, bucket.subject(),
                            bucket.quota());
                }
            });
            String prefix = c.id == null ? null : "j-" + c.id.toString().replace("-", "");
            out.add(new Pending(c.number, prefix, Collections.unmodifiableSortedMap(left), c.usageRecords));
        }
        return out;
    }

    /**
     * Removes a replayed segment: deleted, or kept as {@code *.corrupt} next to the journal
     * when part of it could not be read. A file that cannot be removed is logged and left; it
     * is replayed again (as a no-op) at the next start.
     */
    public synchronized void discard(long segment) {
        for (int i = 0; i < segments.size(); i++) {
            SegmentReader.Contents c = segments.get(i);
            if (c.number != segment) {
                continue;
            }
            segments.remove(i);
            try {
                if (c.problem != null) {
                    Path kept = c.path.resolveSibling(c.path.getFileName() + ".corrupt");
                    Files.move(c.path, kept, StandardCopyOption.REPLACE_EXISTING);
                    LOG.warn("Journal segment {} is replayed as far as it could be read; the unreadable rest is"
                            + " kept in {}", c.path, kept);
                } else {
                    Files.deleteIfExists(c.path);
                }
            } catch (IOException e) {
                LOG.warn("Journal segment {} is replayed but cannot be removed: {}", c.path, e.toString());
            }
            return;
        }
    }
}
