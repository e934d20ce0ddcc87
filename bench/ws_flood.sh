#!/usr/bin/env bash
# WebSocket flood (a benchmark, not a test): N clients on 127.0.0.1 each
# open /ws/events and send one message that declares SIZE_MB megabytes,
# then keep sending it; the server's RSS is sampled before, during (peak)
# and after. Before the 4 KiB inbound limit each client could make the
# server buffer up to 16 MB (Beast's default).
# Usage: bench/ws_flood.sh [CLIENTS=40] [SIZE_MB=16]   (needs build/vigil)
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-40}
SIZE_MB=${2:-16}
PORT=${PORT:-18931}
VIDEO=/usr/share/doc/opencv-doc/examples/data/vtest.avi
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

build/vigil run "$VIDEO" --listen "127.0.0.1:$PORT" --duration 120 2>/tmp/ws_flood.vigil.log &
VIGIL=$!
trap 'kill $VIGIL 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
sleep 3  # warm-up: model loaded, stream running
before=$(rss_kb $VIGIL)

python3 - "$PORT" "$CLIENTS" "$SIZE_MB" <<'PY' &
import base64, os, socket, struct, sys, threading
port, clients, size_mb = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
size = size_mb * 1024 * 1024
closed = []
def client():
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    mask = os.urandom(4)
    s.sendall(bytes([0x82, 0x80 | 127]) + struct.pack(">Q", size) + mask)
    chunk = bytes(64 * 1024)  # zeros: masking leaves the mask bytes
    sent = 0
    try:
        while sent < size:
            s.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    closed.append(sent)
    s.close()
threads = [threading.Thread(target=client) for _ in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
mb = sum(closed) / 1e6
print(f"clients {clients}: sent {mb:.1f} MB in all before the server closed them")
PY
FLOOD=$!
peak=$before
while kill -0 $FLOOD 2>/dev/null; do
  r=$(rss_kb $VIGIL); ((r > peak)) && peak=$r
  sleep 0.1
done
wait $FLOOD
sleep 1
after=$(rss_kb $VIGIL)
alive=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
echo "server RSS: before $((before / 1024)) MB, peak during the flood $((peak / 1024)) MB, after $((after / 1024)) MB; /healthz $alive"
