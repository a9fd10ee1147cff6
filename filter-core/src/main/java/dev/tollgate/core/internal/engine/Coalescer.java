package dev.tollgate.core.internal.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Turns many callers' store requests into few store calls: callers {@link #add} what they
 * need and call {@link #send}; up to {@code maxSenders} of them at once take what is queued,
 * up to {@code chunk} items, and hand it to the sink in one call, while the others go on
 * (usually to wait for their answer). A sender looks at the queue again when its call
 * returns, so nothing queued is left behind. The sink answers the items itself and must not
 * throw. Thread-safe.
 */
final class Coalescer<T> {
    private final ConcurrentLinkedQueue<T> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger senders = new AtomicInteger();
    private final int maxSenders;
    private final int chunk;
    private final Consumer<List<T>> sink;

    Coalescer(int maxSenders, int chunk, Consumer<List<T>> sink) {
        this.maxSenders = maxSenders;
        this.chunk = chunk;
        this.sink = sink;
    }

    void add(T item) {
        queue.add(item);
    }

    /** Sends what is queued, unless {@code maxSenders} threads are sending already (they then send it). */
    void send() {
        while (!queue.isEmpty()) {
            int n = senders.get();
            if (n >= maxSenders) {
                return;
            }
            if (!senders.compareAndSet(n, n + 1)) {
                continue;
            }
            try {
                List<T> items = new ArrayList<>(Math.min(chunk, 64));
                T item;
                while (items.size() < chunk && (item = queue.poll()) != null) {
                    items.add(item);
                }
                if (!items.isEmpty()) {
                    sink.accept(items);
                }
            } finally {
                senders.decrementAndGet();
            }
        }
    }
}
