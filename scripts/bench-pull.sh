#!/usr/bin/env bash
# Pull benchmark (part of make bench): a realistic 4-layer image (~170 MB unpacked, ~8.5k entries, with whiteouts,
# an opaque dir, hard links and long names) is built offline from files of this host, pushed with skopeo to a
# loopback docker-registry, then pulled and unpacked by skiff, podman, and skopeo copy + umoci unpack, next to the
# floor of `tar -xzf` of the same layers. Every tool gets a fresh store, in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
skiff=$PWD/bin/skiff
work=$(mktemp -d /tmp/skiff-pullbench.XXXXXX)
registry_pid=
cleanup() {
  # wait reports the SIGTERM (143); under set -e that would become the script's status.
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null || true; fi
  umount -R "$work/podman-root/overlay" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# --- the image ---------------------------------------------------------------------------------------------
mkdir -p "$work/layers" "$work/top"
tar -C / -cf "$work/layers/1.tar" usr/lib/python3.11 usr/share/i18n
tar -C / -cf "$work/layers/2.tar" usr/lib/python3
tar -C / -cf "$work/layers/3.tar" usr/share/perl usr/share/zoneinfo
# Layer 4: what makes unpacking more than copying files: whiteouts of files below, an opaque directory,
# hard links, names near the 255-byte limit.
top=$work/top
mkdir -p "$top/usr/lib/python3.11/json" "$top/usr/share/i18n/charmaps" "$top/opt/links" "$top/opt/long"
for f in $(tar -tf "$work/layers/1.tar" | grep -E '^usr/lib/python3.11/json/[^/]+\.py$' | head -20); do
  : > "$top/usr/lib/python3.11/json/.wh.$(basename "$f")"
done
: > "$top/usr/share/i18n/charmaps/.wh..wh..opq"
cp /usr/share/i18n/charmaps/UTF-8.gz "$top/usr/share/i18n/charmaps/"
head -c 20000000 /dev/urandom > "$top/opt/links/data"
for i in $(seq 1 200); do ln "$top/opt/links/data" "$top/opt/links/link-$i"; done
long=$(printf 'n%.0s' $(seq 1 240))
for i in $(seq 1 100); do echo "$i" > "$top/opt/long/$long-$i"; done
tar -C "$top" -cf "$work/layers/4.tar" usr opt

oci_layout "$work/oci" bench "$work"/layers/{1,2,3,4}.tar

# --- the registry ------------------------------------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$port, secret: bench}
EOF
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
image=127.0.0.1:$port/bench/image:1
skopeo copy -q --dest-tls-verify=false "oci:$work/oci:bench" "docker://$image"

unpacked_mb=$(cat "$work"/layers/?.tar | wc -c | awk '{printf "%.0f", $1 / 1e6}')
entries=$(for i in 1 2 3 4; do tar -tf "$work/layers/$i.tar"; done | wc -l)
compressed_mb=$(cat "$work"/layers/?.tar.gz | wc -c | awk '{printf "%.0f", $1 / 1e6}')

# --- the runs ----------------------------------------------------------------------------------------------
# Page cache warm for every tool: the blobs were just pushed.
sync
tar_s=$(seconds bash -c "mkdir $work/tar && for i in 1 2 3 4; do tar -C $work/tar -xzf $work/layers/\$i.tar.gz; done")
# A first pull into a store of its own warms the binary's pages and measures peak RSS.
/usr/bin/time -f %M -o "$work/skiff.rss" "$skiff" --root "$work/skiff-rss" pull -q --tls-verify=false "$image" >/dev/null
skiff_rss_kb=$(cat "$work/skiff.rss")
skiff_s=$(seconds "$skiff" --root "$work/skiff" pull -q --tls-verify=false "$image")
skiff_again_s=$(seconds "$skiff" --root "$work/skiff" pull -q --tls-verify=false "$image")
podman_s=$(seconds podman --root "$work/podman-root" --runroot "$work/podman-run" --storage-driver overlay pull -q --tls-verify=false "docker://$image")
skopeo_s=$(seconds skopeo copy -q --src-tls-verify=false "docker://$image" "oci:$work/umoci-layout:bench")
umoci_s=$(seconds umoci unpack --image "$work/umoci-layout:bench" "$work/umoci-bundle")

echo "image pull + unpack (${unpacked_mb} MB unpacked, ${compressed_mb} MB gzip, $entries entries, 4 layers, loopback registry):"
printf '  %-28s %6.2f s\n' "skiff pull" "$skiff_s" "skiff pull (all present)" "$skiff_again_s" "podman pull" "$podman_s" \
  "skopeo copy" "$skopeo_s" "umoci unpack" "$umoci_s" "tar -xzf of the layers" "$tar_s"
awk -v s="$skiff_s" -v p="$podman_s" -v t="$tar_s" -v c="$skopeo_s" -v u="$umoci_s" 'BEGIN {
  printf "  ratio skiff/podman          %6.2fx   (target <= 0.50x)\n", s / p
  printf "  ratio skiff/(skopeo+umoci)  %6.2fx\n", s / (c + u)
  printf "  ratio skiff/tar -xzf        %6.2fx   (target <= 1.25x)\n", s / t }'
printf '  second pull                 %6.2f s   (target < 0.10 s)\n' "$skiff_again_s"
printf '  peak RSS of skiff pull      %6d KB   (target < 153600 KB)\n' "$skiff_rss_kb"
