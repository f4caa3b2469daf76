#!/usr/bin/env bash
# Boots the vcan VM (QEMU, ELF vmlinux via PVH, busybox initramfs), runs one command in it at the
# caller's working directory and exits with the command's exit code. The command's stdout/stderr
# arrive on this script's stdout/stderr (virtio serial ports); the kernel log is kept for failures.
# Usage: boot.sh <vmlinux> <initramfs.cpio> <work-dir> <command> [args...]
# Environment: VCAN_VM_MEM (MiB, 3072), VCAN_VM_CPUS (2), VCAN_VM_TIMEOUT (s, whole run, 1800),
#   VCAN_VM_BOOT_TIMEOUT (s, until the command starts, 180), VCAN_IFACES ("vcan0 vcan1"),
#   VCAN_VM_ACCEL (kvm|tcg; default: kvm only with kvm_intel/kvm_amd loaded), VCAN_VM_CPU (TCG model, Nehalem),
#   VCAN_VM_VERBOSE=1 (print the kernel console log after the run).
set -euo pipefail
say() { echo "vcan-vm: $*" >&2; }
vmlinux=$1 initrd=$2 work_dir=$3
shift 3
[ $# -gt 0 ] || { echo "boot.sh: no command given" >&2; exit 2; }

command -v qemu-system-x86_64 >/dev/null || { say "FAILED: qemu-system-x86_64 not found (Debian package qemu-system-x86)"; exit 1; }
for f in "$vmlinux" "$initrd"; do [ -s "$f" ] || { say "FAILED: $f is missing or empty"; exit 1; }; done

mem=${VCAN_VM_MEM:-3072}
cpus=${VCAN_VM_CPUS:-2}
run_timeout=${VCAN_VM_TIMEOUT:-1800}
boot_timeout=${VCAN_VM_BOOT_TIMEOUT:-180}
ifaces=${VCAN_IFACES:-vcan0 vcan1}

# Stock kernels do not boot on nested paravirtual KVM (kvm_pvm): use KVM only on real VT-x/AMD-V.
accel=${VCAN_VM_ACCEL:-}
if [ -z "$accel" ]; then
  accel=tcg
  if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then accel=kvm; fi
fi
# TCG runs single-threaded (one host thread for both vCPUs), about 15 % slower: with QEMU 7.2's
# multi-threaded TCG (on an AVX-512 host), node in the guest died of SIGILL or SIGSEGV while the
# suite started in 4 of 19 runs, with -cpu max and with Nehalem alike. Single-threaded with Nehalem
# (SSE4.2, no AVX: the plainest code paths for QEMU and for V8), no such crash in 15 runs.
case $accel in
  kvm) accel_args=(-accel kvm -cpu host) ;;
  tcg) accel_args=(-accel tcg,thread=single -cpu "${VCAN_VM_CPU:-Nehalem}") ;;
  *) say "FAILED: VCAN_VM_ACCEL must be kvm or tcg, not '$accel'"; exit 2 ;;
esac

# Single-quotes a word for the guest's POSIX sh (the host's /bin/sh, i.e. dash).
q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/roadlink-vcan-vm.XXXXXX")
ctl=$tmp/ctl # shared with the guest (tag ctl)
mkdir "$ctl"
qemu_pid= relay_pids=()
cleanup() {
  if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true; fi
  end_relays
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The guest's stdout/stderr ports reach QEMU's pipe chardevs (fifos NAME.in/NAME.out); a cat relays
# each to this script's own stdout/stderr, so writes land at the right offset even in a redirected file.
start_relay() {
  mkfifo "$tmp/$1.in" "$tmp/$1.out"
  cat "$tmp/$1.out" >&"$2" &
  relay_pids+=($!)
}
end_relays() {
  local f
  # Opening read-write never blocks and releases a relay still waiting for QEMU to open its fifo.
  for f in "$tmp"/*.out; do [ -p "$f" ] && : 1<>"$f"; done
  [ ${#relay_pids[@]} -eq 0 ] || wait "${relay_pids[@]}" 2>/dev/null || true
  relay_pids=()
}
start_relay stdout 1
start_relay stderr 2

# The shared CAN corpus (real logs the vcan tests replay) lives beside the checkout, or at CORPUS_DIR.
# The guest's /tmp is its own tmpfs, so the corpus gets a share of its own at the same path.
corpus_dir=$(cd "${CORPUS_DIR:-$work_dir/../shared/corpus}" 2>/dev/null && pwd || true)
{
  echo "WORK_DIR=$(q "$work_dir")"
  echo "CORPUS_DIR=$(q "$corpus_dir")"
  echo "VCAN_IFACES=$(q "$ifaces")"
} >"$ctl/vm.conf"
{
  echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  echo "export HOME=/root LANG=C.UTF-8 TERM=dumb ROADLINK_VCAN_VM=1 VCAN_IFACES=$(q "$ifaces")"
  if [ -n "$corpus_dir" ]; then echo "export CORPUS_DIR=$(q "$corpus_dir")"; fi
  for v in CI NODE_OPTIONS; do
    if [ -n "${!v:-}" ]; then echo "export $v=$(q "${!v}")"; fi
  done
} >"$ctl/guest.env"
{
  printf 'cd %s && exec' "$(q "$PWD")"
  for a in "$@"; do printf ' %s' "$(q "$a")"; done
  echo
} >"$ctl/command.sh"

virtfs() { echo "local,path=$1,mount_tag=$2,security_model=none,multidevs=remap$3"; }
corpus_share=()
if [ -n "$corpus_dir" ]; then corpus_share=(-virtfs "$(virtfs "$corpus_dir" corpus ,readonly=on)"); fi
qemu_args=(
  -M pc -nodefaults -no-user-config -display none -no-reboot
  "${accel_args[@]}" -smp "$cpus" -m "$mem"
  -kernel "$vmlinux" -initrd "$initrd"
  -append "console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init"
  -serial "file:$ctl/console.log"
  -virtfs "$(virtfs / hostroot ,readonly=on)"
  -virtfs "$(virtfs "$work_dir" work '')"
  -virtfs "$(virtfs "$ctl" ctl '')"
  "${corpus_share[@]}"
  -device virtio-rng-pci
  -device virtio-serial-pci
  -chardev "pipe,id=out,path=$tmp/stdout" -device virtserialport,chardev=out,name=roadlink.stdout
  -chardev "pipe,id=err,path=$tmp/stderr" -device virtserialport,chardev=err,name=roadlink.stderr
)

now_ms() { echo $(($(date +%s%N) / 1000000)); }
start=$(now_ms)
qemu-system-x86_64 "${qemu_args[@]}" </dev/null &
qemu_pid=$!

elapsed_ms() { echo $(($(now_ms) - start)); }
console_tail() { say "last kernel console lines:"; tail -n 40 "$ctl/console.log" >&2 || true; }

# Watchdog: the command must start within boot_timeout and the whole run end within run_timeout.
while kill -0 "$qemu_pid" 2>/dev/null; do
  t=$(elapsed_ms)
  if [ ! -e "$ctl/started" ] && [ "$t" -gt $((boot_timeout * 1000)) ]; then
    say "FAILED: boot timeout: the command did not start within ${boot_timeout}s ($accel)"
    console_tail; exit 124
  fi
  if [ "$t" -gt $((run_timeout * 1000)) ]; then
    say "FAILED: timeout: the VM run exceeded ${run_timeout}s (VCAN_VM_TIMEOUT)"
    console_tail; exit 124
  fi
  sleep 0.2
done
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=
end_relays

if [ -s "$ctl/init-error" ]; then
  say "FAILED: guest init: $(cat "$ctl/init-error")"; console_tail; exit 125
fi
if [ ! -s "$ctl/rc" ]; then
  say "FAILED: the VM ended (qemu exit $qemu_rc) without reporting the command's exit code"
  console_tail; exit 125
fi
rc=$(cat "$ctl/rc")
if [ "${VCAN_VM_VERBOSE:-}" = 1 ]; then say "kernel console:"; cat "$ctl/console.log" >&2; fi
awk -v s="$(cat "$ctl/started")" -v f="$(cat "$ctl/finished" 2>/dev/null || echo 0)" -v w="$(elapsed_ms)" \
  -v a="$accel" -v rc="$rc" 'BEGIN { printf "vcan-vm: %s VM: boot to command %.1fs, command %.1fs, whole run %.1fs, exit %s\n", a, s, f - s, w / 1000, rc }' >&2
exit "$rc"
