#!/usr/bin/python3
"""The operations endpoints of the real vigil binary on real video.

Usage: ops_endpoints_test.py VIGIL_BINARY

Runs `vigil run` twice on 127.0.0.1 (any free port):
  1. a live stream (opencv-doc's vtest.avi, looping, with a zone and a line)
     and a dead camera (rtsp:// to a closed port): /metrics passes
     `promtool check metrics`, has vigil_stream_up 1 and 0, the occupancy,
     line, events and reconnect families; /healthz is 200 "degraded" naming
     the dead stream; /api/openapi.json is OpenAPI 3.1.0.
  2. the dead camera alone: /healthz is 503 "down" naming it.
Waits poll with deadlines (no fixed sleeps). Exit 0 on success, 1 with the
reason and vigil's log on failure.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
PROMTOOL = "/usr/bin/promtool"
DEADLINE_S = 30


class Failure(Exception):
    pass


def closed_port():
    """A TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(what, fn, timeout=DEADLINE_S):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    raise Failure(f"waited {timeout} s for: {what} (last: {last!r})")


def http_get(port, path):
    """(status, content type, body) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


class Vigil:
    """`vigil run -c CONFIG --listen 127.0.0.1:0 --no-...`; finds its port in the log."""

    def __init__(self, binary, config_text, workdir, name):
        self.config = os.path.join(workdir, name + ".yaml")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.log_path = os.path.join(workdir, name + ".log")
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen([binary, "run", "-c", self.config, "--listen", "127.0.0.1:0"],
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir)
        self.port = int(eventually("the API address on vigil's log", self._port))

    def _port(self):
        if self.proc.poll() is not None:
            raise Failure(f"vigil exited with {self.proc.returncode}")
        with open(self.log_path) as f:
            m = re.search(r"API on http://127\.0\.0\.1:(\d+)/", f.read())
        return m.group(1) if m else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self):
        with open(self.log_path) as f:
            return f.read()[-4000:]


def metric(text, name, labels):
    """The value of the sample `name{labels}` in a Prometheus text, or None."""
    m = re.search("^" + re.escape(name + "{" + labels + "}") + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def check_live_and_dead(binary, workdir):
    dead_url = f"rtsp://127.0.0.1:{closed_port()}/camera"
    config = f"""
streams:
  - id: plaza
    url: {VTEST}
    loop: true
    zones:
      - {{name: square, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]}}
    lines:
      - {{name: middle, a: [0.5, 0], b: [0.5, 1]}}
  - id: gate
    url: {dead_url}
"""
    v = Vigil(binary, config, workdir, "live_and_dead")
    try:
        def metrics_ready():
            status, ctype, body = http_get(v.port, "/metrics")
            if status != 200 or not ctype.startswith("text/plain; version=0.0.4"):
                return None
            up, down = metric(body, "vigil_stream_up", 'stream="plaza"'), metric(body, "vigil_stream_up", 'stream="gate"')
            occupied = re.search(r'^vigil_zone_occupancy\{stream="plaza",zone="square",class="person"\} ', body, re.M)
            return body if up == 1 and down == 0 and occupied else None
        body = eventually("/metrics with plaza up, gate down and plaza's zone occupied", metrics_ready)
        for family in ("vigil_stream_up gauge", "vigil_zone_occupancy gauge", "vigil_line_crossings_total counter",
                       "vigil_events_total counter", "vigil_stream_reconnects_total counter"):
            if f"# TYPE {family}\n" not in body:
                raise Failure(f"/metrics has no '# TYPE {family}'")
        if metric(body, "vigil_events_total", 'stream="gate",kind="stream_down"') is None:
            raise Failure("/metrics: no vigil_events_total for gate's stream_down")
        if metric(body, "vigil_stream_reconnects_total", 'stream="gate"') is None:
            raise Failure("/metrics: no vigil_stream_reconnects_total for gate")
        for direction in ("in", "out"):
            if metric(body, "vigil_line_crossings_total", f'stream="plaza",line="middle",direction="{direction}"') is None:
                raise Failure(f"/metrics: no line count {direction} for plaza's line")
        check = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, text=True)
        if check.returncode != 0:
            raise Failure(f"promtool check metrics failed ({check.returncode}):\n{check.stdout}{check.stderr}\n{body}")
        # The dead camera keeps reconnecting (backoff 1 s, 2 s...).
        eventually("gate's reconnects counted", lambda: (metric(http_get(v.port, "/metrics")[2],
                   "vigil_stream_reconnects_total", 'stream="gate"') or 0) >= 1)

        status, _, text = http_get(v.port, "/healthz")
        health = json.loads(text)
        if status != 200 or health != {"status": "degraded", "down": ["gate"]}:
            raise Failure(f"/healthz with one stream down: {status} {text}")

        status, _, text = http_get(v.port, "/api/openapi.json")
        doc = json.loads(text)
        if status != 200 or doc.get("openapi") != "3.1.0" or "/healthz" not in doc.get("paths", {}):
            raise Failure(f"/api/openapi.json: {status} {text[:300]}")
    except Failure as e:
        raise Failure(f"{e}\n--- vigil's log:\n{v.output()}")
    finally:
        v.stop()


def check_only_dead(binary, workdir):
    config = f"""
streams:
  - id: gate
    url: rtsp://127.0.0.1:{closed_port()}/camera
"""
    v = Vigil(binary, config, workdir, "only_dead")
    try:
        def down():
            status, _, text = http_get(v.port, "/healthz")
            return (status, json.loads(text)) if status == 503 else None
        status, health = eventually("/healthz 503 with the only stream down", down)
        if health != {"status": "down", "down": ["gate"]}:
            raise Failure(f"/healthz with every stream down: {status} {health}")
        body = http_get(v.port, "/metrics")[2]
        if metric(body, "vigil_stream_up", 'stream="gate"') != 0:
            raise Failure("vigil_stream_up of the dead camera is not 0")
    except Failure as e:
        raise Failure(f"{e}\n--- vigil's log:\n{v.output()}")
    finally:
        v.stop()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    for path in (VTEST, PROMTOOL):
        if not os.path.exists(path):
            print(f"FAIL: {path} is missing (scripts/setup.sh installs it)", file=sys.stderr)
            return 1
    with tempfile.TemporaryDirectory(prefix="vigil_ops_") as workdir:
        try:
            check_live_and_dead(binary, workdir)
            check_only_dead(binary, workdir)
        except Failure as e:
            print(f"FAIL: {e}", file=sys.stderr)
            return 1
    print("ok: /metrics passes promtool, a dead camera is vigil_stream_up 0, /healthz degraded and down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
