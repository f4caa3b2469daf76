#!/usr/bin/env bash
# Builds the ARM bundles and proves they start, under qemu-user emulation (no binfmt_misc needed:
# qemu-<arch>-static is called directly, QEMU_LD_PREFIX = the Debian bullseye target root, so the
# bundle runs on glibc 2.31 as on an old head unit).
#
# usage: cross-build/smoke-test.sh [--from-head] [--reuse] [arm64|armhf ...]   (default: both)
#   --from-head  build the committed tree instead of the working tree
#   --reuse      test the bundles already in cross-build/out instead of building them
# ROADLINK_SMOKE_STRICT=1 turns skipped steps (agent parts not written yet) and warnings (the default
# config writing outside the service's state dir) into failures.
# Ends with "cross: N passed, N failed, N skipped"; exits non-zero when a step failed.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$CROSS_DIR/lib/target-root.sh"

build_args=()
reuse=no
archs=()
for arg in "$@"; do
  case "$arg" in
    --from-head) build_args+=(--from-head) ;;
    --reuse) reuse=yes ;;
    arm64|armhf) archs+=("$arg") ;;
    *) die "unknown argument '$arg' (usage: smoke-test.sh [--from-head] [--reuse] [arm64|armhf ...])" ;;
  esac
done
[ ${#archs[@]} -gt 0 ] || archs=(arm64 armhf)
for arch in "${archs[@]}"; do
  select_target "$arch"
  require_command "$TARGET_QEMU" qemu-user-static
done
require_command node nodejs

passed=0 failed=0 skipped=0
declare -A figures
pass() { passed=$((passed + 1)); echo "  PASS $1"; }
fail() { failed=$((failed + 1)); echo "  FAIL $1"; }
skip() {
  if [ "${ROADLINK_SMOKE_STRICT:-0}" = 1 ]; then fail "$1 (skipped, strict mode): $2"; return; fi
  skipped=$((skipped + 1)); echo "  SKIP $1: $2"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Runs "$@" as step $name; its output is shown only when it fails (or with ROADLINK_SMOKE_VERBOSE=1).
# Sets step_output and step_ms.
step() {
  local name="$1"; shift
  local started; started="$(now_ms)"
  step_output="$("$@" 2>&1)"; local rc=$?
  step_ms=$(($(now_ms) - started))
  if [ $rc -eq 0 ]; then
    pass "$name (${step_ms} ms)"
    if [ "${ROADLINK_SMOKE_VERBOSE:-0}" = 1 ]; then
      echo "$step_output"
    else
      echo "$step_output" | grep 'WARNING' | sed 's/^ */       /'   # warnings always show
    fi
    return 0
  fi
  fail "$name (exit $rc)"
  echo "$step_output" | tail -40 | sed 's/^/       /'
  return 1
}

# 1. bundles: both architectures build in parallel (each is mostly one compiler process).
mkdir -p "$WORK_DIR/logs"
version="$(project_version)"
declare -A build_pid
if [ "$reuse" = no ]; then
  echo "cross: building ${archs[*]} bundles (logs in $WORK_DIR/logs/build-<arch>.log)"
  for arch in "${archs[@]}"; do
    bash "$CROSS_DIR/build.sh" "$arch" "${build_args[@]}" > "$WORK_DIR/logs/build-$arch.log" 2>&1 &
    build_pid[$arch]=$!
  done
fi

for arch in "${archs[@]}"; do
  select_target "$arch"
  name="roadlink-$version-linux-$arch"
  bundle_file="$OUT_DIR/$name.tar.gz"
  echo "cross: $arch"
  if [ "$reuse" = no ]; then
    if wait "${build_pid[$arch]}"; then
      pass "build $name.tar.gz ($(sed -n 's/.*, built in \([0-9]*\) s$/\1 s/p' "$WORK_DIR/logs/build-$arch.log"))"
      figures[$arch.build]="$(sed -n 's/.*, built in \([0-9]*\) s$/\1/p' "$WORK_DIR/logs/build-$arch.log")"
    else
      fail "build $name.tar.gz"
      tail -30 "$WORK_DIR/logs/build-$arch.log" | sed 's/^/       /'
      continue
    fi
  fi
  [ -f "$bundle_file" ] || { fail "bundle $bundle_file missing"; continue; }
  figures[$arch.size]="$(du -m "$bundle_file" | cut -f1)"

  tmp="$(mktemp -d "${TMPDIR:-/tmp}/roadlink-smoke-$arch.XXXXXX")"
  tar -xzf "$bundle_file" -C "$tmp" || { fail "unpack $bundle_file"; rm -rf "$tmp"; continue; }
  b="$tmp/$name"
  QEMU_LD_PREFIX="$(ensure_target_root)"
  export QEMU_LD_PREFIX ROADLINK_EXEC_PREFIX="$TARGET_QEMU"
  mkdir -p "$b/app/.smoke"
  cp "$CROSS_DIR"/smoke/*.mjs "$b/app/.smoke/"
  figures[$arch.glibc]="$(sed -n 's/^glibc_floor=//p' "$b/BUILD-INFO")"
  figures[$arch.node]="$TARGET_NODE_VERSION"

  want_arch="$TARGET_GYP_ARCH v$TARGET_NODE_VERSION"
  check_runtime() {
    local got; got="$("$b/bin/roadlink-node" -p '`${process.arch} ${process.version}`')" || return 1
    [ "$got" = "$want_arch" ] || { echo "bundled node says '$got', expected '$want_arch'"; return 1; }
  }
  step "bundled node $TARGET_NODE_VERSION starts on glibc $TARGET_GLIBC_MAX (qemu)" check_runtime \
    && figures[$arch.start]="$step_ms"

  if [ -f "$b/app/dist/apps/cli/main.js" ]; then
    check_version() {
      # Through a symlink, as /usr/local/bin/roadlink is installed: the launcher must find its bundle.
      ln -sfn "$b/bin/roadlink" "$tmp/roadlink-symlink"
      local got; got="$("$tmp/roadlink-symlink" --version)" || return 1
      [ "$got" = "$version" ] || { echo "roadlink --version printed '$got', expected '$version'"; return 1; }
    }
    step "roadlink --version (through a symlink)" check_version
  else
    skip "roadlink --version" "the bundle has no CLI (apps/cli/main.ts not in this checkout yet)"
  fi

  step "production dependencies load" "$b/bin/roadlink-node" "$b/app/.smoke/deps-check.mjs"

  if [ -f "$b/app/dist/agent/store/store.js" ]; then
    step "SQLite store writes, reopens, reads (better-sqlite3 addon)" \
      "$b/bin/roadlink-node" "$b/app/.smoke/store-check.mjs" "$tmp/store.db" \
      && figures[$arch.rss]="$(echo "$step_output" | sed -n 's/.*peak RSS.*: \([0-9]*\) MB/\1/p')"
  else
    skip "SQLite store" "the bundle has no agent/store yet"
  fi

  step "socketcan addon loads (no kernel CAN here)" "$b/bin/roadlink-node" "$b/app/.smoke/socketcan-check.mjs" vcan0

  if [ ! -f "$b/config/config.yaml" ]; then
    skip "default config is valid" "the bundle carries no default config"
  elif [ ! -f "$b/app/dist/agent/config/load-config.js" ]; then
    skip "default config is valid" "the bundle has no agent/config yet"
  else
    strict_flag=()
    [ "${ROADLINK_SMOKE_STRICT:-0}" = 1 ] && strict_flag=(--strict)
    step "default config is valid (agent's config check); written paths vs. the unit" \
      "$b/bin/roadlink-node" "$b/app/.smoke/config-check.mjs" "$b/config/config.yaml" "${strict_flag[@]}"
  fi

  if [ -f "$b/app/dist/apps/cli/decode.js" ]; then
    step "roadlink decode (own DBC + log)" node "$CROSS_DIR/smoke/decode-check.mjs" "$b" "$tmp" \
      && figures[$arch.decode]="$(echo "$step_output" | sed -n 's/.*first decoded frame: \([0-9]*\) ms.*/\1/p')"
  else
    skip "roadlink decode" "the bundle's CLI has no decode command yet (apps/cli/decode.ts)"
  fi

  if grep -q "name: 'run'" "$b/app/dist/apps/cli/main.js" 2>/dev/null; then
    step "roadlink run: replay -> store -> MQTT 5 uploads (mosquitto)" \
      node "$CROSS_DIR/smoke/agent-run-check.mjs" "$b" "$tmp" \
      && figures[$arch.upload]="$(echo "$step_output" | sed -n 's/.*first upload: \([0-9]*\) ms.*/\1/p')" \
      && figures[$arch.agent_frame]="$(echo "$step_output" | sed -n "s/.*agent's first decoded frame: \([0-9]*\) ms.*/\1/p")" \
      && figures[$arch.agent_rss]="$(echo "$step_output" | sed -n 's/.*agent peak RSS.*: \([0-9]*\) MB/\1/p')"
  else
    skip "roadlink run: replay -> store -> MQTT 5 uploads" "the CLI has no run command yet"
  fi

  step "install.sh --root (user, layout, config kept, unit enabled)" \
    bash "$CROSS_DIR/smoke/install-check.sh" "$b" "$tmp"

  unset QEMU_LD_PREFIX ROADLINK_EXEC_PREFIX
  rm -rf "$tmp"
done

# Bad input to the build (arch-independent; reuses the first architecture's target root + runtime).
echo "cross: bad input"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/roadlink-smoke-bad.XXXXXX")"
step "build refuses bad input (architecture, toolchain, failing, wrong-arch or wrong-ABI addon)" \
  bash "$CROSS_DIR/smoke/bad-input-check.sh" "${archs[0]}" "$tmp"
rm -rf "$tmp"

echo "cross: figures"
for arch in "${archs[@]}"; do
  line="  $arch: node ${figures[$arch.node]:-?}, bundle ${figures[$arch.size]:-?} MB, build ${figures[$arch.build]:-(reused)} s"
  line+=", node start ${figures[$arch.start]:-?} ms, first decoded frame ${figures[$arch.decode]:-n/a} ms"
  line+=", agent's first decoded frame ${figures[$arch.agent_frame]:-n/a} ms, first upload ${figures[$arch.upload]:-n/a} ms, peak RSS (qemu + node) store check ${figures[$arch.rss]:-?} MB"
  line+=" / agent ${figures[$arch.agent_rss]:-n/a} MB, glibc floor ${figures[$arch.glibc]:-?}"
  echo "$line"
done
echo "cross: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
