# Native addons: every package of the production tree with a binding.gyp is compiled for the target
# with node-gyp (the project's devDependency) against the target runtime's headers (--nodedir) and
# the target root (compiler wrappers). Installs run with scripts off, so no prebuilt binary is ever
# downloaded. Results are cached by addon, runtime, toolchain and target root.
# Sourced after common.sh + select_target.

# Build outputs that are not part of an addon's runtime (better-sqlite3's test extension).
ADDON_OUTPUTS_DROPPED=(test_extension.node)

# Package dirs (relative to the app dir) of the addons the app loads, one per line.
list_addons() {
  local app="$1" unneeded="$2" gyp pkg
  while IFS= read -r gyp; do
    pkg="${gyp%/binding.gyp}"
    [ -f "$app/$pkg/package.json" ] || continue
    grep -qxF "$pkg" "$unneeded" && continue
    echo "$pkg"
  done < <(cd "$app" && find node_modules -name binding.gyp -not -path '*/test/*' | sort)
}

# Builds one addon in place (build/Release/*.node), from the cache when possible.
# args: app-dir package-dir node-runtime-dir toolchain-dir cache-key-extra
build_addon() {
  local app="$1" pkg="$2" nodedir="$3" tc="$4" key_extra="$5"
  local dir="$app/$pkg" name version
  name="$(node -p "require(process.argv[1]).name" "$dir/package.json")"
  version="$(node -p "require(process.argv[1]).version" "$dir/package.json")"
  local key; key="$(short_hash "$name@$version" "$key_extra")"
  local cache="$WORK_DIR/addon-cache/$name-$version-$TARGET_ARCH-node$TARGET_NODE_VERSION-$key"

  if [ -f "$cache/.complete" ]; then
    say "addon $name@$version: from cache ($cache)"
  else
    say "addon $name@$version: compiling for $TARGET_ARCH against node $TARGET_NODE_VERSION headers"
    local log="$WORK_DIR/logs/addon-$name-$TARGET_ARCH.log"
    mkdir -p "$(dirname "$log")"
    local started=$SECONDS
    local unset_npm_config=()
    mapfile -t unset_npm_config < <(npm_config_env_unset_args)
    if ! (cd "$dir" && env "${unset_npm_config[@]}" CC="$tc/cc" CXX="$tc/c++" LINK="$tc/c++" AR="$TARGET_TRIPLET-ar" \
          node "$REPO_DIR/node_modules/node-gyp/bin/node-gyp.js" rebuild --release \
            --arch="$TARGET_GYP_ARCH" --nodedir="$nodedir" --jobs="$(nproc)") >"$log" 2>&1; then
      tail -40 "$log" >&2
      die "addon $name@$version failed to build for $TARGET_ARCH (full log: $log)"
    fi
    say "addon $name@$version: built in $((SECONDS - started)) s"
    check_addon_binaries "$name" "$dir/build/Release"   # before caching: a bad binary is never cached
    rm -rf "$cache"; mkdir -p "$cache"
    local out
    for out in "$dir"/build/Release/*.node; do
      [ -f "$out" ] || continue
      is_dropped_output "$(basename "$out")" && continue
      cp "$out" "$cache/"
    done
    touch "$cache/.complete"
  fi

  # Leave only the addon's .node files in build/Release (what `bindings`/require load).
  rm -rf "$dir/build"; mkdir -p "$dir/build/Release"
  cp "$cache"/*.node "$dir/build/Release/" 2>/dev/null || die "addon $name@$version produced no .node file"
  check_addon_binaries "$name" "$dir/build/Release"
  local load_error
  if ! load_error="$(addon_load_error "$dir/build/Release" "$nodedir")"; then
    rm -rf "$cache"   # never served again (also drops a bad entry cached by an older build script)
    die "addon $name@$version: $load_error"
  fi
}

# node-gyp lets npm_config_<key> and npm_package_config_node_gyp_<key> environment variables
# override its command line, and `npm run` exports every non-default npm setting that way: a
# ~/.npmrc `nodedir=/usr` became npm_config_nodedir=/usr under `npm run test:cross` and replaced
# --nodedir, so the addons were built against the host's Node headers. Prints `env` arguments
# that remove them all, one a line.
npm_config_env_unset_args() {
  local var
  while IFS= read -r var; do printf -- '-u\n%s\n' "$var"; done \
    < <(compgen -e | grep -iE '^(npm_config_|npm_package_config_node_gyp_)' || true)
}

# The .node files of a directory must load in the target runtime: its node, under qemu-user on the
# target root, dlopens each. This catches what file/objdump cannot see: an addon compiled against
# other Node headers (NODE_MODULE_VERSION mismatch, "Module did not self-register"), a missing
# symbol. Prints the reason and returns 1 when one does not load.
# args: dir node-runtime-dir
addon_load_error() {
  local dir="$1" nodedir="$2" root libpath="" lib out
  require_command "$TARGET_QEMU" qemu-user-static
  root="$(ensure_target_root)"
  while IFS= read -r lib; do libpath="${libpath:+$libpath:}$(dirname "$lib")"; done < <(ensure_extra_libs)
  # shellcheck disable=SC2016 # JavaScript, not shell
  if out="$(QEMU_LD_PREFIX="$root" LD_LIBRARY_PATH="$libpath" "$TARGET_QEMU" "$nodedir/bin/node" -e '
      for (const file of process.argv.slice(1)) {
        try { process.dlopen({ exports: {} }, file) } catch (e) {
          console.error(`${require("path").basename(file)}: ${e.message.replace(/\s+/g, " ")}`)
          process.exitCode = 1
        }
      }' "$dir"/*.node 2>&1)"; then
    return 0
  fi
  echo "does not load in its target runtime, node $TARGET_NODE_VERSION" \
    "(NODE_MODULE_VERSION $(node_module_version "$nodedir"), $TARGET_ARCH under qemu): $(echo "$out" | tail -3)"
  return 1
}

is_dropped_output() {
  local n
  for n in "${ADDON_OUTPUTS_DROPPED[@]}"; do [ "$1" = "$n" ] && return 0; done
  return 1
}

# Each .node must be an ELF shared object for the target and need no newer glibc/libstdc++
# than the target root has: a host-built or prebuilt binary is caught here.
check_addon_binaries() {
  local name="$1" dir="$2" f desc glibc glibcxx
  for f in "$dir"/*.node; do
    desc="$(file -b "$f")"
    echo "$desc" | grep -Eq "$TARGET_FILE_MAGIC" \
      || die "addon $name: $(basename "$f") is not built for $TARGET_ARCH: $desc"
    echo "$desc" | grep -q 'shared object' || die "addon $name: $(basename "$f") is not a shared object: $desc"
    glibc="$(highest_symbol_version GLIBC "$f")"
    glibcxx="$(highest_symbol_version GLIBCXX "$f")"
    [ -z "$glibc" ] || version_le "$glibc" "$TARGET_GLIBC_MAX" \
      || die "addon $name: $(basename "$f") needs GLIBC_$glibc, above the target floor $TARGET_GLIBC_MAX"
    [ -z "$glibcxx" ] || version_le "$glibcxx" "$TARGET_GLIBCXX_MAX" \
      || die "addon $name: $(basename "$f") needs GLIBCXX_$glibcxx, above the target's $TARGET_GLIBCXX_MAX"
  done
}
