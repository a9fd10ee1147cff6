package dev.tollgate.core.testing;

import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import dev.tollgate.core.spi.ExportLease;
import dev.tollgate.core.spi.GrantBatch;
import dev.tollgate.core.spi.Granted;
import dev.tollgate.core.spi.StoredUsage;
import dev.tollgate.core.spi.SubjectRecord;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.WriteBatch;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** A store that passes every call to a real one; tests override the calls they watch or hold. */
public class ForwardingStore implements UsageStore {
    protected final UsageStore delegate;

    public ForwardingStore(UsageStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public Applied apply(WriteBatch batch) {
        return delegate.apply(batch);
    }

    @Override
    public List<Granted> grant(GrantBatch batch) {
        return delegate.grant(batch);
    }

    @Override
    public void release(String node, List<UsageDelta> unused) {
        delegate.release(node, unused);
    }

    @Override
    public long[] used(List<UsageKey> keys) {
        return delegate.used(keys);
    }

    @Override
    public Set<String> appliedBatches(Collection<String> batchIds) {
        return delegate.appliedBatches(batchIds);
    }

    @Override
    public List<SubjectRecord> subjects(List<String> subjects) {
        return delegate.subjects(subjects);
    }

    @Override
    public void assignPlan(String subject, String plan, Instant at) {
        delegate.assignPlan(subject, plan, at);
    }

    @Override
    public void setOverride(String subject, String quota, Limit limit) {
        delegate.setOverride(subject, quota, limit);
    }

    @Override
    public int removeOverrides(String subject, String quota) {
        return delegate.removeOverrides(subject, quota);
    }

    @Override
    public void putKey(String subject, String name, Instant at) {
        delegate.putKey(subject, name, at);
    }

    @Override
    public boolean removeKey(String subject) {
        return delegate.removeKey(subject);
    }

    @Override
    public boolean[] keys(List<String> subjects) {
        return delegate.keys(subjects);
    }

    @Override
    public int prune(Instant before, int limit) {
        return delegate.prune(before, limit);
    }

    @Override
    public void replaceOverrides(String subject, String quota, List<Limit> limits) {
        delegate.replaceOverrides(subject, quota, limits);
    }

    @Override
    public int purgeUsage(Period period, long windowsBefore, int limit) {
        return delegate.purgeUsage(period, windowsBefore, limit);
    }

    @Override
    public List<StoredUsage> windows(Instant from, Instant to, String subject, Period period, UsageKey after,
                                     int limit) {
        return delegate.windows(from, to, subject, period, after, limit);
    }

    @Override
    public int pruneRequests(Instant before, int limit) {
        return delegate.pruneRequests(before, limit);
    }

    @Override
    public Optional<ExportLease> leaseExport(String stream, String node, Instant now, Duration ttl) {
        return delegate.leaseExport(stream, node, now, ttl);
    }

    @Override
    public boolean advanceExport(String stream, String node, UsageKey after, Instant now, Duration ttl) {
        return delegate.advanceExport(stream, node, after, now, ttl);
    }

    @Override
    public void ping() {
        delegate.ping();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
