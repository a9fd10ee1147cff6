package dev.tollgate.store.redis;

import dev.tollgate.core.Period;
import dev.tollgate.core.spi.UsageKey;
import io.lettuce.core.cluster.SlotHash;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The key layout. Subjects are spread over {@code buckets} buckets by a hash of the subject;
 * bucket {@code b} is one hash slot, chosen evenly over the 16,384 slots (so a cluster's
 * masters, which own contiguous slot ranges, share the buckets evenly), and named by a hash
 * tag that maps to it. Every key of a subject (its counters and its plan) carries its bucket's
 * tag, so a script over any of them runs on one shard; so do the bucket's applied-batch record
 * and, for the batch id's own bucket, the batch's completion record.
 *
 * <pre>
 * P:{tag}:u:&lt;quota&gt;:&lt;PERIOD&gt;:&lt;window start ms&gt;:&lt;subject&gt;   hash: used, g:/x:/i:/a:&lt;node&gt;
 * P:{tag}:s:&lt;subject&gt;                                        hash: plan, o:&lt;quota&gt;:&lt;PERIOD&gt;
 * P:{tag}:k:&lt;subject&gt;                                        string: &lt;registered at ms&gt;[:&lt;name&gt;] (an API key)
 * P:{tag}:r:&lt;quota&gt;:&lt;id length&gt;:&lt;request id&gt;:&lt;subject&gt;   string: a request id charged (TTL: its retention)
 * P:{tag}:w                                                   zset (all scores 0): the bucket's windowed counters,
 *                                                             "&lt;window start, 15 digits&gt;\0&lt;quota&gt;\0&lt;PERIOD&gt;\0&lt;subject&gt;"
 * P:{tag}:applied                                             zset: batch id → batch time (bucket's part applied)
 * P:{tag}:done                                                zset: batch id → batch time (whole batch applied)
 * P:buckets                                                   the bucket count the data was written with
 * </pre>
 *
 * The subject comes last, so it may contain any character; quota names cannot contain
 * {@code :}. Immutable and thread-safe.
 */
final class Keys {
    private static final long DAY = Duration.ofDays(1).toMillis();

    private final String prefix;
    private final String[] tags;
    private final long usageRetention;

    Keys(String prefix, int buckets, Duration usageRetention) {
        this.prefix = prefix;
        this.tags = tags(buckets);
        this.usageRetention = usageRetention.toMillis();
    }

    /** For bucket {@code b}, a short text whose hash slot is {@code b * 16384 / buckets}. */
    private static String[] tags(int buckets) {
        Map<Integer, Integer> wanted = new HashMap<>();
        for (int b = 0; b < buckets; b++) {
            wanted.put((int) ((long) b * SlotHash.SLOT_COUNT / buckets), b);
        }
        String[] out = new String[buckets];
        int left = buckets;
        for (int n = 0; left > 0; n++) {
            String tag = Integer.toString(n, 36);
            Integer b = wanted.remove(SlotHash.getSlot(tag));
            if (b != null) {
                out[b] = tag;
                left--;
            }
        }
        return out;
    }

    int buckets() {
        return tags.length;
    }

    /** The bucket of a subject or a batch id: FNV-1a over its UTF-8 bytes. */
    int bucket(String s) {
        int h = 0x811c9dc5;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x01000193;
        }
        return Integer.remainderUnsigned(h, tags.length);
    }

    private String tagged(int bucket) {
        return prefix + ":{" + tags[bucket] + "}:";
    }

    String counter(UsageKey k) {
        return tagged(bucket(k.subject())) + "u:" + k.quota() + ":" + k.period().name() + ":" + k.windowStart() + ":"
                + k.subject();
    }

    /** A request id charged for (subject, quota); the id's length keeps the key unambiguous. */
    String request(String subject, String quota, String requestId) {
        return tagged(bucket(subject)) + "r:" + quota + ":" + requestId.length() + ":" + requestId + ":" + subject;
    }

    String subject(String subject) {
        return tagged(bucket(subject)) + "s:" + subject;
    }

    /** A registered API key, by its subject ({@code key:<sha-256 hex>}). */
    String apiKey(String subject) {
        return tagged(bucket(subject)) + "k:" + subject;
    }

    /** The bucket's index of windowed counters, in lexical (window start, quota, period, subject) order. */
    String windows(int bucket) {
        return tagged(bucket) + "w";
    }

    /** A counter's member in its bucket's {@link #windows} index: its order is the keys' window order. */
    static String windowMember(UsageKey k) {
        return windowPrefix(k.windowStart()) + "\0" + k.quota() + "\0" + k.period().name() + "\0" + k.subject();
    }

    /** The fixed-width start of the members of windows starting at {@code millis}. */
    static String windowPrefix(long millis) {
        return String.format("%015d", Math.max(0, millis));
    }

    /** The counter a {@link #windowMember} names. */
    static UsageKey fromWindowMember(String member) {
        String[] p = member.split("\0", 4);
        return new UsageKey(p[3], p[1], Period.valueOf(p[2]), Long.parseLong(p[0]));
    }

    /**
     * Window starts before this are past every counter's retention (a month's window is 32
     * days at most): their index members name expired counters.
     */
    long expiredWindowsBefore(long nowMillis) {
        return nowMillis - usageRetention - 32 * DAY;
    }

    String applied(int bucket) {
        return tagged(bucket) + "applied";
    }

    String done(int bucket) {
        return tagged(bucket) + "done";
    }

    /** An export stream's hash (cursor and lease): one key, so one hash slot. */
    String export(String stream) {
        return prefix + ":export:" + stream;
    }

    String meta() {
        return prefix + ":buckets";
    }

    /**
     * How long a counter is kept after its window ends: the usage retention, at most a day for
     * minute and hour windows; 0 (forever) for total counters.
     */
    long keep(Period period) {
        return switch (period) {
            case TOTAL -> 0;
            case MINUTE, HOUR -> Math.min(usageRetention, DAY);
            default -> usageRetention;
        };
    }

    /**
     * The end of a counter's window, at its latest: the window's length is not known here (the
     * calendar zone is the engine's), so a day counts 25 hours and a month 32 days.
     */
    static long windowEnd(UsageKey k) {
        long length = switch (k.period()) {
            case MINUTE -> 60_000L;
            case HOUR -> 3_600_000L;
            case DAY -> 25 * 3_600_000L;
            case MONTH -> 32 * DAY;
            case TOTAL -> 0;
        };
        return k.windowStart() + length;
    }
}
