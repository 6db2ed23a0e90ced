#!/usr/bin/env bash
# The newcomer flow: a busybox bundle from the host's busybox-static, run by skiff-runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=$(mktemp -d /tmp/skiff-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
./scripts/make-bundle.sh "$bundle" sh -c 'echo "hello from a skiff container: pid $$, hostname $(hostname)"; ls /; cat /proc/self/uid_map'
echo "+ bin/skiff-runtime run --bundle $bundle demo-$$"
bin/skiff-runtime run --bundle "$bundle" "demo-$$"
