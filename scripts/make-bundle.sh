#!/usr/bin/env bash
# make-bundle.sh DIR [ARGS...]: an OCI bundle whose rootfs is the host's busybox-static,
# with config.json from `skiff-runtime spec` (no terminal) running ARGS (default: sh).
set -euo pipefail
dir=$1; shift
bin=$(cd "$(dirname "$0")/../bin" && pwd)
busybox=$(command -v busybox)
ldd "$busybox" >/dev/null 2>&1 && { echo "make-bundle: $busybox is not static: apt-get install busybox-static" >&2; exit 1; }
mkdir -p "$dir/rootfs"/{bin,proc,sys,dev,etc,tmp,root}
cp "$busybox" "$dir/rootfs/bin/busybox"
for applet in $("$dir/rootfs/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/rootfs/etc/passwd"
echo 'root:x:0:' > "$dir/rootfs/etc/group"
rm -f "$dir/config.json"
"$bin/skiff-runtime" spec --bundle "$dir"
args_json='["sh"]'
if [ $# -gt 0 ]; then
  args_json=$(printf '%s\n' "$@" | python3 -c 'import json,sys; print(json.dumps([l.rstrip("\n") for l in sys.stdin]))')
fi
python3 - "$dir/config.json" "$args_json" <<'PY'
import json, sys
path, args = sys.argv[1], json.loads(sys.argv[2])
spec = json.load(open(path))
spec["process"]["terminal"] = False
spec["process"]["args"] = args
json.dump(spec, open(path, "w"), indent=2)
PY
