package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.spi.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reads by subject that the threads needing them share: a thread joins the read already under
 * way for its subject or queues one; queued subjects go to the store together ({@link Coalescer}:
 * up to {@code chunk} per call, {@code readers} calls at once), and each thread waits a bounded
 * time for its answer. Used for first contacts' plans ({@link Policies}) and for API keys no
 * cache answers ({@link KeyRegistry}). Thread-safe.
 *
 * @param <R> what the store returns per subject
 * @param <V> what the waiting threads get
 */
final class SharedReads<R, V> {

    /** Reads the subjects' values in one store call, in their order. */
    interface Reader<R> {
        List<R> read(List<String> subjects);
    }

    /**
     * Takes one subject's value as read (the read was queued at {@code startedAt} and answered
     * at {@code now}, on the ticker) and returns what its waiting threads get.
     */
    interface Answer<R, V> {
        V accept(String subject, R read, long startedAt, long now);
    }

    /** A subject being read, and the answer every thread that needs it waits for. */
    private final class Loading {
        final String subject;
        final long startedAt;
        final CompletableFuture<V> done = new CompletableFuture<>();

        Loading(String subject, long startedAt) {
            this.subject = subject;
            this.startedAt = startedAt;
        }
    }

    private final ConcurrentHashMap<String, Loading> loading = new ConcurrentHashMap<>();
    private final Coalescer<Loading> coalescer;
    private final Reader<R> reader;
    private final Answer<R, V> answer;
    private final Ticker ticker;
    private final long waitMillis;
    private final String what;
    private final LongAdder calls = new LongAdder();
    private final LongAdder items = new LongAdder();

    /**
     * @param what       what is read, for error messages ("a policy", "an API key")
     * @param waitMillis longest a thread waits for its answer
     */
    SharedReads(int readers, int chunk, Ticker ticker, long waitMillis, String what, Reader<R> reader,
                Answer<R, V> answer) {
        this.coalescer = new Coalescer<>(readers, chunk, this::readChunk);
        this.reader = reader;
        this.answer = answer;
        this.ticker = ticker;
        this.waitMillis = waitMillis;
        this.what = what;
    }

    /**
     * The subject's value, read with the others queued meanwhile.
     *
     * @throws RuntimeException what the read threw; a {@link StoreException} when no answer came
     *                          within the wait
     */
    V get(String subject) {
        Loading mine = new Loading(subject, ticker.read());
        Loading l = loading.putIfAbsent(subject, mine);
        if (l == null) {
            l = mine;
            coalescer.add(mine);
        }
        coalescer.send();
        try {
            return l.done.get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException re ? re : new StoreException("Reading " + what + " failed: " + c, c);
        } catch (TimeoutException e) {
            throw new StoreException("No read of " + what + " within " + waitMillis + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("Interrupted while waiting for a read of " + what, e);
        }
    }

    /** Store calls made, since start. */
    long calls() {
        return calls.sum();
    }

    /** Subjects read, since start. */
    long items() {
        return items.sum();
    }

    private void readChunk(List<Loading> chunk) {
        List<String> names = new ArrayList<>(chunk.size());
        for (Loading l : chunk) {
            names.add(l.subject);
        }
        calls.increment();
        items.add(chunk.size());
        List<R> values;
        try {
            values = reader.read(names);
        } catch (RuntimeException e) {
            for (Loading l : chunk) {
                loading.remove(l.subject, l);
                l.done.completeExceptionally(e);
            }
            return;
        }
        long now = ticker.read();
        for (int i = 0; i < chunk.size(); i++) {
            Loading l = chunk.get(i);
            V v = answer.accept(l.subject, values.get(i), l.startedAt, now);
            loading.remove(l.subject, l);
            l.done.complete(v);
        }
    }
}
