package dev.tollgate.store.redis;

import dev.tollgate.core.spi.InDoubtException;
import dev.tollgate.core.spi.StoreException;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waiting for pipelined commands, and telling a failure that ran nothing from one that may
 * have run. Stateless.
 */
final class Calls {
    /** Error replies Redis gives before it runs a command (or a script's first write). */
    private static final List<String> NOT_RUN = List.of("CLUSTERDOWN", "TRYAGAIN", "NOSCRIPT", "LOADING", "MASTERDOWN",
            "NOAUTH", "WRONGPASS", "NOPERM", "MOVED", "ASK", "READONLY", "CROSSSLOT");

    private Calls() {
    }

    /** The outcomes of several pipelined commands: each one's value, or its failure. */
    static final class Outcomes<T> {
        final List<T> values = new ArrayList<>();
        final List<Throwable> failures = new ArrayList<>();
        int attempted;

        boolean failed() {
            return !failures.isEmpty();
        }

        /**
         * The failure to throw: a plain {@link StoreException} when every command failed and
         * none of them can have run, else an {@link InDoubtException}.
         */
        StoreException failure(String what) {
            Throwable first = failures.get(0);
            boolean noneRan = failures.size() == attempted && failures.stream().allMatch(Calls::notRun);
            String m = what + (noneRan ? " failed: " : " has an unknown outcome: ") + message(first)
                    + (failures.size() > 1 ? " (and " + (failures.size() - 1) + " more)" : "");
            return noneRan ? new StoreException(m, first) : new InDoubtException(m, first);
        }
    }

    /** Waits for every future (they were all sent before the first wait: one pipelined round). */
    static <T> Outcomes<T> awaitAll(List<? extends CompletionStage<T>> futures, long timeoutMillis) {
        Outcomes<T> out = new Outcomes<>();
        out.attempted = futures.size();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        for (CompletionStage<T> f : futures) {
            try {
                long left = Math.max(1, deadline - System.nanoTime());
                out.values.add(f.toCompletableFuture().get(left, TimeUnit.NANOSECONDS));
            } catch (ExecutionException e) {
                out.values.add(null);
                out.failures.add(e.getCause() == null ? e : e.getCause());
            } catch (TimeoutException e) {
                out.values.add(null);
                out.failures.add(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                out.values.add(null);
                out.failures.add(e);
            }
        }
        return out;
    }

    /** Waits for one read or idempotent write; any failure is a {@link StoreException}. */
    static <T> T await(CompletionStage<T> future, long timeoutMillis, String what) {
        Outcomes<T> o = awaitAll(List.of(future), timeoutMillis);
        if (o.failed()) {
            throw new StoreException(what + " failed: " + message(o.failures.get(0)), o.failures.get(0));
        }
        return o.values.get(0);
    }

    /** Whether a failure shows that the command never ran. */
    static boolean notRun(Throwable e) {
        if (e instanceof RedisConnectionException) {
            return true;
        }
        String m = e.getMessage() == null ? "" : e.getMessage();
        if (m.startsWith("Currently not connected") || m.contains("Commands are rejected")) {
            return true;
        }
        return e instanceof RedisCommandExecutionException && NOT_RUN.stream().anyMatch(m::startsWith);
    }

    static String message(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
    }

    static <T> CompletableFuture<T> future(CompletionStage<T> stage) {
        return stage.toCompletableFuture();
    }
}
