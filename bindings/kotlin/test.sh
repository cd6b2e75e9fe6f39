#!/usr/bin/env bash
# Runs the Kotlin tests against the real library, from a fresh machine:
#   1. builds the cdylib and the bindings generator (debug) with the same features;
#   2. generates the Kotlin sources from that library into target/generated-sources/uniffi;
#   3. runs `mvn test` with JNA pointed at a copy of the library (the benchmark, JUnit tag
#      "bench", is left out: bench.sh runs it).
# Extra arguments go to Maven. The shared steps are in common.sh.
# Needs cargo, a JDK 17+ and Maven (Debian: `apt-get install -y maven openjdk-17-jdk-headless`);
# Maven's repository stays in ~/.m2, so later runs on the machine reuse the downloads.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

require_tools cargo java mvn
build_native debug
generate_kotlin

echo "== mvn test"
run_maven test -Dnative.dir="$native" "$@"
exit "$maven_rc"
