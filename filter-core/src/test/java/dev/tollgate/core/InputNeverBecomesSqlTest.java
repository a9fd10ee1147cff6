package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.testing.OnEachDatabase;
import dev.tollgate.core.testing.RecordingDataSource;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every value a caller passes — subjects full of SQL meta-characters, quota names — reaches
 * the database as a bound parameter: the SQL text the engine sends never contains it, and the
 * value is stored exactly as given.
 */
class InputNeverBecomesSqlTest extends OnEachDatabase {
    private static final String MARK = "zq9";
    private static final List<String> SUBJECTS = List.of(
            MARK + "'); DROP TABLE tollgate_usage; --",
            MARK + "\" OR \"1\"=\"1",
            MARK + "\\'; SELECT pg_sleep(5); --",
            MARK + "%_*?[]{}$$ $tag$ ; /* */",
            MARK + "é中🙂",
            Subjects.apiKey(MARK + "raw-key"));

    @Test
    void inputsTravelAsParametersAndAreStoredVerbatim() {
        RecordingDataSource recording = new RecordingDataSource(db.dataSource());
        try (Tollgate t = Tollgate.builder(config().build()).dataSource(recording).build()) {
            for (String s : SUBJECTS) {
                assertThat(t.check(s, "requests", 1).allowed()).isTrue();
                t.consume(s, "requests", 2);
                t.consumeSync(s, "requests", 3);
                t.consumeBatch(List.of(new Consumption(s, "requests", 4), new Consumption(s, MARK + "quota", 5)));
                t.consume("cold-" + s, "requests", 1);
                assertThat(t.flush()).isTrue();
                t.assignPlan(s, "pro");
                t.setLimit(s, MARK + "quota", Limit.parse("100/day"));
                assertThat(t.usage(s)).isNotEmpty();
                assertThat(t.planOf(s)).isEqualTo("pro");
                assertThat(t.removeLimits(s, MARK + "quota")).isEqualTo(1);
            }
        }
        List<String> sql = recording.statements();
        assertThat(sql).as("statements were recorded").hasSizeGreaterThan(10);
        assertThat(sql).noneSatisfy(s -> assertThat(s).contains(MARK));
        for (String s : SUBJECTS) {
            assertThat(db.storedTotal(s, "requests", "DAY")).as(s).isEqualTo(2 + 3 + 4);
            assertThat(db.storedTotal("cold-" + s, "requests", "DAY")).isEqualTo(1);
            assertThat(db.storedTotal(s, MARK + "quota", "TOTAL")).isEqualTo(5);
            String plan = db.jdbi().withHandle(h -> h.createQuery("SELECT plan FROM tollgate_subject WHERE subject = :s")
                    .bind("s", s).mapTo(String.class).one());
            assertThat(plan).isEqualTo("pro");
        }
    }
}
