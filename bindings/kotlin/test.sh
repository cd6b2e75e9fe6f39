#!/usr/bin/env bash
# Runs the Kotlin tests against the real library, from a fresh machine:
#   1. builds the cdylib and the bindings generator with the same features (an export
#      that differs between the two would fail the bindings' checksum check);
#   2. generates the Kotlin sources from that library into target/generated-sources/uniffi
#      (never committed);
#   3. runs `mvn test` with JNA pointed at a copy of the library.
# Needs cargo, a JDK 17+ and Maven (Debian: `apt-get install -y maven openjdk-17-jdk-headless`);
# Maven's repository stays in ~/.m2, so later runs on the machine reuse the downloads.
# Uses its own cargo target folder (target/ffi under the crate), so that another build of
# the crate with other features cannot swap the library under the tests.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(cd "$here/../.." && pwd)"
features="ffi-sandbox,bindgen"
target="${PROFILE_CACHE_FFI_TARGET:-$crate/target/ffi}"

for tool in cargo java mvn; do
  command -v "$tool" >/dev/null || { echo "test.sh: $tool is missing" >&2; exit 1; }
done

cd "$crate"
echo "== building the library (features $features)"
CARGO_TARGET_DIR="$target" cargo build --locked --features "$features" --lib --bin uniffi-bindgen

lib="$target/debug/libprofile_cache.so"
native="$here/target/native/linux-x86-64"
generated="$here/target/generated-sources/uniffi"
rm -rf "$native" "$generated"
mkdir -p "$native" "$generated"
cp "$lib" "$native/"

echo "== generating the Kotlin sources"
# Run inside the crate: the generator reads uniffi.toml through cargo metadata.
"$target/debug/uniffi-bindgen" generate "$native/libprofile_cache.so" \
  --language kotlin --no-format --out-dir "$generated"

echo "== mvn test"
cd "$here"
rc=0
mvn -q -B -Dstyle.color=never test -Dnative.dir="$native" "$@" || rc=$?
# Maven is quiet (-q): say what ran, from the Surefire reports.
python3 - "$here/target/surefire-reports" <<'PY' || true
import glob, sys, xml.etree.ElementTree as ET
t = f = s = 0
for p in glob.glob(sys.argv[1] + "/TEST-*.xml"):
    r = ET.parse(p).getroot()
    t += int(r.get("tests", 0)); s += int(r.get("skipped", 0))
    f += int(r.get("failures", 0)) + int(r.get("errors", 0))
print(f"kotlin: {t - f - s} passed, {f} failed, {s} skipped")
PY
exit "$rc"
