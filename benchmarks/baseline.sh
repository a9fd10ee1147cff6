#!/usr/bin/env bash
# Builds the servlet and gateway demo jars of an earlier revision, for the load harness to run
# next to this build's (benchmarks/run.sh --full --baseline=<dir>): the report then compares
# their max throughput, same run, same machine.
#
#   benchmarks/baseline.sh <revision> [dir]     # dir defaults to benchmarks/baseline (git-ignored)
#
# The revision is checked out in a temporary git worktree, built there with
# `mvn -B -q package -DskipTests`, and the worktree removed; the jars and a REVISION file
# (the revision's short hash) are left in dir.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ]; then
  echo "usage: benchmarks/baseline.sh <revision> [dir]" >&2
  exit 2
fi
rev=$(git rev-parse --short "$1^{commit}")
dir=${2:-benchmarks/baseline}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
tree=$(mktemp -d)
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"' EXIT

git worktree add --detach -q "$tree" "$rev"
echo "[baseline] building the demos of $rev"
(cd "$tree" && mvn -B -q package -DskipTests -pl examples/servlet-demo,examples/gateway-demo -am)
cp "$tree/examples/servlet-demo/target/tollgate-servlet-demo.jar" "$dir/servlet-demo.jar"
cp "$tree/examples/gateway-demo/target/tollgate-gateway-demo.jar" "$dir/gateway-demo.jar"
echo "$rev" > "$dir/REVISION"
echo "[baseline] $dir: servlet-demo.jar, gateway-demo.jar of $rev"
