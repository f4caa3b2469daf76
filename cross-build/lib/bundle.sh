# Assembling a bundle directory around its app/: runtime, launcher, service files, notices;
# stripping and checking its binaries. Sourced after common.sh + select_target.

# Where the default config comes from in the checkout (installed as /etc/roadlink/config.yaml):
# the first that exists. DBC paths in it are relative to it, so the DBCs beside it come along.
DEFAULT_CONFIG_CANDIDATES=(examples/config.yaml examples/peugeot-208.yaml)
DEFAULT_CONFIG_DBC_DIR=examples/dbc

# args: bundle-dir node-runtime-dir source-dir extra-lib-paths...
assemble_bundle() {
  local top="$1" nodedir="$2" src="$3"; shift 3
  mkdir -p "$top/runtime/bin" "$top/bin" "$top/systemd"
  cp "$nodedir/bin/node" "$top/runtime/bin/node"
  cp "$nodedir/LICENSE" "$top/runtime/LICENSE"   # Node.js and the licenses of what it embeds
  if [ $# -gt 0 ]; then
    mkdir -p "$top/runtime/lib"
    cp -L "$@" "$top/runtime/lib/"
    local copyright
    while IFS= read -r copyright; do
      cp "$copyright" "$top/runtime/lib/$(basename "$(dirname "$copyright")").copyright"
    done < <(find "$WORK_DIR/extra-$TARGET_ARCH/usr/share/doc" -type f -name copyright)
  fi
  cp "$src/bin/roadlink" "$top/bin/roadlink"
  ln -s roadlink "$top/bin/roadlink-node"
  cp "$CROSS_DIR/systemd/roadlink.service" "$top/systemd/"
  cp "$CROSS_DIR/install.sh" "$top/install.sh"
  cp "$CROSS_DIR/bundle-README.md" "$top/README.md"
  chmod 0755 "$top/bin/roadlink" "$top/install.sh"
  local f
  for f in LICENSE NOTICE THIRD_PARTY_NOTICES.md; do
    if [ -f "$src/$f" ]; then cp "$src/$f" "$top/"; fi
  done
  local config
  for config in "${DEFAULT_CONFIG_CANDIDATES[@]}"; do
    if [ -f "$src/$config" ]; then
      mkdir -p "$top/config"
      cp "$src/$config" "$top/config/config.yaml"
      if [ -d "$src/$DEFAULT_CONFIG_DBC_DIR" ]; then cp -a "$src/$DEFAULT_CONFIG_DBC_DIR" "$top/config/dbc"; fi
      say "default config: $config"
      return 0
    fi
  done
  say "warning: none of ${DEFAULT_CONFIG_CANDIDATES[*]} in the checkout: the bundle carries no default config"
}

# ELF files of the bundle, one path a line.
bundle_elf_files() {
  find "$1" -type f -print0 | xargs -0 file -N -F $'\t' | awk -F'\t' '$2 ~ /^ ?ELF /{print $1}'
}

strip_binaries() {
  local top="$1" f
  while IFS= read -r f; do
    "$TARGET_TRIPLET-strip" --strip-unneeded "$f" || die "$TARGET_TRIPLET-strip failed on $f"
  done < <(bundle_elf_files "$top")
}

# Every ELF file must be built for the target and need no newer glibc than the target root.
check_bundle_binaries() {
  local top="$1" f desc glibc
  while IFS= read -r f; do
    desc="$(file -b "$f")"
    echo "$desc" | grep -Eq "$TARGET_FILE_MAGIC" \
      || die "${f#"$top"/} is not built for $TARGET_ARCH: $desc"
    glibc="$(highest_symbol_version GLIBC "$f")"
    [ -z "$glibc" ] || version_le "$glibc" "$TARGET_GLIBC_MAX" \
      || die "${f#"$top"/} needs GLIBC_$glibc, above the target floor $TARGET_GLIBC_MAX"
  done < <(bundle_elf_files "$top")
}

# Highest GLIBC_ version needed by the given ELF files (all of the bundle's when only a dir is given).
glibc_floor() {
  local top="$1" f v floor=0
  while IFS= read -r f; do
    v="$(highest_symbol_version GLIBC "$f")"
    if [ -n "$v" ] && ! version_le "$v" "$floor"; then floor="$v"; fi
  done < <(if [ $# -gt 1 ]; then printf '%s\n' "${@:2}"; else bundle_elf_files "$top"; fi)
  echo "$floor"
}

# BUILD-INFO: key=value facts about the bundle, read by install.sh and the smoke test.
# args: bundle-dir version glibc-floor source-dir node-runtime-dir
write_build_info() {
  local top="$1" version="$2" floor="$3" src="$4" nodedir="$5"
  local commit dirty=""
  commit="$(git -C "$REPO_DIR" rev-parse HEAD 2>/dev/null || echo unknown)"
  if [ "$src" = "$REPO_DIR" ] && [ -n "$(git -C "$REPO_DIR" status --porcelain 2>/dev/null)" ]; then
    dirty=" (working tree with changes)"
  fi
  local addons_floor nodes
  mapfile -t nodes < <(find "$top/app/node_modules" -name '*.node')
  addons_floor="$(glibc_floor "$top" "${nodes[@]}")"
  {
    echo "name=roadlink"
    echo "version=$version"
    echo "arch=$TARGET_ARCH"
    echo "node=$TARGET_NODE_VERSION ($TARGET_NODE_PACKAGE from the npm registry)"
    echo "node_module_version=$(node_module_version "$nodedir")"
    echo "glibc_floor=$floor"
    echo "glibc_floor_addons=$addons_floor"
    echo "built_against=Debian $TARGET_SUITE (glibc $TARGET_GLIBC_MAX, libstdc++ GCC $TARGET_GCC_MAJOR)"
    echo "addons=$(for f in "${nodes[@]}"; do echo -n "${f#"$top/app/node_modules/"} "; done)"
    echo "commit=$commit$dirty"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } > "$top/BUILD-INFO"
}
