#!/usr/bin/env bash
# make bench: container start latency of skiff-runtime against runc, measured in the same run
# on the same busybox bundle, plus the runtime's peak RSS. Prints medians and ratios.
# Then scripts/bench-pull.sh: image pull against podman, skopeo + umoci and the tar -xzf floor.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-40}
work=$(mktemp -d /tmp/skiff-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
./scripts/make-bundle.sh "$work/bundle" true >/dev/null
skiff=$PWD/bin/skiff-runtime

# time_runs NAME COMMAND...: runs COMMAND (with a fresh container id appended) $runs times, prints the median in ms.
# $EPOCHREALTIME instead of $(date): two forks of date per sample would add ~3 ms to both tools
# and flatten the ratio.
time_runs() {
  local name=$1; shift
  local samples=()
  for i in $(seq 1 "$runs"); do
    local start end
    start=${EPOCHREALTIME/./}
    "$@" "$name-$i" >/dev/null
    end=${EPOCHREALTIME/./}
    samples+=($(( end - start )))
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.2f\n", m / 1000}'
}

cd "$work/bundle"
# One warm-up each, so neither pays for a cold page cache.
"$skiff" --root "$work/skiff-state" run warmup >/dev/null
runc --root "$work/runc-state" run warmup >/dev/null
skiff_ms=$(time_runs s "$skiff" --root "$work/skiff-state" run)
runc_ms=$(time_runs r runc --root "$work/runc-state" run)
rss_kb=$(/usr/bin/time -f %M "$skiff" --root "$work/skiff-state" run rss 2>&1 >/dev/null | tail -1)
runc_rss_kb=$(/usr/bin/time -f %M runc --root "$work/runc-state" run rss 2>&1 >/dev/null | tail -1)

echo "container start (run of a busybox 'true' bundle), median of $runs runs:"
printf '  %-16s %8.2f ms\n' skiff-runtime "$skiff_ms" runc "$runc_ms"
awk -v s="$skiff_ms" -v r="$runc_ms" 'BEGIN {printf "  ratio skiff/runc  %8.2fx   (target <= 0.30x)\n", s / r}'
echo "peak RSS of the runtime process:"
printf '  %-16s %8d KB   (target < 15360 KB)\n' skiff-runtime "$rss_kb" runc "$runc_rss_kb"

echo
./scripts/bench-pull.sh
