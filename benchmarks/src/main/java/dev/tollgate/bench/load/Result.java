package dev.tollgate.bench.load;

/**
 * Client-side outcome of one load scenario. Latencies in microseconds; {@code rps} counts
 * completed responses per second of the scenario. For the open-loop generator latencies are
 * measured from each request's intended start (corrected for coordinated omission); for
 * {@code wrk} (closed loop) from the actual send.
 *
 * @param requests completed responses (any status)
 * @param errors   connection or read errors and non-2xx/3xx responses
 * @param timeouts requests without an answer within the generator's timeout
 * @param notSent  open loop only: requests whose intended start fell after the scenario's hard deadline
 */
record Result(String generator, double seconds, long requests, double rps, double mean, long p50, long p99,
              long p999, long max, long errors, long timeouts, long notSent) {
}
