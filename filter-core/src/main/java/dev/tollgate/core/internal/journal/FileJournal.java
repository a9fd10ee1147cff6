package dev.tollgate.core.internal.journal;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.TollgateException;
import dev.tollgate.core.config.ConfigKeys;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local journal ({@code tollgate.async.journal.path}): an append-only log of consumption
 * in segment files, so that usage acknowledged to a caller survives a crash of the JVM.
 *
 * <ul>
 *   <li>{@link #append} writes one usage record to the active segment with one
 *       {@code write} call before it returns: from then on the record survives the death of
 *       the process (it is in the operating system's page cache). A background thread forces
 *       the file to disk every {@code fsync-interval}, so a power loss can cost at most that
 *       much; with an interval of zero, {@code append} waits until its record is on disk
 *       (appends waiting together share one fsync).</li>
 *   <li>{@link #intent} records, and forces to disk, which records a batch covers before the
 *       batch is sent to the store; {@link #committed} counts them as written once it is.</li>
 *   <li>A segment is closed when it is large, or when all of it is written and it is a few
 *       seconds old; closed segments are deleted oldest first as soon as everything in them
 *       is committed.</li>
 *   <li>Segments left by an earlier run are not appended to: {@link #recovery()} says what of
 *       them is still to be written, and the engine replays it.</li>
 * </ul>
 *
 * One engine at a time uses a directory (a lock file enforces it). Segment ages are measured
 * on the engine's ticker and creation times stamped from its clock; the background fsync
 * loop waits in real time on the system's monotonic clock. Thread-safe.
 */
public final class FileJournal implements Journal {
    private static final Logger LOG = LoggerFactory.getLogger(FileJournal.class);
    private static final Pattern SEGMENT = Pattern.compile("segment-(\\d{20})\\.tgj");
    private static final String LOCK_FILE = "journal.lock";

    static final long DEFAULT_SEGMENT_BYTES = 64L << 20;
    /** Largest intent record written: a batch that covers more is announced in several parts. */
    static final int INTENT_PART_BYTES = 4 << 20;
    static final long DEFAULT_IDLE_ROTATE_BYTES = 1L << 20;
    static final long DEFAULT_IDLE_ROTATE_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long HOUSEKEEPING_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    /** One segment file of this run. Counters of records are guarded by the append lock, except {@code committed}. */
    private static final class Segment {
        final long number;
        final Path path;
        long createdNanos;
        FileChannel channel;
        long size;
        long appended;
        final AtomicLong committed = new AtomicLong();
        boolean sealed;

        Segment(long number, Path path) {
            this.number = number;
            this.path = path;
        }
    }

    private final Path dir;
    private final Ticker ticker;
    private final Clock clock;
    private final long fsyncIntervalNanos;
    private final long segmentBytes;
    private final long idleRotateBytes;
    private final long idleRotateNanos;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Recovery recovery;

    private final ReentrantLock appendLock = new ReentrantLock();
    private final ArrayDeque<Segment> live = new ArrayDeque<>();
    private final Map<Long, Segment> byNumber = new ConcurrentHashMap<>();
    private Segment active;
    private long nextNumber;
    /** Bytes appended by this run, across segments: a position in the log. */
    private long written;
    /** Bytes of this run's segments not yet deleted. Under the append lock. */
    private long liveBytes;
    private volatile long maxBytes = Long.MAX_VALUE;
    private volatile boolean full;

    private final Object syncMonitor = new Object();
    private long synced;
    private long syncRequested;
    private final Thread syncer;
    private volatile boolean closed;
    private final AtomicLong appendedRecords = new AtomicLong();

    private FileJournal(Path dir, Duration fsyncInterval, long segmentBytes, long idleRotateBytes, long idleRotateNanos,
                        Ticker ticker, Clock clock) {
        this.dir = dir;
        this.ticker = ticker;
        this.clock = clock;
        this.fsyncIntervalNanos = fsyncInterval.toNanos();
        this.segmentBytes = segmentBytes;
        this.idleRotateBytes = idleRotateBytes;
        this.idleRotateNanos = idleRotateNanos;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new TollgateException(ConfigKeys.ASYNC_JOURNAL_PATH + ": cannot create the journal directory '"
                    + dir + "': " + e, e);
        }
        FileChannel lc = null;
        FileLock l;
        try {
            lc = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            l = lc.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
        } catch (IOException e) {
            closeQuietly(lc);
            throw new TollgateException(ConfigKeys.ASYNC_JOURNAL_PATH + ": cannot lock the journal directory '"
                    + dir + "': " + e, e);
        }
        if (l == null) {
            closeQuietly(lc);
            throw new TollgateException(ConfigKeys.ASYNC_JOURNAL_PATH + ": the journal directory '" + dir
                    + "' is in use by another Tollgate engine; each engine needs its own");
        }
        this.lockChannel = lc;
        this.lock = l;
        try {
            this.recovery = recover();
            appendLock.lock();
            try {
                rotate();
            } finally {
                appendLock.unlock();
            }
        } catch (IOException | RuntimeException e) {
            releaseLock();
            throw new TollgateException(ConfigKeys.ASYNC_JOURNAL_PATH + ": cannot open the journal in '" + dir
                    + "': " + e, e);
        }
        this.syncer = new Thread(this::syncLoop, "tollgate-journal");
        syncer.setDaemon(true);
        syncer.start();
    }

    /**
     * Opens (creating it if needed) the journal in {@code dir} and reads what an earlier run
     * left there.
     *
     * @param fsyncInterval how often new records are forced to disk; zero: {@link #append}
     *                      waits for it
     * @param ticker        measures segment ages (idle rotation)
     * @param clock         stamps a segment's creation time in its header
     * @throws TollgateException naming {@code tollgate.async.journal.path} if the directory
     *                           cannot be created, read or locked
     */
    public static FileJournal open(Path dir, Duration fsyncInterval, Ticker ticker, Clock clock, long maxBytes) {
        FileJournal j = open(dir, fsyncInterval, ticker, clock);
        j.limitTo(maxBytes);
        return j;
    }

    /**
     * Caps the bytes this run's segments may take ({@code tollgate.async.journal.max-size}):
     * an {@link #append} that would pass it is refused with a {@link JournalException} (the
     * consumption is then recorded, but not crash-safe). Intents are never refused, since
     * replay needs them to tell committed records from unwritten ones; they are bounded by
     * the records they cover.
     */
    void limitTo(long bytes) {
        this.maxBytes = bytes;
    }

    @Override
    public boolean full() {
        return full;
    }

    public static FileJournal open(Path dir, Duration fsyncInterval, Ticker ticker, Clock clock) {
        return new FileJournal(dir, fsyncInterval, DEFAULT_SEGMENT_BYTES, DEFAULT_IDLE_ROTATE_BYTES,
                DEFAULT_IDLE_ROTATE_NANOS, ticker, clock);
    }

    /** For tests: small segments and quick rotation, on the system's clocks. */
    static FileJournal open(Path dir, Duration fsyncInterval, long segmentBytes, long idleRotateBytes,
                            Duration idleRotateAge) {
        return new FileJournal(dir, fsyncInterval, segmentBytes, idleRotateBytes, idleRotateAge.toNanos(),
                Ticker.systemTicker(), Clock.systemUTC());
    }

    private Recovery recover() throws IOException {
        List<SegmentReader.Contents> found = new ArrayList<>();
        long max = 0;
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> SEGMENT.matcher(p.getFileName().toString()).matches()).sorted().toList();
        }
        for (Path p : files) {
            Matcher m = SEGMENT.matcher(p.getFileName().toString());
            m.matches();
            long number = Long.parseLong(m.group(1));
            max = Math.max(max, number);
            SegmentReader.Contents c = SegmentReader.read(number, p);
            if (c.problem != null) {
                LOG.warn("Journal segment {}: {}; the {} bytes after byte {} are skipped (a record cut short by a"
                        + " crash was never acknowledged)", p, c.problem, c.fileBytes - c.validBytes, c.validBytes);
            }
            if (c.problem == null && c.usage.isEmpty() && c.intents.isEmpty()) {
                Files.deleteIfExists(p);
                continue;
            }
            found.add(c);
        }
        nextNumber = max + 1;
        if (!found.isEmpty()) {
            long records = found.stream().mapToLong(c -> c.usageRecords).sum();
            LOG.info("Journal {}: {} segments from an earlier run hold {} usage records; replaying what the store"
                    + " does not have", dir, found.size(), records);
        }
        return new Recovery(found);
    }

    @Override
    public Recovery recovery() {
        return recovery;
    }

    @Override
    public Path directory() {
        return dir;
    }

    /**
     * Appends one consumption. When this returns, the record survives the death of the
     * process; it is on disk within {@code fsync-interval} (at once with an interval of zero).
     *
     * @return the number of the segment it went to, for {@link #committed}
     * @throws JournalException if it could not be written (it is then not in the journal)
     */
    @Override
    public long append(String subject, String quota, long amount, long at) {
        byte[] rec = Records.usage(subject, quota, amount, at);
        long segment;
        long position;
        appendLock.lock();
        try {
            if (liveBytes + rec.length > maxBytes) {
                deleteQuietly();
                if (liveBytes + rec.length > maxBytes) {
                    full = true;
                    throw new JournalException("The journal in " + dir + " is at its cap of " + maxBytes
                            + " bytes (tollgate.async.journal.max-size): the consumption is recorded but not"
                            + " journaled", null);
                }
            }
            full = false;
            Segment s = writeLocked(rec);
            s.appended++;
            segment = s.number;
            position = written;
        } finally {
            appendLock.unlock();
        }
        appendedRecords.incrementAndGet();
        if (fsyncIntervalNanos == 0) {
            awaitSynced(position);
        }
        return segment;
    }

    /**
     * Records which journal records batch {@code batchId} covers, and forces the journal to
     * disk, before the batch is sent: replay must never take a committed batch's records for
     * unwritten ones.
     *
     * @throws JournalException if it could not be written or forced
     */
    @Override
    public void intent(String batchId, Collection<Cover> covers) {
        List<byte[]> recs = new ArrayList<>();
        List<Cover> part = new ArrayList<>();
        long size = 0;
        for (Cover c : covers) {
            long one = Records.coverBytes(c);
            if (!part.isEmpty() && size + one > INTENT_PART_BYTES) {
                recs.add(Records.intent(Records.intentPart(batchId, recs.size()), part));
                part = new ArrayList<>();
                size = 0;
            }
            part.add(c);
            size += one;
        }
        // One record when it fits (the batch id as is), else parts that replay puts together.
        recs.add(Records.intent(recs.isEmpty() ? batchId : Records.intentPart(batchId, recs.size()), part));
        Segment s = null;
        long position;
        appendLock.lock();
        try {
            for (byte[] rec : recs) {
                s = writeLocked(rec);
            }
            position = written;
        } finally {
            appendLock.unlock();
        }
        try {
            force(s, position);
        } catch (IOException e) {
            throw new JournalException("Cannot force the journal in " + dir + " to disk: " + e, e);
        }
    }

    /** Counts {@code records} of segment {@code segment} as committed to the store. */
    @Override
    public void committed(long segment, long records) {
        Segment s = byNumber.get(segment);
        if (s != null) {
            s.committed.addAndGet(records);
        }
    }

    /** Deletes what is fully committed now (also done in the background). */
    public void trim() {
        appendLock.lock();
        try {
            if (closed) {
                return;
            }
            Segment a = active;
            if (a != null && a.appended > 0 && a.committed.get() >= a.appended
                    && (a.size >= idleRotateBytes || ticker.read() - a.createdNanos >= idleRotateNanos)) {
                rotate();
            }
            deleteCommitted();
        } catch (IOException e) {
            LOG.warn("Journal housekeeping in {} failed: {}", dir, e.toString());
        } finally {
            appendLock.unlock();
        }
    }

    /** Deletes what is fully committed, before refusing an append at the cap. Under the append lock. */
    private void deleteQuietly() {
        try {
            deleteCommitted();
        } catch (IOException e) {
            LOG.warn("Journal housekeeping in {} failed: {}", dir, e.toString());
        }
    }

    /** Bytes this run's segments take (the active one included). */
    public long liveBytes() {
        appendLock.lock();
        try {
            return liveBytes;
        } finally {
            appendLock.unlock();
        }
    }

    /** Segment files of this run not yet deleted (the active one included). */
    public int liveSegments() {
        appendLock.lock();
        try {
            return live.size();
        } finally {
            appendLock.unlock();
        }
    }

    /** Usage records appended by this run. */
    public long appendedRecords() {
        return appendedRecords.get();
    }

    private Segment writeLocked(byte[] rec) {
        if (closed) {
            throw new JournalException("The journal in " + dir + " is closed", null);
        }
        try {
            if (active == null || (active.size + rec.length > segmentBytes && active.appended > 0)) {
                rotate();
            }
            Segment s = active;
            long before = s.size;
            try {
                ByteBuffer b = ByteBuffer.wrap(rec);
                while (b.hasRemaining()) {
                    s.channel.write(b);
                }
            } catch (IOException e) {
                // Leave no partial record behind a good one: cut it off, or give up on the file.
                try {
                    s.channel.truncate(before);
                    s.channel.position(before);
                } catch (IOException e2) {
                    e.addSuppressed(e2);
                    sealQuietly(s);
                    active = null;
                }
                throw e;
            }
            s.size += rec.length;
            written += rec.length;
            liveBytes += rec.length;
            return s;
        } catch (IOException e) {
            throw new JournalException("Cannot append to the journal in " + dir + ": " + e, e);
        }
    }

    /** Closes the active segment (forced to disk) and starts a new one. Under the append lock. */
    private void rotate() throws IOException {
        Segment old = active;
        if (old != null) {
            sealQuietly(old);
        }
        active = null;
        long number = nextNumber++;
        Path path = dir.resolve(String.format("segment-%020d.tgj", number));
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        Segment s = new Segment(number, path);
        s.createdNanos = ticker.read();
        try {
            ByteBuffer h = Records.header(UUID.randomUUID(), clock.millis());
            while (h.hasRemaining()) {
                ch.write(h);
            }
            ch.force(true);
        } catch (IOException e) {
            closeQuietly(ch);
            Files.deleteIfExists(path);
            throw e;
        }
        s.channel = ch;
        s.size = Records.HEADER_BYTES;
        liveBytes += Records.HEADER_BYTES;
        forceDirectory();
        live.addLast(s);
        byNumber.put(number, s);
        active = s;
    }

    private void sealQuietly(Segment s) {
        s.sealed = true;
        try {
            s.channel.force(false);
        } catch (IOException e) {
            LOG.warn("Cannot force journal segment {} to disk: {}", s.path, e.toString());
        }
        closeQuietly(s.channel);
    }

    /** Deletes closed segments, oldest first, while everything in them is committed. Under the append lock. */
    private void deleteCommitted() throws IOException {
        while (!live.isEmpty()) {
            Segment s = live.peekFirst();
            if (!s.sealed || s.committed.get() < s.appended) {
                return;
            }
            Files.deleteIfExists(s.path);
            live.removeFirst();
            byNumber.remove(s.number);
            liveBytes -= s.size;
            if (liveBytes < maxBytes) {
                full = false;
            }
        }
    }

    private void forceDirectory() {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Not every platform can open a directory; the file itself is forced.
        }
    }

    private void force(Segment s, long position) throws IOException {
        synchronized (syncMonitor) {
            if (synced >= position) {
                return;
            }
        }
        try {
            s.channel.force(false);
        } catch (ClosedChannelException e) {
            // Closed by rotation, which forced it first.
        }
        synchronized (syncMonitor) {
            if (position > synced) {
                synced = position;
                syncMonitor.notifyAll();
            }
        }
    }

    private void syncNow() {
        Segment s;
        long position;
        appendLock.lock();
        try {
            s = active;
            position = written;
        } finally {
            appendLock.unlock();
        }
        if (s == null) {
            return;
        }
        try {
            force(s, position);
        } catch (IOException e) {
            LOG.error("Cannot force the journal in {} to disk: {}", dir, e.toString());
        }
    }

    private void awaitSynced(long position) {
        boolean interrupted = false;
        synchronized (syncMonitor) {
            if (position > syncRequested) {
                syncRequested = position;
                syncMonitor.notifyAll();
            }
            while (synced < position && !closed) {
                try {
                    syncMonitor.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void syncLoop() {
        long nextHousekeeping = System.nanoTime() + HOUSEKEEPING_NANOS;
        long nextSync = System.nanoTime() + fsyncIntervalNanos;
        while (!closed) {
            if (fsyncIntervalNanos == 0) {
                synchronized (syncMonitor) {
                    while (!closed && syncRequested <= synced && System.nanoTime() - nextHousekeeping < 0) {
                        try {
                            syncMonitor.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(
                                    nextHousekeeping - System.nanoTime())));
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
            } else {
                long now = System.nanoTime();
                long wake = nextSync - nextHousekeeping < 0 ? nextSync : nextHousekeeping;
                if (wake - now > 0) {
                    LockSupport.parkNanos(this, wake - now);
                }
            }
            if (closed) {
                return;
            }
            long now = System.nanoTime();
            if (fsyncIntervalNanos == 0 || now - nextSync >= 0) {
                syncNow();
                nextSync = now + fsyncIntervalNanos;
            }
            if (now - nextHousekeeping >= 0) {
                trim();
                nextHousekeeping = now + HOUSEKEEPING_NANOS;
            }
        }
    }

    /**
     * Forces what was appended to disk and closes the files. Segments that still hold records
     * not committed to the store are kept, to be replayed at the next start; the rest is
     * deleted.
     */
    @Override
    public void close() {
        appendLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            Segment a = active;
            if (a != null) {
                sealQuietly(a);
            }
            try {
                deleteCommitted();
            } catch (IOException e) {
                LOG.warn("Cannot delete committed journal segments in {}: {}", dir, e.toString());
            }
            if (!live.isEmpty()) {
                long left = 0;
                for (Segment s : live) {
                    left += s.appended - s.committed.get();
                }
                LOG.warn("Journal {}: {} records not yet in the store are kept in {} segments and written at the"
                        + " next start", dir, left, live.size());
            }
        } finally {
            appendLock.unlock();
        }
        synchronized (syncMonitor) {
            syncMonitor.notifyAll();
        }
        LockSupport.unpark(syncer);
        try {
            syncer.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        releaseLock();
    }

    private void releaseLock() {
        try {
            lock.release();
        } catch (IOException e) {
            // closing the channel releases it too
        }
        closeQuietly(lockChannel);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            // nothing more to do
        }
    }
}
