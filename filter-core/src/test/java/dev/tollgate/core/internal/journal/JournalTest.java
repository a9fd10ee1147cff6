package dev.tollgate.core.internal.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.TollgateException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal's files: what is appended comes back after a crash, torn and corrupt tails are skipped. */
class JournalTest {
    static final long T0 = 1_764_115_200_000L; // 2025-11-26T00:00:00Z, a minute boundary
    static final Duration FSYNC = Duration.ofMillis(10);

    @TempDir
    Path dir;

    /** A journal whose segments rotate as soon as they are fully committed. */
    FileJournal open() {
        return FileJournal.open(dir, FSYNC, 1 << 20, 0, Duration.ZERO);
    }

    List<Path> segmentFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("segment-")).sorted().toList();
        }
    }

    /** Simulates a crash: the files stay as they are; only the lock is let go of. */
    static void abandon(Journal j) {
        j.close();
    }

    @Test
    void whatIsAppendedAndNotCommittedIsRecoveredBucketedByMinute() {
        FileJournal j = open();
        long seg = j.append("alice", "requests", 2, T0 + 1_000);
        j.append("alice", "requests", 3, T0 + 59_999);
        j.append("alice", "requests", 5, T0 + 60_000);
        j.append("bob", "tokens", 7, T0);
        abandon(j);

        FileJournal again = open();
        try {
            Recovery r = again.recovery();
            assertThat(r.segments()).isEqualTo(1);
            List<Recovery.Pending> pending = r.pending(Set.of());
            assertThat(pending).hasSize(1);
            assertThat(pending.get(0).segment()).isEqualTo(seg);
            assertThat(pending.get(0).records()).isEqualTo(4);
            assertThat(pending.get(0).units()).containsExactly(
                    Map.entry(new Bucket("alice", "requests", T0), 5L),
                    Map.entry(new Bucket("alice", "requests", T0 + 60_000), 5L),
                    Map.entry(new Bucket("bob", "tokens", T0), 7L));
        } finally {
            again.close();
        }
    }

    @Test
    void replayIdsAreTheSameAtEveryStart() {
        FileJournal j = open();
        j.append("alice", "requests", 1, T0);
        abandon(j);

        FileJournal first = open();
        String id = first.recovery().pending(Set.of()).get(0).batchId(0);
        first.close();
        FileJournal second = open();
        try {
            assertThat(second.recovery().pending(Set.of()).get(0).batchId(0)).isEqualTo(id).startsWith("j-").hasSize(36);
        } finally {
            second.close();
        }
    }

    @Test
    void aCommittedBatchsCoverIsNotReplayedAndAnUncommittedOnesIs() {
        FileJournal j = open();
        long seg = j.append("alice", "requests", 1, T0);
        j.append("alice", "requests", 1, T0);
        j.append("alice", "requests", 1, T0);
        j.append("bob", "requests", 4, T0);
        j.intent("b-committed", List.of(new Cover(seg, "alice", "requests", T0, 2, 2)));
        j.intent("b-failed", List.of(new Cover(seg, "alice", "requests", T0, 1, 1),
                new Cover(seg, "bob", "requests", T0, 4, 1)));
        abandon(j);

        FileJournal again = open();
        try {
            Recovery r = again.recovery();
            assertThat(r.batchIds()).containsExactly("b-committed", "b-failed");
            assertThat(r.pending(Set.of("b-committed")).get(0).units()).containsExactly(
                    Map.entry(new Bucket("alice", "requests", T0), 1L),
                    Map.entry(new Bucket("bob", "requests", T0), 4L));
            assertThat(r.pending(Set.of("b-committed", "b-failed")).get(0).units()).isEmpty();
            assertThat(r.pending(Set.of()).get(0).units()).containsEntry(new Bucket("alice", "requests", T0), 3L);
        } finally {
            again.close();
        }
    }

    @Test
    void anIntentTooLargeForOneRecordIsWrittenInPartsAndReplayTakesThemAsOneBatch() {
        FileJournal j = open();
        List<Cover> covers = new ArrayList<>();
        for (int i = 0; i < 60_000; i++) {
            String subject = "key:" + "%064x".formatted(i);
            covers.add(new Cover(j.append(subject, "requests", 1, T0), subject, "requests", T0, 1, 1));
        }
        long tail = j.append("tail", "requests", 1, T0);
        long coverBytes = covers.stream().mapToLong(Records::coverBytes).sum();
        assertThat(coverBytes).isGreaterThan(FileJournal.INTENT_PART_BYTES);
        j.intent("big", covers);
        abandon(j);

        FileJournal again = open();
        try {
            Recovery r = again.recovery();
            assertThat(r.batchIds()).containsExactly("big");
            long left = r.pending(Set.of("big")).stream().mapToLong(p -> p.units().values().stream()
                    .mapToLong(Long::longValue).sum()).sum();
            assertThat(left).isEqualTo(1);
            assertThat(r.pending(Set.of("big")).stream().filter(p -> !p.units().isEmpty()).toList())
                    .singleElement().satisfies(p -> assertThat(p.segment()).isEqualTo(tail));
            long all = r.pending(Set.of()).stream().mapToLong(p -> p.units().values().stream()
                    .mapToLong(Long::longValue).sum()).sum();
            assertThat(all).isEqualTo(60_001);
        } finally {
            again.close();
        }
    }

    @Test
    void appendsPastTheSizeCapAreRefusedAndGoOnOnceCommittedSegmentsAreDeleted() throws IOException {
        FileJournal j = FileJournal.open(dir, FSYNC, 4096, 0, Duration.ZERO);
        j.limitTo(16_384);
        Map<Long, Long> appended = new TreeMap<>();
        int refused = 0;
        for (int i = 0; i < 1_000; i++) {
            try {
                appended.merge(j.append("alice-" + i, "requests", 1, T0), 1L, Long::sum);
            } catch (JournalException e) {
                assertThat(e).hasMessageContaining("tollgate.async.journal.max-size").hasMessageContaining("16384");
                refused++;
            }
        }
        assertThat(refused).isPositive();
        assertThat(j.full()).isTrue();
        assertThat(j.liveBytes()).isLessThanOrEqualTo(16_384);
        assertThat(segmentFiles().stream().mapToLong(p -> p.toFile().length()).sum()).isLessThanOrEqualTo(16_384);
        // Intents are never refused: replay needs them.
        j.intent("b-1", List.of(new Cover(appended.keySet().iterator().next(), "alice-0", "requests", T0, 1, 1)));

        appended.forEach(j::committed);
        j.trim();
        j.append("bob", "requests", 1, T0);
        assertThat(j.full()).isFalse();
        j.close();
    }

    @Test
    void fullyCommittedSegmentsAreDeletedAndACleanCloseLeavesNothing() throws IOException {
        FileJournal j = open();
        long seg = j.append("alice", "requests", 1, T0);
        j.append("alice", "requests", 1, T0);
        assertThat(segmentFiles()).hasSize(1);
        j.committed(seg, 2);
        j.trim();
        assertThat(segmentFiles()).hasSize(1).noneMatch(p -> p.getFileName().toString().contains(pad(seg)));
        long next = j.append("bob", "requests", 1, T0);
        assertThat(next).isGreaterThan(seg);
        j.committed(next, 1);
        j.close();
        assertThat(segmentFiles()).isEmpty();

        FileJournal again = open();
        try {
            assertThat(again.recovery().isEmpty()).isTrue();
        } finally {
            again.close();
        }
    }

    @Test
    void aSegmentIsKeptWhileAnOlderOneIsNotFullyCommitted() throws IOException {
        FileJournal j = FileJournal.open(dir, FSYNC, 200, Long.MAX_VALUE, Duration.ofDays(1));
        Map<Long, Long> perSegment = new TreeMap<>();
        while (perSegment.size() < 3) {
            perSegment.merge(j.append("alice", "requests", 1, T0), 1L, Long::sum);
        }
        List<Long> numbers = List.copyOf(perSegment.keySet());
        j.committed(numbers.get(1), perSegment.get(numbers.get(1)));
        j.trim();
        assertThat(segmentFiles()).hasSize(3);
        j.committed(numbers.get(0), perSegment.get(numbers.get(0)));
        j.trim();
        assertThat(segmentFiles()).hasSize(1);
        abandon(j);
        assertThat(segmentFiles()).hasSize(1);
    }

    @Test
    void aTornTailIsSkippedAndTheSegmentKeptAsCorruptAfterReplay() throws IOException {
        FileJournal j = open();
        long seg = j.append("alice", "requests", 2, T0);
        j.append("alice", "requests", 3, T0);
        abandon(j);
        Path file = segmentFiles().get(0);
        byte[] third = Records.usage("alice", "requests", 1000, T0);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap(third, 0, third.length - 5)); // cut short, as by a crash mid-write
        }

        FileJournal again = open();
        try {
            Recovery r = again.recovery();
            Recovery.Pending p = r.pending(Set.of()).get(0);
            assertThat(p.records()).isEqualTo(2);
            assertThat(p.units()).containsExactly(Map.entry(new Bucket("alice", "requests", T0), 5L));
            r.discard(seg);
            assertThat(r.isEmpty()).isTrue();
            assertThat(dir.resolve(file.getFileName() + ".corrupt")).exists();
            assertThat(file).doesNotExist();
        } finally {
            again.close();
        }
    }

    @Test
    void aRecordWithABadChecksumEndsTheReadableSegment() throws IOException {
        FileJournal j = open();
        j.append("alice", "requests", 2, T0);
        j.append("alice", "requests", 3, T0);
        abandon(j);
        Path file = segmentFiles().get(0);
        long size = Files.size(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xFF}), size - 2); // flip a byte of the last record
        }

        FileJournal again = open();
        try {
            Recovery.Pending p = again.recovery().pending(Set.of()).get(0);
            assertThat(p.records()).isEqualTo(1);
            assertThat(p.units()).containsExactly(Map.entry(new Bucket("alice", "requests", T0), 2L));
        } finally {
            again.close();
        }
    }

    @Test
    void aSegmentWithATornHeaderHoldsNothingAndDoesNotStopStartUp() throws IOException {
        Files.write(dir.resolve("segment-00000000000000000007.tgj"), new byte[] {0x54, 0x47});
        FileJournal j = open();
        try {
            assertThat(j.recovery().segments()).isEqualTo(1);
            Recovery.Pending p = j.recovery().pending(Set.of()).get(0);
            assertThat(p.units()).isEmpty();
            // New segments are numbered after what was found.
            assertThat(j.append("alice", "requests", 1, T0)).isEqualTo(8);
        } finally {
            j.close();
        }
    }

    @Test
    void oneEngineAtATimePerDirectory() {
        FileJournal j = open();
        try {
            assertThatThrownBy(this::open)
                    .isInstanceOf(TollgateException.class)
                    .hasMessageContaining("tollgate.async.journal.path")
                    .hasMessageContaining("in use by another Tollgate engine");
        } finally {
            j.close();
        }
        open().close();
    }

    @Test
    void withAnFsyncIntervalOfZeroAppendsWaitForTheirSyncAndStillComeBack() throws Exception {
        FileJournal j = FileJournal.open(dir, Duration.ZERO, 1 << 20, 0, Duration.ZERO);
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 50; i++) {
                    j.append("alice", "requests", 1, T0);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        abandon(j);
        FileJournal again = open();
        try {
            assertThat(again.recovery().pending(Set.of()).get(0).units())
                    .containsExactly(Map.entry(new Bucket("alice", "requests", T0), 200L));
        } finally {
            again.close();
        }
    }

    @Test
    void appendAfterCloseIsRefused() {
        FileJournal j = open();
        j.close();
        assertThatThrownBy(() -> j.append("alice", "requests", 1, T0)).isInstanceOf(JournalException.class);
    }

    private static String pad(long n) {
        return String.format("%020d", n);
    }
}
