package dev.tollgate.bench.load;

import java.util.List;
import java.util.Map;

/** Plain data the harness collects and the report renders. Immutable. */
final class Model {
    private Model() {
    }

    /**
     * One server configuration: demo, mode, store, extra environment (sweep variants), and the
     * demo jar when it is not this build's (a baseline built from an earlier revision).
     */
    record Config(Server.Kind kind, Server.Mode mode, Server.Db db, Map<String, String> env, String variant,
                  java.nio.file.Path jar) {
        Config(Server.Kind kind, Server.Mode mode, Server.Db db, Map<String, String> env, String variant) {
            this(kind, mode, db, env, variant, null);
        }

        /** A baseline run: an earlier build of the demo, compared with this one. */
        boolean baseline() {
            return jar != null;
        }

        /** A settings-sweep run. */
        boolean sweep() {
            return variant != null && jar == null;
        }

        String name() {
            String base = kind.label + " " + mode.label + (mode == Server.Mode.NONE || mode == Server.Mode.PEER ? ""
                    : " " + db.label);
            return variant == null ? base : base + " [" + variant + "]";
        }

        String shortName() {
            String base = kind.label.charAt(0) + "-" + mode.label.toLowerCase(java.util.Locale.ROOT)
                    + (mode == Server.Mode.NONE || mode == Server.Mode.PEER ? "" : "-" + (db == Server.Db.H2 ? "h2" : "pg"));
            return variant == null ? base : base + "-" + variant;
        }
    }

    /** One scenario's measurement. */
    record Row(Config config, String scenario, int keys, Result result, Map<String, Double> engine,
               double channelPeak, double othersShare, double serverShare, double generatorShare, double loadAvg) {
        double engine(String name) {
            Double v = engine.get(name);
            return v == null ? Double.NaN : v;
        }

        /** Upserts per 1,000 requests answered. */
        double upsertsPer1000() {
            return result.requests() == 0 ? Double.NaN : engine("upserts") * 1000.0 / result.requests();
        }

        /** Store statements other than upserts per 1,000 requests answered: counters asked for units, plan reads. */
        double readsPer1000() {
            return result.requests() == 0 ? Double.NaN
                    : (engine("grantRequests") + engine("policyReads")) * 1000.0 / result.requests();
        }

        /**
         * Upserts per distinct counter per flush: (upserts / batches) divided by the distinct keys a
         * batch can hold (records per batch, capped by the number of subjects the load uses).
         */
        double upsertsPerKeyPerFlush() {
            double batches = engine("batches");
            double records = engine("total");
            if (!(batches > 0) || !(records > 0)) {
                return Double.NaN;
            }
            double distinct = Math.min(records / batches, keys);
            return (engine("upserts") / batches) / Math.max(1, distinct);
        }
    }

    /**
     * One server run: what happened around the scenarios.
     *
     * @param warmup requests per second of each warm-up step over the 10,000 keys, from the
     *               server's start (the first steps are its cold start)
     * @param warmupStep seconds per warm-up step
     */
    record Run(Config config, double startupSeconds, double warmupSeconds, double heapStartMiB, double heapEndMiB, Pg.Counters pg,
               long requests, Map<String, Double> engineTotal, String error, List<Row> rows,
               List<OpenLoop.Second> burst, double h2FileMiB, List<Double> warmup, int warmupStep) {
    }
}
