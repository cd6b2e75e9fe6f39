# Sourced (not run) by test.sh, bench.sh and package.sh: the steps they share.
#   require_tools TOOL...   fails early, naming a missing tool;
#   build_native PROFILE    builds the cdylib and the bindings generator with the same
#                           features (an export that differs between the two would fail the
#                           bindings' checksum check), `debug` or `release`, in the cargo
#                           target folder $target; sets $lib and $bindgen;
#   generate_kotlin         copies $lib to $native (target/native/linux-x86-64) and generates
#                           the Kotlin sources from that unstripped copy into $generated
#                           (target/generated-sources/uniffi, never committed); empties
#                           target/classes;
#   run_maven ARGS...       runs Maven quietly in bindings/kotlin with ARGS, sets $maven_rc
#                           to its exit status, and prints "kotlin: N passed, …" from this
#                           run's Surefire reports.
# Uses its own cargo target folder (target/ffi under the crate, or PROFILE_CACHE_FFI_TARGET),
# so that another build of the crate with other features cannot swap the library under the
# tests. The scripts share target/native and target/generated-sources: run one at a time.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(cd "$here/../.." && pwd)"
features="ffi-sandbox,bindgen"
target="${PROFILE_CACHE_FFI_TARGET:-$crate/target/ffi}"
native="$here/target/native/linux-x86-64"
generated="$here/target/generated-sources/uniffi"
lib=""
bindgen=""
maven_rc=0

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$(basename "$0"): $tool is missing" >&2; exit 1; }
  done
}

build_native() {
  local profile="$1" flag=()
  case "$profile" in
    debug) ;;
    release) flag=(--release) ;;
    *) echo "build_native: unknown profile $profile" >&2; return 1 ;;
  esac
  echo "== building the library ($profile, features $features)"
  (cd "$crate" && CARGO_TARGET_DIR="$target" cargo build --locked "${flag[@]}" \
    --features "$features" --lib --bin uniffi-bindgen)
  lib="$target/$profile/libprofile_cache.so"
  bindgen="$target/$profile/uniffi-bindgen"
}

generate_kotlin() {
  # target/classes goes too: it is compiled again from the new sources anyway, and it would
  # keep an earlier package.sh run's native folders (another library, another platform's).
  rm -rf "$native" "$generated" "$here/target/classes"
  mkdir -p "$native" "$generated"
  cp "$lib" "$native/"
  echo "== generating the Kotlin sources"
  # Run inside the crate: the generator reads uniffi.toml through cargo metadata. It reads
  # the uniffi metadata of an unstripped library (stripping removes it).
  (cd "$crate" && "$bindgen" generate "$native/libprofile_cache.so" \
    --language kotlin --no-format --out-dir "$generated")
}

run_maven() {
  # Last run's reports would be counted again (test.sh and bench.sh run other classes).
  rm -rf "$here/target/surefire-reports"
  maven_rc=0
  (cd "$here" && mvn -q -B -Dstyle.color=never "$@") || maven_rc=$?
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
}
