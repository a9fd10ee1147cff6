package dev.tollgate.gateway;

import java.time.Duration;

/**
 * Counts admitted requests that are not charged yet, so that shutdown can wait for them
 * before the engine closes. Thread-safe.
 */
final class Settlements {
    private int pending;

    synchronized void begin() {
        pending++;
    }

    synchronized void end() {
        if (--pending == 0) {
            notifyAll();
        }
    }

    synchronized int pending() {
        return pending;
    }

    /** Waits until nothing is pending or {@code timeout} has passed; true if nothing is pending. */
    synchronized boolean awaitNone(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (pending > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }
}
