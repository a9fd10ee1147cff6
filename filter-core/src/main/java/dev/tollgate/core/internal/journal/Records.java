package dev.tollgate.core.internal.journal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The journal's on-disk format. A segment starts with a {@value #HEADER_BYTES}-byte header
 * (magic {@code TGJ1}, the segment's id, its creation time, a CRC32C of those), followed by
 * records framed as {@code [payload length: int][CRC32C of payload: int][payload]}. A payload
 * starts with its type: {@link #USAGE} (one consumption) or {@link #INTENT} (the covers of a
 * batch about to be written). Integers are big-endian; strings are UTF-8 with a length prefix.
 */
final class Records {
    static final int MAGIC = 0x54474A31;
    static final int HEADER_BYTES = 32;
    static final int FRAME_BYTES = 8;
    /** Larger lengths are taken as corruption. */
    static final int MAX_PAYLOAD = 64 << 20;

    static final byte USAGE = 1;
    static final byte INTENT = 2;

    private Records() {
    }

    static ByteBuffer header(UUID id, long createdMillis) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
        b.putInt(MAGIC).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits())
                .putLong(createdMillis);
        b.putInt(crc(b.array(), 0, HEADER_BYTES - 4));
        return b.flip();
    }

    /** A framed usage record. */
    static byte[] usage(String subject, String quota, long amount, long at) {
        byte[] s = subject.getBytes(StandardCharsets.UTF_8);
        byte[] q = quota.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = frame(1 + 8 + 8 + 2 + s.length + 2 + q.length);
        b.put(USAGE).putLong(at).putLong(amount);
        putString(b, s);
        putString(b, q);
        return seal(b);
    }

    /** Bytes one cover takes in an intent record. */
    static long coverBytes(Cover c) {
        return 8 * 4 + 2 + (long) c.subject().getBytes(StandardCharsets.UTF_8).length + 2
                + c.quota().getBytes(StandardCharsets.UTF_8).length;
    }

    /** The id an intent record of part {@code part} of a batch carries; {@link #batchOf} reads it back. */
    static String intentPart(String batchId, int part) {
        return batchId + "#" + part;
    }

    /** The batch id of an intent record's id (a part's id names its batch before the {@code #}). */
    static String batchOf(String intentId) {
        int hash = intentId.indexOf('#');
        return hash < 0 ? intentId : intentId.substring(0, hash);
    }

    /** A framed intent record: the covers of batch {@code batchId}. */
    static byte[] intent(String batchId, Collection<Cover> covers) {
        byte[] id = batchId.getBytes(StandardCharsets.UTF_8);
        List<byte[]> strings = new ArrayList<>(covers.size() * 2);
        int size = 1 + 2 + id.length + 4;
        for (Cover c : covers) {
            byte[] s = c.subject().getBytes(StandardCharsets.UTF_8);
            byte[] q = c.quota().getBytes(StandardCharsets.UTF_8);
            strings.add(s);
            strings.add(q);
            size += 8 * 4 + 2 + s.length + 2 + q.length;
        }
        ByteBuffer b = frame(size);
        b.put(INTENT);
        putString(b, id);
        b.putInt(covers.size());
        int i = 0;
        for (Cover c : covers) {
            b.putLong(c.segment()).putLong(c.minute()).putLong(c.units()).putLong(c.records());
            putString(b, strings.get(i++));
            putString(b, strings.get(i++));
        }
        return seal(b);
    }

    private static ByteBuffer frame(int payload) {
        if (payload > MAX_PAYLOAD) {
            throw new IllegalArgumentException("journal record of " + payload + " bytes is larger than " + MAX_PAYLOAD);
        }
        ByteBuffer b = ByteBuffer.allocate(FRAME_BYTES + payload);
        b.putInt(payload).putInt(0);
        return b;
    }

    private static byte[] seal(ByteBuffer b) {
        byte[] a = b.array();
        ByteBuffer.wrap(a, 4, 4).putInt(crc(a, FRAME_BYTES, a.length - FRAME_BYTES));
        return a;
    }

    private static void putString(ByteBuffer b, byte[] s) {
        b.putShort((short) s.length).put(s);
    }

    static String getString(ByteBuffer b) {
        int n = Short.toUnsignedInt(b.getShort());
        byte[] s = new byte[n];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    static int crc(byte[] a, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(a, off, len);
        return (int) c.getValue();
    }

    static int crc(ByteBuffer b) {
        CRC32C c = new CRC32C();
        c.update(b);
        return (int) c.getValue();
    }
}
