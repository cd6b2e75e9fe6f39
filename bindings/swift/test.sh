#!/usr/bin/env bash
# Runs the Swift tests (XCTest, `swift test`) against the real library, from a fresh
# machine:
#   1. builds the cdylib and the bindings generator with the same features (an export
#      that differs between the two would fail the bindings' checksum check);
#   2. generates the Swift sources, the C header and the module map from that library into
#      Sources/ (never committed);
#   3. runs `swift test` with a Swift toolchain: the one on PATH if there is one (macOS,
#      or Linux with Swift installed), else Debian trixie's swiftlang 6.0 in a trixie root
#      made with debootstrap. The root lives outside the clone
#      (PROFILE_CACHE_SWIFT_ROOT, default /var/cache/profile-cache/swift-trixie, about
#      3 GB) and is reused by later runs on the machine; making it takes a root user,
#      debootstrap (installed with apt-get when missing) and Debian's mirrors.
# Extra arguments go to `swift test`, e.g. `test.sh --filter ProfileCacheTests.test05`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../native.sh
source "$here/../native.sh"
root="${PROFILE_CACHE_SWIFT_ROOT:-/var/cache/profile-cache/swift-trixie}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

require_tools cargo
build_native debug
native="$here/.native"
ffi="$here/Sources/ProfileCacheFFI"
generated="$here/Sources/ProfileCache/Generated"
rm -rf "$native" "$ffi" "$generated"
mkdir -p "$native" "$ffi" "$generated"
cp "$lib" "$native/"
generate swift "$generated"
mv "$generated/ProfileCacheFFI.h" "$ffi/"
mv "$generated/ProfileCacheFFI.modulemap" "$ffi/module.modulemap"

link=(-Xlinker -L"$native" -Xlinker -rpath -Xlinker "$native")
if command -v swift >/dev/null; then
  echo "== swift test (the toolchain on PATH)"
  cd "$here"
  exec swift test "${link[@]}" "$@"
fi

# No Swift here: Debian trixie's, in a root of its own. ca-certificates: the library's
# HTTP client loads the system's trust store (also for plain HTTP to the sandbox).
packages="swiftlang libc6-dev ca-certificates"
# Making and entering the root needs root (debootstrap, mounts, chroot): be root, or have
# password-less sudo.
if [[ $(id -u) == 0 ]]; then
  sudo=()
elif sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "test.sh: no swift on PATH, and the trixie root at $root needs root (or password-less sudo)" >&2
  exit 1
fi
in_root() { # runs a shell script inside a root ($1), with /proc mounted
  "${sudo[@]}" unshare -m sh -ec "mount -t proc proc '$1/proc'; chroot '$1' sh -ec '$2'"
}
if [[ ! -e "$root/.profile-cache-ready" ]]; then
  if ! command -v debootstrap >/dev/null; then
    echo "== installing debootstrap"
    "${sudo[@]}" apt-get install -y -q debootstrap >/dev/null ||
      { "${sudo[@]}" apt-get update -q && "${sudo[@]}" apt-get install -y -q debootstrap; }
  fi
  echo "== making the Swift root at $root (once per machine)"
  log="$(mktemp)"
  "${sudo[@]}" rm -rf "$root.partial"
  "${sudo[@]}" mkdir -p "$(dirname "$root")"
  "${sudo[@]}" debootstrap --variant=minbase trixie "$root.partial" "$mirror" >"$log" 2>&1 ||
    { tail -20 "$log" >&2; exit 1; }
  "${sudo[@]}" cp /etc/resolv.conf "$root.partial/etc/resolv.conf"
  "${sudo[@]}" touch "$root.partial/.profile-cache-ready"
  "${sudo[@]}" rm -rf "$root"
  "${sudo[@]}" mv "$root.partial" "$root"
  rm -f "$log"
fi
# The packages, installed (again) when the list changed since the last run.
if [[ "$(cat "$root/.profile-cache-packages" 2>/dev/null)" != "$packages" ]]; then
  echo "== installing $packages in $root"
  log="$(mktemp)"
  "${sudo[@]}" cp /etc/resolv.conf "$root/etc/resolv.conf"
  in_root "$root" "apt-get update -q; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $packages" \
    >"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
  echo "$packages" | "${sudo[@]}" tee "$root/.profile-cache-packages" >/dev/null
  rm -f "$log"
fi

echo "== swift test (Debian trixie's swiftlang in $root)"
# A private mount namespace: /proc (the compiler finds its libraries through $ORIGIN),
# /dev, and the package at the same path as outside, so the paths above hold inside.
"${sudo[@]}" mkdir -p "$root$here"
args=$(printf ' %q' "${link[@]}" "$@")
exec "${sudo[@]}" unshare -m sh -ec "
  mount -t proc proc '$root/proc'
  mount --rbind /dev '$root/dev'
  mount --bind '$here' '$root$here'
  exec chroot '$root' env HOME=/root PATH=/usr/local/bin:/usr/bin:/bin \
    sh -ec 'cd $(printf %q "$here") && swift test$args'
"
