#!/usr/bin/env bash
# Bad input to the build: each case must stop with a clear message and leave no bundle.
#   1. unknown / missing architecture
#   2. cross toolchain not installed (PATH without it)
#   3. an addon that fails to compile
#   4. an addon compiled for the wrong architecture (host compiler behind the wrappers)
#   5. an addon compiled against other Node headers (another NODE_MODULE_VERSION): it must load in the
#      target runtime under qemu, as when npm_config_nodedir once replaced node-gyp's --nodedir
# Cases 3-4 reuse the target root and runtime that a build of <arch> left in the work dir.
# usage: bad-input-check.sh <arch> <scratch-dir>
set -uo pipefail
arch="$1"; scratch="$2"
cross="$(cd "$(dirname "$0")/.." && pwd)"
fail() { echo "bad-input-check: $*" >&2; exit 1; }
out="$scratch/out"
mkdir -p "$out"

# expect_failure <expected message> <command...>: non-zero exit, message on stderr, no bundle.
expect_failure() {
  local want="$1"; shift
  local log="$scratch/case.log"
  if "$@" > "$log" 2>&1; then cat "$log" >&2; fail "'$*' succeeded, expected it to fail with: $want"; fi
  grep -qF -- "$want" "$log" || { cat "$log" >&2; fail "'$*' failed without saying: $want"; }
  if compgen -G "$out/*.tar.gz*" > /dev/null; then fail "'$*' left a bundle in $out"; fi
  echo "  refused: $(grep -m1 -F -- "$want" "$log" | sed 's/^cross-build: \(\[[0-9]*s\] \)\?//')"
}

export ROADLINK_CROSS_OUT="$out"
expect_failure "unknown architecture 'sparc'" bash "$cross/build.sh" sparc
expect_failure "unknown architecture ''" bash "$cross/build.sh"

# A PATH holding everything of this machine's but the cross compilers.
nogcc="$scratch/path-without-cross-gcc"
mkdir -p "$nogcc"
for dir in /usr/local/bin /usr/bin /bin; do
  for tool in "$dir"/*; do
    case "$(basename "$tool")" in *-linux-gnu*-gcc*|*-linux-gnu*-g++*) continue ;; esac
    [ -e "$nogcc/$(basename "$tool")" ] || ln -s "$tool" "$nogcc/$(basename "$tool")"
  done
done
triplet="$(source "$cross/lib/common.sh"; select_target "$arch"; echo "$TARGET_TRIPLET")"
expect_failure "'$triplet-gcc' not found: install the Debian package gcc-$triplet" \
  env PATH="$nogcc" bash "$cross/build.sh" "$arch"

# A tiny addon package; $1 = its source, $2 = its name, $3 = the source's extension (default c).
make_addon() {
  local app="$scratch/app-$2" pkg="$scratch/app-$2/node_modules/$2" src="addon.${3:-c}"
  rm -rf "$app"; mkdir -p "$pkg"
  printf '{"name":"%s","version":"1.0.0"}\n' "$2" > "$pkg/package.json"
  printf "{'targets':[{'target_name':'%s','sources':['%s']}]}\n" "$2" "$src" > "$pkg/binding.gyp"
  printf '%s\n' "$1" > "$pkg/$src"
  echo "$app"
}
good_c='#include <node_api.h>
static napi_value init(napi_env env, napi_value exports) { return exports; }
NAPI_MODULE(NODE_GYP_MODULE_NAME, init)'

# Runs build_addon for a package in a subshell, as build.sh does.
# args: app package toolchain-dir|"" (""= the real cross wrappers)
run_build_addon() (
  set -euo pipefail
  source "$cross/lib/common.sh"
  export ROADLINK_CROSS_WORK="${ROADLINK_CROSS_WORK:-$cross/.work}"
  WORK_DIR="$ROADLINK_CROSS_WORK"
  select_target "$arch"
  for lib in target-root node-runtime toolchain addons; do source "$cross/lib/$lib.sh"; done
  local root nodedir tc
  root="$(ensure_target_root)"; nodedir="$(ensure_node_runtime)"
  tc="${3:-$(ensure_toolchain "$root")}"
  build_addon "$1" "node_modules/$2" "$nodedir" "$tc" "bad-input-check-$$-$RANDOM"
)

app="$(make_addon "$good_c
this is not C;" broken-addon)"
expect_failure "addon broken-addon@1.0.0 failed to build for $arch" run_build_addon "$app" broken-addon

host_tc="$scratch/host-toolchain"
mkdir -p "$host_tc"
printf '#!/bin/sh\nexec gcc "$@"\n' > "$host_tc/cc"; printf '#!/bin/sh\nexec g++ "$@"\n' > "$host_tc/c++"
chmod +x "$host_tc/cc" "$host_tc/c++"
if command -v gcc > /dev/null && command -v g++ > /dev/null; then
  app="$(make_addon "$good_c" host-addon)"
  expect_failure "addon host-addon: host-addon.node is not built for $arch" run_build_addon "$app" host-addon "$host_tc"
else
  echo "  (no host gcc: the wrong-architecture case is not run)"
fi

# The cross wrappers with the target runtime's headers in front, except node_version.h, which
# claims another NODE_MODULE_VERSION: file/objdump see a good arm binary, only loading it fails.
work="${ROADLINK_CROSS_WORK:-$cross/.work}"
nodedir="$(source "$cross/lib/common.sh"; WORK_DIR="$work"; select_target "$arch"
  source "$cross/lib/node-runtime.sh"; ensure_node_runtime)" || fail "no $arch node runtime in $work"
other_headers="$scratch/other-node-headers"
mkdir -p "$other_headers"
for f in "$nodedir"/include/node/*; do ln -s "$f" "$other_headers/"; done
rm "$other_headers/node_version.h"
sed -E 's/^#define NODE_MODULE_VERSION [0-9]+/#define NODE_MODULE_VERSION 1/' \
  "$nodedir/include/node/node_version.h" > "$other_headers/node_version.h"
other_tc="$scratch/other-headers-toolchain"
mkdir -p "$other_tc"
for tool in cc c++; do
  printf '#!/bin/sh\nexec %s -I%s "$@"\n' "$work/toolchain/$arch/$tool" "$other_headers" > "$other_tc/$tool"
  chmod +x "$other_tc/$tool"
done
app="$(make_addon '#include <node.h>
static void init(v8::Local<v8::Object> exports) {}
NODE_MODULE(NODE_GYP_MODULE_NAME, init)' abi_addon cc)"
expect_failure "addon abi_addon@1.0.0: does not load in its target runtime" \
  run_build_addon "$app" abi_addon "$other_tc"
