package dev.tollgate.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.testing.TestDatabases.Backend;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Requests in flight count: the filter takes each request's estimate at admission, so slow
 * requests that have not answered yet already use the limit.
 */
class InFlightTest extends ServletTestSupport {
    private final ExecutorService clients = Executors.newFixedThreadPool(50);

    @AfterEach
    void release() {
        TestApp.release.countDown();
        clients.shutdownNow();
    }

    @Test
    void fiftyConcurrentSlowRequestsOnAFivePerMinutePlanAdmitExactlyFive() throws Exception {
        TestApp.release = new CountDownLatch(1);
        boot(Backend.H2, "tollgate.plans.free.requests", "5/minute");
        String key = newKey();
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            responses.add(CompletableFuture.supplyAsync(() -> server.get("/api/hello?hold=true", API_KEY, key),
                    clients));
        }
        // The 45 refused answer at once; the 5 admitted are still held by the application.
        await().atMost(Duration.ofSeconds(30))
                .until(() -> responses.stream().filter(CompletableFuture::isDone).count() == 45);
        assertThat(TestApp.HELD.get()).isEqualTo(5);
        assertThat(responses.stream().filter(CompletableFuture::isDone).map(CompletableFuture::join))
                .allMatch(r -> r.statusCode() == 429);

        TestApp.release.countDown();
        long ok = 0;
        for (CompletableFuture<HttpResponse<String>> r : responses) {
            if (r.get().statusCode() == 200) {
                ok++;
            }
        }
        assertThat(ok).isEqualTo(5);
        await().atMost(Duration.ofSeconds(10)).until(() -> server.tollgate().stats().total() == 5);
        server.flush();
        assertThat(db.storedTotal(subject(key), "requests", "MINUTE")).isEqualTo(5);
    }
}
