package dev.tollgate.core.internal.journal;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Reads one segment written before this start: sums its usage records per bucket and keeps
 * its intents. Stops at the first record that is cut short or fails its checksum (a torn or
 * corrupt tail) and says so in {@link Contents#problem()}; never throws for bad content.
 */
final class SegmentReader {

    /** What a segment holds. */
    static final class Contents {
        final long number;
        final Path path;
        UUID id;
        long createdMillis;
        final Map<Bucket, Long> usage = new HashMap<>();
        long usageRecords;
        final List<Intent> intents = new ArrayList<>();
        /** Why reading stopped before the end of the file, or {@code null}. */
        String problem;
        long validBytes;
        long fileBytes;

        Contents(long number, Path path) {
            this.number = number;
            this.path = path;
        }
    }

    /** A batch's intent as read back. */
    record Intent(String batchId, List<Cover> covers) {
    }

    private SegmentReader() {
    }

    static Contents read(long number, Path path) throws IOException {
        Contents c = new Contents(number, path);
        ByteBuffer b;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            c.fileBytes = size;
            if (size > Integer.MAX_VALUE) {
                c.problem = "larger than 2 GiB; not read";
                return c;
            }
            b = ByteBuffer.allocate((int) size);
            while (b.hasRemaining() && ch.read(b) >= 0) {
                // read it all
            }
            b.flip();
        }
        if (b.remaining() < Records.HEADER_BYTES) {
            c.problem = "header cut short (" + b.remaining() + " bytes)";
            return c;
        }
        byte[] header = new byte[Records.HEADER_BYTES];
        b.get(header);
        ByteBuffer h = ByteBuffer.wrap(header);
        if (h.getInt() != Records.MAGIC) {
            c.problem = "not a Tollgate journal segment (bad magic number)";
            return c;
        }
        c.id = new UUID(h.getLong(), h.getLong());
        c.createdMillis = h.getLong();
        if (h.getInt() != Records.crc(header, 0, Records.HEADER_BYTES - 4)) {
            c.id = null;
            c.problem = "header checksum mismatch";
            return c;
        }
        c.validBytes = b.position();
        while (b.hasRemaining()) {
            int at = b.position();
            if (b.remaining() < Records.FRAME_BYTES) {
                c.problem = "torn record at byte " + at + " (frame cut short)";
                return c;
            }
            int length = b.getInt();
            int crc = b.getInt();
            if (length <= 0 || length > Records.MAX_PAYLOAD) {
                c.problem = "corrupt record at byte " + at + " (length " + length + ")";
                return c;
            }
            if (b.remaining() < length) {
                c.problem = "torn record at byte " + at + " (" + b.remaining() + " of " + length + " bytes)";
                return c;
            }
            ByteBuffer payload = b.slice(b.position(), length);
            b.position(b.position() + length);
            if (Records.crc(payload.duplicate()) != crc) {
                c.problem = "corrupt record at byte " + at + " (checksum mismatch)";
                return c;
            }
            try {
                decode(c, payload);
            } catch (BufferUnderflowException | IllegalArgumentException e) {
                c.problem = "undecodable record at byte " + at;
                return c;
            }
            c.validBytes = b.position();
        }
        return c;
    }

    private static void decode(Contents c, ByteBuffer p) {
        byte type = p.get();
        switch (type) {
            case Records.USAGE -> {
                long at = p.getLong();
                long amount = p.getLong();
                String subject = Records.getString(p);
                String quota = Records.getString(p);
                c.usage.merge(new Bucket(subject, quota, Bucket.minuteOf(at)), amount, Long::sum);
                c.usageRecords++;
            }
            case Records.INTENT -> {
                String id = Records.getString(p);
                int n = p.getInt();
                if (n < 0) {
                    throw new IllegalArgumentException("negative count");
                }
                List<Cover> covers = new ArrayList<>(Math.min(n, 10_000));
                for (int i = 0; i < n; i++) {
                    long segment = p.getLong();
                    long minute = p.getLong();
                    long units = p.getLong();
                    long records = p.getLong();
                    covers.add(new Cover(segment, Records.getString(p), Records.getString(p), minute, units, records));
                }
                c.intents.add(new Intent(id, covers));
            }
            default -> throw new IllegalArgumentException("unknown record type " + type);
        }
    }
}
