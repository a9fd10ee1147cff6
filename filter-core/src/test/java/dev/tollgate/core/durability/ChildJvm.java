package dev.tollgate.core.durability;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A {@link NodeMain} in its own JVM, started with this JVM's classpath. Its stdout goes to a
 * file that a thread follows (a file, not a pipe: what the child wrote survives its death
 * whatever the timing, while the JDK may close a dead child's pipe under a reader):
 * acknowledgement lines ({@code A <thread> <n>}) are kept as the highest count per thread,
 * other lines are queued for {@link #await}. Its stderr (the engine's log) goes to a file too,
 * under {@code target/child-jvm-logs}.
 */
final class ChildJvm implements AutoCloseable {
    private final String name;
    private final Process process;
    private final Writer stdin;
    private final Thread reader;
    private final Map<Integer, Long> acks = new ConcurrentHashMap<>();
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    /** The {@code W} lines of a monitored node, in order: {acknowledged, queued, processed}. */
    private final List<long[]> writes = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Path log;
    private final Path out;

    private ChildJvm(String name, Process process, Path log, Path out) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.out = out;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.reader = new Thread(this::read, "child-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code NodeMain} with {@code args} ({@code key=value}). */
    static ChildJvm start(String name, String... args) throws IOException {
        Path logs = Path.of("target", "child-jvm-logs");
        Files.createDirectories(logs);
        long id = System.nanoTime();
        Path log = logs.resolve(name + "-" + id + ".log");
        Path out = logs.resolve(name + "-" + id + ".out");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(NodeMain.class.getName());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).redirectOutput(out.toFile()).start();
        return new ChildJvm(name, p, log, out);
    }

    private void read() {
        try (java.io.InputStream in = Files.newInputStream(out)) {
            java.io.ByteArrayOutputStream partial = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[65536];
            while (true) {
                boolean exited = !process.isAlive();
                int n = in.read(buf);
                if (n > 0) {
                    for (int i = 0; i < n; i++) {
                        if (buf[i] == '\n') {
                            line(partial.toString(StandardCharsets.UTF_8));
                            partial.reset();
                        } else {
                            partial.write(buf[i]);
                        }
                    }
                } else if (exited) {
                    return; // read to the end after the child was gone: nothing more will come
                } else {
                    Thread.sleep(2);
                }
            }
        } catch (IOException | RuntimeException e) {
            lines.add("READ-ERROR " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void line(String line) {
        if (line.startsWith("A ")) {
            int sp = line.indexOf(' ', 2);
            int thread = Integer.parseInt(line.substring(2, sp));
            long n = Long.parseLong(line.substring(sp + 1));
            acks.merge(thread, n, Math::max);
        } else if (line.startsWith("W ")) {
            String[] f = line.split(" ");
            writes.add(new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])});
        } else {
            lines.add(line);
        }
    }

    /** The first line (other than acknowledgements) that matches, waiting at most {@code timeout}. */
    String await(Predicate<String> match, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
            if (line == null) {
                throw new AssertionError("child " + name + " printed no matching line within " + timeout
                        + (process.isAlive() ? "" : " (it exited with " + process.exitValue() + ")") + "; its log: "
                        + log.toAbsolutePath() + tail());
            }
            if (match.test(line)) {
                return line;
            }
        }
    }

    /** Waits until the acknowledged total reaches {@code n}. */
    void awaitAcks(long n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (acked() < n) {
            if (System.nanoTime() - deadline > 0 || !process.isAlive()) {
                throw new AssertionError("child " + name + " acknowledged " + acked() + " of " + n + "; its log: "
                        + log.toAbsolutePath() + tail());
            }
            Thread.sleep(5);
        }
    }

    /** Consumptions acknowledged so far: the sum over threads of the highest count printed. */
    long acked() {
        return acks.values().stream().mapToLong(Long::longValue).sum();
    }

    /** What a node started with {@code monitor=true} printed about its writes, in order. */
    List<long[]> writes() {
        return List.copyOf(writes);
    }

    void send(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
    }

    /** SIGKILL on Linux: no shutdown hook, no finally block runs in the child. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
        // Everything the child printed before it died is in the pipe: read it all.
        reader.join(TimeUnit.SECONDS.toMillis(30));
    }

    int waitFor(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("child " + name + " did not exit within " + timeout + "; its log: "
                    + log.toAbsolutePath() + tail());
        }
        reader.join(TimeUnit.SECONDS.toMillis(30));
        return process.exitValue();
    }

    private String tail() {
        try {
            List<String> all = Files.readAllLines(log);
            return "\n  " + String.join("\n  ", all.subList(Math.max(0, all.size() - 15), all.size()));
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
