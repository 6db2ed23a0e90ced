#!/usr/bin/env bash
# Published-port throughput (part of make bench): 256 MB sent to a busybox `nc -l` sink through a port published with
# -p, from the host on 127.0.0.1 and from a client namespace through the host's address, against the same sink in a
# namespace reached by a plain veth (the direct path). Each path's best of 3 transfers, in the same run. Addresses:
# 10.231.84.0/24 (direct) and 10.231.85.0/24 (client), made here and removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
skiff=$PWD/bin/skiff
work=$(mktemp -d /tmp/skiff-netbench.XXXXXX)
run=$(mktemp -d /run/skiff-netbench.XXXXXX)
export SKIFF_ROOT="$work/engine" SKIFF_RUNROOT="$run"
direct=skbd$$ client=skbc$$
cleanup() {
  "$skiff" rm -f netbench >/dev/null 2>&1 || true
  "$skiff" network prune -f >/dev/null 2>&1 || true
  ip link del skbdh0 2>/dev/null || true
  ip link del skbch0 2>/dev/null || true
  ip netns pids "$direct" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$direct" 2>/dev/null || true
  ip netns del "$client" 2>/dev/null || true
  rm -rf "$work" "$run"
}
trap cleanup EXIT

# send HOST PORT: connects (retrying while the sink restarts), sends 256 MB, waits for the sink to close; prints seconds.
send() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 10
while True:
    try:
        s = socket.create_connection((host, port), timeout=10)
        break
    except OSError:
        if time.time() > deadline:
            raise
        time.sleep(0.02)
block = b"\0" * (1 << 20)
start = time.perf_counter()
for _ in range(256):
    s.sendall(block)
s.shutdown(socket.SHUT_WR)
if s.recv(1) != b"":
    sys.exit("the sink answered instead of closing")
print(f"{time.perf_counter() - start:.4f}")
PY
}
# namespace_on_veth NS HOSTIF NET ROUTE: namespace NS linked to the host by veth HOSTIF, the host NET.1 and NS NET.2
# (a /24), NS reaching ROUTE through the host.
namespace_on_veth() {
  ip netns add "$1"
  ip link add "$2" type veth peer name eth0 netns "$1"
  ip addr add "$3.1/24" dev "$2"
  ip link set "$2" up
  ip -n "$1" addr add "$3.2/24" dev eth0
  ip -n "$1" link set eth0 up
  ip -n "$1" link set lo up
  ip -n "$1" route add "$4" via "$3.1"
}
best_of_3() { for i in 1 2 3; do "$@"; done | sort -n | head -1; }

mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/busybox"
for tool in sh nc; do ln -s busybox "$work/rootfs/bin/$tool"; done
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
"$skiff" import "$work/busybox.tar" bench/netsink >/dev/null
sink='while true; do busybox nc -l -p 5001 </dev/null >/dev/null; done'

# The direct path: a namespace on a veth of its own, the same sink in it.
namespace_on_veth "$direct" skbdh0 10.231.84 10.231.85.0/24
ip netns exec "$direct" sh -c "$sink" >/dev/null 2>&1 &
direct_s=$(best_of_3 send 10.231.84.2 5001)

# The published port, on the default network.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$skiff" run -d --name netbench -p "$port:5001" bench/netsink sh -c "$sink" >/dev/null
loopback_s=$(best_of_3 send 127.0.0.1 "$port")

# Another machine, as far as the host can tell, reaching the port through the host's address on its link.
namespace_on_veth "$client" skbch0 10.231.85 10.231.84.0/24
in_client() { ip netns exec "$client" bash -c "$(declare -f send); send $1 $2"; }
# Its direct path crosses the host too: routed to the sink's namespace, two veths, no NAT.
routed_s=$(best_of_3 in_client 10.231.84.2 5001)
remote_s=$(best_of_3 in_client 10.231.85.1 "$port")

echo "published port throughput, 256 MB to a busybox nc sink, best of 3:"
awk -v d="$direct_s" -v l="$loopback_s" -v o="$routed_s" -v r="$remote_s" 'BEGIN {
  printf "  %-40s %6.0f MB/s\n", "direct: host -> namespace, one veth", 256 / d
  printf "  %-40s %6.0f MB/s   %5.2fx its direct path (target >= 0.90x)\n", "-p: host -> 127.0.0.1", 256 / l, d / l
  printf "  %-40s %6.0f MB/s\n", "direct: client -> host -> namespace", 256 / o
  printf "  %-40s %6.0f MB/s   %5.2fx its direct path (target >= 0.90x)\n", "-p: client -> host address", 256 / r, o / r
}'
