# Sourced (not run) by test.sh, bench.sh and package.sh: the steps they share, beside
# ../native.sh's (require_tools, build_native, generate):
#   generate_kotlin         copies $lib to $native (target/native/linux-x86-64) and generates
#                           the Kotlin sources from the unstripped library into $generated
#                           (target/generated-sources/uniffi, never committed); empties
#                           target/classes;
#   run_maven ARGS...       runs Maven quietly in bindings/kotlin with ARGS, sets $maven_rc
#                           to its exit status, and prints "kotlin: N passed, …" from this
#                           run's Surefire reports.
# The scripts share target/native and target/generated-sources: run one at a time.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../native.sh
source "$here/../native.sh"
native="$here/target/native/linux-x86-64"
generated="$here/target/generated-sources/uniffi"
maven_rc=0

generate_kotlin() {
  # target/classes goes too: it is compiled again from the new sources anyway, and it would
  # keep an earlier package.sh run's native folders (another library, another platform's).
  rm -rf "$native" "$generated" "$here/target/classes"
  mkdir -p "$native" "$generated"
  cp "$lib" "$native/"
  generate kotlin "$generated"
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
