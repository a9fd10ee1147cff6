package dev.tollgate.core.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * A TCP proxy between the engine and a real PostgreSQL that a test can break on purpose.
 * It listens on {@code 127.0.0.1:0} and forwards to the upstream server; {@link #jdbcUrl}
 * turns a direct JDBC URL into one that goes through the proxy. Faults, switchable at any
 * moment while connections are open:
 *
 * <ul>
 * <li>{@link #pass()}: forward everything (the default);</li>
 * <li>{@link #cut()}: close every open connection, and reset new ones at once (the server is
 *     "down": connect attempts fail fast);</li>
 * <li>{@link #blackhole()}: keep every connection open and accept new ones, but forward
 *     nothing in either direction (a network partition: clients wait until their own timeouts).
 *     What was held is delivered when the fault ends, as TCP would after a healed partition;</li>
 * <li>{@link #slow(Duration)}: deliver every server response {@code delay} late, so each
 *     round trip takes {@code delay} longer;</li>
 * <li>{@link #dropNextCommitResponses(int)}: forward the next COMMIT(s) to the server, let
 *     the server commit, then swallow its answer and close the client's connection — the
 *     client cannot know whether its transaction was applied.</li>
 * </ul>
 *
 * <p>To see COMMITs, the proxy reads the PostgreSQL wire protocol (v3) minimally: it frames
 * the messages of both directions, answers {@code SSLRequest} and {@code GSSENCRequest} with
 * {@code 'N'} itself (so the session stays in clear text), recognises a simple-protocol
 * {@code Query} whose text is {@code COMMIT} / {@code END}, and in the extended protocol a
 * {@code Bind} of a statement that a {@code Parse} prepared from {@code COMMIT} (pgjdbc turns
 * its commit into a named server-side statement after a few uses). Everything else passes
 * byte for byte.
 *
 * <p>Thread-safe; every connection uses four daemon threads. A test tool, not production code.
 */
public final class FaultProxy implements AutoCloseable {
    private static final int SSL_REQUEST = 80877103;
    private static final int GSSENC_REQUEST = 80877104;
    private static final int CANCEL_REQUEST = 80877102;
    private static final Pattern COMMIT_SQL = Pattern.compile("\\s*(?i:commit|end)(?:\\s+(?i:work|transaction))?\\s*;?\\s*");

    /** What the proxy does with traffic right now. */
    public enum Mode {
        PASS, CUT, BLACKHOLE, SLOW
    }

    private final ServerSocket server;
    private final String upstreamHost;
    private final int upstreamPort;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    private final AtomicInteger commitsToDrop = new AtomicInteger();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger reset = new AtomicInteger();
    private final AtomicInteger droppedCommitAnswers = new AtomicInteger();
    private final Thread acceptor;
    private volatile Mode mode = Mode.PASS;
    private volatile long delayNanos;
    private volatile boolean closed;

    private FaultProxy(String upstreamHost, int upstreamPort) throws IOException {
        this.upstreamHost = upstreamHost;
        this.upstreamPort = upstreamPort;
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
        this.acceptor = new Thread(this::acceptLoop, "fault-proxy-accept-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A proxy in front of {@code host:port}, passing traffic. */
    public static FaultProxy start(String upstreamHost, int upstreamPort) {
        try {
            return new FaultProxy(upstreamHost, upstreamPort);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start the fault proxy", e);
        }
    }

    /** A proxy in front of the test PostgreSQL ({@link TestDatabases#pgUrl()}). */
    public static FaultProxy toTestPostgres() {
        URI u = URI.create(TestDatabases.pgUrl().substring("jdbc:".length()));
        return start(u.getHost(), u.getPort() < 0 ? 5432 : u.getPort());
    }

    /** The local port clients connect to. */
    public int port() {
        return server.getLocalPort();
    }

    /**
     * {@code directUrl} (a {@code jdbc:postgresql://host:port/db?...} URL of the upstream
     * server) pointed at this proxy, with {@code sslmode=disable} and the extra parameters
     * (e.g. {@code "socketTimeout=2"}) appended.
     */
    public String jdbcUrl(String directUrl, String... extraParams) {
        String prefix = "jdbc:postgresql://";
        if (!directUrl.startsWith(prefix)) {
            throw new IllegalArgumentException("not a PostgreSQL URL: " + directUrl);
        }
        String rest = directUrl.substring(prefix.length());
        int slash = rest.indexOf('/');
        StringBuilder url = new StringBuilder(prefix).append("127.0.0.1:").append(port())
                .append(slash < 0 ? "/" : rest.substring(slash));
        List<String> params = new ArrayList<>();
        params.add("sslmode=disable");
        params.addAll(List.of(extraParams));
        for (String p : params) {
            url.append(url.indexOf("?") < 0 ? '?' : '&').append(p);
        }
        return url.toString();
    }

    public Mode mode() {
        return mode;
    }

    /** Forward everything. Traffic held by a black hole or a delay is delivered now. */
    public void pass() {
        setMode(Mode.PASS, 0);
    }

    /** Close every open connection and reset new ones at once until {@link #pass()}. */
    public void cut() {
        setMode(Mode.CUT, 0);
        for (Link l : links) {
            l.close();
        }
    }

    /** Keep and accept connections but forward nothing until the mode changes. */
    public void blackhole() {
        setMode(Mode.BLACKHOLE, 0);
    }

    /** Deliver each server response {@code delay} after the server sent it. */
    public void slow(Duration delay) {
        setMode(Mode.SLOW, delay.toNanos());
    }

    /**
     * The next {@code n} COMMITs reach the server and are carried out, but their answers are
     * swallowed and the client's connection is closed.
     */
    public void dropNextCommitResponses(int n) {
        commitsToDrop.set(n);
    }

    /** COMMIT answers swallowed so far (each after the server answered it). */
    public int droppedCommitAnswers() {
        return droppedCommitAnswers.get();
    }

    /** COMMITs still to be dropped. */
    public int commitsStillToDrop() {
        return commitsToDrop.get();
    }

    /** Client connections accepted so far (including those reset during a cut). */
    public int accepted() {
        return accepted.get();
    }

    /** Client connections reset at once because the proxy was cut. */
    public int resetDuringCut() {
        return reset.get();
    }

    /** Server messages read but not yet delivered to clients (held by a delay or a black hole). */
    public int heldAnswers() {
        int n = 0;
        for (Link l : links) {
            n += l.toClient.size();
        }
        return n;
    }

    /** Connections open right now. */
    public int openConnections() {
        return links.size();
    }

    private void setMode(Mode m, long delay) {
        synchronized (gate) {
            delayNanos = delay;
            mode = m;
            gate.notifyAll();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("fault proxy: accept failed: " + e);
                }
                return;
            }
            accepted.incrementAndGet();
            if (mode == Mode.CUT) {
                reset.incrementAndGet();
                resetNow(client);
                continue;
            }
            Link link = new Link(client);
            links.add(link);
            Thread t = new Thread(link::open, "fault-proxy-open-" + client.getPort());
            t.setDaemon(true);
            t.start();
        }
    }

    private static void resetNow(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // closing anyway
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    /**
     * Waits until traffic may flow. Returns {@code false} if the link must close (cut, proxy
     * closed, interrupted).
     */
    private boolean awaitFlow(Link link) {
        synchronized (gate) {
            while (mode == Mode.BLACKHOLE && !closed && !link.closed.get()) {
                try {
                    gate.wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return mode != Mode.CUT && !closed && !link.closed.get();
        }
    }

    /** Stops accepting and closes every connection. */
    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        for (Link l : links) {
            l.close();
        }
        synchronized (gate) {
            gate.notifyAll();
        }
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A chunk of bytes on its way, stamped with when it was read. */
    private record Chunk(byte[] bytes, long readAt, boolean eof) {
        static final Chunk EOF = new Chunk(new byte[0], 0, true);
    }

    /** One client connection and its upstream connection. */
    private final class Link {
        final Socket client;
        volatile Socket upstream;
        final AtomicBoolean closed = new AtomicBoolean();
        /** Directions whose end has been passed on. */
        final AtomicInteger ended = new AtomicInteger();
        final LinkedBlockingQueue<Chunk> toServer = new LinkedBlockingQueue<>();
        final LinkedBlockingQueue<Chunk> toClient = new LinkedBlockingQueue<>();
        final List<Thread> threads = new ArrayList<>();
        /** Names of prepared statements whose text is COMMIT ("" is the unnamed one). */
        final Set<String> commitStatements = new HashSet<>();
        /** The server's answer to a COMMIT that is on its way must be swallowed. */
        volatile boolean swallowCommitAnswer;

        Link(Socket client) {
            this.client = client;
        }

        void open() {
            // A new connection in a black hole is kept, unanswered, until the fault ends.
            if (!awaitFlow(this)) {
                close();
                return;
            }
            try {
                Socket up = new Socket();
                up.connect(new InetSocketAddress(upstreamHost, upstreamPort), 5000);
                up.setTcpNoDelay(true);
                client.setTcpNoDelay(true);
                upstream = up;
            } catch (IOException e) {
                close();
                return;
            }
            synchronized (threads) {
                if (closed.get()) {
                    closeQuietly(upstream);
                    return;
                }
                start("c2s-read", this::readClient);
                start("c2s-write", () -> write(toServer, upstream, false));
                start("s2c-read", this::readServer);
                start("s2c-write", () -> write(toClient, client, true));
            }
        }

        private void start(String name, Runnable r) {
            Thread t = new Thread(r, "fault-proxy-" + name + "-" + client.getPort());
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }

        /** Frames the client's messages: the untyped start-up packets, then typed messages. */
        private void readClient() {
            try {
                DataInputStream in = new DataInputStream(client.getInputStream());
                boolean startup = true;
                while (startup) {
                    int len = in.readInt();
                    if (len < 8 || len > 10_000) {
                        throw new IOException("unexpected start-up packet length " + len);
                    }
                    byte[] body = new byte[len - 4];
                    in.readFully(body);
                    int code = ((body[0] & 0xff) << 24) | ((body[1] & 0xff) << 16) | ((body[2] & 0xff) << 8)
                            | (body[3] & 0xff);
                    if (code == SSL_REQUEST || code == GSSENC_REQUEST) {
                        // Keep the session in clear text so that COMMITs can be seen.
                        toClient.add(new Chunk(new byte[] {'N'}, System.nanoTime(), false));
                        continue;
                    }
                    toServer.add(new Chunk(concat(intBytes(len), body), System.nanoTime(), false));
                    if (code == CANCEL_REQUEST) {
                        pipeRaw(in);
                        return;
                    }
                    startup = false;
                }
                while (true) {
                    int type = in.read();
                    if (type < 0) {
                        break;
                    }
                    int len = in.readInt();
                    if (len < 4) {
                        throw new IOException("unexpected message length " + len);
                    }
                    byte[] body = new byte[len - 4];
                    in.readFully(body);
                    inspectClientMessage((char) type, body);
                    byte[] msg = new byte[len + 1];
                    msg[0] = (byte) type;
                    System.arraycopy(intBytes(len), 0, msg, 1, 4);
                    System.arraycopy(body, 0, msg, 5, body.length);
                    toServer.add(new Chunk(msg, System.nanoTime(), false));
                }
            } catch (IOException e) {
                // connection ended
            }
            toServer.add(Chunk.EOF);
        }

        private void pipeRaw(InputStream in) throws IOException {
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) >= 0) {
                byte[] copy = new byte[n];
                System.arraycopy(buf, 0, copy, 0, n);
                toServer.add(new Chunk(copy, System.nanoTime(), false));
            }
        }

        private void inspectClientMessage(char type, byte[] body) {
            switch (type) {
                case 'Q' -> {
                    if (isCommit(cstring(body, 0))) {
                        armDrop();
                    }
                }
                case 'P' -> {
                    String name = cstring(body, 0);
                    String sql = cstring(body, name.getBytes(StandardCharsets.UTF_8).length + 1);
                    if (isCommit(sql)) {
                        commitStatements.add(name);
                    } else {
                        commitStatements.remove(name);
                    }
                }
                case 'B' -> {
                    String portal = cstring(body, 0);
                    String statement = cstring(body, portal.getBytes(StandardCharsets.UTF_8).length + 1);
                    if (commitStatements.contains(statement)) {
                        armDrop();
                    }
                }
                case 'C' -> {
                    // Close of a statement ('S') or portal ('P'): forget a closed COMMIT statement.
                    if (body.length > 1 && body[0] == 'S') {
                        commitStatements.remove(cstring(body, 1));
                    }
                }
                default -> {
                }
            }
        }

        private void armDrop() {
            if (commitsToDrop.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
                swallowCommitAnswer = true;
            }
        }

        /** Frames the server's messages; swallows the answer to a COMMIT marked for dropping. */
        private void readServer() {
            boolean sawCommitTag = false;
            try {
                DataInputStream in = new DataInputStream(upstream.getInputStream());
                while (true) {
                    int type = in.read();
                    if (type < 0) {
                        break;
                    }
                    int len = in.readInt();
                    if (len < 4) {
                        throw new IOException("unexpected message length " + len);
                    }
                    byte[] body = new byte[len - 4];
                    in.readFully(body);
                    if (swallowCommitAnswer) {
                        if (type == 'C') {
                            sawCommitTag = true;
                        }
                        if (type == 'Z' && sawCommitTag) {
                            // The server has committed and said so; the client never hears it.
                            droppedCommitAnswers.incrementAndGet();
                            close();
                            return;
                        }
                        continue;
                    }
                    byte[] msg = new byte[len + 1];
                    msg[0] = (byte) type;
                    System.arraycopy(intBytes(len), 0, msg, 1, 4);
                    System.arraycopy(body, 0, msg, 5, body.length);
                    toClient.add(new Chunk(msg, System.nanoTime(), false));
                }
            } catch (IOException e) {
                // connection ended
            }
            toClient.add(Chunk.EOF);
        }

        /**
         * Delivers chunks in order: held while the proxy is a black hole, and, for server
         * answers ({@code delayed}), each {@code delay} after it was read while the proxy is slow.
         * The end of one direction half-closes the other side (as TCP would); the link closes
         * when both directions have ended, or on any error.
         */
        private void write(LinkedBlockingQueue<Chunk> queue, Socket target, boolean delayed) {
            try {
                OutputStream out = target.getOutputStream();
                while (!closed.get()) {
                    Chunk c = queue.take();
                    if (!(delayed ? waitForDelay(c) : awaitFlow(this))) {
                        break;
                    }
                    if (c.eof()) {
                        out.flush();
                        target.shutdownOutput();
                        if (ended.incrementAndGet() < 2) {
                            return;
                        }
                        break;
                    }
                    out.write(c.bytes());
                    if (queue.isEmpty()) {
                        out.flush();
                    }
                }
            } catch (IOException e) {
                // connection ended
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            close();
        }

        /** Sleeps until {@code readAt + delay}; the delay is re-read so a change of mode applies at once. */
        private boolean waitForDelay(Chunk c) throws InterruptedException {
            synchronized (gate) {
                while (!closed.get()) {
                    if (mode == Mode.BLACKHOLE) {
                        gate.wait(100);
                        continue;
                    }
                    if (mode == Mode.CUT) {
                        return false;
                    }
                    long d = mode == Mode.SLOW ? delayNanos : 0;
                    long left = c.readAt() + d - System.nanoTime();
                    if (left <= 0) {
                        return true;
                    }
                    gate.wait(Math.max(1, (left + 999_999) / 1_000_000));
                }
                return false;
            }
        }

        void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            links.remove(this);
            closeQuietly(client);
            closeQuietly(upstream);
            synchronized (threads) {
                for (Thread t : threads) {
                    if (t != Thread.currentThread()) {
                        t.interrupt();
                    }
                }
            }
        }
    }

    static boolean isCommit(String sql) {
        return COMMIT_SQL.matcher(sql).matches();
    }

    private static String cstring(byte[] b, int from) {
        int end = from;
        while (end < b.length && b[end] != 0) {
            end++;
        }
        return from >= b.length ? "" : new String(b, from, end - from, StandardCharsets.UTF_8);
    }

    private static byte[] intBytes(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
