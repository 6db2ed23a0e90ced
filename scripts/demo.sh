#!/usr/bin/env bash
# The newcomer flow: an image made from the host's busybox-static, run by skiff (engine) and by skiff-runtime (OCI bundle).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/skiff-demo.XXXXXX)
export SKIFF_ROOT="$work/root" SKIFF_RUNROOT="$work/run"
cleanup() {
  bin/skiff ps -aq 2>/dev/null | xargs -r bin/skiff rm -f >/dev/null 2>&1 || true
  # The default network keeps its bridge and rules on the host until pruned; the demo's store goes with them.
  bin/skiff network prune -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

./scripts/make-bundle.sh "$work/bundle" sh -c 'echo "hello from a skiff-runtime container: pid $$, hostname $(hostname)"; cat /proc/self/uid_map' >/dev/null
tar -C "$work/bundle/rootfs" -cf "$work/busybox.tar" .
echo "+ skiff import --change 'CMD [\"sh\"]' busybox.tar demo/busybox:latest"
bin/skiff import --change 'CMD ["sh"]' "$work/busybox.tar" demo/busybox:latest
echo "+ skiff images"
bin/skiff images
echo "+ skiff run --rm demo/busybox sh -c '...'"
bin/skiff run --rm demo/busybox sh -c 'echo "hello from a skiff container: pid $$, hostname $(hostname), user $(id -u)"; ls /'
echo "+ skiff run -d --name demo demo/busybox sh -c 'echo started; sleep 30'; skiff logs demo; skiff rm -f demo"
bin/skiff run -d --name demo demo/busybox sh -c 'echo started; sleep 30' >/dev/null
sleep 0.5
bin/skiff logs demo
bin/skiff rm -f demo >/dev/null
mkdir -p "$work/app"
printf 'hello from a built image\n' > "$work/app/greeting.txt"
printf 'FROM demo/busybox\nWORKDIR /app\nCOPY greeting.txt .\nRUN wc -c greeting.txt > size.txt\nCMD ["sh", "-c", "cat greeting.txt size.txt"]\n' > "$work/app/Dockerfile"
echo "+ skiff build -t demo/hello app   (Dockerfile: FROM demo/busybox, WORKDIR, COPY, RUN, CMD)"
bin/skiff build -t demo/hello "$work/app"
echo "+ skiff run --rm demo/hello"
bin/skiff run --rm demo/hello
echo "+ skiff build -t demo/hello app   (again: every step from the cache)"
bin/skiff build -t demo/hello "$work/app" 2>&1 | tail -1
echo "+ skiff-runtime run --bundle bundle demo-$$"
(cd "$work/bundle" && "$OLDPWD/bin/skiff-runtime" --root "$work/runtime" run "demo-$$")
