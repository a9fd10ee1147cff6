package dev.tollgate.core.internal.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading one segment file back, byte by byte: a good segment gives its header and records;
 * each kind of damage stops the read where it starts, keeps what came before it, and says
 * what was wrong. The damaged files are made from a real segment the journal wrote.
 */
class SegmentReaderTest {
    static final long T0 = JournalTest.T0;
    /** Segment header: magic (4), id (16), created (8), checksum (4). Frame: length (4), checksum (4). */
    static final int HEADER = 32;
    static final int FRAME = 8;

    @TempDir
    Path dir;
    byte[] good;
    /** Where the second record starts in {@link #good}. */
    int second;

    @BeforeEach
    void writeASegment() throws IOException {
        FileJournal j = FileJournal.open(dir, JournalTest.FSYNC, 1 << 20, Long.MAX_VALUE, java.time.Duration.ofDays(1));
        j.append("alice", "requests", 2, T0);
        j.append("bob", "tokens", 7, T0 + 60_000);
        JournalTest.abandon(j);
        try (var files = Files.list(dir)) {
            Path segment = files.filter(p -> p.getFileName().toString().startsWith("segment-")).findFirst().orElseThrow();
            good = Files.readAllBytes(segment);
        }
        int firstLength = ByteBuffer.wrap(good, HEADER, 4).getInt();
        second = HEADER + FRAME + firstLength;
    }

    private SegmentReader.Contents read(byte[] bytes) throws IOException {
        Path p = dir.resolve("copy.tgj");
        Files.write(p, bytes);
        return SegmentReader.read(7, p);
    }

    @Test
    void aGoodSegmentGivesItsHeaderAndEveryRecord() throws IOException {
        SegmentReader.Contents c = read(good);
        assertThat(c.problem).isNull();
        assertThat(c.id).isNotNull();
        assertThat(c.usageRecords).isEqualTo(2);
        assertThat(c.usage).containsExactlyInAnyOrderEntriesOf(Map.of(
                new Bucket("alice", "requests", T0), 2L, new Bucket("bob", "tokens", T0 + 60_000), 7L));
        assertThat(c.validBytes).isEqualTo(good.length);
        assertThat(c.fileBytes).isEqualTo(good.length);
    }

    @Test
    void aSegmentOfOnlyAHeaderHoldsNothingAndIsFine() throws IOException {
        SegmentReader.Contents c = read(Arrays.copyOf(good, HEADER));
        assertThat(c.problem).isNull();
        assertThat(c.id).isNotNull();
        assertThat(c.usageRecords).isZero();
        assertThat(c.validBytes).isEqualTo(HEADER);
    }

    @Test
    void aHeaderCutShortIsSaid() throws IOException {
        SegmentReader.Contents c = read(Arrays.copyOf(good, HEADER - 1));
        assertThat(c.problem).isEqualTo("header cut short (31 bytes)");
        assertThat(c.usageRecords).isZero();
        assertThat(read(new byte[0]).problem).isEqualTo("header cut short (0 bytes)");
    }

    @Test
    void anotherFileIsNotTakenForASegment() throws IOException {
        byte[] other = good.clone();
        other[0] ^= 1;
        SegmentReader.Contents c = read(other);
        assertThat(c.problem).isEqualTo("not a Tollgate journal segment (bad magic number)");
        assertThat(c.id).isNull();
        assertThat(c.usageRecords).isZero();
    }

    @Test
    void aDamagedHeaderIsCaughtByItsChecksum() throws IOException {
        for (int at : List.of(4, 19, 20, 27, 28, 31)) {
            byte[] damaged = good.clone();
            damaged[at] ^= 1;
            SegmentReader.Contents c = read(damaged);
            assertThat(c.problem).as("byte %d", at).isEqualTo("header checksum mismatch");
            assertThat(c.id).as("byte %d", at).isNull();
            assertThat(c.usageRecords).isZero();
        }
    }

    @Test
    void aFrameCutShortEndsTheReadAfterTheWholeRecords() throws IOException {
        for (int extra = 1; extra < FRAME; extra++) {
            byte[] torn = Arrays.copyOf(good, good.length + extra);
            SegmentReader.Contents c = read(torn);
            assertThat(c.problem).isEqualTo("torn record at byte " + good.length + " (frame cut short)");
            assertThat(c.usageRecords).isEqualTo(2);
            assertThat(c.validBytes).isEqualTo(good.length);
        }
    }

    @Test
    void aRecordCutShortEndsTheReadBeforeIt() throws IOException {
        SegmentReader.Contents c = read(Arrays.copyOf(good, good.length - 1));
        int length = good.length - second - FRAME;
        assertThat(c.problem).isEqualTo("torn record at byte " + second + " (" + (length - 1) + " of " + length
                + " bytes)");
        assertThat(c.usageRecords).isEqualTo(1);
        assertThat(c.usage).containsOnlyKeys(new Bucket("alice", "requests", T0));
        assertThat(c.validBytes).isEqualTo(second);
    }

    @Test
    void anImpossibleLengthIsCorruptNotTorn() throws IOException {
        for (int length : List.of(0, -1, (64 << 20) + 1)) {
            byte[] bad = good.clone();
            ByteBuffer.wrap(bad).putInt(second, length);
            SegmentReader.Contents c = read(bad);
            assertThat(c.problem).isEqualTo("corrupt record at byte " + second + " (length " + length + ")");
            assertThat(c.usageRecords).isEqualTo(1);
            assertThat(c.validBytes).isEqualTo(second);
        }
    }

    @Test
    void aDamagedRecordIsCaughtByItsChecksum() throws IOException {
        byte[] bad = good.clone();
        bad[good.length - 1] ^= 1;
        SegmentReader.Contents c = read(bad);
        assertThat(c.problem).isEqualTo("corrupt record at byte " + second + " (checksum mismatch)");
        assertThat(c.usageRecords).isEqualTo(1);
    }

    @Test
    void aRecordOfAnUnknownTypeWithAGoodChecksumIsUndecodable() throws IOException {
        byte[] payload = {99, 0, 0, 0};
        ByteBuffer frame = ByteBuffer.allocate(FRAME + payload.length);
        frame.putInt(payload.length).putInt(Records.crc(payload, 0, payload.length)).put(payload);
        byte[] bad = Arrays.copyOf(good, good.length + frame.capacity());
        System.arraycopy(frame.array(), 0, bad, good.length, frame.capacity());
        SegmentReader.Contents c = read(bad);
        assertThat(c.problem).isEqualTo("undecodable record at byte " + good.length);
        assertThat(c.usageRecords).isEqualTo(2);
        assertThat(c.validBytes).isEqualTo(good.length);
    }
}
