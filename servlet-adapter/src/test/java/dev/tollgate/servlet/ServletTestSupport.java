package dev.tollgate.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import dev.tollgate.core.testing.TestDatabases.Backend;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;

/** Boots the test web app on a fresh database per test and closes both afterwards. */
abstract class ServletTestSupport {
    static final String ADMIN_TOKEN = "test-admin-token-0123456789";
    static final String API_KEY = "X-API-Key";

    TestDatabase db;
    TestServer server;

    /** Starts the app on a fresh database of {@code backend}, with extra filter init-params. */
    TestServer boot(Backend backend, String... initParams) throws Exception {
        return boot(backend, new HashMap<>(), initParams);
    }

    TestServer boot(Backend backend, Map<String, Object> attributes, String... initParams) throws Exception {
        db = TestDatabases.open(backend);
        Map<String, Object> attrs = new HashMap<>(attributes);
        attrs.putIfAbsent(TollgateFilter.DATA_SOURCE_ATTRIBUTE, db.dataSource());
        server = TestServer.start(TestServer.params(initParams), attrs);
        return server;
    }

    @AfterEach
    void shutDown() throws Exception {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            if (db != null) {
                db.close();
            }
        }
    }

    /** A fresh raw API key. */
    static String newKey() {
        return "key-" + UUID.randomUUID();
    }

    /** How the store sees an API key. */
    static String subject(String rawKey) {
        return Subjects.apiKey(rawKey);
    }

    /** Stored usage of a subject's quota in the current day window, after a flush. */
    long storedToday(String subject, String quota) {
        server.flush();
        return db.storedTotal(subject, quota, "DAY");
    }

    /** Seconds until the next UTC midnight from {@code t}, rounded up as the RateLimit fields do. */
    static long secondsToMidnight(Instant t) {
        Instant midnight = t.atOffset(ZoneOffset.UTC).toLocalDate().plusDays(1).atStartOfDay()
                .toInstant(ZoneOffset.UTC);
        long ms = Duration.between(t, midnight).toMillis();
        return Math.max(1, (ms + 999) / 1000);
    }

    static String header(HttpResponse<?> r, String name) {
        return r.headers().firstValue(name).orElse(null);
    }

    static void assertNoRateLimitFields(HttpResponse<?> r) {
        assertThat(r.headers().allValues("RateLimit-Policy")).isEmpty();
        assertThat(r.headers().allValues("RateLimit")).isEmpty();
    }
}
