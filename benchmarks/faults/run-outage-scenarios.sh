#!/usr/bin/env bash
# The long store-outage scenarios (issue 6): the packaged servlet demo, started as its own
# process with its defaults, under steady HTTP load, its PostgreSQL reached through a fault
# proxy that cuts it for 10 s, black-holes it for 10 s, adds 2 s of latency for 10 s, and
# loses the answers to five COMMITs. Prints one row per scenario (also written to
# target/outage-scenarios/report.txt, with each demo's log beside it) and exits non-zero if a
# request failed or waited for the store, the breaker did not open and close, or the stored
# total differs from the requests served.
#
#   benchmarks/faults/run-outage-scenarios.sh [seconds=10] [cut,blackhole,slow,lost]
#
# Needs PostgreSQL as for the tests (TOLLGATE_TEST_PG_URL / _USER / _PASSWORD, default
# jdbc:postgresql://127.0.0.1:5432/tollgate_test, tollgate/tollgate). Set MVN_OFFLINE=1 to
# build offline. The bounded versions of the same scenarios run in CI as
# servlet-adapter's StoreFaultOverHttpTest.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_OF_FAULT="${1:-10}"
SCENARIOS="${2:-cut,blackhole,slow,lost}"
OUT="$(pwd)/target/outage-scenarios"
mkdir -p "$OUT"

mvn -B -q ${MVN_OFFLINE:+-o} -pl servlet-adapter,examples/servlet-demo -am package -DskipTests \
    org.apache.maven.plugins:maven-dependency-plugin:3.9.0:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt

CP="servlet-adapter/target/test-classes:servlet-adapter/target/classes:$(cat servlet-adapter/target/test-classpath.txt)"
exec java -cp "$CP" dev.tollgate.servlet.OutageScenarios \
    examples/servlet-demo/target/tollgate-servlet-demo.jar "$SECONDS_OF_FAULT" "$SCENARIOS" "$OUT"
