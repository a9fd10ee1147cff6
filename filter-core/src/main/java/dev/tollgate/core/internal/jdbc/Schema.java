package dev.tollgate.core.internal.jdbc;

import dev.tollgate.core.TollgateConfig.SchemaMode;
import dev.tollgate.core.TollgateException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's tables: created from the dialect's script ({@code tollgate/schema-*.sql} in
 * the jar) with {@code tollgate.store.schema=create}, checked with {@code validate}, left
 * alone with {@code none}.
 */
final class Schema {
    private static final Logger LOG = LoggerFactory.getLogger(Schema.class);

    /** Tables and the columns the engine uses, for {@code schema=validate}. */
    private static final Map<String, String> TABLES = new LinkedHashMap<>();

    static {
        TABLES.put("tollgate_usage", "subject, quota, period, window_start, used, updated_at");
        TABLES.put("tollgate_applied_batch", "batch_id, applied_at");
        TABLES.put("tollgate_subject", "subject, plan, updated_at");
        TABLES.put("tollgate_limit_override", "subject, quota, period, max_amount");
        TABLES.put("tollgate_grant", "subject, quota, period, window_start, node, granted, expires_at, grant_id,"
                + " grant_amount");
        TABLES.put("tollgate_api_key", "subject, name, created_at");
        TABLES.put("tollgate_request", "subject, quota, request_id, expires_at");
        TABLES.put("tollgate_export", "stream, after_start, after_quota, after_period, after_subject, lease_owner,"
                + " lease_expires");
    }

    private Schema() {
    }

    static void prepare(Jdbi jdbi, Dialect dialect, SchemaMode schema) {
        switch (schema) {
            case NONE -> {
            }
            case CREATE -> {
                String script = readScript(dialect);
                try {
                    jdbi.useHandle(h -> {
                        for (String statement : script.split(";")) {
                            if (!statement.isBlank()) {
                                h.execute(statement);
                            }
                        }
                    });
                } catch (RuntimeException e) {
                    // Tables another role created (and owns) make PostgreSQL refuse even
                    // CREATE INDEX IF NOT EXISTS. If they are all there and usable, go on.
                    try {
                        validate(jdbi, dialect);
                    } catch (TollgateException invalid) {
                        throw new TollgateException("tollgate.store.schema=create: could not create the Tollgate"
                                + " tables (" + Sql.rootMessage(e) + ")", e);
                    }
                    LOG.warn("tollgate.store.schema=create: the Tollgate tables exist and are usable, but the"
                            + " schema script could not run completely ({})", Sql.rootMessage(e));
                }
            }
            case VALIDATE -> validate(jdbi, dialect);
        }
    }

    private static void validate(Jdbi jdbi, Dialect dialect) {
        TABLES.forEach((table, columns) -> {
            try {
                jdbi.useHandle(h -> h.createQuery("SELECT " + columns + " FROM " + table + " WHERE 1 = 0")
                        .mapToMap().list());
            } catch (RuntimeException e) {
                throw new TollgateException("tollgate.store.schema=validate: table " + table
                        + " is missing or lacks one of the columns (" + columns
                        + "). Run the script " + dialect.schemaResource().substring(1)
                        + " from tollgate-filter-core, or set tollgate.store.schema=create. Cause: "
                        + Sql.rootMessage(e), e);
            }
        });
    }

    private static String readScript(Dialect dialect) {
        try (InputStream in = Schema.class.getResourceAsStream(dialect.schemaResource())) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + dialect.schemaResource());
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + dialect.schemaResource(), e);
        }
    }
}
