package dev.tollgate.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** API keys become {@code key:<sha-256 hex>}; the expected values come from {@code sha256sum}. */
class SubjectsTest {

    @Test
    void anApiKeyBecomesTheHexOfItsSha256() {
        // printf %s demo-key | sha256sum
        assertThat(Subjects.apiKey("demo-key"))
                .isEqualTo("key:c48a01f49fd0f2cc404bc3cbbc80e91457a3d41bb429a695243de4c61794155c");
        // printf %s 'ключ' | sha256sum (UTF-8)
        assertThat(Subjects.apiKey("ключ"))
                .isEqualTo("key:1de36a32af798da0c1ac9297603a320ed8fe567cf21c9177112a4ce914ebb8be");
    }

    @Test
    void manyThreadsGetTheSameAnswerForTheSameKey() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            Set<String> seen = ConcurrentHashMap.newKeySet();
            List<Future<?>> futures = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 10_000; i++) {
                        seen.add(Subjects.apiKey(i % 2 == 0 ? "demo-key" : "other"));
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertThat(seen).containsExactlyInAnyOrder(Subjects.apiKey("demo-key"), Subjects.apiKey("other"))
                    .contains("key:c48a01f49fd0f2cc404bc3cbbc80e91457a3d41bb429a695243de4c61794155c");
        } finally {
            pool.shutdownNow();
        }
    }
}
