package dev.tollgate.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU accounting from {@code /proc} (Linux), so that every figure can say how much of the
 * machine other processes took while it was measured.
 *
 * <p>A {@link Snapshot} holds the machine's busy and total ticks, this JVM's own ticks
 * (including reaped children such as {@code wrk} and {@code jcmd}) and the server's ticks.
 * {@link Snapshot#othersShare(Snapshot)} is the share of all CPUs used by everything else.
 * Not thread-safe; snapshots are immutable. On other systems every value is 0.
 */
final class CpuMeter {
    private CpuMeter() {
    }

    /** Ticks at one instant. */
    record Snapshot(long busy, long total, long self, long server, long nanos) {
        /** Share (0..1) of all CPUs used by processes other than the harness, its children and the server. */
        double othersShare(Snapshot before) {
            long dt = total - before.total;
            if (dt <= 0) {
                return 0;
            }
            long others = (busy - before.busy) - (self - before.self) - (server - before.server);
            return Math.max(0, Math.min(1, (double) others / dt));
        }

        /** Share (0..1) of all CPUs used by the server under test. */
        double serverShare(Snapshot before) {
            long dt = total - before.total;
            return dt <= 0 ? 0 : Math.max(0, Math.min(1, (double) (server - before.server) / dt));
        }

        /** Share (0..1) of all CPUs used by the load generators (this JVM and its reaped children). */
        double generatorShare(Snapshot before) {
            long dt = total - before.total;
            return dt <= 0 ? 0 : Math.max(0, Math.min(1, (double) (self - before.self) / dt));
        }
    }

    /** Reads the counters now; {@code serverPid} may be -1. */
    static Snapshot snapshot(long serverPid) {
        long busy = 0;
        long total = 0;
        try {
            String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
            String[] f = cpu.trim().split("\\s+");
            for (int i = 1; i < f.length && i <= 8; i++) {
                long v = Long.parseLong(f[i]);
                total += v;
                if (i != 4 && i != 5) { // idle, iowait
                    busy += v;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: zeros
        }
        long self = procTicks("self", true);
        long server = serverPid > 0 ? procTicks(Long.toString(serverPid), false) : 0;
        return new Snapshot(busy, total, self, server, System.nanoTime());
    }

    /** utime + stime (+ cutime + cstime when {@code withChildren}) of a process, in ticks. */
    static long procTicks(String pid, boolean withChildren) {
        try {
            String s = Files.readString(Path.of("/proc", pid, "stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            // f[0] is field 3 (state); utime is field 14.
            long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            if (withChildren) {
                t += Long.parseLong(f[13]) + Long.parseLong(f[14]);
            }
            return t;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** The 1-minute load average, or -1. */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
