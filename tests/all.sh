#!/usr/bin/env bash
# Every test: the Rust suites (unit, integration against the sandbox, the CLI binary),
# then the Kotlin tests and the Swift tests against the real compiled library.
# Kotlin needs a JDK 17+ and Maven (the Kotlin toolchain and libraries come from Maven
# Central into ~/.m2); Swift uses the swift on PATH, or makes a Debian trixie root with
# swiftlang once per machine (needs root and Debian's mirrors; see bindings/swift/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --all-features
bash bindings/kotlin/test.sh
bash bindings/swift/test.sh
