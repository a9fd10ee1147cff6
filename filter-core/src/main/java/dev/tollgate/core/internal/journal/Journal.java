package dev.tollgate.core.internal.journal;

import java.nio.file.Path;
import java.util.Collection;

/**
 * Where the engine makes consumption crash-safe before it is written to the store:
 * {@link FileJournal} when {@code tollgate.async.journal.path} is set, {@link #NONE}
 * otherwise, which records nothing and costs nothing. Implementations are thread-safe.
 */
public interface Journal extends AutoCloseable {

    /** No journal: nothing is appended, nothing is replayed. */
    Journal NONE = new Journal() {
        private final Recovery nothing = Recovery.none();

        @Override
        public boolean enabled() {
            return false;
        }

        @Override
        public long append(String subject, String quota, long amount, long at) {
            return -1;
        }

        @Override
        public void intent(String batchId, Collection<Cover> covers) {
        }

        @Override
        public void committed(long segment, long records) {
        }

        @Override
        public Recovery recovery() {
            return nothing;
        }

        @Override
        public Path directory() {
            return null;
        }

        @Override
        public boolean full() {
            return false;
        }

        @Override
        public void close() {
        }
    };

    /**
     * Whether the last append was refused because the journal is at its size cap (and no later
     * one succeeded).
     */
    boolean full();

    /** Whether records are kept at all. */
    default boolean enabled() {
        return true;
    }

    /**
     * Appends one consumption before it is queued.
     *
     * @return the segment that holds it, for {@link #committed}; -1 when none does
     * @throws JournalException if it could not be written (it is then not in the journal)
     */
    long append(String subject, String quota, long amount, long at);

    /**
     * Records which journal records batch {@code batchId} covers, durably, before the batch
     * is sent to the store.
     *
     * @throws JournalException if it could not be written
     */
    void intent(String batchId, Collection<Cover> covers);

    /** Counts {@code records} of {@code segment} as committed to the store. */
    void committed(long segment, long records);

    /** What an earlier run left to replay (empty when it closed cleanly). */
    Recovery recovery();

    /** The journal's directory, or {@code null} without one. */
    Path directory();

    @Override
    void close();
}
