#!/usr/bin/env bash
# Runs the vcan suite (or any command) inside a throwaway QEMU VM with real SocketCAN (Debian's
# stock kernel, vcan0 + vcan1 up). The guest sees the host's / read-only and this repo read-write
# at the same path, so it runs the host's node, node_modules and can-utils.
#   test/vcan/run.sh [vitest args...]     the vcan suite (vitest run --config test/vcan/vitest.config.ts)
#   test/vcan/run.sh -- <command...>      any command, run in the VM at the caller's working directory
# Exits with the command's exit code; fails (never skips) when the VM cannot be set up or booted.
# Environment: see boot.sh (VCAN_VM_MEM, VCAN_VM_CPUS, VCAN_VM_TIMEOUT, VCAN_VM_BOOT_TIMEOUT,
# VCAN_IFACES, VCAN_VM_ACCEL, VCAN_VM_VERBOSE).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=$here/.cache

say() { echo "vcan-vm: $*" >&2; }

# Debian packages the harness needs on the host (can-utils: cansend/candump/cangen for the guest).
ensure_packages() {
  local p missing=()
  for p in qemu-system-x86 busybox-static can-utils cpio xz-utils; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "FAILED: missing Debian packages: ${missing[*]} (apt-get install them as root)"
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } >&2; then
    say "FAILED: apt-get install ${missing[*]}"
    exit 1
  fi
}

if [ "${1:-}" = -- ]; then
  shift
  [ $# -gt 0 ] || { say "usage: $0 [vitest args...] | -- <command...>"; exit 2; }
  command=("$@")
else
  cd "$repo"
  # Same as npx vitest, minus npx's ~25 s of start-up under emulation.
  command=(node node_modules/vitest/vitest.mjs run --config test/vcan/vitest.config.ts "$@")
fi

setup_start=$(date +%s%N)
ensure_packages
mkdir -p "$cache"
exec 9>"$cache/setup.lock"
flock 9 # runs started together share one download and one initramfs build
kernel=$("$here/fetch-kernel.sh" "$cache")
"$here/build-initramfs.sh" "$kernel" "$cache/initramfs.cpio"
exec 9>&-
say "setup (packages, kernel $(cat "$kernel/release"), initramfs) $((($(date +%s%N) - setup_start) / 1000000)) ms"

exec "$here/boot.sh" "$kernel/vmlinux" "$cache/initramfs.cpio" "$repo" "${command[@]}"
