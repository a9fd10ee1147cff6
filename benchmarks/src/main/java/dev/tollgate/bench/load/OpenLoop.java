package dev.tollgate.bench.load;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Open-loop, fixed-rate load: request {@code i} is due at a precomputed instant from a rate
 * schedule ({@link Phase}s), whatever happened to earlier requests. A pool of blocking
 * keep-alive HTTP/1.1 connections (one thread each) takes the next due request, waits for its
 * instant, sends it and records {@code answer time - intended start} into an HdrHistogram.
 * When the server stalls and every connection is busy, the requests that should have gone out
 * meanwhile are sent late, and their wait is part of their latency: the measurement is
 * corrected for coordinated omission by construction (the intended-start method, which is what
 * {@code Histogram.recordValueWithExpectedInterval} approximates after the fact).
 *
 * <p>Bounded: a schedule has a fixed number of requests, and requests still unsent some seconds after
 * the schedule's end ({@code slackSeconds}) are counted as {@code notSent} instead of being sent. Thread-safe
 * internally; one {@link #run} at a time.
 */
final class OpenLoop {
    private static final long HIGHEST_US = 60_000_000L;

    /** {@code qps} requests per second for {@code seconds}. */
    record Phase(double seconds, int qps) {
    }

    /** Latency of the requests intended in one second of the schedule. */
    record Second(int second, long count, long p50, long p99, long max) {
    }

    /** Outcome with the per-second series. */
    record Outcome(Result result, List<Second> perSecond) {
    }

    private OpenLoop() {
    }

    static Outcome run(int port, List<Phase> phases, int keys, int connections, int timeoutMs, int slackSeconds)
            throws InterruptedException {
        List<Long> offsets = new ArrayList<>();
        double phaseStart = 0;
        for (Phase ph : phases) {
            long n = Math.round(ph.seconds() * ph.qps());
            for (long i = 0; i < n; i++) {
                offsets.add((long) ((phaseStart + (double) i / ph.qps()) * 1e9));
            }
            phaseStart += ph.seconds();
        }
        long[] due = offsets.stream().mapToLong(Long::longValue).toArray();
        double scheduleSeconds = phaseStart;
        int secondsCount = (int) Math.ceil(scheduleSeconds) + 1;
        Histogram all = new Histogram(HIGHEST_US, 3);
        Histogram[] perSecond = new Histogram[secondsCount];
        for (int s = 0; s < secondsCount; s++) {
            perSecond[s] = new Histogram(HIGHEST_US, 2);
        }
        AtomicLong next = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong timeouts = new AtomicLong();
        AtomicLong notSent = new AtomicLong();
        AtomicLong completed = new AtomicLong();
        long start = System.nanoTime() + 50_000_000L;
        long hardDeadline = start + (long) ((scheduleSeconds + slackSeconds) * 1e9);
        byte[][] requests = new byte[Math.max(1, keys)][];
        for (int k = 0; k < requests.length; k++) {
            String key = keys > 1 ? "bench-" + k : "bench-hot";
            requests[k] = ("GET /api/hello HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nX-API-Key: " + key + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
        }
        Thread[] threads = new Thread[connections];
        for (int t = 0; t < connections; t++) {
            threads[t] = new Thread(() -> {
                Conn conn = null;
                while (true) {
                    long i = next.getAndIncrement();
                    if (i >= due.length) {
                        break;
                    }
                    long intended = start + due[(int) i];
                    long now;
                    while ((now = System.nanoTime()) < intended) {
                        LockSupport.parkNanos(intended - now);
                    }
                    if (now > hardDeadline) {
                        notSent.incrementAndGet();
                        continue;
                    }
                    try {
                        if (conn == null) {
                            conn = new Conn(port, timeoutMs);
                        }
                        int status = conn.exchange(requests[(int) (i % requests.length)]);
                        if (conn.closed) {
                            conn = close(conn);
                        }
                        long us = Math.min(HIGHEST_US, (System.nanoTime() - intended) / 1000);
                        completed.incrementAndGet();
                        if (status < 200 || status >= 400) {
                            errors.incrementAndGet();
                        }
                        synchronized (all) {
                            all.recordValue(us);
                        }
                        Histogram h = perSecond[(int) Math.min(secondsCount - 1, due[(int) i] / 1_000_000_000L)];
                        synchronized (h) {
                            h.recordValue(us);
                        }
                    } catch (SocketTimeoutException e) {
                        timeouts.incrementAndGet();
                        conn = close(conn);
                    } catch (IOException | RuntimeException e) {
                        errors.incrementAndGet();
                        conn = close(conn);
                    }
                }
                close(conn);
            }, "open-loop-" + t);
            threads[t].setDaemon(true);
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join(Math.max(1, (hardDeadline - System.nanoTime()) / 1_000_000 + timeoutMs + 2000L));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        List<Second> series = new ArrayList<>();
        for (int s = 0; s < secondsCount; s++) {
            Histogram h = perSecond[s];
            synchronized (h) {
                if (h.getTotalCount() > 0) {
                    series.add(new Second(s, h.getTotalCount(), h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getMaxValue()));
                }
            }
        }
        synchronized (all) {
            long n = completed.get();
            Result r = new Result("open-loop", seconds, n, n / Math.max(scheduleSeconds, 1e-9), all.getMean(),
                    all.getValueAtPercentile(50), all.getValueAtPercentile(99), all.getValueAtPercentile(99.9),
                    all.getMaxValue(), errors.get(), timeouts.get(), notSent.get());
            return new Outcome(r, series);
        }
    }

    private static Conn close(Conn c) {
        if (c != null) {
            try {
                c.socket.close();
            } catch (IOException e) {
                // closing a broken connection
            }
        }
        return null;
    }

    /** One keep-alive connection; reads status, headers and a Content-Length or chunked body. */
    private static final class Conn {
        final Socket socket;
        final OutputStream out;
        final InputStream in;
        final byte[] buf = new byte[8192];
        boolean closed;

        Conn(int port, int timeoutMs) throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMs);
            socket.setSoTimeout(timeoutMs);
            out = socket.getOutputStream();
            in = new BufferedInputStream(socket.getInputStream(), 16384);
        }

        int exchange(byte[] request) throws IOException {
            out.write(request);
            out.flush();
            String statusLine = line();
            int status = Integer.parseInt(statusLine.substring(9, 12));
            long length = -1;
            boolean chunked = false;
            boolean close = false;
            String h;
            while (!(h = line()).isEmpty()) {
                int colon = h.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String name = h.substring(0, colon).trim();
                String value = h.substring(colon + 1).trim();
                if (name.equalsIgnoreCase("Content-Length")) {
                    length = Long.parseLong(value);
                } else if (name.equalsIgnoreCase("Transfer-Encoding") && value.equalsIgnoreCase("chunked")) {
                    chunked = true;
                } else if (name.equalsIgnoreCase("Connection") && value.equalsIgnoreCase("close")) {
                    close = true;
                }
            }
            if (chunked) {
                while (true) {
                    long size = Long.parseLong(line().split(";")[0].trim(), 16);
                    if (size == 0) {
                        while (!line().isEmpty()) {
                            // trailers
                        }
                        break;
                    }
                    skip(size);
                    line();
                }
            } else if (length > 0) {
                skip(length);
            }
            closed = close;
            return status;
        }

        private void skip(long n) throws IOException {
            while (n > 0) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, n));
                if (r < 0) {
                    throw new IOException("connection closed in a body");
                }
                n -= r;
            }
        }

        private String line() throws IOException {
            StringBuilder sb = new StringBuilder(64);
            int c;
            while ((c = in.read()) != -1) {
                if (c == '\n') {
                    int len = sb.length();
                    if (len > 0 && sb.charAt(len - 1) == '\r') {
                        sb.setLength(len - 1);
                    }
                    return sb.toString();
                }
                sb.append((char) c);
            }
            throw new IOException("connection closed");
        }
    }
}
