#!/usr/bin/env bash
# Receive throughput on vcan0 under a flood (cangen -g GAP -L 8 -i for N seconds; GAP ms, default 0),
# inside the vcan VM.
# Each round runs candump (C, the reference) and one reader side by side on the same flood and
# compares what each received with what was sent (vcan0 tx_packets). Rounds: candump alone, then
# the readers of throughput-reader.mjs in turn, REPEAT times (the VM shares the host's CPUs, so
# single rounds are noisy); the summary gives each reader's median. A measurement, not a test.
# Usage (host): npm run build:native && npm run build && test/vcan/run.sh -- test/vcan/throughput.sh [seconds=5] [reader...]
#   readers (throughput-reader.mjs): addon (plain socketcan addon channel), addon-ts (with kernel
#   timestamps), native (the project's native reader alone), driver-addon / driver-native (the
#   SocketCanDriver on either backend, from dist/), driver (backend auto); default: addon
#   driver-addon native driver-native. REPEAT (default 3). RCVBUF: see throughput-reader.mjs.
#   Settings go inside the VM's command: test/vcan/run.sh -- env REPEAT=5 GAP=0.1 test/vcan/throughput.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
secs=${1:-5}
shift || true
readers=("$@")
[ ${#readers[@]} -gt 0 ] || readers=(addon driver-addon native driver-native)
repeat=${REPEAT:-3}
gap=${GAP:-0}
iface=vcan0
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

[ -e /sys/class/net/$iface ] || { echo "throughput: no $iface: run it in the VM (test/vcan/run.sh -- $0)" >&2; exit 1; }
for r in "${readers[@]}"; do
  case $r in driver*|native)
    built=$repo/dist/drivers/socketcan/socketcan-driver.js
    [ -f "$built" ] || { echo "throughput: $built missing: run npm run build first" >&2; exit 1; }
    if [ -n "$(find "$repo/drivers/socketcan" "$repo/drivers/can" -name '*.ts' -newer "$built")" ]; then
      echo "throughput: $built is older than drivers/: run npm run build first" >&2; exit 1
    fi ;;
  esac
  case $r in *native)
    addon=$repo/drivers/socketcan/native/build/Release/roadlink_can.node
    [ -f "$addon" ] && [ "$addon" -nt "$repo/drivers/socketcan/native/can_socket.c" ] \
      || { echo "throughput: $addon missing or older than its source: run npm run build:native first" >&2; exit 1; } ;;
  esac
done

# Sockets without filters on the interface, from the kernel's receive list: a reader is ready
# (its socket bound) once this count has grown.
receivers() { awk -v d="$iface" '$1 == d' /proc/net/can/rcvlist_all | wc -l; }
wait_receivers() { # <count> <pid of the reader that should bind>
  for _ in $(seq 600); do
    [ "$(receivers)" -ge "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || { echo "throughput: a reader exited before binding to $iface" >&2; exit 1; }
    sleep 0.1
  done
  echo "throughput: a reader did not bind to $iface within 60 s" >&2; exit 1
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else printf "n/a" }'; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# One flood with candump and, unless "none", one reader; prints the round and records its figures.
declare -A ratios rates
round() {
  local reader=$1 base dump_pid reader_pid= tx0 tx1 sent got_c drops_c got_r drops_r
  base=$(receivers)
  candump -d "$iface" >"$tmp/candump.out" &
  dump_pid=$!
  wait_receivers $((base + 1)) $dump_pid
  if [ "$reader" != none ]; then
    node "$here/throughput-reader.mjs" "$reader" "$iface" >"$tmp/reader.out" &
    reader_pid=$!
    wait_receivers $((base + 2)) $reader_pid
  fi

  tx0=$(cat /sys/class/net/$iface/statistics/tx_packets)
  timeout -s INT "$secs" cangen "$iface" -g "$gap" -L 8 -i || true
  tx1=$(cat /sys/class/net/$iface/statistics/tx_packets)
  sleep 3 # let the readers drain their socket queues

  kill -INT $dump_pid && wait $dump_pid || true
  sent=$((tx1 - tx0))
  got_c=$(grep -vc DROPCOUNT "$tmp/candump.out" || true)
  drops_c=$(sed -n 's/.*(total drops \([0-9]*\)).*/\1/p' "$tmp/candump.out" | tail -n 1)
  echo "round ${reader/none/candump alone}: sent $sent frames ($((sent / secs)) frames/s)"
  echo "  candump (C): received $got_c frames ($(pct "$got_c" "$sent") of sent, $((got_c / secs)) frames/s), socket drops ${drops_c:-0}"
  [ -n "$reader_pid" ] || return 0
  kill -TERM $reader_pid && wait $reader_pid || true
  got_r=$(sed -n 's/^frames //p' "$tmp/reader.out")
  got_r=${got_r:-0}
  drops_r=$(sed -n 's/^drops //p' "$tmp/reader.out")
  echo "  $reader: received $got_r frames ($(pct "$got_r" "$sent") of sent, $(pct "$got_r" "$got_c") of candump, $((got_r / secs)) frames/s)${drops_r:+, socket drops $drops_r}"
  ratios[$reader]+=" $(awk -v a="$got_r" -v b="$got_c" 'BEGIN { printf "%.1f", (b > 0) ? 100 * a / b : 0 }')"
  rates[$reader]+=" $((got_r / secs))"
}

echo "vcan throughput: cangen $iface -g $gap -L 8 -i for ${secs}s per round, $repeat rounds per reader, $(nproc) CPUs, kernel $(uname -r)"
round none
for _ in $(seq "$repeat"); do
  for reader in "${readers[@]}"; do round "$reader"; done
done
echo "summary (median of $repeat rounds; goal for the driver: >= 90% of candump):"
for reader in "${readers[@]}"; do
  echo "  $reader: $(echo "${ratios[$reader]}" | median)% of candump (rounds:${ratios[$reader]}), $(echo "${rates[$reader]}" | median) frames/s"
done
