#!/usr/bin/env bash
# Builds the VM's initramfs (newc cpio): static busybox, the guest /init and the kernel modules of
# modules.list with their dependencies, decompressed, in load order. Rebuilt only when an input changes.
# Usage: build-initramfs.sh <kernel-dir made by fetch-kernel.sh> <out.cpio>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kdir=$1 out=$2
busybox=/bin/busybox

say() { echo "vcan-vm: $*" >&2; }

if ! [ -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  say "FAILED: $busybox is missing or not static (install busybox-static)"
  exit 1
fi

key=$(cat "$kdir/release" "$here/modules.list" "$here/init" "$0" "$busybox" | sha256sum | cut -c1-16)
if [ -s "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then exit 0; fi
say "building the initramfs"

# Module name (dashes as underscores) -> path, for every module of the kernel.
declare -A path_of
while IFS= read -r f; do
  n=$(basename "$f"); n=${n%%.ko*}
  path_of[${n//-/_}]=$f
done < <(find "$kdir/modules" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')

module_bytes() {
  case $1 in
    *.xz) xz -dc "$1" ;;
    *.zst) zstd -qdc "$1" ;;
    *.gz) gzip -dc "$1" ;;
    *) cat "$1" ;;
  esac
}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib/modules"
cp "$busybox" "$stage/bin/busybox"
cp "$here/init" "$stage/init"
chmod 755 "$stage/init"

# Depth-first: a module's dependencies (the "depends=" field of .modinfo) are loaded before it.
declare -A added
add_module() {
  local name=${1//-/_} f dep deps
  [ -n "${added[$name]:-}" ] && return 0
  f=${path_of[$name]:-}
  if [ -z "$f" ]; then say "FAILED: kernel module $name not found in $kdir/modules"; exit 1; fi
  added[$name]=1
  module_bytes "$f" >"$stage/lib/modules/$name.ko"
  deps=$(tr '\0' '\n' <"$stage/lib/modules/$name.ko" | sed -n 's/^depends=//p' | head -n 1)
  for dep in ${deps//,/ }; do add_module "$dep"; done
  echo "$name.ko" >>"$stage/lib/modules/load.order"
}
: >"$stage/lib/modules/load.order"
while read -r m _; do
  case $m in '' | '#'*) continue ;; esac
  add_module "$m"
done <"$here/modules.list"

(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
echo "$key" >"$out.key"
