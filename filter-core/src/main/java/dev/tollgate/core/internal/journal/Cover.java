package dev.tollgate.core.internal.journal;

import java.util.Objects;

/**
 * Part of what one batch writes, by where it came from in the journal: the units and
 * records of one subject's quota, consumed in one minute, that were appended to one
 * segment. A batch's intent lists its covers, so that replay can tell which journal records
 * a committed batch already holds. Immutable.
 *
 * @param segment number of the segment the records were appended to
 * @param subject who was charged
 * @param quota   the quota
 * @param minute  the minute the records were consumed in, epoch milliseconds
 * @param units   the sum of their amounts
 * @param records how many records
 */
public record Cover(long segment, String subject, String quota, long minute, long units, long records) {
    public Cover {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
    }
}
