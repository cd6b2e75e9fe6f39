#!/usr/bin/env bash
# The FFI benchmark: what a full profile read (`cache.profile(login)`) and a search
# (`cache.search(prefix, 20u)`) cost from Kotlin, p50/p99/max in µs, against a cache synced
# from the in-process sandbox (ProfileCacheBench, JUnit tag "bench", which test.sh leaves
# out). Builds a release library (what apps ship; PROFILE_CACHE_FFI_PROFILE=debug for a
# debug one), generates the bindings from it, runs only the benchmark. Prints the figures
# and the target; fails only on wrong behaviour, never on time.
# Extra arguments go to Maven, e.g. -Dbench.profiles=20000 -Dbench.iterations=10000.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

profile="${PROFILE_CACHE_FFI_PROFILE:-release}"
require_tools cargo java mvn
build_native "$profile"
generate_kotlin

echo "== mvn test -Pbench"
run_maven test -Pbench -Dnative.dir="$native" -Dbench.library="$profile" "$@"
exit "$maven_rc"
