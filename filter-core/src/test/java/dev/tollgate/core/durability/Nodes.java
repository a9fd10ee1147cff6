package dev.tollgate.core.durability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.testing.TestDatabase;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Several {@link NodeMain} JVMs on one database: started together, released together, their results read. */
final class Nodes {
    static final Duration STARTUP = Duration.ofSeconds(120);
    private static final Pattern DONE = Pattern.compile(
            "DONE admitted=(\\d+) denied=(\\d+)(?: ops=(\\d+) nanos=(\\d+))?(?: last=(\\d+))?");

    private Nodes() {
    }

    /** The arguments every node needs to reach {@code db}. */
    static List<String> base(TestDatabase db) {
        return new ArrayList<>(List.of("url=" + db.url(), "user=" + db.user(), "password=" + db.password()));
    }

    static List<ChildJvm> start(int n, String name, List<String> args) throws IOException {
        List<ChildJvm> nodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            nodes.add(ChildJvm.start(name + "-" + i, args.toArray(String[]::new)));
        }
        return nodes;
    }

    /** Waits until every node is ready, then lets them all go. */
    static void go(List<ChildJvm> nodes) throws Exception {
        for (ChildJvm c : nodes) {
            c.await("READY"::equals, STARTUP);
        }
        for (ChildJvm c : nodes) {
            c.send("GO");
        }
    }

    /**
     * Each node's {@code DONE} line as {admitted, denied, ops, nanos, last admission nanos}; the
     * nodes have exited when this returns.
     */
    static List<long[]> done(List<ChildJvm> nodes, Duration timeout) throws Exception {
        List<long[]> out = new ArrayList<>();
        for (ChildJvm c : nodes) {
            Matcher m = DONE.matcher(c.await(l -> l.startsWith("DONE"), timeout));
            assertThat(m.matches()).isTrue();
            long[] r = new long[5];
            for (int g = 1; g <= 5; g++) {
                r[g - 1] = m.group(g) == null ? 0 : Long.parseLong(m.group(g));
            }
            out.add(r);
            c.waitFor(Duration.ofSeconds(60));
            c.close();
        }
        return out;
    }
}
