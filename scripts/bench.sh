#!/usr/bin/env bash
# make bench: container start latency of skiff-runtime against runc, measured in the same run
# on the same busybox bundle, plus the runtime's peak RSS. Prints medians and ratios.
# Then what seccomp and cgroup limits add to a start, skiff run against podman run, skiff ps with 100 containers,
# scripts/bench-net.sh: a published port's throughput against direct veth paths, scripts/bench-pull.sh: image
# pull against podman, skopeo + umoci and the tar -xzf floor, and scripts/bench-build.sh: skiff build against
# buildah bud --layers.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-40}
work=$(mktemp -d /tmp/skiff-bench.XXXXXX)
# The engine's runtime state, on tmpfs as a user's is, and the bench's own.
run=$(mktemp -d /run/skiff-bench.XXXXXX)
repo=$PWD
# Containers the engine part created hold overlay mounts under $work: remove them before the directory.
trap 'SKIFF_ROOT="$work/engine" SKIFF_RUNROOT="$run" "$repo/bin/skiff" ps -aq 2>/dev/null | SKIFF_ROOT="$work/engine" SKIFF_RUNROOT="$run" xargs -r "$repo/bin/skiff" rm -f >/dev/null 2>&1; rm -rf "$work" "$run"' EXIT
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

# --- confinement cost: the same container with and without Docker's seccomp profile and cgroup limits ----------
# Both bundles come from the config `skiff create` writes (docker's defaults), so the profile is the one users get.
export SKIFF_ROOT="$work/engine" SKIFF_RUNROOT="$run"
tar -C "$work/bundle/rootfs" -cf "$work/busybox.tar" .
"$repo/bin/skiff" import -c 'CMD ["true"]' "$work/busybox.tar" bench/busybox >/dev/null
confined_id=$("$repo/bin/skiff" create --network none --memory 256m --cpus 1 --pids-limit 1000 bench/busybox true)
python3 - "$SKIFF_ROOT/containers/$confined_id/config.json" "$work" <<'PY'
import json, os, sys
config, work = sys.argv[1], sys.argv[2]
spec = json.load(open(config))
spec["root"] = {"path": os.path.join(work, "bundle", "rootfs")}
spec["linux"].pop("cgroupsPath", None)
for name, confined in (("confined", True), ("plain", False)):
    variant = json.loads(json.dumps(spec))
    if not confined:
        variant["linux"].pop("seccomp", None)
        variant["linux"]["resources"] = {"devices": variant["linux"]["resources"]["devices"]}
    os.makedirs(os.path.join(work, name), exist_ok=True)
    json.dump(variant, open(os.path.join(work, name, "config.json"), "w"))
PY
cd "$work/plain"
plain_ms=$(time_runs p "$skiff" --root "$work/skiff-state" run)
cd "$work/confined"
confined_ms=$(time_runs c "$skiff" --root "$work/skiff-state" run)
echo "seccomp (docker's default profile) + cgroup limits (memory, cpu, pids), median of $runs runs:"
printf '  %-16s %8.2f ms\n' without "$plain_ms" with "$confined_ms"
awk -v a="$plain_ms" -v b="$confined_ms" 'BEGIN {printf "  added            %8.2f ms   (target <= 3 ms)\n", b - a}'

# --- engine: skiff run --rm against podman (runc) with the same image ------------------------------------------
cd "$work"
podman_dir="$work/podman"
mkdir -p "$podman_dir"
printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nevents_logger = "none"\n' > "$podman_dir/containers.conf"
podman_cmd() { CONTAINERS_CONF="$podman_dir/containers.conf" podman --root "$podman_dir/storage" --runroot "$podman_dir/run" --tmpdir "$podman_dir/tmp" --cgroup-manager cgroupfs --runtime runc "$@"; }
podman_cmd import "$work/busybox.tar" bench/busybox >/dev/null 2>&1
engine_runs=${ENGINE_RUNS:-15}
engine_time() {
  local samples=()
  for i in $(seq 1 "$engine_runs"); do
    local start end
    start=${EPOCHREALTIME/./}
    "$@" >/dev/null
    end=${EPOCHREALTIME/./}
    samples+=($(( end - start )))
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m / 1000}'
}
"$repo/bin/skiff" rm -f "$confined_id" >/dev/null
# The first run on the default network makes its bridge and firewall chain (kept afterwards, as docker0): not timed.
"$repo/bin/skiff" run --rm bench/busybox true >/dev/null 2>&1 || true
skiff_run_ms=$(engine_time "$repo/bin/skiff" run --rm bench/busybox true)
skiff_none_ms=$(engine_time "$repo/bin/skiff" run --rm --network none bench/busybox true)
# Both with docker's seccomp profile, as podman applies by default; podman's default network is netavark's bridge.
podman_run_ms=$(engine_time podman_cmd run --rm --network none bench/busybox true)
podman_bridge_ms=$(engine_time podman_cmd run --rm bench/busybox true)
for i in $(seq 1 100); do "$repo/bin/skiff" create bench/busybox true >/dev/null; done
ps_ms=$(engine_time "$repo/bin/skiff" ps -a)
"$repo/bin/skiff" ps -aq | xargs -r "$repo/bin/skiff" rm -f >/dev/null
"$repo/bin/skiff" network prune -f >/dev/null
podman_cmd rmi -a -f >/dev/null 2>&1 || true
echo "engine: run --rm of a busybox 'true' container, median of $engine_runs runs:"
printf '  %-22s %8.1f ms\n' "skiff, default bridge" "$skiff_run_ms" "podman, default bridge" "$podman_bridge_ms" \
  "skiff, --network none" "$skiff_none_ms" "podman, --network none" "$podman_run_ms"
awk -v s="$skiff_run_ms" -v p="$podman_bridge_ms" 'BEGIN {printf "  ratio skiff/podman, bridge %6.2fx   (target <= 0.10x)\n", s / p}'
awk -v s="$skiff_none_ms" -v p="$podman_run_ms" 'BEGIN {printf "  ratio skiff/podman, none   %6.2fx   (target <= 0.20x)\n", s / p}'
awk -v b="$skiff_run_ms" -v n="$skiff_none_ms" 'BEGIN {printf "  network set-up and teardown: %.1f ms   (bridge - none; target <= 5 ms)\n", b - n}'
printf '  %-16s %8.1f ms   (target < 50 ms)\n' "ps -a, 100 rows" "$ps_ms"
cd "$repo"
unset SKIFF_ROOT SKIFF_RUNROOT

echo
./scripts/bench-net.sh
echo
./scripts/bench-pull.sh
echo
./scripts/bench-build.sh
