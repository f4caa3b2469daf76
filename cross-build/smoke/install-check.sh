#!/usr/bin/env bash
# Runs the bundle's install.sh into a scratch root file system (--root: how an image is prepared)
# twice and checks the layout: user, /opt/roadlink, config kept on the second run, the unit
# installed and enabled, and that systemd accepts the unit.
# usage: install-check.sh <bundle-dir> <work-dir>
set -euo pipefail
bundle="$1"; work="$2"
fail() { echo "install-check: $*" >&2; exit 1; }

rootfs="$work/rootfs"
rm -rf "$rootfs"; mkdir -p "$rootfs/etc" "$rootfs/usr/sbin"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\ndialout:x:20:\n' > "$rootfs/etc/group"
printf 'root:*:19000:0:99999:7:::\n' > "$rootfs/etc/shadow"
printf 'root:*::\ndialout:*::\n' > "$rootfs/etc/gshadow"
chmod 0640 "$rootfs/etc/shadow" "$rootfs/etc/gshadow"

"$bundle/install.sh" --root "$rootfs" > "$work/install-1.log" 2>&1 || { cat "$work/install-1.log" >&2; fail "install.sh --root failed"; }

grep -q '^roadlink:x:[0-9]*:[0-9]*:.*:/var/lib/roadlink:/usr/sbin/nologin$' "$rootfs/etc/passwd" || fail "no roadlink system user in passwd"
grep -q '^dialout:.*roadlink' "$rootfs/etc/group" || fail "roadlink is not in group dialout"
[ -x "$rootfs/opt/roadlink/bin/roadlink" ] && [ -x "$rootfs/opt/roadlink/runtime/bin/node" ] || fail "/opt/roadlink lacks the launcher or runtime"
cmp -s "$bundle/BUILD-INFO" "$rootfs/opt/roadlink/BUILD-INFO" || fail "/opt/roadlink/BUILD-INFO differs from the bundle's"
[ "$(readlink "$rootfs/usr/local/bin/roadlink")" = /opt/roadlink/bin/roadlink ] || fail "/usr/local/bin/roadlink link missing"
unit="$rootfs/etc/systemd/system/roadlink.service"
cmp -s "$bundle/systemd/roadlink.service" "$unit" || fail "unit not installed in /etc/systemd/system"
[ -L "$rootfs/etc/systemd/system/multi-user.target.wants/roadlink.service" ] || fail "unit not enabled (no multi-user.target.wants link)"
if [ -f "$bundle/config/config.yaml" ]; then
  cmp -s "$bundle/config/config.yaml" "$rootfs/etc/roadlink/config.yaml" || fail "default config not installed"
  for dbc in "$bundle"/config/dbc/*; do
    [ -e "$dbc" ] || continue
    cmp -s "$dbc" "$rootfs/etc/roadlink/dbc/$(basename "$dbc")" || fail "DBC $(basename "$dbc") of the default config not installed"
  done
fi

# Second run (an upgrade): an edited config is kept, the new default goes beside it.
echo "# edited on the head unit" > "$rootfs/etc/roadlink/config.yaml"
"$bundle/install.sh" --root "$rootfs" > "$work/install-2.log" 2>&1 || { cat "$work/install-2.log" >&2; fail "second install.sh --root failed"; }
grep -q 'edited on the head unit' "$rootfs/etc/roadlink/config.yaml" || fail "upgrade overwrote the existing config"
[ "$(grep -c '^roadlink:' "$rootfs/etc/passwd")" = 1 ] || fail "upgrade added the user twice"
[ ! -e "$rootfs/opt/roadlink.old" ] && [ ! -e "$rootfs/opt/roadlink.new" ] || fail "upgrade left /opt/roadlink.old or .new behind"

# The agent speaks sd_notify (READY, STATUS, STOPPING, WATCHDOG): the unit must wait for it and watch it.
grep -qx 'Type=notify' "$unit" || fail "roadlink.service is not Type=notify"
grep -qE '^WatchdogSec=[1-9]' "$unit" || fail "roadlink.service has no WatchdogSec="
grep -qE '^NotifyAccess=(main|exec)$' "$unit" || fail "roadlink.service must take notifications from the agent's own process only (NotifyAccess=main)"

if command -v systemd-analyze >/dev/null 2>&1; then
  # Checks the unit's syntax and settings against this machine's systemd; the only complaint
  # allowed is that /opt/roadlink/bin/roadlink does not exist here.
  mkdir -p "$work/unit"; cp "$unit" "$work/unit/"
  systemd-analyze verify "$work/unit/roadlink.service" > "$work/verify.log" 2>&1 || true
  if grep -v 'Command /opt/roadlink/bin/roadlink is not executable' "$work/verify.log" | grep -q .; then
    cat "$work/verify.log" >&2; fail "systemd-analyze verify reports problems in roadlink.service"
  fi
  # Guard against the hardening being weakened: systemd's exposure score (0 = locked down, 10 =
  # unprotected) is 3.7 today; above 4.0 fails.
  if ! systemd-analyze security --offline=yes --threshold=40 "$work/unit/roadlink.service" > "$work/security.log" 2>&1; then
    grep -E '✗|Overall' "$work/security.log" >&2; fail "roadlink.service exposure is above 4.0 (systemd-analyze security)"
  fi
  echo "  roadlink.service: $(grep -o 'Overall exposure level.*' "$work/security.log")"
fi
echo "  install.sh --root: user, /opt/roadlink, /etc/roadlink/config.yaml (kept on upgrade), unit enabled (Type=notify, $(grep -E '^WatchdogSec=' "$unit"))"
