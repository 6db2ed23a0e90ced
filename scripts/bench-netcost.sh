#!/usr/bin/env bash
# The default network's cost per container: `skiff run --rm IMAGE true` on the default bridge against
# `--network none`. Prints, per variant, the median wall time and the median CPU time (user + system) of the whole
# process tree (skiff, its monitor, the runtime, the container: perf's task-clock, which follows every fork,
# reparented or not), and the load average before and after. The kernel's deferred work (a dead namespace's clean-up
# in a kworker) is in neither. Usage: scripts/bench-netcost.sh [RUNS [SKIFF...]]: RUNS per variant (25 by default),
# for each skiff binary given (bin/skiff by default), each with a fresh store under /tmp and /run removed at exit. The
# runs alternate between variants and binaries, so that a change of the machine's load falls on all of them alike.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-25}
shift || true
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=("$PWD/bin/skiff")
work=$(mktemp -d /tmp/skiff-netcost.XXXXXX)
run=$(mktemp -d /run/skiff-netcost.XXXXXX)
# in_store N COMMAND...: COMMAND with build N's store.
in_store() { local n=$1; shift; SKIFF_ROOT="$work/engine$n" SKIFF_RUNROOT="$run/run$n" "$@"; }
cleanup() {
  for n in "${!builds[@]}"; do
    in_store "$n" "${builds[$n]}" ps -aq 2>/dev/null | xargs -r env SKIFF_ROOT="$work/engine$n" SKIFF_RUNROOT="$run/run$n" "${builds[$n]}" rm -f >/dev/null 2>&1 || true
    in_store "$n" "${builds[$n]}" network prune -f >/dev/null 2>&1 || true
  done
  rm -rf "$work" "$run"
}
trap cleanup EXIT

mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/busybox"
ln -s busybox "$work/rootfs/bin/true"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
for n in "${!builds[@]}"; do
  in_store "$n" "${builds[$n]}" import "$work/busybox.tar" bench/true >/dev/null
  # The first run on the default network makes its bridge and firewall chain (kept afterwards, as docker0): not timed.
  in_store "$n" "${builds[$n]}" run --rm bench/true true
  in_store "$n" "${builds[$n]}" run --rm --network none bench/true true
done

# sample N VARIANT ARGS...: one run of build N; appends "wall_us cpu_ms" to $work/N-VARIANT.
sample() {
  local n=$1 variant=$2; shift 2
  local start end
  start=${EPOCHREALTIME/./}
  in_store "$n" perf stat -x, -e task-clock -o "$work/perf" -- "${builds[$n]}" run --rm "$@" bench/true true
  end=${EPOCHREALTIME/./}
  echo "$(( end - start )) $(awk -F, '$3 == "task-clock" {print $1}' "$work/perf")" >> "$work/$n-$variant"
}
median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m}'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq 1 "$runs"); do
  for n in "${!builds[@]}"; do
    sample "$n" bridge
    sample "$n" none --network none
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo "run --rm of a busybox 'true' container, median of $runs runs per variant (load average $load_before before, $load_after after):"
for n in "${!builds[@]}"; do
  echo "  ${builds[$n]}:"
  for variant in bridge none; do
    wall=$(awk '{print $1 / 1000}' "$work/$n-$variant" | median)
    cpu=$(awk '{print $2}' "$work/$n-$variant" | median)
    printf '    %-8s wall %6.1f ms   cpu %6.1f ms\n' "$variant" "$wall" "$cpu"
    eval "${variant}_wall=$wall ${variant}_cpu=$cpu"
  done
  awk -v bw="$bridge_wall" -v nw="$none_wall" -v bc="$bridge_cpu" -v nc="$none_cpu" \
    'BEGIN {printf "    network: wall +%.1f ms (target <= 5 ms), cpu +%.1f ms\n", bw - nw, bc - nc}'
done
