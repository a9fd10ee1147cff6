package dev.tollgate.core.durability;

import dev.tollgate.core.Decision;
import dev.tollgate.core.Reservation;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One Tollgate node in its own JVM, driven by {@link ChildJvm}: the durability and multi-node
 * tests start it with the test classpath and talk to it over stdin/stdout.
 *
 * <p>Arguments are {@code key=value}: {@code mode} ({@code crash}, {@code totals}, {@code idempotent},
 * {@code overshoot}, {@code strict}), {@code url}, {@code user}, {@code password}, and per
 * mode {@code journal}, {@code threads}, {@code subject}, {@code count}, {@code hold},
 * {@code limit}, {@code period}, {@code rate}, {@code seconds}, {@code refresh}, {@code flush},
 * {@code threshold}, {@code pool}. It prints {@code READY} once its engine is up, waits for {@code GO} on
 * stdin where a mode synchronises nodes, and ends with a {@code DONE ...} line.
 */
public final class NodeMain {
    /** stdout, flushed at every line: a printed line is in the pipe even if the JVM dies right after. */
    private static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), true,
            StandardCharsets.UTF_8);

    private NodeMain() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        String mode = a.get("mode");
        long limit = Long.parseLong(a.getOrDefault("limit", "1000000000000"));
        TollgateConfig.Builder config = TollgateConfig.custom()
                .storeUrl(a.get("url")).storeUser(a.getOrDefault("user", "")).storePassword(a.getOrDefault("password", ""))
                .poolSize(Integer.parseInt(a.getOrDefault("pool", "4")))
                .limit("free", "requests", limit + "/" + a.getOrDefault("period", "day"))
                .flushInterval(Duration.ofMillis(Long.parseLong(a.getOrDefault("flush", "500"))))
                .allotmentExpiry(Duration.ofMillis(Long.parseLong(a.getOrDefault("expiry", "30000"))))
                .shutdownTimeout(Duration.ofSeconds(30))
                .metricsEnabled(false);
        if (a.containsKey("journal")) {
            config.journalPath(a.get("journal"));
        }
        Tollgate tollgate = Tollgate.builder(config.build()).build();
        switch (mode) {
            case "crash" -> crash(tollgate, a);
            case "totals" -> totals(tollgate, a);
            case "idempotent" -> idempotent(tollgate, a);
            case "overshoot" -> overshoot(tollgate, a);
            case "admit" -> admit(tollgate, a);
            case "hold" -> hold(tollgate, a);
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        }
    }

    /**
     * Consumes 1 unit per call from {@code threads} threads, and after each call returns prints
     * {@code A <thread> <n>}: thread {@code thread} has had {@code n} consumptions
     * acknowledged. With {@code hold=N}, the threads stop once N were acknowledged in total and
     * {@code HOLD N} is printed; the node then waits to be killed. With {@code monitor=true},
     * a thread watches the engine's {@code processed} count and prints
     * {@code W <acknowledged> <queued> <processed>} each time it grows, the first two read
     * before the third: how many consumes had returned, then how many records were in the
     * channel, then how many were committed.
     */
    private static void crash(Tollgate t, Map<String, String> a) throws InterruptedException {
        String subject = a.get("subject");
        int threads = Integer.parseInt(a.getOrDefault("threads", "4"));
        long hold = Long.parseLong(a.getOrDefault("hold", "-1"));
        // Optional pacing: this many consumes per second over all threads.
        long interval = a.containsKey("rate") ? (long) (1e9 * threads / Double.parseDouble(a.get("rate"))) : 0;
        t.check(subject, "requests", 0);
        OUT.println("READY");
        AtomicLong total = new AtomicLong();
        AtomicLong acknowledged = new AtomicLong();
        CountDownLatch stopped = new CountDownLatch(threads);
        if (Boolean.parseBoolean(a.getOrDefault("monitor", "false"))) {
            Thread monitor = new Thread(() -> {
                long last = -1;
                while (true) {
                    long acked = acknowledged.get();
                    long queued = t.stats().queueDepth();
                    long processed = t.stats().processed();
                    if (processed != last) {
                        OUT.println("W " + acked + " " + queued + " " + processed);
                        last = processed;
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                }
            }, "monitor");
            monitor.setDaemon(true);
            monitor.start();
        }
        for (int i = 0; i < threads; i++) {
            int id = i;
            Thread th = new Thread(() -> {
                long n = 0;
                long next = System.nanoTime();
                while (hold < 0 || total.getAndIncrement() < hold) {
                    if (interval > 0) {
                        next += interval;
                        long wait = next - System.nanoTime();
                        if (wait > 0) {
                            LockSupport.parkNanos(wait);
                        }
                    }
                    t.consume(subject, "requests", 1);
                    acknowledged.incrementAndGet();
                    OUT.println("A " + id + " " + ++n);
                }
                stopped.countDown();
            }, "load-" + i);
            th.setDaemon(true);
            th.start();
        }
        stopped.await();
        OUT.println("HOLD " + hold);
        Thread.sleep(Long.MAX_VALUE);
    }

    /** Consumes {@code count} units spread over {@code subjects} subjects, closes, prints {@code DONE}. */
    private static void totals(Tollgate t, Map<String, String> a) throws Exception {
        int subjects = Integer.parseInt(a.getOrDefault("subjects", "5"));
        long count = Long.parseLong(a.get("count"));
        int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
        String prefix = a.get("subject");
        OUT.println("READY");
        awaitGo();
        Thread[] ths = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            int id = i;
            ths[i] = new Thread(() -> {
                for (long n = id; n < count; n += threads) {
                    String s = prefix + "-" + (n % subjects);
                    if (n % 3 == 0) {
                        t.check(s, "requests", 1);
                    }
                    t.consume(s, "requests", 1);
                }
            });
            ths[i].start();
        }
        for (Thread th : ths) {
            th.join();
        }
        t.close();
        OUT.println("DONE dropped=" + t.stats().dropped());
    }

    /**
     * Consumes {@code count} records with request ids {@code req-<n>} spread over
     * {@code subjects} subjects, half admitted and settled as the edge does, half consumed; each
     * record twice, the repeat after a flush (a client's retry); and one record without an id
     * per subject. Closes and prints {@code DONE dropped=<n>}.
     */
    private static void idempotent(Tollgate t, Map<String, String> a) throws Exception {
        int subjects = Integer.parseInt(a.getOrDefault("subjects", "5"));
        long count = Long.parseLong(a.get("count"));
        String prefix = a.get("subject");
        OUT.println("READY");
        awaitGo();
        for (int round = 0; round < 2; round++) {
            for (long n = 0; n < count; n++) {
                String s = prefix + "-" + (n % subjects);
                if (n % 2 == 0) {
                    t.reserve(s, "requests", 1).settle(1, "req-" + n);
                } else {
                    t.consume(s, "requests", 1, "req-" + n);
                }
            }
            t.flush();
        }
        for (int s = 0; s < subjects; s++) {
            t.consume(prefix + "-" + s, "requests", 1);
        }
        t.close();
        OUT.println("DONE dropped=" + t.stats().dropped());
    }

    /**
     * Sends {@code rate} requests per second for {@code seconds}: each is admitted (its unit
     * taken from the node's allotment) and settled, as the edge does. Prints
     * {@code DONE admitted=<n> denied=<n>}.
     */
    private static void overshoot(Tollgate t, Map<String, String> a) throws Exception {
        String subject = a.get("subject");
        double rate = Double.parseDouble(a.get("rate"));
        long seconds = Long.parseLong(a.get("seconds"));
        t.check(subject, "requests", 1);
        OUT.println("READY");
        awaitGo();
        long admitted = 0;
        long denied = 0;
        long start = System.nanoTime();
        long interval = (long) (1e9 / rate);
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        for (long next = start; next - end < 0; next += interval) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            Reservation r = t.reserve(subject, "requests", 1);
            if (r.decision().allowed()) {
                r.settle(1);
                admitted++;
            } else {
                denied++;
            }
        }
        t.close();
        OUT.println("DONE admitted=" + admitted + " denied=" + denied);
    }

    /**
     * {@code threads} threads reserve 1 unit, then settle it at 1, for {@code seconds}, as fast
     * as they can (or at {@code rate} per second over all threads). Prints
     * {@code DONE admitted=<n> denied=<n> ops=<n> nanos=<elapsed> last=<nanos to the last admission>}.
     */
    private static void admit(Tollgate t, Map<String, String> a) throws Exception {
        String subject = a.get("subject");
        int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
        long seconds = Long.parseLong(a.get("seconds"));
        // Optional pacing: this many requests per second over all threads of this node.
        long interval = a.containsKey("rate") ? (long) (1e9 * threads / Double.parseDouble(a.get("rate"))) : 0;
        t.check(subject, "requests", 1);
        OUT.println("READY");
        awaitGo();
        AtomicLong admitted = new AtomicLong();
        AtomicLong denied = new AtomicLong();
        AtomicLong lastAdmission = new AtomicLong();
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        Thread[] ths = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            ths[i] = new Thread(() -> {
                long next = System.nanoTime();
                while (System.nanoTime() - end < 0) {
                    if (interval > 0) {
                        next += interval;
                        long wait = next - System.nanoTime();
                        if (wait > 0) {
                            LockSupport.parkNanos(wait);
                        }
                    }
                    Reservation r = t.reserve(subject, "requests", 1);
                    if (r.decision().allowed()) {
                        r.settle(1);
                        admitted.incrementAndGet();
                        lastAdmission.accumulateAndGet(System.nanoTime() - start, Math::max);
                    } else {
                        denied.incrementAndGet();
                    }
                }
            });
            ths[i].start();
        }
        for (Thread th : ths) {
            th.join();
        }
        long nanos = System.nanoTime() - start;
        t.close();
        OUT.println("DONE admitted=" + admitted + " denied=" + denied + " ops=" + (admitted.get() + denied.get())
                + " nanos=" + nanos + " last=" + lastAdmission.get());
    }

    /**
     * Admits one request of {@code amount} and never settles it: the node holds the units
     * (in flight) until it is killed. Prints {@code HOLD <allowed>}.
     */
    private static void hold(Tollgate t, Map<String, String> a) throws Exception {
        OUT.println("READY");
        Reservation r = t.reserve(a.get("subject"), "requests", Long.parseLong(a.get("amount")));
        OUT.println("HOLD " + r.decision().allowed());
        Thread.sleep(Long.MAX_VALUE);
    }

    private static void awaitGo() throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("GO")) {
                return;
            }
        }
        throw new IllegalStateException("stdin closed before GO");
    }
}
