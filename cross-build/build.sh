#!/usr/bin/env bash
# Builds a self-contained Roadlink bundle for an ARM head unit from this checkout:
#   cross-build/out/roadlink-<version>-linux-<arch>.tar.gz
# holding the target's Node runtime (npm registry), the compiled agent (tsc), production
# dependencies with their native addons cross-compiled against Debian bullseye (glibc 2.31),
# the default config, the systemd unit and install.sh.
#
# usage: cross-build/build.sh <arm64|armhf> [--from-head]
#   --from-head  build the committed tree (git HEAD) instead of the working tree
# Any failure stops the build and leaves no bundle for that architecture.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

arch="${1:-}"
from_head=no
for opt in "${@:2}"; do
  case "$opt" in
    --from-head) from_head=yes ;;
    *) die "unknown option '$opt' (usage: build.sh <arm64|armhf> [--from-head])" ;;
  esac
done
select_target "$arch"

for lib in target-root node-runtime toolchain addons trim bundle; do source "$CROSS_DIR/lib/$lib.sh"; done
check_toolchain
require_command node nodejs
require_command npm npm
require_command file file
require_command objdump binutils
[ -f "$REPO_DIR/node_modules/node-gyp/bin/node-gyp.js" ] || die "node-gyp missing: run 'npm ci' in $REPO_DIR first"
[ -f "$REPO_DIR/node_modules/typescript/bin/tsc" ] || die "typescript missing: run 'npm ci' in $REPO_DIR first"

started=$SECONDS
version="$(project_version)"
name="roadlink-$version-linux-$TARGET_ARCH"
bundle_file="$OUT_DIR/$name.tar.gz"
mkdir -p "$OUT_DIR" "$WORK_DIR"
rm -f "$bundle_file" "$bundle_file.tmp"   # a failed build leaves no (stale) bundle behind

say "building $name (node $TARGET_NODE_VERSION, target $TARGET_SUITE)"
root="$(ensure_target_root)"
nodedir="$(ensure_node_runtime)"
toolchain="$(ensure_toolchain "$root")"
mapfile -t extra_libs < <(ensure_extra_libs)

# The source tree: the working tree, or HEAD exported (the checkout's node_modules is reused).
src="$REPO_DIR"
if [ "$from_head" = yes ]; then
  src="$WORK_DIR/src-head-$TARGET_ARCH"
  rm -rf "$src"; mkdir -p "$src"
  git -C "$REPO_DIR" archive HEAD | tar -x -C "$src" || die "git archive HEAD failed"
  ln -s "$REPO_DIR/node_modules" "$src/node_modules"
fi

stage="$WORK_DIR/stage-$TARGET_ARCH"
top="$stage/$name"
app="$top/app"
rm -rf "$stage"; mkdir -p "$app"

# 1. compiled JavaScript (what `npm run build` emits, without source maps or bench modules)
say "compiling TypeScript"
node "$REPO_DIR/node_modules/typescript/bin/tsc" -p "$src/tsconfig.json" --outDir "$app/dist" \
  --sourceMap false --incremental false >"$stage/tsc.log" 2>&1 \
  || { cat "$stage/tsc.log" >&2; die "TypeScript compilation failed"; }
rm -rf "$app/dist/test"
# The head unit runs the agent: the backend server (database, ingest, Web API, fleet page) and the
# demo stay out, with the packages only they load (BACKEND_PACKAGES, trimmed below). The JSON-lines
# receiver (`roadlink backend receive`) stays: it needs only wire/ and mqtt.
rm -rf "$app/dist/backend/api" "$app/dist/backend/db" "$app/dist/backend/ingest" "$app/dist/backend/remote" \
  "$app/dist/backend/webhooks" "$app/dist/backend/web" "$app/dist/apps/demo" "$app/dist/apps/cli/backend-server.js" "$app/dist/apps/cli/demo.js"
[ -f "$app/dist/apps/cli/main.js" ] || say "warning: no apps/cli/main.ts yet: bin/roadlink has no CLI to run"
cp "$src/package.json" "$src/package-lock.json" "$app/"
for dir in proto examples; do [ -d "$src/$dir" ] && cp -a "$src/$dir" "$app/"; done

# 2. production dependencies, no install scripts (no prebuilt downloads), then addons built here
say "installing production dependencies (scripts off)"
(cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2) \
  || die "npm ci --omit=dev failed in $app"
BACKEND_PACKAGES=(fastify pg ajv ajv-formats leaflet topojson-client world-atlas)
printf '%s\n' "${BACKEND_PACKAGES[@]}" > "$app/LEFT-OUT-PACKAGES" # read by the smoke test's deps-check
node "$CROSS_DIR/lib/unneeded-packages.mjs" "$app" node-gyp prebuild-install nan "${BACKEND_PACKAGES[@]}" > "$stage/unneeded.txt"
mapfile -t addons < <(list_addons "$app" "$stage/unneeded.txt")
[ ${#addons[@]} -gt 0 ] || die "no native addon found in the production dependencies (expected better-sqlite3, socketcan)"
key_extra="$(short_hash "$TARGET_NODE_VERSION" "$(toolchain_version)" "$(target_root_debs)" \
  "node-gyp $(node -p "require('$REPO_DIR/node_modules/node-gyp/package.json').version")" \
  "$(cat "$CROSS_DIR/lib/addons.sh" "$CROSS_DIR/lib/toolchain.sh")")"
for pkg in "${addons[@]}"; do
  build_addon "$app" "$pkg" "$nodedir" "$toolchain" "$key_extra"
done
# The project's own addons (the native SocketCAN reader, the sd_notify sender), compiled the same way
# (cached by their sources); only their .node stays, where dist/drivers/socketcan/native-can-socket.js
# and dist/agent/runtime/sd-notify.js look for them.
for own_addon in drivers/socketcan/native agent/runtime/native; do
  mkdir -p "$app/$own_addon"
  cp "$src/$own_addon"/{binding.gyp,package.json,*.c} "$app/$own_addon/"
  build_addon "$app" "$own_addon" "$nodedir" "$toolchain" \
    "$key_extra $(short_hash "$(cat "$src/$own_addon"/binding.gyp "$src/$own_addon"/*.c)")"
  find "$app/$own_addon" -maxdepth 1 -type f -delete
done
trim_node_modules "$app" "$stage/unneeded.txt" "${addons[@]}"
rm -f "$app/package-lock.json"

# 3. runtime, launcher, service files, notices
assemble_bundle "$top" "$nodedir" "$src" "${extra_libs[@]}"
strip_binaries "$top"
check_bundle_binaries "$top"
floor="$(glibc_floor "$top")"
write_build_info "$top" "$version" "$floor" "$src" "$nodedir"

# 4. the archive, moved into place only when complete
say "packing $name.tar.gz"
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner -cf - "$name" | gzip -6 > "$bundle_file.tmp"
mv "$bundle_file.tmp" "$bundle_file"

size="$(du -m "$bundle_file" | cut -f1)"
unpacked="$(du -sm "$top" | cut -f1)"
say "done: $bundle_file"
say "  node $TARGET_NODE_VERSION, glibc floor GLIBC_$floor, ${size} MB compressed (${unpacked} MB unpacked), built in $((SECONDS - started)) s"
