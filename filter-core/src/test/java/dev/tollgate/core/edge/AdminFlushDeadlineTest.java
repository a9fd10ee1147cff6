package dev.tollgate.core.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.internal.jdbc.Dialect;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import dev.tollgate.core.testing.GatedStore;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** {@code POST /flush} waits a bounded time: 202 while the batchers are held, 200 once written. */
class AdminFlushDeadlineTest {
    private static final String TOKEN = "flush-deadline-token-0123456789";

    @Test
    void aFlushTheStoreDoesNotFinishInTimeAnswers202AndTheUsageIsWrittenLater() {
        try (TestDatabase db = TestDatabases.h2()) {
            GatedStore gated = new GatedStore(JdbiUsageStore.create(db.dataSource(), Dialect.H2,
                    TollgateConfig.SchemaMode.CREATE, Duration.ofSeconds(10), null));
            Tollgate t = Tollgate.builder(TollgateConfig.custom().flushInterval(Duration.ofMillis(20))
                    .metricsEnabled(false).build()).store(gated).build();
            try {
                AdminApi api = new AdminApi(new QuotaGate(t, EdgeConfig.custom().adminToken(TOKEN).build()),
                        Map::of, Duration.ofMillis(300));
                gated.closeGateForBatchers();
                t.consume("held", "requests", 3);
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> gated.waiting() > 0);

                AdminApi.Response r = api.handle("POST", "/flush", "Bearer " + TOKEN, null,
                        SubjectResult::absent);
                assertThat(r.status()).isEqualTo(202);
                assertThat(r.body()).contains("\"flushed\":false", "after 300ms");
                assertThat(db.storedTotal("held", "requests", "TOTAL")).isZero();

                gated.openGate();
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> api.handle("POST", "/flush",
                        "Bearer " + TOKEN, null, SubjectResult::absent).status() == 200);
                assertThat(db.storedTotal("held", "requests", "TOTAL")).isEqualTo(3);
            } finally {
                gated.openGate();
                t.close();
            }
        }
    }
}
