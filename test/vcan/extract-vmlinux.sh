#!/usr/bin/env bash
# Writes the ELF vmlinux found inside a bzImage (Debian's kernels are XZ-compressed).
# QEMU boots an ELF vmlinux through its PVH entry point, skipping firmware decompression work.
# Usage: extract-vmlinux.sh <bzImage> <out-vmlinux>
set -euo pipefail
image=$1 out=$2
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT

# Every offset of the XZ stream magic (FD 37 7A 58 5A 00); the payload is the one that decompresses to an ELF.
offsets=$(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$image" | LC_ALL=C cut -d: -f1 || true)
for off in $offsets; do
  # xz stops reading after the stream, so tail may die of SIGPIPE: only xz's status matters.
  if { tail -c +"$((off + 1))" "$image" || true; } | xz -dc --single-stream >"$tmp" 2>/dev/null &&
     [ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
    mv "$tmp" "$out"
    exit 0
  fi
done
echo "extract-vmlinux: no XZ-compressed ELF payload found in $image" >&2
exit 1
