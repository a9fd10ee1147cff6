package dev.tollgate.store.redis;

import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.TollgateException;
import dev.tollgate.core.spi.ExportLease;
import dev.tollgate.core.spi.GrantBatch;
import dev.tollgate.core.spi.GrantRequest;
import dev.tollgate.core.spi.Granted;
import dev.tollgate.core.spi.InDoubtException;
import dev.tollgate.core.spi.RequestCharge;
import dev.tollgate.core.spi.StoredUsage;
import dev.tollgate.core.spi.SubjectRecord;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.WriteBatch;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.Range;
import io.lettuce.core.SetArgs;
import io.lettuce.core.ZAddArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * {@link UsageStore} on one Redis or a Redis Cluster (Lettuce). Every counter is a hash that
 * holds its usage and each node's grant; every atomic step is one Lua script on the shard of
 * one bucket (see {@link Keys}): subjects are spread over buckets, each bucket is one hash slot.
 *
 * <ul>
 * <li>{@link #apply}: one script per bucket the batch touches, all pipelined in one round; each
 *     adds its counters' deltas, retires and extends the writer's grants, and records the batch
 *     id in the bucket's applied set, unless the id is there already (then it changes nothing).
 *     Once every bucket answered, a second round records the id as complete in the id's own
 *     bucket ({@link #appliedBatches} reads only that). A batch cut short part-way (some buckets
 *     applied) is reported in doubt and re-sent whole under the same id: the buckets that have
 *     it answer "before", the others apply it, so each bucket applies it exactly once.</li>
 * <li>{@link #grant}: one script per bucket; the condition {@code used + pending + live grants +
 *     grant <= limit} and the expiry are evaluated inside the script on the server's clock
 *     ({@code TIME}).</li>
 * <li>Retention: counters expire {@code usage-retention} after their window ends (minute and hour
 *     windows after a day at most, total counters never); batch records are pruned by
 *     {@link #prune} and expire with {@code tollgate.store.batch-retention} of quiet.</li>
 * </ul>
 *
 * Thread-safe: two pipelined connections shared by every caller, one for flushes and
 * maintenance, one for what a request may wait for (grants, reads).
 */
public final class RedisUsageStore implements UsageStore {
    private final Connection connection;
    private final RedisClusterAsyncCommands<String, String> redis;
    private final RedisClusterAsyncCommands<String, String> bulk;
    private final Keys keys;
    private final long timeout;
    private final long retention;
    private final String where;

    private RedisUsageStore(Connection connection, RedisStoreUrl url, TollgateConfig config) {
        this.connection = connection;
        this.redis = connection.commands;
        this.bulk = connection.bulk;
        this.keys = new Keys(url.prefix(), url.buckets(), url.usageRetention());
        this.timeout = config.queryTimeout().toMillis();
        this.retention = config.batchRetention().toMillis();
        this.where = url.describe();
    }

    /**
     * A store at {@code tollgate.store.url} (a {@link RedisStoreUrl}), on a client of its own
     * that {@link #close()} shuts down. Credentials in the URL win over
     * {@code tollgate.store.user} / {@code password}.
     *
     * @throws TollgateException if Redis cannot be reached, or holds data written with another
     *                           bucket count
     */
    public static RedisUsageStore open(TollgateConfig config) {
        RedisStoreUrl url = RedisStoreUrl.parse(config.storeUrl())
                .withDefaultCredentials(config.storeUser(), config.storePassword());
        return start(Connection.open(url, config.connectTimeout(), config.queryTimeout()), url, config);
    }

    /**
     * A store on the application's Lettuce client ({@code RedisClient} or
     * {@code RedisClusterClient}), with the client's own options. The options of the store
     * ({@code prefix}, {@code buckets}, {@code usage-retention}) come from
     * {@code tollgate.store.url} when it is a Redis URL; its hosts are not used. {@link #close()}
     * closes the store's connection, not the client.
     *
     * @throws TollgateException as {@link #open}
     */
    public static RedisUsageStore on(AbstractRedisClient client, TollgateConfig config) {
        RedisStoreUrl url = RedisStoreUrl.isRedis(config.storeUrl()) ? RedisStoreUrl.parse(config.storeUrl())
                : RedisStoreUrl.parse("redis://application-client");
        return start(Connection.on(client), url, config);
    }

    private static RedisUsageStore start(Connection connection, RedisStoreUrl url, TollgateConfig config) {
        RedisUsageStore store = new RedisUsageStore(connection, url, config);
        try {
            store.checkBuckets();
            return store;
        } catch (RuntimeException e) {
            connection.close();
            throw e instanceof TollgateException t ? t
                    : new TollgateException("Cannot set up the store on " + url.describe() + ": " + e.getMessage(), e);
        }
    }

    /** Data written with another bucket count would be looked for in the wrong slots: refuse it. */
    private void checkBuckets() {
        String mine = Integer.toString(keys.buckets());
        Calls.await(redis.set(keys.meta(), mine, SetArgs.Builder.nx()), timeout, "Recording the bucket count");
        String stored = Calls.await(redis.get(keys.meta()), timeout, "Reading the bucket count");
        if (!mine.equals(stored)) {
            throw new TollgateException("The Tollgate data in " + where + " was written with buckets=" + stored
                    + ", this node uses buckets=" + mine + "; every node must use the same buckets option");
        }
    }

    /** Where this store is (nodes, TLS, prefix; never the password). */
    public String describe() {
        return where;
    }

    @Override
    public Applied apply(WriteBatch batch) {
        List<UsageDelta> deltas = batch.deltas();
        String at = Long.toString(batch.at().toEpochMilli());
        Map<Integer, List<Integer>> parts = byBucket(deltas.size(), i -> deltas.get(i).key().subject());
        List<CompletableFuture<List<Object>>> sent = new ArrayList<>();
        Map<Integer, List<RequestCharge>> requests = new HashMap<>();
        for (RequestCharge r : batch.requests()) {
            requests.computeIfAbsent(keys.bucket(r.subject()), b -> new ArrayList<>()).add(r);
        }
        String requestRetention = Long.toString(batch.requestRetention().toMillis());
        for (Map.Entry<Integer, List<Integer>> part : parts.entrySet()) {
            List<Integer> idx = part.getValue();
            List<RequestCharge> ids = requests.getOrDefault(part.getKey(), List.of());
            List<String> k = new ArrayList<>(idx.size() + 1 + ids.size());
            List<String> a = new ArrayList<>(7 + 4 * idx.size() + 4 * ids.size());
            k.add(keys.applied(part.getKey()));
            a.add(batch.id());
            a.add(at);
            a.add(batch.node());
            a.add(Long.toString(batch.grantExpiry().toMillis()));
            a.add(Long.toString(retention));
            a.add(requestRetention);
            a.add(Integer.toString(ids.size()));
            Map<UsageKey, Integer> position = new HashMap<>();
            for (int j = 0; j < idx.size(); j++) {
                UsageDelta d = deltas.get(idx.get(j));
                position.put(d.key(), j + 1);
                k.add(keys.counter(d.key()));
                a.add(Long.toString(d.amount()));
                a.add(Long.toString(d.granted()));
                a.add(Long.toString(keys.keep(d.key().period())));
                a.add(Long.toString(Keys.windowEnd(d.key())));
                a.add(d.key().period() == Period.TOTAL ? "" : Keys.windowMember(d.key()));
            }
            for (RequestCharge r : ids) {
                k.add(keys.request(r.subject(), r.quota(), r.requestId()));
                a.add(Long.toString(-r.amount()));
                a.add(Integer.toString(r.keys().size()));
                for (UsageKey key : r.keys()) {
                    Integer pos = position.get(key);
                    if (pos == null) {
                        throw new IllegalArgumentException("request " + r.requestId() + " of " + r.subject() + "/"
                                + r.quota() + " names counter " + key + ", which is not among the batch's deltas");
                    }
                    a.add(Integer.toString(pos));
                }
            }
            k.add(keys.windows(part.getKey()));
            sent.add(Scripts.APPLY.run(bulk, k.toArray(String[]::new), a.toArray(String[]::new)));
        }
        Calls.Outcomes<List<Object>> out = Calls.awaitAll(sent, timeout);
        if (out.failed()) {
            throw out.failure("Writing batch " + batch.id() + " (" + parts.size() + " buckets)");
        }
        long[] totals = new long[deltas.size()];
        long[] added = batch.requests().isEmpty() ? null : new long[deltas.size()];
        boolean appliedNow = false;
        int p = 0;
        for (Map.Entry<Integer, List<Integer>> part : parts.entrySet()) {
            List<Integer> idx = part.getValue();
            List<Object> r = out.values.get(p++);
            boolean before = r.get(0) instanceof Long;
            appliedNow |= !before;
            boolean withIds = requests.containsKey(part.getKey());
            for (int j = 0; j < idx.size(); j++) {
                long total = before ? -1L : Long.parseLong((String) r.get(j));
                totals[idx.get(j)] = total;
                if (added != null) {
                    added[idx.get(j)] = before ? 0 : withIds ? total - Long.parseLong((String) r.get(idx.size() + j))
                            : deltas.get(idx.get(j)).amount();
                }
            }
        }
        int home = keys.bucket(batch.id());
        Calls.Outcomes<Long> done = Calls.awaitAll(List.of(
                Calls.future(bulk.zadd(keys.done(home), ZAddArgs.Builder.nx(), batch.at().toEpochMilli(), batch.id())),
                Calls.future(bulk.pexpire(keys.done(home), retention).thenApply(b -> 0L))), timeout);
        if (done.failed()) {
            // Every bucket has the batch; only its completion record may be missing. A retry completes it.
            throw new InDoubtException("Recording batch " + batch.id() + " as complete has an unknown outcome: "
                    + Calls.message(done.failures.get(0)), done.failures.get(0));
        }
        if (deltas.isEmpty()) {
            appliedNow = done.values.get(0) == 1L;
        }
        return appliedNow ? new Applied(true, totals, added) : Applied.before();
    }

    @Override
    public List<Granted> grant(GrantBatch batch) {
        List<GrantRequest> requests = batch.requests();
        Map<Integer, List<Integer>> parts = byBucket(requests.size(), i -> requests.get(i).key().subject());
        List<CompletableFuture<List<Object>>> sent = new ArrayList<>();
        for (List<Integer> idx : parts.values()) {
            String[] k = new String[idx.size()];
            String[] a = new String[3 + 7 * idx.size()];
            a[0] = batch.node();
            a[1] = Long.toString(batch.expiry().toMillis());
            a[2] = Long.toString(retention);
            for (int j = 0; j < idx.size(); j++) {
                GrantRequest r = requests.get(idx.get(j));
                k[j] = keys.counter(r.key());
                int b = 3 + 7 * j;
                a[b] = r.id();
                a[b + 1] = Long.toString(r.limit());
                a[b + 2] = Long.toString(r.want());
                a[b + 3] = Long.toString(r.min());
                a[b + 4] = Long.toString(r.pending());
                a[b + 5] = Long.toString(keys.keep(r.key().period()));
                a[b + 6] = Long.toString(Keys.windowEnd(r.key()));
            }
            sent.add(Scripts.GRANT.run(redis, k, a));
        }
        Calls.Outcomes<List<Object>> out = Calls.awaitAll(sent, timeout);
        if (out.failed()) {
            throw out.failure("Grant of " + requests.size() + " counters to node " + batch.node());
        }
        Granted[] answers = new Granted[requests.size()];
        int p = 0;
        for (List<Integer> idx : parts.values()) {
            List<Object> r = out.values.get(p++);
            for (int j = 0; j < idx.size(); j++) {
                @SuppressWarnings("unchecked")
                List<Object> g = (List<Object>) r.get(j);
                answers[idx.get(j)] = new Granted(num(g.get(0)), num(g.get(1)), num(g.get(2)), (int) num(g.get(3)));
            }
        }
        return List.of(answers);
    }

    @Override
    public void release(String node, List<UsageDelta> unused) {
        Map<Integer, List<Integer>> parts = byBucket(unused.size(), i -> unused.get(i).key().subject());
        List<CompletableFuture<Long>> sent = new ArrayList<>();
        for (List<Integer> idx : parts.values()) {
            String[] k = new String[idx.size()];
            String[] a = new String[1 + idx.size()];
            a[0] = node;
            for (int j = 0; j < idx.size(); j++) {
                k[j] = keys.counter(unused.get(idx.get(j)).key());
                a[j + 1] = Long.toString(unused.get(idx.get(j)).amount());
            }
            sent.add(Scripts.RELEASE.run(bulk, k, a));
        }
        Calls.Outcomes<Long> out = Calls.awaitAll(sent, timeout);
        if (out.failed()) {
            throw out.failure("Releasing grants of node " + node);
        }
    }

    @Override
    public long[] used(List<UsageKey> counters) {
        List<CompletableFuture<String>> sent = new ArrayList<>(counters.size());
        for (UsageKey k : counters) {
            sent.add(Calls.future(redis.hget(keys.counter(k), "used")));
        }
        Calls.Outcomes<String> out = Calls.awaitAll(sent, timeout);
        if (out.failed()) {
            throw new dev.tollgate.core.spi.StoreException("Reading " + counters.size() + " counters failed: "
                    + Calls.message(out.failures.get(0)), out.failures.get(0));
        }
        long[] used = new long[counters.size()];
        for (int i = 0; i < used.length; i++) {
            String v = out.values.get(i);
            used[i] = v == null ? 0 : Long.parseLong(v);
        }
        return used;
    }

    @Override
    public Set<String> appliedBatches(Collection<String> batchIds) {
        List<String> ids = new ArrayList<>(batchIds);
        List<CompletableFuture<Double>> sent = new ArrayList<>(ids.size());
        for (String id : ids) {
            sent.add(Calls.future(redis.zscore(keys.done(keys.bucket(id)), id)));
        }
        Calls.Outcomes<Double> out = Calls.awaitAll(sent, timeout);
        if (out.failed()) {
            throw new dev.tollgate.core.spi.StoreException("Reading applied batch ids failed: "
                    + Calls.message(out.failures.get(0)), out.failures.get(0));
        }
        Set<String> found = new HashSet<>();
        for (int i = 0; i < ids.size(); i++) {
            if (out.values.get(i) != null) {
                found.add(ids.get(i));
            }
        }
        return found;
    }

    /**
     * Several subjects' plans and overrides in one pipelined round: element {@code i} for
     * {@code subjects.get(i)}, {@link SubjectRecord#NONE} where the store holds nothing.
     */
    @Override
    public List<SubjectRecord> subjects(List<String> subjects) {
        List<CompletableFuture<Map<String, String>>> sent = new ArrayList<>(subjects.size());
        for (String s : subjects) {
            sent.add(Calls.future(redis.hgetall(keys.subject(s))));
        }
        Calls.Outcomes<Map<String, String>> out = Calls.awaitAll(sent, timeout);
        if (out.failed()) {
            throw new dev.tollgate.core.spi.StoreException("Reading " + subjects.size() + " subjects failed: "
                    + Calls.message(out.failures.get(0)), out.failures.get(0));
        }
        List<SubjectRecord> records = new ArrayList<>(subjects.size());
        for (Map<String, String> h : out.values) {
            records.add(record(h));
        }
        return records;
    }

    private static SubjectRecord record(Map<String, String> h) {
        Optional<String> plan = Optional.ofNullable(h.get("plan"));
        Map<String, List<Limit>> overrides = new LinkedHashMap<>();
        h.entrySet().stream().filter(e -> e.getKey().startsWith("o:")).sorted(Map.Entry.comparingByKey()).forEach(e -> {
            String[] qp = e.getKey().substring(2).split(":", 2);
            overrides.computeIfAbsent(qp[0], q -> new ArrayList<>())
                    .add(Limit.of(Long.parseLong(e.getValue()), Period.valueOf(qp[1])));
        });
        overrides.replaceAll((q, l) -> List.copyOf(l));
        return plan.isEmpty() && overrides.isEmpty() ? SubjectRecord.NONE : new SubjectRecord(plan, overrides);
    }

    @Override
    public void assignPlan(String subject, String plan, Instant at) {
        Calls.await(redis.hset(keys.subject(subject), "plan", plan), timeout, "Assigning a plan");
    }

    @Override
    public void setOverride(String subject, String quota, Limit limit) {
        Calls.await(redis.hset(keys.subject(subject), "o:" + quota + ":" + limit.period().name(),
                Long.toString(limit.max())), timeout, "Setting a limit");
    }

    @Override
    public int removeOverrides(String subject, String quota) {
        Long n = Calls.await(Scripts.REMOVE_OVERRIDES.<Long>run(redis, new String[] {keys.subject(subject)},
                "o:" + quota + ":"), timeout, "Removing limits");
        return n.intValue();
    }

    @Override
    public void putKey(String subject, String name, Instant at) {
        // One SET replaces the record whole: the time, and the label when there is one.
        String value = at.toEpochMilli() + (name == null ? "" : ":" + name);
        Calls.await(redis.set(keys.apiKey(subject), value), timeout, "Registering an API key");
    }

    @Override
    public boolean removeKey(String subject) {
        return Calls.await(redis.del(keys.apiKey(subject)), timeout, "Revoking an API key") > 0;
    }

    /** One pipelined round of {@code EXISTS}, one per subject. */
    @Override
    public boolean[] keys(List<String> subjects) {
        List<CompletableFuture<Long>> sent = new ArrayList<>(subjects.size());
        for (String s : subjects) {
            sent.add(Calls.future(redis.exists(keys.apiKey(s))));
        }
        Calls.Outcomes<Long> out = Calls.awaitAll(sent, timeout);
        if (out.failed()) {
            throw new dev.tollgate.core.spi.StoreException("Reading " + subjects.size() + " API keys failed: "
                    + Calls.message(out.failures.get(0)), out.failures.get(0));
        }
        boolean[] known = new boolean[subjects.size()];
        for (int i = 0; i < known.length; i++) {
            known[i] = out.values.get(i) > 0;
        }
        return known;
    }

    /** One script on the subject's hash: the quota's override fields deleted, the new ones set. */
    @Override
    public void replaceOverrides(String subject, String quota, List<Limit> limits) {
        String[] a = new String[1 + 2 * limits.size()];
        a[0] = "o:" + quota + ":";
        for (int i = 0; i < limits.size(); i++) {
            a[1 + 2 * i] = "o:" + quota + ":" + limits.get(i).period().name();
            a[2 + 2 * i] = Long.toString(limits.get(i).max());
        }
        Calls.await(Scripts.REPLACE_OVERRIDES.<Long>run(redis, new String[] {keys.subject(subject)}, a), timeout,
                "Replacing limits");
    }

    /**
     * Removes the batch records older than {@code before} from each bucket's sorted sets, one
     * {@code ZREMRANGEBYSCORE} per set (O(log n + removed) on the server, however many are due),
     * so {@code limit} does not apply here.
     */
    @Override
    public int prune(Instant before, int limit) {
        Range<Long> older = Range.from(Range.Boundary.unbounded(), Range.Boundary.excluding(before.toEpochMilli()));
        List<CompletableFuture<Long>> sent = new ArrayList<>();
        Range<String> expired = Range.from(Range.Boundary.unbounded(),
                Range.Boundary.excluding(Keys.windowPrefix(keys.expiredWindowsBefore(before.toEpochMilli()))));
        for (int b = 0; b < keys.buckets(); b++) {
            sent.add(Calls.future(bulk.zremrangebyscore(keys.done(b), older)));
            sent.add(Calls.future(bulk.zremrangebyscore(keys.applied(b), older)));
            // Index members of counters past their retention (counted as neither).
            sent.add(Calls.future(bulk.zremrangebylex(keys.windows(b), expired)).thenApply(n -> 0L));
        }
        Calls.Outcomes<Long> out = Calls.awaitAll(sent, timeout);
        if (out.failed()) {
            throw new dev.tollgate.core.spi.StoreException("Pruning batch ids failed: "
                    + Calls.message(out.failures.get(0)), out.failures.get(0));
        }
        // Batches, counted once each by their completion record; expired grants go with their
        // counters, or when a later grant on the counter finds them.
        int pruned = 0;
        for (int i = 0; i < out.values.size(); i += 3) {
            pruned += out.values.get(i).intValue();
        }
        return pruned;
    }

    /**
     * Nothing to delete: every counter carries a time to live, set by each write and grant, of
     * {@code usage-retention} after its window ends (see {@link Keys#keep}), so Redis drops it
     * on its own.
     */
    @Override
    public int purgeUsage(Period period, long windowsBefore, int limit) {
        return 0;
    }

    /**
     * Merges the bucket indexes ({@code P:{tag}:w}, lexical order = the window order): each
     * bucket in range gives up to {@code limit} members after the cursor that pass the filters,
     * the smallest {@code limit} of all are read (one pipelined round of {@code HGET}), and
     * members whose counter has expired are skipped (and the next ones read instead).
     */
    @Override
    public List<StoredUsage> windows(Instant from, Instant to, String subject, Period period, UsageKey after,
                                     int limit) {
        if (limit <= 0 || !from.isBefore(to)) {
            return List.of();
        }
        String cursor = after == null ? null : Keys.windowMember(after);
        while (true) {
            List<String> candidates = new ArrayList<>();
            int[] buckets = subject != null ? new int[] {keys.bucket(subject)}
                    : java.util.stream.IntStream.range(0, keys.buckets()).toArray();
            for (int b : buckets) {
                candidates.addAll(bucketWindows(b, from, to, subject, period, cursor, limit));
            }
            if (candidates.isEmpty()) {
                return List.of();
            }
            candidates.sort(null);
            List<String> page = candidates.subList(0, Math.min(limit, candidates.size()));
            List<CompletableFuture<String>> sent = new ArrayList<>(page.size());
            List<UsageKey> pageKeys = new ArrayList<>(page.size());
            for (String m : page) {
                UsageKey k = Keys.fromWindowMember(m);
                pageKeys.add(k);
                sent.add(Calls.future(redis.hget(keys.counter(k), "used")));
            }
            Calls.Outcomes<String> out = Calls.awaitAll(sent, timeout);
            if (out.failed()) {
                throw out.failure("Reading " + page.size() + " windows");
            }
            List<StoredUsage> found = new ArrayList<>(page.size());
            for (int i = 0; i < page.size(); i++) {
                String used = out.values.get(i);
                if (used != null) {
                    found.add(new StoredUsage(pageKeys.get(i), Long.parseLong(used)));
                }
            }
            if (!found.isEmpty() || page.size() < limit) {
                return found;
            }
            cursor = page.get(page.size() - 1);
        }
    }

    /** Up to {@code limit} members of one bucket's index after {@code cursor} that pass the filters. */
    private List<String> bucketWindows(int bucket, Instant from, Instant to, String subject, Period period,
                                       String cursor, int limit) {
        String start = Keys.windowPrefix(from.toEpochMilli());
        Range.Boundary<String> low = cursor != null && cursor.compareTo(start) >= 0 ? Range.Boundary.excluding(cursor)
                : Range.Boundary.including(start);
        Range.Boundary<String> high = Range.Boundary.excluding(Keys.windowPrefix(to.toEpochMilli()));
        List<String> out = new ArrayList<>();
        int step = Math.max(limit, 100);
        while (out.size() < limit) {
            List<String> got = Calls.await(bulk.zrangebylex(keys.windows(bucket), Range.from(low, high),
                    io.lettuce.core.Limit.create(0, step)), timeout, "Reading the windows of a bucket");
            for (String m : got) {
                UsageKey k = Keys.fromWindowMember(m);
                if ((subject == null || subject.equals(k.subject())) && (period == null || period == k.period())) {
                    out.add(m);
                    if (out.size() == limit) {
                        break;
                    }
                }
            }
            if (got.size() < step) {
                break;
            }
            low = Range.Boundary.excluding(got.get(got.size() - 1));
        }
        return out;
    }

    /** Request ids expire by themselves (each is written with its retention as TTL): nothing to delete. */
    @Override
    public int pruneRequests(Instant before, int limit) {
        return 0;
    }

    @Override
    public Optional<ExportLease> leaseExport(String stream, String node, Instant now, Duration ttl) {
        List<Object> r = Calls.await(Scripts.EXPORT_LEASE.<List<Object>>run(redis, new String[] {keys.export(stream)},
                node, Long.toString(now.toEpochMilli()), Long.toString(now.plus(ttl).toEpochMilli())),
                timeout, "Taking the export lease");
        if (((Number) r.get(0)).longValue() == 0) {
            return Optional.empty();
        }
        String after = (String) r.get(1);
        return Optional.of(new ExportLease(after.isEmpty() ? null : Keys.fromWindowMember(after)));
    }

    @Override
    public boolean advanceExport(String stream, String node, UsageKey after, Instant now, Duration ttl) {
        Long n = Calls.await(Scripts.EXPORT_ADVANCE.<Long>run(redis, new String[] {keys.export(stream)}, node,
                Long.toString(now.toEpochMilli()), Long.toString(now.plus(ttl).toEpochMilli()),
                Keys.windowMember(after)), timeout, "Moving the export cursor");
        return n == 1L;
    }

    @Override
    public void ping() {
        Calls.await(redis.ping(), timeout, "PING");
    }

    @Override
    public void close() {
        connection.close();
    }

    @Override
    public String toString() {
        return "RedisUsageStore{" + where + "}";
    }

    /** Indices 0..n-1 grouped by the bucket of their subject, in first-seen order. */
    private Map<Integer, List<Integer>> byBucket(int n, java.util.function.IntFunction<String> subject) {
        Map<Integer, List<Integer>> parts = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            parts.computeIfAbsent(keys.bucket(subject.apply(i)), b -> new ArrayList<>()).add(i);
        }
        return parts;
    }

    private static long num(Object o) {
        return o instanceof Long l ? l : Long.parseLong((String) o);
    }
}
