#!/bin/sh
# Installs an unpacked Roadlink ARM bundle (run from inside it, as root):
#   /opt/roadlink             the bundle (runtime, app, launcher), replaced as a whole on upgrade
#   /etc/roadlink/config.yaml the configuration: installed from the bundle's default only when
#                             absent; an existing one is kept (the new default goes beside it
#                             as config.yaml.dist); DBCs it names go to /etc/roadlink/dbc
#   /var/lib/roadlink         the SQLite store (created by systemd: StateDirectory=roadlink)
#   /var/cache/roadlink       parsed DBC files (created by systemd: CacheDirectory=roadlink)
#   roadlink.service          installed into /etc/systemd/system and enabled
#   user/group roadlink       system account the service runs as
#
# usage: install.sh [--root DIR] [--start]
#   --root DIR  install into a target root file system (an image being prepared) instead of
#               this system: nothing is started, the unit is enabled with systemctl --root
#   --start     start (or restart) the service after installing (live system only)
set -eu

die() { echo "install.sh: ERROR: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

root=""
start=no
while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root="${2%/}"; shift 2 ;;
    --start) start=yes; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

src="$(cd "$(dirname "$0")" && pwd)"
[ -x "$src/runtime/bin/node" ] && [ -d "$src/app/dist" ] && [ -f "$src/systemd/roadlink.service" ] \
  || die "run this from an unpacked Roadlink bundle ($src has no runtime/bin/node, app/dist or systemd/)"
[ "$(id -u)" = 0 ] || die "must run as root"
if [ -n "$root" ]; then
  [ -d "$root/etc" ] || die "--root $root does not look like a root file system (no etc/)"
else
  # The runtime must run on this machine (right architecture, glibc new enough).
  "$src/bin/roadlink-node" --version >/dev/null 2>&1 \
    || die "the bundled Node runtime does not run on this system: wrong architecture ($(uname -m)) or glibc older than the bundle needs (see BUILD-INFO)"
fi

user=roadlink
opt="$root/opt/roadlink"
etc="$root/etc/roadlink"
unit_dir="$root/etc/systemd/system"

# 1. the service account (no login, no home of its own: the state dir is its home)
if grep -q "^$user:" "$root/etc/passwd" 2>/dev/null; then
  say "user $user exists"
elif command -v useradd >/dev/null 2>&1; then
  if [ -n "$root" ]; then set -- --root "$root"; else set --; fi
  useradd "$@" --system --user-group --home-dir /var/lib/roadlink --no-create-home \
    --shell /usr/sbin/nologin --comment "Roadlink telematics agent" "$user" \
    || die "useradd failed to create user $user"
  say "created system user $user"
elif [ -z "$root" ] && command -v adduser >/dev/null 2>&1; then
  # busybox: -S system user, -D no password, -H no home directory
  addgroup -S "$user" 2>/dev/null || true
  adduser -S -D -H -h /var/lib/roadlink -s /sbin/nologin -G "$user" "$user" \
    || die "adduser failed to create user $user"
  say "created system user $user"
else
  die "cannot create user $user: no useradd (or busybox adduser) available"
fi
if grep -q '^dialout:' "$root/etc/group" 2>/dev/null; then
  if [ -n "$root" ]; then usermod --root "$root" -a -G dialout "$user"; else usermod -a -G dialout "$user"; fi \
    || say "warning: could not add $user to group dialout (serial GNSS receivers)"
fi

# 2. the bundle under /opt/roadlink, swapped in whole (an upgrade never mixes two versions)
mkdir -p "$root/opt"
rm -rf "$opt.new" "$opt.old"
mkdir "$opt.new"
for item in bin runtime app systemd install.sh BUILD-INFO LICENSE NOTICE THIRD_PARTY_NOTICES.md README.md; do
  [ -e "$src/$item" ] && cp -a "$src/$item" "$opt.new/"
done
[ -d "$src/config" ] && cp -a "$src/config" "$opt.new/"
chown -R 0:0 "$opt.new"
chmod -R go-w "$opt.new"
[ -e "$opt" ] && mv "$opt" "$opt.old"
mv "$opt.new" "$opt"
rm -rf "$opt.old"
say "installed $(sed -n 's/^version=//p' "$opt/BUILD-INFO" 2>/dev/null || echo bundle) into /opt/roadlink"

# 3. the configuration, kept when present
mkdir -p "$etc"
if [ -f "$src/config/config.yaml" ]; then
  if [ -f "$etc/config.yaml" ]; then
    cp "$src/config/config.yaml" "$etc/config.yaml.dist"
    say "kept existing /etc/roadlink/config.yaml (new default: /etc/roadlink/config.yaml.dist)"
  else
    cp "$src/config/config.yaml" "$etc/config.yaml"
    say "installed default /etc/roadlink/config.yaml: edit it for this vehicle"
  fi
elif [ ! -f "$etc/config.yaml" ]; then
  say "warning: this bundle has no default config; write /etc/roadlink/config.yaml before starting"
fi
if [ -d "$src/config/dbc" ]; then
  # DBCs the default config names (relative to it); existing ones are kept.
  mkdir -p "$etc/dbc"
  for dbc in "$src"/config/dbc/*; do
    [ -e "$etc/dbc/$(basename "$dbc")" ] || cp "$dbc" "$etc/dbc/"
  done
fi
# Readable by the service (it may name key files), writable by root only.
group_id="$(sed -n "s/^$user:[^:]*:\([0-9]*\):.*/\1/p" "$root/etc/group")"
chown -R "0:${group_id:-0}" "$etc"
chmod -R u=rwX,g=rX,o= "$etc"

# 4. the command on PATH
mkdir -p "$root/usr/local/bin"
ln -sfn /opt/roadlink/bin/roadlink "$root/usr/local/bin/roadlink"

# 5. the systemd unit, enabled
mkdir -p "$unit_dir"
cp "$opt/systemd/roadlink.service" "$unit_dir/roadlink.service"
chmod 0644 "$unit_dir/roadlink.service"
if [ -n "$root" ]; then
  if command -v systemctl >/dev/null 2>&1; then
    systemctl --root="$root" enable roadlink.service >/dev/null 2>&1 \
      || die "systemctl --root=$root enable roadlink.service failed"
  else
    mkdir -p "$unit_dir/multi-user.target.wants"
    ln -sfn ../roadlink.service "$unit_dir/multi-user.target.wants/roadlink.service"
  fi
  say "enabled roadlink.service in $root"
elif [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable roadlink.service >/dev/null 2>&1 || die "systemctl enable roadlink.service failed"
  say "enabled roadlink.service"
  if [ "$start" = yes ]; then
    systemctl restart roadlink.service || die "roadlink.service failed to start (journalctl -u roadlink)"
    say "started roadlink.service"
  fi
else
  say "warning: systemd is not running here; the unit is installed but not enabled"
fi
