# The target root: Debian bullseye's libc, libstdc++ and kernel headers for one architecture,
# unpacked (dpkg -x) into the work dir. The cross compiler builds against it (glibc floor 2.31)
# and qemu-user runs the bundle on it (QEMU_LD_PREFIX). Sourced after common.sh + select_target.
#
# apt runs with a private configuration (sources list, lists, cache, status) under the work dir,
# pointing at the same Debian mirror host as the system: the system's apt sources are not touched.

apt_private() {
  local dir="$WORK_DIR/apt-$TARGET_ARCH"
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  [ -f "$dir/status" ] || : > "$dir/status"
  printf 'deb [arch=arm64,armhf signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
    "$DEBIAN_MIRROR" "$TARGET_SUITE" > "$dir/sources.list"
  apt-get -q \
    -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$dir/lists" -o Dir::State::Status="$dir/status" \
    -o Dir::Cache="$dir/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root \
    -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o APT::Architectures::=armhf \
    "$@"
}

# Downloads the given packages for the target architecture and unpacks them into $1, unless $1
# already holds exactly that set. The .debs stay in $1.debs (their names give the versions).
unpack_target_packages() {
  local dest="$1"; shift
  local stamp="$TARGET_SUITE $TARGET_ARCH $*"
  if [ -f "$dest/.roadlink-root" ] && [ "$(cat "$dest/.roadlink-root")" = "$stamp" ]; then
    return 0
  fi
  require_command apt-get apt
  require_command dpkg dpkg
  say "fetching Debian $TARGET_SUITE $TARGET_ARCH packages: $*"
  if [ ! -f "$WORK_DIR/apt-$TARGET_ARCH/.updated" ] || [ -n "$(find "$WORK_DIR/apt-$TARGET_ARCH/.updated" -mmin +1440)" ]; then
    apt_private update >&2 || die "apt cannot read Debian $TARGET_SUITE from $DEBIAN_MIRROR (is the mirror reachable?)"
    touch "$WORK_DIR/apt-$TARGET_ARCH/.updated"
  fi
  local debs="$dest.debs"
  rm -rf "$debs" "$dest"; mkdir -p "$debs" "$dest"
  local names=() p
  for p in "$@"; do names+=("$p:$TARGET_ARCH"); done
  (cd "$debs" && apt_private download "${names[@]}" >&2) \
    || die "apt could not download the $TARGET_SUITE $TARGET_ARCH packages: ${names[*]}"
  local deb
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$dest" || die "dpkg -x failed on $deb"; done
  relativize_absolute_links "$dest"
  echo "$stamp" > "$dest/.roadlink-root"
}

# Prints the target root's path, creating it if needed.
ensure_target_root() {
  local root="$WORK_DIR/root-$TARGET_ARCH"
  # shellcheck disable=SC2046 # one word per package
  unpack_target_packages "$root" $(target_root_packages)
  echo "$root"
}

# Prints the paths of the extra shared libraries the bundle carries for this target (one a line).
ensure_extra_libs() {
  [ ${#TARGET_EXTRA_LIBS[@]} -gt 0 ] || return 0
  local dest="$WORK_DIR/extra-$TARGET_ARCH" entry packages=() lib
  for entry in "${TARGET_EXTRA_LIBS[@]}"; do packages+=("${entry%%:*}"); done
  unpack_target_packages "$dest" "${packages[@]}" "${TARGET_EXTRA_LIB_DOCS[@]}"
  for entry in "${TARGET_EXTRA_LIBS[@]}"; do
    lib="$(find "$dest" -name "${entry#*:}" | head -1)"
    [ -n "$lib" ] || die "package ${entry%%:*} ($TARGET_SUITE $TARGET_ARCH) has no ${entry#*:}"
    echo "$lib"
  done
}

# Debian's -dev packages link e.g. libm.so -> /lib/<triplet>/libm.so.6 (absolute): inside an
# unpacked root that points at the build machine. Re-point such links inside the root.
relativize_absolute_links() {
  local root="$1" link target
  while IFS= read -r -d '' link; do
    target="$(readlink "$link")"
    case "$target" in
      /*) ln -sfn "$(realpath -s -m --relative-to="$(dirname "$link")" "$root$target")" "$link" ;;
    esac
  done < <(find "$root" -type l -print0)
}

# The .deb files the target root was made from (names carry the versions).
target_root_debs() {
  (cd "$WORK_DIR/root-$TARGET_ARCH.debs" && ls -- *.deb) | sort | tr '\n' ' '
}
