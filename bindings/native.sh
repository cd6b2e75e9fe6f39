# Sourced (not run) by the Kotlin and Swift scripts: the native library they test.
#   require_tools TOOL...   fails early, naming a missing tool;
#   build_native PROFILE    builds the cdylib and the bindings generator with the same
#                           features (an export that differs between the two would fail the
#                           bindings' checksum check), `debug` or `release`, in the cargo
#                           target folder $target; sets $lib (the library) and $bindgen;
#   generate LANGUAGE DIR   generates LANGUAGE's bindings from $lib into DIR (run inside
#                           the crate: the generator reads uniffi.toml through cargo
#                           metadata, and the uniffi metadata of an unstripped library).
# Uses its own cargo target folder (target/ffi under the crate, or PROFILE_CACHE_FFI_TARGET),
# so that another build of the crate with other features cannot swap the library under the
# tests.

crate="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
features="ffi-sandbox,bindgen"
target="${PROFILE_CACHE_FFI_TARGET:-$crate/target/ffi}"
lib=""
bindgen=""

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

generate() {
  echo "== generating the $1 sources"
  (cd "$crate" && "$bindgen" generate "$lib" --language "$1" --no-format --out-dir "$2")
}
