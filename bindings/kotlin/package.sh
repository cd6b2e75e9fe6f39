#!/usr/bin/env bash
# The jar an app depends on: the Kotlin bindings compiled, plus the native library at JNA's
# resource path linux-x86-64/libprofile_cache.so, so the app needs no jna.library.path.
#   1. builds the release library (with the test build's features, ffi-sandbox included:
#      see README.md) and generates the Kotlin sources from the unstripped library;
#   2. strips a copy of it for the jar (stripping removes the uniffi metadata the generator
#      reads, hence the order);
#   3. `mvn package -Pnative-jar`: the tests run with the library taken from the classpath
#      (no jna.library.path); add -DskipTests to skip them;
#   4. lists the jar, and runs PackagedJarCheck with only the jar, its runtime dependencies
#      and the test classes on the classpath: JNA must load the library out of the jar.
# Prints the jar's path. Extra arguments go to Maven.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

require_tools cargo java mvn strip unzip
build_native release
generate_kotlin

jar_native="$here/target/jar-native"
rm -rf "$jar_native"
mkdir -p "$jar_native/linux-x86-64"
strip --strip-unneeded -o "$jar_native/linux-x86-64/libprofile_cache.so" "$lib"
echo "== stripped: $(du -h "$lib" | cut -f1) -> $(du -h "$jar_native/linux-x86-64/libprofile_cache.so" | cut -f1)"
# Libraries built elsewhere for other JNA platforms (darwin-aarch64/, win32-x86-64/, …;
# see README.md), from the same sources and features, go in the same jar.
if [ -n "${PROFILE_CACHE_JAR_NATIVE_EXTRA:-}" ]; then
  cp -R "$PROFILE_CACHE_JAR_NATIVE_EXTRA"/. "$jar_native"/
fi

echo "== mvn package -Pnative-jar"
cd "$here"
rm -f target/profile-cache-*.jar target/runtime-classpath.txt
run_maven package -Pnative-jar -Djar.native.dir="$jar_native" "$@"
[ "$maven_rc" = 0 ] || exit "$maven_rc"

jar="$(ls target/profile-cache-*.jar)"
echo "== $jar (unzip -l, the library and the main class)"
unzip -l "$jar" > target/jar-listing.txt
grep -E '/libprofile_cache|profile_cache\.dll|com/profilecache/ProfileCache\.class|[0-9]+ files$' target/jar-listing.txt || true
grep -q ' linux-x86-64/libprofile_cache\.so$' target/jar-listing.txt \
  || { echo "package.sh: linux-x86-64/libprofile_cache.so is not in the jar" >&2; exit 1; }
grep -q ' com/profilecache/ProfileCache\.class$' target/jar-listing.txt \
  || { echo "package.sh: the Kotlin classes are not in the jar" >&2; exit 1; }

echo "== the jar on its own (no jna.library.path)"
java -cp "$jar:$(cat target/runtime-classpath.txt):target/test-classes" \
  com.profilecache.PackagedJarCheckKt
echo "jar: $here/$jar"
