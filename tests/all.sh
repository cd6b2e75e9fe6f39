#!/usr/bin/env bash
# Every test: the Rust suites (unit, integration against the sandbox, the CLI binary),
# then the Kotlin tests against the real compiled library (needs a JDK and Maven; the
# Kotlin toolchain and libraries come from Maven Central into ~/.m2).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --all-features
bash bindings/kotlin/test.sh
