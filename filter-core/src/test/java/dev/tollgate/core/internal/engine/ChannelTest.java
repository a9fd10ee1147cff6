package dev.tollgate.core.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The channel between producers and batchers: routing, lanes, capacity, markers, quiet. */
class ChannelTest {

    private static UsageEvent record(String subject) {
        return UsageEvent.unresolved(subject, "requests", 1, 0, null);
    }

    @Test
    void aSubjectAlwaysGoesToTheSameStripeAndSubjectsSpreadOverAllStripes() {
        Channel c = new Channel(4, 4096);
        Set<Channel.Stripe> used = new HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            String subject = "key:" + i;
            Channel.Stripe s = c.of(subject);
            assertThat(c.of(subject)).isSameAs(s);
            assertThat(c.of(new String(subject.toCharArray()))).as("by value, not identity").isSameAs(s);
            used.add(s);
        }
        assertThat(used).hasSize(4);
        Channel single = new Channel(1, 16);
        assertThat(single.of("a")).isSameAs(single.of("b")).isSameAs(single.stripe(0));
    }

    @Test
    void recordsOfOneSubjectAreTakenByItsStripeOnly() {
        Channel c = new Channel(3, 300);
        for (int i = 0; i < 10; i++) {
            assertThat(c.of("alice").offer(record("alice"))).isNotNull();
        }
        int holding = 0;
        for (int i = 0; i < c.stripeCount(); i++) {
            List<UsageEvent> taken = new ArrayList<>();
            c.stripe(i).drainAll(taken);
            if (!taken.isEmpty()) {
                holding++;
                assertThat(c.stripe(i)).isSameAs(c.of("alice"));
                assertThat(taken).hasSize(10).allMatch(e -> e.subject.equals("alice"));
            }
        }
        assertThat(holding).isEqualTo(1);
    }

    @Test
    void capacityIsSharedByStripesAndLargeStripesAreSplitIntoFourLanes() {
        Channel big = new Channel(2, 16_384);
        assertThat(big.capacity()).isEqualTo(16_384);
        assertThat(big.stripe(0).lanes).hasSize(4);
        assertThat(big.stripe(0).lanes[0].remainingCapacity()).isEqualTo(2_048);

        Channel small = new Channel(2, 1_000);
        assertThat(small.capacity()).isEqualTo(1_000);
        assertThat(small.stripe(1).lanes).as("500 per stripe: one lane").hasSize(1);
    }

    @Test
    void aFullStripeRefusesAndTheOtherLanesAreTriedFirst() {
        Channel c = new Channel(1, 4_096);
        Channel.Stripe s = c.stripe(0);
        List<ArrayBlockingQueue<UsageEvent>> lanesUsed = new ArrayList<>();
        for (int i = 0; i < 4_096; i++) {
            ArrayBlockingQueue<UsageEvent> lane = s.offer(record("a"));
            assertThat(lane).as("record %d", i).isNotNull();
            if (!lanesUsed.contains(lane)) {
                lanesUsed.add(lane);
            }
        }
        assertThat(lanesUsed).as("a full lane overflows into the others").hasSize(4);
        assertThat(s.offer(record("a"))).as("all four lanes full").isNull();
        assertThat(c.depth()).isEqualTo(4_096);

        List<UsageEvent> some = new ArrayList<>();
        assertThat(s.drainTo(some, 1_000)).isEqualTo(1_000);
        assertThat(c.depth()).isEqualTo(3_096);
        Aggregate rest = new Aggregate();
        c.drainInto(rest);
        assertThat(rest.records()).isEqualTo(3_096);
        assertThat(c.depth()).isZero();
    }

    @Test
    void markersAreCountedDownByTheFinalDrainAndCarryNoUsage() throws Exception {
        Channel c = new Channel(3, 300);
        c.of("a").offer(record("a"));
        CountDownLatch flush = new CountDownLatch(3);
        c.mark(flush);
        assertThat(c.depth()).isEqualTo(4);
        Aggregate into = new Aggregate();
        c.drainInto(into);
        assertThat(flush.await(0, TimeUnit.SECONDS)).as("every stripe's marker counted down").isTrue();
        assertThat(into.records()).isEqualTo(1);
    }

    @Test
    void awaitQuietWaitsForCallsUnderWayUntilItsDeadline() throws Exception {
        Channel c = new Channel(2, 100);
        Channel.Stripe s = c.enter();
        Thread leave = new Thread(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            s.inflight.decrementAndGet();
        });
        leave.start();
        c.awaitQuiet(System.nanoTime() + TimeUnit.SECONDS.toNanos(60));
        assertThat(s.inflight.get()).as("returned once the call was over").isZero();
        leave.join();

        Channel.Stripe stuck = c.enter();
        c.awaitQuiet(System.nanoTime());
        assertThat(stuck.inflight.get()).as("a passed deadline does not wait").isEqualTo(1);
    }
}
