package dev.tollgate.core.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.TollgateConfig.SchemaMode;
import dev.tollgate.core.internal.jdbc.Dialect;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import dev.tollgate.core.spi.StoreException;
import dev.tollgate.core.spi.SubjectRecord;
import dev.tollgate.core.testing.FlakyDataSource;
import dev.tollgate.core.testing.ForwardingStore;
import dev.tollgate.core.testing.LogCapture;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A subject's limits: the plan from the store (or the default plan), the configured limits of
 * that plan, the subject's overrides; cached, re-read in the background on the engine's
 * ticker, kept when a re-read fails or cannot be queued. On a real H2 store.
 */
class PoliciesTest {
    private static final TollgateConfig CONFIG = TollgateConfig.custom()
            .limit("free", "requests", "100/day")
            .limit("free", "tokens", "5000/month")
            .limit("pro", "requests", "10/minute,1000/day")
            .policyRefreshAfter(Duration.ofSeconds(30))
            .metricsEnabled(false).build();

    TestDatabase db;
    FlakyDataSource flaky;
    JdbiUsageStore jdbc;
    final AtomicInteger subjectReads = new AtomicInteger();
    ForwardingStore store;
    final AtomicLong nanos = new AtomicLong();
    final Queue<Runnable> background = new ArrayDeque<>();

    @BeforeEach
    void open() {
        db = TestDatabases.h2();
        flaky = new FlakyDataSource(db.dataSource());
        jdbc = JdbiUsageStore.create(flaky, Dialect.H2, SchemaMode.CREATE, Duration.ofSeconds(10), null);
        store = new ForwardingStore(jdbc) {
            @Override
            public List<SubjectRecord> subjects(List<String> subjects) {
                subjectReads.incrementAndGet();
                return super.subjects(subjects);
            }
        };
    }

    @AfterEach
    void close() {
        if (db != null) {
            db.close();
        }
    }

    private Policies policies(Executor executor) {
        return new Policies(CONFIG, store, new StoreGuard(CONFIG), nanos::get, executor, Duration.ofSeconds(10));
    }

    private void runBackground() {
        Runnable r;
        while ((r = background.poll()) != null) {
            r.run();
        }
    }

    @Test
    void aSubjectWithoutAPlanGetsTheDefaultPlansLimits() {
        Policies p = policies(background::add);
        assertThat(p.getIfPresent("alice")).as("nothing read yet").isNull();
        SubjectPolicy alice = p.get("alice");
        assertThat(alice.plan()).isEqualTo("free");
        assertThat(alice.limits("requests")).containsExactly(Limit.of(100, Period.DAY));
        assertThat(alice.limits("uploads")).as("a quota the plan does not limit").isEmpty();
        assertThat(p.getIfPresent("alice")).isSameAs(alice);
        assertThat(p.get("alice")).isSameAs(alice);
        assertThat(subjectReads).as("read once, then cached").hasValue(1);
        assertThat(p.reads()).isEqualTo(1);
    }

    @Test
    void anAssignedPlanAndAnOverrideApplyAndTheOverrideReplacesOnlyItsQuota() {
        jdbc.assignPlan("bob", "pro", Instant.EPOCH);
        jdbc.setOverride("bob", "tokens", Limit.of(7, Period.HOUR));
        SubjectPolicy bob = policies(background::add).get("bob");
        assertThat(bob.plan()).isEqualTo("pro");
        assertThat(bob.limits("requests")).containsExactly(Limit.of(10, Period.MINUTE), Limit.of(1000, Period.DAY));
        assertThat(bob.limits("tokens")).containsExactly(Limit.of(7, Period.HOUR));
    }

    @Test
    void aPlanThatIsNotConfiguredFallsBackToTheDefaultWithOneWarning() {
        jdbc.assignPlan("carol", "gold", Instant.EPOCH);
        jdbc.assignPlan("dave", "gold", Instant.EPOCH);
        try (LogCapture log = LogCapture.start()) {
            Policies p = policies(background::add);
            assertThat(p.get("carol").plan()).isEqualTo("free");
            assertThat(p.get("dave").limits("requests")).containsExactly(Limit.of(100, Period.DAY));
            String text = log.text();
            assertThat(text).contains("plan 'gold', which is not configured");
            assertThat(text.indexOf("plan 'gold'")).as("warned once").isEqualTo(text.lastIndexOf("plan 'gold'"));
        }
    }

    @Test
    void aPolicyOlderThanTheRefreshAgeIsReReadInTheBackgroundAndServedMeanwhile() {
        Policies p = policies(background::add);
        SubjectPolicy first = p.get("erin");
        jdbc.assignPlan("erin", "pro", Instant.EPOCH);
        nanos.addAndGet(Duration.ofSeconds(29).toNanos());
        assertThat(p.getIfPresent("erin")).isSameAs(first);
        assertThat(background).as("not stale yet").isEmpty();
        nanos.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThat(p.getIfPresent("erin")).as("stale: still served").isSameAs(first);
        assertThat(p.getIfPresent("erin")).isSameAs(first);
        assertThat(background).as("one re-read queued, not one per call").hasSize(1);
        runBackground();
        assertThat(p.getIfPresent("erin").plan()).isEqualTo("pro");
        assertThat(subjectReads).hasValue(2);
    }

    @Test
    void aFailedReReadKeepsThePolicyAndIsTriedAgain() {
        Policies p = policies(background::add);
        SubjectPolicy first = p.get("fay");
        nanos.addAndGet(Duration.ofMinutes(1).toNanos());
        flaky.down(true);
        p.getIfPresent("fay");
        runBackground();
        assertThat(background).isEmpty();
        // The next call finds it still stale and queues it again (a failure does not leave it
        // marked as being re-read); it is served from the kept policy meanwhile.
        assertThat(p.getIfPresent("fay")).as("kept").isSameAs(first);
        assertThat(background).hasSize(1);
        flaky.down(false);
        jdbc.assignPlan("fay", "pro", Instant.EPOCH);
        runBackground();
        assertThat(p.getIfPresent("fay").plan()).isEqualTo("pro");
    }

    @Test
    void aReReadThatCannotBeQueuedIsTriedAgainOnTheNextCall() {
        AtomicInteger offered = new AtomicInteger();
        Policies p = policies(r -> {
            offered.incrementAndGet();
            throw new RejectedExecutionException("queue full");
        });
        SubjectPolicy first = p.get("gus");
        nanos.addAndGet(Duration.ofMinutes(1).toNanos());
        assertThat(p.getIfPresent("gus")).isSameAs(first);
        assertThat(p.getIfPresent("gus")).isSameAs(first);
        assertThat(offered).as("each call tries again: the refusal did not leave it 'refreshing'").hasValue(2);
    }

    @Test
    void aFirstReadThatFailsThrowsAndCachesNothing() {
        Policies p = policies(background::add);
        flaky.down(true);
        assertThatThrownBy(() -> p.get("hal")).isInstanceOf(StoreException.class);
        assertThat(p.getIfPresent("hal")).isNull();
        flaky.down(false);
        assertThat(p.get("hal").plan()).isEqualTo("free");
    }

    @Test
    void aReloadAppliesAnAdminChangeAtOnceAndAFailedOneForgetsThePolicy() {
        Policies p = policies(background::add);
        p.get("ivy");
        jdbc.assignPlan("ivy", "pro", Instant.EPOCH);
        p.reload("ivy");
        assertThat(p.getIfPresent("ivy").plan()).isEqualTo("pro");
        flaky.down(true);
        assertThatThrownBy(() -> p.reload("ivy")).isInstanceOf(StoreException.class);
        assertThat(p.getIfPresent("ivy")).as("not served from a stale entry").isNull();
        assertThat(subjectReads).as("get, reload, the failed reload").hasValue(3);
    }
}
