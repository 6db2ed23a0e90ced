#!/usr/bin/env bash
# Build benchmark (part of make bench): skiff build against `buildah bud --layers` in the same run, on the same
# Dockerfile and context. The base image is made offline from files of this host (busybox, python's and perl's
# libraries: 4 layers, ~75 MB), loaded into a fresh store per tool and per cold build; the Dockerfile RUNs a few
# commands and COPYs a context of 5000 files of 10 KiB (51.2 MB, source text cut from the host's python library).
# Measured: a cold build (empty build cache), a fully cached rebuild, and a rebuild after one file of the context
# changed (COPY and the steps after it run again). RUN steps use the host's network for both tools: buildah's
# chroot isolation allows no other.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
repo=$PWD
cold_runs=${BUILD_COLD_RUNS:-3}
warm_runs=${BUILD_RUNS:-5}
work=$(mktemp -d /tmp/skiff-buildbench.XXXXXX)
# skiff's runtime state on tmpfs, as a user's is.
run=$(mktemp -d /run/skiff-buildbench.XXXXXX)
cleanup() {
  for root in "$work"/skiff-*; do
    [ -d "$root/store" ] || continue
    SKIFF_ROOT="$root/store" SKIFF_RUNROOT="$root/run" "$repo/bin/skiff" ps -aq 2>/dev/null \
      | SKIFF_ROOT="$root/store" SKIFF_RUNROOT="$root/run" xargs -r "$repo/bin/skiff" rm -f >/dev/null 2>&1 || true
  done
  for root in "$work"/buildah-*; do
    [ -d "$root" ] || continue
    buildah --root "$root/root" --runroot "$root/run" --storage-driver overlay rm -a >/dev/null 2>&1 || true
    # buildah leaves its overlay storage mounted (the driver's own mount of its layers dir).
    grep -o " $root/[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  done
  rm -rf "$work" "$run"
}
trap cleanup EXIT

# --- the base image: an oci-archive of 4 gzip layers ---------------------------------------------------------
mkdir -p "$work/layers"
./scripts/make-bundle.sh "$work/bundle" true >/dev/null
tar -C "$work/bundle/rootfs" -cf "$work/layers/1.tar" .
tar -C / -cf "$work/layers/2.tar" usr/lib/python3.11
tar -C / -cf "$work/layers/3.tar" usr/share/perl
mkdir -p "$work/top/etc" "$work/top/var/cache"
printf 'root:x:0:0:root:/root:/bin/sh\nbench:x:1000:1000::/home/bench:/bin/sh\n' > "$work/top/etc/passwd"
printf 'root:x:0:\nbench:x:1000:\n' > "$work/top/etc/group"
tar -C "$work/top" -cf "$work/layers/4.tar" etc var
base=localhost/bench/base:1
oci_layout "$work/oci" "$base" "$work"/layers/{1,2,3,4}.tar
base_mb=$(cat "$work"/layers/?.tar | wc -c | awk '{printf "%.0f", $1 / 1e6}')
rm -rf "$work/layers"
tar -C "$work/oci" -cf "$work/base.tar" .
rm -rf "$work/oci" "$work/bundle" "$work/top"

# --- the context: 5000 files of 10 KiB in 50 directories, and the Dockerfile ---------------------------------
mkdir -p "$work/context"
python3 - "$work/context" <<'PY'
import os, sys
root = sys.argv[1]
corpus = bytearray()
for directory, _, names in sorted(os.walk("/usr/lib/python3.11")):
    for name in sorted(names):
        if name.endswith(".py"):
            with open(os.path.join(directory, name), "rb") as f:
                corpus += f.read()
        if len(corpus) > 8 << 20:
            break
size = 10240
for d in range(50):
    os.makedirs(os.path.join(root, "src", f"pkg{d:02}"), mode=0o755)
    for n in range(100):
        i = d * 100 + n
        header = f"# module {i}\n".encode()
        start = (i * 7919 * 13) % (len(corpus) - size)
        with open(os.path.join(root, "src", f"pkg{d:02}", f"mod{n:03}.py"), "wb") as f:
            f.write(header + corpus[start:start + size - len(header)])
PY
cat > "$work/context/Dockerfile" <<EOF
FROM $base
ENV APP_HOME=/app
RUN mkdir -p /app /var/cache/app && echo 'bench 1.0' > /etc/app-release
RUN grep -c . /usr/share/perl/5.36/strict.pm > /var/cache/app/strict-lines && echo 'app:x:1001:1001::/app:/bin/sh' >> /etc/passwd && echo 'app:x:1001:' >> /etc/group
WORKDIR /app
COPY src/ /app/src/
RUN find /app/src -name '*.py' | wc -l > /app/modules && du -sk /app/src > /app/size
USER app
CMD ["sh"]
EOF
printf 'Dockerfile\n' > "$work/context/.dockerignore"
context_mb=$(du -sb --apparent-size "$work/context/src" | awk '{printf "%.1f", $1 / 1e6}')

# --- the tools -----------------------------------------------------------------------------------------------
# A store per tool and per cold build, the base image loaded (not timed).
skiff_cmd() { SKIFF_ROOT="$store/store" SKIFF_RUNROOT="$store/run" "$repo/bin/skiff" "$@"; }
buildah_cmd() { buildah --root "$store/root" --runroot "$store/run" --storage-driver overlay "$@"; }
new_skiff() {
  store=$work/skiff-$1
  mkdir -p "$store/run"
  skiff_cmd load -q -i "$work/base.tar" >/dev/null
}
new_buildah() {
  store=$work/buildah-$1
  buildah_cmd pull -q "oci-archive:$work/base.tar" >/dev/null
  buildah_cmd tag "$(buildah_cmd images -q | head -1)" "$base"
}
skiff_build() { skiff_cmd build -q --network host -t bench/app "$work/context"; }
# chroot isolation: no systemd here, and it runs as root without a runtime's cgroup set-up, as a CI builder would;
# it refuses any network but the host's.
buildah_build() { buildah_cmd bud -q --layers --isolation chroot --network host --pull=never -t bench/app "$work/context"; }

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.3f", (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# One file changed per rebuild, a different one each time (its size kept: only contents and ctime move).
change=0
change_one_file() {
  change=$((change + 1))
  local file=$work/context/src/pkg$(printf %02d $((change % 50)))/mod$(printf %03d $((change % 100))).py
  printf '# changed %06d\n' "$change" | dd of="$file" bs=17 count=1 conv=notrunc status=none
}

sync
skiff_cold=() buildah_cold=() skiff_cached=() buildah_cached=() skiff_one=() buildah_one=()
for round in $(seq 1 "$cold_runs"); do
  new_skiff "$round"
  t=$(seconds skiff_build); skiff_cold+=("$t")
  if [ "$round" = 1 ]; then
    for _ in $(seq 1 "$warm_runs"); do t=$(seconds skiff_build); skiff_cached+=("$t"); done
    for _ in $(seq 1 "$warm_runs"); do change_one_file; t=$(seconds skiff_build); skiff_one+=("$t"); done
    skiff_cmd run --rm --network none bench/app cat /app/modules | grep -qx 5000 || { echo "bench-build: skiff's image lacks the context" >&2; exit 1; }
  fi
  new_buildah "$round"
  t=$(seconds buildah_build); buildah_cold+=("$t")
  if [ "$round" = 1 ]; then
    for _ in $(seq 1 "$warm_runs"); do t=$(seconds buildah_build); buildah_cached+=("$t"); done
    for _ in $(seq 1 "$warm_runs"); do change_one_file; t=$(seconds buildah_build); buildah_one+=("$t"); done
  fi
done

s_cold=$(median "${skiff_cold[@]}") b_cold=$(median "${buildah_cold[@]}")
s_cached=$(median "${skiff_cached[@]}") b_cached=$(median "${buildah_cached[@]}")
s_one=$(median "${skiff_one[@]}") b_one=$(median "${buildah_one[@]}")
echo "build (FROM a 4-layer ${base_mb} MB base, 3 RUNs, COPY of ${context_mb} MB in 5000 files; medians: cold of $cold_runs, rebuilds of $warm_runs):"
printf '  %-34s %8s %8s\n' "" skiff buildah
printf '  %-34s %7.2fs %7.2fs\n' "cold build" "$s_cold" "$b_cold" "fully cached rebuild" "$s_cached" "$b_cached" \
  "rebuild after one file changed" "$s_one" "$b_one"
awk -v sc="$s_cold" -v bc="$b_cold" -v sh="$s_cached" -v bh="$b_cached" -v so="$s_one" -v bo="$b_one" 'BEGIN {
  printf "  ratio cold skiff/buildah          %6.2fx   (target <= 0.50x)\n", sc / bc
  printf "  ratio cached skiff/buildah        %6.3fx   (target <= 0.05x)\n", sh / bh
  printf "  fully cached rebuild              %6.3f s  (target < 0.2 s)\n", sh
  printf "  one file changed                  %6.3f s  (target < 1 s; buildah %.2f s, %.2fx)\n", so, bo, so / bo }'
echo "  samples: skiff cold ${skiff_cold[*]}; cached ${skiff_cached[*]}; one file ${skiff_one[*]}"
echo "           buildah cold ${buildah_cold[*]}; cached ${buildah_cached[*]}; one file ${buildah_one[*]}"
