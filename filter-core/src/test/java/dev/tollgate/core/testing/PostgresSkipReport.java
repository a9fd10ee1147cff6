package dev.tollgate.core.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Makes skipped PostgreSQL tests loud: at the end of each test run (each module's Surefire
 * run), writes one block listing every test or test class that was skipped because
 * PostgreSQL did not answer ({@link TestDatabases#requirePostgres}), with the reason and what
 * to do about it, to {@code target/postgres-skipped.txt}, which the build prints as warnings
 * right after the module's tests and then deletes (the root pom's
 * {@code report-skipped-postgres-tests} execution: Surefire files whatever a test JVM prints
 * under the last test class, where nobody would see it). Registered in
 * {@code META-INF/services}, so every module whose tests have filter-core's test-jar on their
 * classpath gets it. Writes nothing when nothing was skipped. Thread-safe.
 */
public final class PostgresSkipReport implements TestExecutionListener {
    private final List<String> skipped = new ArrayList<>();
    private String reason;

    @Override
    public synchronized void executionFinished(TestIdentifier id, TestExecutionResult result) {
        Optional<Throwable> t = result.getThrowable();
        if (result.getStatus() == TestExecutionResult.Status.ABORTED && t.isPresent()
                && String.valueOf(t.get().getMessage()).startsWith(TestDatabases.SKIP_PREFIX)) {
            skipped.add(describe(id));
            reason = t.get().getMessage();
        }
    }

    @Override
    public synchronized void executionSkipped(TestIdentifier id, String why) {
        if (why != null && why.startsWith(TestDatabases.SKIP_PREFIX)) {
            skipped.add(describe(id));
            reason = why;
        }
    }

    /** Where the block goes, relative to the module (Surefire's working directory). */
    static final Path REPORT = Path.of("target", "postgres-skipped.txt");

    @Override
    public synchronized void testPlanExecutionStarted(TestPlan plan) {
        skipped.clear();
        try {
            Files.deleteIfExists(REPORT);
        } catch (IOException e) {
            System.err.println("Could not delete " + REPORT.toAbsolutePath() + ": " + e);
        }
    }

    @Override
    public synchronized void testPlanExecutionFinished(TestPlan plan) {
        if (skipped.isEmpty()) {
            return;
        }
        String block = block();
        System.out.print(block);
        try {
            Files.createDirectories(REPORT.getParent());
            Files.writeString(REPORT, block, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            System.err.println("Could not write " + REPORT.toAbsolutePath() + ": " + e);
        }
        skipped.clear();
    }

    private String block() {
        String rule = "=".repeat(100);
        StringBuilder b = new StringBuilder().append('\n').append(rule).append('\n')
                .append("WARNING: ").append(skipped.size()).append(" PostgreSQL test(s) SKIPPED in this run: they did not")
                .append(" run, they did not pass.\n")
                .append("Reason: ").append(reason).append('\n');
        for (String s : skipped) {
            b.append("  skipped: ").append(s).append('\n');
        }
        b.append("To run them: start PostgreSQL on 127.0.0.1:5432 with a superuser that logs in without a password")
                .append(" (the tests then create their role and database), or set TOLLGATE_TEST_PG_URL, _USER and")
                .append(" _PASSWORD, or run .ci/run. -Dtollgate.test.postgres.required=true makes them fail instead.\n")
                .append(rule).append('\n');
        return b.toString();
    }

    private static String describe(TestIdentifier id) {
        Optional<TestSource> source = id.getSource();
        if (source.isPresent() && source.get() instanceof MethodSource m) {
            return m.getClassName() + "#" + m.getMethodName() + " " + id.getDisplayName();
        }
        if (source.isPresent() && source.get() instanceof ClassSource c) {
            return c.getClassName() + " " + id.getDisplayName();
        }
        return id.getDisplayName();
    }
}
