#!/usr/bin/env bash
# End-to-end load harness (dev.tollgate.bench.load.LoadHarness): builds what is missing,
# installs wrk if missing, runs the servlet and gateway demos in every mode and writes
# benchmarks/results/<yyyy-MM-dd-HHmm>-<quick|full>/REPORT.md with PNG charts.
#
#   benchmarks/run.sh --quick     # every scenario briefly, <= 90 s (CI)
#   benchmarks/run.sh --full      # ~15 min; add --sweep for the engine-settings sweep
#
# Other options are passed to the harness: --only=<text>, --jfr, --out=<dir>.
# PostgreSQL: TOLLGATE_BENCH_PG_URL (jdbc:postgresql://127.0.0.1:5432/tollgate_bench),
# TOLLGATE_BENCH_PG_USER (tollgate), TOLLGATE_BENCH_PG_PASSWORD (tollgate); when it does not
# answer, the PostgreSQL configurations are skipped and the report says so.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[bench] %s\n' "$*"; }

if [ $# -eq 0 ]; then
  set -- --quick
fi

if ! command -v wrk >/dev/null 2>&1; then
  log "wrk is missing; installing it from Debian's packages"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  fi
fi

jars=(examples/servlet-demo/target/tollgate-servlet-demo.jar
      examples/gateway-demo/target/tollgate-gateway-demo.jar
      benchmarks/target/benchmarks.jar)
missing=0
for j in "${jars[@]}"; do
  [ -f "$j" ] || missing=1
done
# Rebuild when a source is newer than the harness jar (the harness must not measure stale code).
if [ $missing = 0 ] && [ -n "$(find filter-core store-redis servlet-adapter gateway-plugin examples benchmarks -name '*.java' -newer benchmarks/target/benchmarks.jar -print -quit 2>/dev/null)" ]; then
  missing=1
fi
if [ $missing = 1 ]; then
  log "building the demos and the benchmarks jar (mvn -B -q package -DskipTests)"
  mvn -B -q package -DskipTests
fi

exec java -Djava.awt.headless=true -Xmx512m -cp benchmarks/target/benchmarks.jar \
  dev.tollgate.bench.load.LoadHarness "$@"
