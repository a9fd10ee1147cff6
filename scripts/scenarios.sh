#!/usr/bin/env bash
# The long durability and multi-node scenarios, outside the default test run.
# Each scenario has a bounded version in the normal test suite; this runs the long versions
# with child JVMs against the local PostgreSQL (see README, "Run all tests") and prints the
# measurements, also written to filter-core/target/scenarios/*.md.
#
#   scripts/scenarios.sh                    # all of them (about 4 minutes)
#   scripts/scenarios.sh overshootTable     # one: lossOfAKillWithAndWithoutAJournal,
#                                           #      fourNodesStoreExactTotals, overshootTable,
#                                           #      theLastUnitsOfALimitAcrossFourJvms,
#                                           #      admissionThroughput, journalThroughputPrice
set -euo pipefail
cd "$(dirname "$0")/.."
test_filter=LongScenarios
if [ $# -gt 0 ]; then
  test_filter="LongScenarios#$1"
fi
mvn -B -q -pl filter-core test-compile
mvn -B -pl filter-core surefire:test -Dtest="$test_filter" -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtollgate.test.postgres.required=true
echo
for f in filter-core/target/scenarios/*.md; do
  [ -f "$f" ] && { cat "$f"; echo; }
done
