#!/usr/bin/env bash
# Downloads Debian's stock kernel package (linux-image-amd64's dependency) with apt-get download,
# unpacks it with dpkg -x into the cache and extracts the ELF vmlinux. Prints the kernel's cache folder.
# A cached kernel is reused; without network, the newest cached kernel is used.
# Usage: fetch-kernel.sh <cache-dir>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$1/kernel
mkdir -p "$cache"

say() { echo "vcan-vm: $*" >&2; }

candidate_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

newest_cached() {
  local d
  d=$(ls -1d "$cache"/*/vmlinux 2>/dev/null | sort -V | tail -n 1) || true
  [ -n "$d" ] && dirname "$d"
}

pkg=$(candidate_package)
if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
  say "apt has no linux-image-amd64 candidate yet: running apt-get update"
  apt-get update -q >&2 || true
  pkg=$(candidate_package)
fi
if [ -z "$pkg" ]; then
  if dir=$(newest_cached); then say "apt knows no kernel package; using cached $dir"; echo "$dir"; exit 0; fi
  say "FAILED: apt-cache knows no linux-image-amd64 dependency (run apt-get update) and no kernel is cached"
  exit 1
fi
ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2 }')
dir="$cache/${pkg}_$ver"
if [ -s "$dir/vmlinux" ]; then echo "$dir"; exit 0; fi

say "downloading $pkg $ver"
work="$dir.part"
rm -rf "$work" && mkdir -p "$work/deb"
if ! (cd "$work/deb" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >&2); then
  rm -rf "$work"
  if dir=$(newest_cached); then say "download of $pkg failed; using cached $dir"; echo "$dir"; exit 0; fi
  say "FAILED: apt-get download $pkg=$ver failed and no kernel is cached"
  exit 1
fi
dpkg -x "$work"/deb/*.deb "$work/root"
kver=$(ls "$work/root/lib/modules")
"$here/extract-vmlinux.sh" "$work/root/boot/vmlinuz-$kver" "$work/vmlinux"
mv "$work/root/lib/modules/$kver" "$work/modules"
echo "$kver" >"$work/release"
rm -rf "$work/deb" "$work/root"
mv "$work" "$dir"
echo "$dir"
