package dev.tollgate.core.internal.journal;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Journal segments: a segment is closed and a new one begun before it would pass its size
 * (64 MiB by default, README), every record of every segment comes back after a crash, and a
 * batch whose intent covers records of two segments is recognised in both.
 */
class SegmentsTest {
    static final long T0 = JournalTest.T0;
    static final long MIB = 1L << 20;

    @TempDir
    Path dir;

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("segment-")).sorted().toList();
        }
    }

    @Test
    void theDefaultJournalStartsANewSegmentBeforeOneWouldPass64MiB() throws IOException {
        FileJournal j = FileJournal.open(dir, Duration.ofSeconds(1), Ticker.systemTicker(),
                Clock.fixed(Instant.ofEpochMilli(T0), ZoneOffset.UTC));
        String subject = "key:" + "f".repeat(196);
        long first = j.append(subject, "requests", 1, T0);
        long n = 1;
        long segment = first;
        while (segment == first) {
            segment = j.append(subject, "requests", 1, T0);
            n++;
        }
        List<Path> files = segmentFiles();
        assertThat(files).hasSize(2);
        long full = Files.size(files.get(0));
        assertThat(full).as("the first segment stops at 64 MiB").isLessThanOrEqualTo(64 * MIB)
                .as("and is not left much emptier").isGreaterThan(64 * MIB - 1024);
        JournalTest.abandon(j);

        FileJournal again = FileJournal.open(dir, Duration.ofSeconds(1), Ticker.systemTicker(),
                Clock.fixed(Instant.ofEpochMilli(T0), ZoneOffset.UTC));
        try {
            List<Recovery.Pending> pending = again.recovery().pending(Set.of());
            assertThat(pending).extracting(Recovery.Pending::segment).containsExactly(first, segment);
            assertThat(pending.get(0).records() + pending.get(1).records()).isEqualTo(n);
            assertThat(pending.get(1).records()).isEqualTo(1);
        } finally {
            again.close();
        }
    }

    @Test
    void smallSegmentsNeverPassTheirSizeAndEveryRecordComesBackInOrderOfSegments() throws IOException {
        FileJournal j = FileJournal.open(dir, JournalTest.FSYNC, 512, Long.MAX_VALUE, Duration.ofDays(1));
        Map<Long, Long> perSegment = new TreeMap<>();
        for (int i = 0; i < 100; i++) {
            perSegment.merge(j.append("alice", "requests", 1, T0 + i * 1_000L), 1L, Long::sum);
        }
        JournalTest.abandon(j);
        assertThat(perSegment).hasSizeGreaterThan(3);
        for (Path p : segmentFiles()) {
            assertThat(Files.size(p)).as(p.getFileName().toString()).isLessThanOrEqualTo(512);
        }

        FileJournal again = FileJournal.open(dir, JournalTest.FSYNC, 512, Long.MAX_VALUE, Duration.ofDays(1));
        try {
            List<Recovery.Pending> pending = again.recovery().pending(Set.of());
            assertThat(pending).extracting(Recovery.Pending::segment).containsExactlyElementsOf(perSegment.keySet());
            assertThat(pending).extracting(Recovery.Pending::records).containsExactlyElementsOf(perSegment.values());
            long units = 0;
            for (Recovery.Pending p : pending) {
                units += p.units().values().stream().mapToLong(Long::longValue).sum();
            }
            assertThat(units).isEqualTo(100);
        } finally {
            again.close();
        }
    }

    @Test
    void aBatchCoveringTwoSegmentsIsRecognisedInBoth() throws IOException {
        FileJournal j = FileJournal.open(dir, JournalTest.FSYNC, 256, Long.MAX_VALUE, Duration.ofDays(1));
        long first = j.append("alice", "requests", 1, T0);
        long second = first;
        long inFirst = 1;
        while (second == first) {
            second = j.append("alice", "requests", 1, T0);
            if (second == first) {
                inFirst++;
            }
        }
        j.append("alice", "requests", 1, T0);
        // One batch wrote all of the first segment's records and one of the second's.
        List<Cover> covers = new ArrayList<>();
        covers.add(new Cover(first, "alice", "requests", T0, inFirst, inFirst));
        covers.add(new Cover(second, "alice", "requests", T0, 1, 1));
        j.intent("across", covers);
        JournalTest.abandon(j);

        FileJournal again = FileJournal.open(dir, JournalTest.FSYNC, 256, Long.MAX_VALUE, Duration.ofDays(1));
        try {
            Recovery r = again.recovery();
            assertThat(r.batchIds()).containsExactly("across");
            List<Recovery.Pending> committed = r.pending(Set.of("across"));
            assertThat(committed).extracting(p -> p.units().values().stream().mapToLong(Long::longValue).sum())
                    .as("first segment: nothing left; second: the record the batch did not hold")
                    .containsExactly(0L, 1L);
            List<Recovery.Pending> lost = r.pending(Set.of());
            assertThat(lost).extracting(p -> p.units().values().stream().mapToLong(Long::longValue).sum())
                    .as("the batch never committed: everything is replayed")
                    .containsExactly(inFirst, 2L);
        } finally {
            again.close();
        }
    }
}
