#!/usr/bin/python3
"""The five seed systems' commands, endpoints and knobs on the real vigil binary.

Usage: seed_compat_test.py VIGIL_BINARY ITEM

ITEM is one of (docs/api.md, "Compatibility with ..."):
  ai_director  `vigil run VIDEO --frames N` sets every and describe.every_frames;
               WS /ws/streams/{id}?captions=1 carries JPEG frames (quality 85
               by default), per-frame JSON and the caption events; bad values
               of --frames and captions are refused naming them.
  overwatch    GET /api/workflow-builder/performance (model_inference,
               xray_visualization, jpeg_encoding measured while a viewer
               watches), POST .../reset; a stream's render defaults (60, 15)
               apply to a viewer that asks for none; a bad render value is
               refused; DEVICE=mps runs on the CPU and says so.
  trigo        /api/stats carries Trigo's keys and history series; batch.wait_ms
               50 is accepted, 5000 refused.
  video_detective  POST /api/jobs with several paths queues one job per file,
               all checked first (a bad one queues none), and they run;
               POST /api/uploads stores a video byte for byte (sha256),
               continues a cut upload from HEAD's Upload-Offset, refuses an
               upload over server.upload_max_mb (413, by Content-Length and
               chunked), bad names (400), an existing file or a wrong offset
               (409), no --media-dir (409), no token (401); the upload is
               queued as a job.
  verolux      WS /ws/gate-check on a configured stream and on a URL in
               --media-dir (started for its first client, shared, removed
               after the last), a URL outside it and bad parameters refused;
               MODEL_PATH naming a folder loads its FP16 file and says why.
Each runs `vigil run` on 127.0.0.1 (any free port) on opencv-doc's vtest.avi.
Waits poll with deadlines (no fixed sleeps). Exit 0 on success, 1 with the
reason and vigil's log on failure.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
DEADLINE_S = 40


class Failure(Exception):
    pass


def eventually(what, fn, timeout=DEADLINE_S):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    raise Failure(f"waited {timeout} s for: {what} (last: {last!r})")


def check(cond, what):
    if not cond:
        raise Failure(what)


def http(port, path, method="GET", body=None, headers=None):
    """(status, body text) of METHOD http://127.0.0.1:port/path."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def get_json(port, path):
    status, text = http(port, path)
    check(status == 200, f"GET {path}: {status} {text[:300]}")
    return json.loads(text)


class Vigil:
    """`vigil run ARGS --listen 127.0.0.1:0`; finds its port in the log."""

    def __init__(self, binary, args, workdir, name, env=None, config_text=None):
        cmd = [binary, "run"]
        if config_text is not None:
            config = os.path.join(workdir, name + ".yaml")
            with open(config, "w") as f:
                f.write(config_text)
            cmd += ["-c", config]
        self.log_path = os.path.join(workdir, name + ".log")
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(cmd + args + ["--listen", "127.0.0.1:0"], stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=workdir, env={**os.environ, **(env or {})})
        self.port = int(eventually("the API address on vigil's log", self._port))

    def _port(self):
        if self.proc.poll() is not None:
            raise Failure(f"vigil exited with {self.proc.returncode}")
        m = re.search(r"API on http://127\.0\.0\.1:(\d+)/", self.output())
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
            return f.read()


def refused(binary, args, workdir, expect, env=None, config_text=None):
    """`vigil run ARGS` exits non-zero at once, its output containing `expect`."""
    cmd = [binary, "run"]
    if config_text is not None:
        config = os.path.join(workdir, "refused.yaml")
        with open(config, "w") as f:
            f.write(config_text)
        cmd += ["-c", config]
    p = subprocess.run(cmd + args + ["--no-server", "--duration", "1"], capture_output=True, text=True,
                       timeout=60, cwd=workdir, env={**os.environ, **(env or {})})
    out = p.stdout + p.stderr
    check(p.returncode != 0, f"{args} {config_text!r}: exit 0, expected a refusal: {out[-500:]}")
    check(expect in out, f"{args} {config_text!r}: {expect!r} not in: {out[-500:]}")


class WebSocket:
    """A minimal RFC 6455 client: the handshake, then unmasked server messages."""

    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Failure(f"WS {path}: closed during the handshake: {head!r}")
            head += chunk
        self.status = int(head.split(b" ", 2)[1])
        self.head, self.buf = head.split(b"\r\n\r\n", 1)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Failure("WebSocket closed by the server")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def message(self):
        """(opcode, payload) of the next message (1 text, 2 binary, 8 close)."""
        b0, b1 = self._need(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._need(8))[0]
        return b0 & 0x0F, self._need(n)

    def refusal(self):
        """(status, body) of an upgrade the server answered with HTTP: the body read to the end."""
        body = self.buf
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            body += chunk
        self.sock.close()
        return self.status, body.decode(errors="replace")

    def close(self):
        self.sock.close()


def stream_variants(port, stream):
    for s in get_json(port, "/api/stats")["streams"]:
        if s["id"] == stream:
            return s.get("video", {}).get("variants", [])
    return []


# ---------------------------------------------------------------- AI Director (000)

def check_ai_director(binary, workdir):
    refused(binary, [VTEST, "--frames", "0"], workdir, "--frames")
    refused(binary, [VTEST, "--frames", "5", "--every", "2"], workdir, "--every")
    v = Vigil(binary, [VTEST, "--frames", "5"], workdir, "ai_director")
    try:
        doc = get_json(v.port, "/api/streams/vtest")
        check(doc["config"]["every"] == 5, f"--frames 5: every is {doc['config']['every']}")
        check(doc["config"]["describe"]["every_frames"] == 5,
              f"--frames 5: describe.every_frames is {doc['config']['describe']['every_frames']}")
        status, text = WebSocket(v.port, "/ws/streams/vtest?captions=2").refusal()
        check(status == 400 and "captions" in text, f"captions=2: {status} {text}")
        ws = WebSocket(v.port, "/ws/streams/vtest?captions=1")
        check(ws.status == 101, f"WS /ws/streams/vtest?captions=1: {ws.status} {ws.head!r}")
        seen = {"jpeg": 0, "frame": 0, "caption": 0}
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline and min(seen.values()) == 0:
            op, payload = ws.message()
            if op == 2:
                check(payload[:2] == b"\xff\xd8", "a binary message is not a JPEG")
                seen["jpeg"] += 1
            elif op == 1:
                m = json.loads(payload)
                if m.get("kind") == "caption":
                    check(m.get("stream") == "vtest" and m.get("text"), f"caption message: {m}")
                    seen["caption"] += 1
                elif "analysed" in m:
                    seen["frame"] += 1
        ws_variants = stream_variants(v.port, "vtest")
        ws.close()
        check(min(seen.values()) > 0, f"one WebSocket with captions=1 carried {seen}")
        check([x["quality"] for x in ws_variants] == [85], f"WebSocket JPEG quality: variants {ws_variants}")
    finally:
        v.stop()


# ---------------------------------------------------------------- Overwatch (002)

OVERWATCH_CONFIG = f"""
streams:
  - id: xray
    url: {VTEST}
    loop: true
    render: {{jpeg_quality: 60, max_fps: 15}}
"""


def check_overwatch(binary, workdir):
    refused(binary, [], workdir, "streams[0].render.jpeg_quality",
            config_text=OVERWATCH_CONFIG.replace("jpeg_quality: 60", "jpeg_quality: 101"))
    v = Vigil(binary, [], workdir, "overwatch", env={"DEVICE": "mps"}, config_text=OVERWATCH_CONFIG)
    try:
        log = v.output()
        check("MPS" in log and "falling back to the CPU" in log, f"DEVICE=mps: no fallback message in: {log[-2000:]}")
        check("cpu" in get_json(v.port, "/api/stats")["provider"].lower(), "DEVICE=mps: the provider is not the CPU")
        # A viewer that asks for nothing gets the stream's render defaults.
        viewer = socket.create_connection(("127.0.0.1", v.port), timeout=10)
        viewer.sendall(f"GET /api/streams/xray/mjpeg HTTP/1.1\r\nHost: 127.0.0.1:{v.port}\r\n\r\n".encode())
        variants = eventually("the MJPEG viewer's variant", lambda: stream_variants(v.port, "xray"))
        check([(x["quality"], x["fps"], x["overlay"]) for x in variants] == [(60, 15, True)],
              f"render defaults: variants {variants}")

        def measured():
            p = get_json(v.port, "/api/workflow-builder/performance")
            ops = p["operations"]
            ok = all(ops.get(k, {}).get("count", 0) > 0 for k in ("model_inference", "xray_visualization",
                                                                    "jpeg_encoding"))
            return p if ok and p["current_fps"] > 0 and p["bottlenecks"] else None

        perf = eventually("model_inference, xray_visualization and jpeg_encoding measured", measured)
        viewer.close()
        for name, op in perf["operations"].items():
            check(set(op) == {"avg_ms", "p95_ms", "max_ms", "count"}, f"operation {name}: keys {sorted(op)}")
            check(0 <= op["avg_ms"] <= op["max_ms"] and op["p95_ms"] <= op["max_ms"], f"operation {name}: {op}")
        b = perf["bottlenecks"][0]
        check(set(b) == {"operation", "avg_ms"} and b["operation"] in perf["operations"], f"bottleneck {b}")
        before = perf["operations"]["model_inference"]["count"]
        status, text = http(v.port, "/api/workflow-builder/performance/reset", method="POST", body=b"")
        check(status == 200, f"POST .../performance/reset: {status} {text}")
        after = get_json(v.port, "/api/workflow-builder/performance")["operations"].get("model_inference", {})
        check(after.get("count", 0) < before, f"reset: model_inference count {before} -> {after}")
        status, text = http(v.port, "/api/workflow-builder/performance/reset")
        check(status == 405, f"GET .../performance/reset: {status} {text}")
    finally:
        v.stop()


# ---------------------------------------------------------------- Trigo (003)

TRIGO_CONFIG = f"""
batch: {{wait_ms: 50}}
streams:
  - id: shop
    url: {VTEST}
    loop: true
    every: 4
"""


def check_trigo(binary, workdir):
    refused(binary, [], workdir, "batch.wait_ms", config_text=TRIGO_CONFIG.replace("wait_ms: 50", "wait_ms: 5000"))
    v = Vigil(binary, [], workdir, "trigo", config_text=TRIGO_CONFIG)
    try:
        def counted():
            s = get_json(v.port, "/api/stats")
            return s if s["total_detections"] > 0 and len(s["history"]["fps"]) >= 2 else None

        s = eventually("detections counted and two history samples", counted)
        for key in ("frame_time_ms", "detection_skip", "total_detections", "frames_processed", "ram_percent",
                    "gpu_available", "gpu_name", "gpu_percent", "gpu_temperature", "inference_time_ms",
                    "inference_avg_ms", "inferences_per_sec", "current_fps", "queue_size", "batch_size",
                    "batch_size_avg", "active_streams", "cpu_percent", "ram_used_mb"):
            check(key in s, f"/api/stats has no {key}")
        check(s["detection_skip"] == 4, f"detection_skip {s['detection_skip']} (every: 4)")
        check(s["frames_processed"] >= s["streams"][0]["analysed"] > 0, f"frames_processed {s['frames_processed']}")
        check(s["frame_time_ms"] > 0, f"frame_time_ms {s['frame_time_ms']}")
        check(0 < s["ram_percent"] < 100, f"ram_percent {s['ram_percent']}")
        if s.get("gpus"):
            check(s["gpu_available"] and s["gpu_name"] == s["gpus"][0]["name"], f"GPU keys: {s}")
        else:
            check(s["gpu_available"] is False and s["gpu_name"] is None and s["gpu_percent"] is None
                  and s["gpu_temperature"] is None, "no GPU: gpu_* are not null")
        h = s["history"]
        n = len(h["fps"])
        for series in ("fps", "inference", "cpu", "gpu", "ram", "inference_avg_ms", "cpu_percent", "ram_mb"):
            check(len(h.get(series, [])) == n, f"history.{series}: {len(h.get(series, []))} samples, fps has {n}")
        check(all(x is None or 0 < x < 100 for x in h["ram"]), f"history.ram: {h['ram']}")
        check(h["cpu"] == h["cpu_percent"], "history.cpu differs from history.cpu_percent")
    finally:
        v.stop()


# ---------------------------------------------------------------- Verolux (004)

VEROLUX_CONFIG = f"""
streams:
  - id: gate1
    url: {VTEST}
    loop: true
defaults:
  loop: true
"""


def gate_messages(ws, n):
    """The next n gate_check messages of the socket."""
    out = []
    while len(out) < n:
        op, payload = ws.message()
        check(op == 1, f"gate-check sent opcode {op}")
        m = json.loads(payload)
        check(m.get("type") == "gate_check", f"gate-check message: {m}")
        out.append(m)
    return out


def stream_ids(port):
    return [s["id"] for s in get_json(port, "/api/streams")["streams"]]


def check_verolux(binary, workdir):
    models = os.path.join(workdir, "models")
    os.makedirs(models)
    model = os.path.realpath(os.path.join(os.path.dirname(binary), "..", "models", "nanodet-m-416.onnx"))
    if not os.path.exists(model):
        model = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models",
                                              "nanodet-m-416.onnx"))
    refused(binary, [], workdir, "has no .onnx file", env={"MODEL_PATH": models}, config_text=VEROLUX_CONFIG)
    # A float32 graph under an FP16 name: the choice is by name, and it loads.
    os.symlink(model, os.path.join(models, "weight_fp16.onnx"))
    with open(os.path.join(models, "README.txt"), "w") as f:
        f.write("not a model")
    media = os.path.join(workdir, "media")
    os.makedirs(media)
    shutil.copyfile(VTEST, os.path.join(media, "entrance.avi"))  # a link would resolve outside --media-dir
    v = Vigil(binary, ["--media-dir", media], workdir, "verolux", env={"MODEL_PATH": models},
              config_text=VEROLUX_CONFIG)
    try:
        log = v.output()
        check(re.search(r"model \S*weight_fp16\.onnx \(fp32, file FP16, .*folder " + re.escape(models), log),
              f"the model folder's choice is not logged: {log[-2000:]}")
        for query, name in (("", "source"), ("?source=gate1&use_substream=maybe", "use_substream"),
                            ("?source=/etc/passwd", "media"), ("?source=ftp://example.com/x", "ftp")):
            status, text = WebSocket(v.port, "/ws/gate-check" + query).refusal()
            check(status == 400 and name in text, f"/ws/gate-check{query}: {status} {text}")
        # A configured stream: attached, its own (full-frame) analysis reported.
        ws = WebSocket(v.port, "/ws/gate-check?source=gate1&use_substream=true")
        check(ws.status == 101, f"gate-check on gate1: {ws.status} {ws.head!r}")
        m = gate_messages(ws, 3)[-1]
        ws.close()
        check(set(m["fps"]) == {"inference", "capture"} and m["fps"]["capture"] > 0, f"fps: {m['fps']}")
        check(m["optimizations"] == {"dual_stream": False, "async_grabber": True, "batch_inference": True,
                                     "precision": "FP16", "substream_scale": 1.0}, f"optimizations: {m}")
        check(isinstance(m["detections"], list), f"detections: {m}")
        # A URL in --media-dir: started on demand for the first client, shared, removed after the last.
        url = os.path.join(media, "entrance.avi")
        a = WebSocket(v.port, "/ws/gate-check?source=" + urllib.parse.quote(url, safe="") + "&use_substream=true")
        check(a.status == 101, f"gate-check on {url}: {a.status} {a.head!r}")
        gate_ids = [i for i in stream_ids(v.port) if i.startswith("gate-")]
        check(len(gate_ids) == 1, f"one on-demand stream while a client watches: {stream_ids(v.port)}")
        b = WebSocket(v.port, "/ws/gate-check?source=" + urllib.parse.quote(url, safe=""))
        ma, mb = gate_messages(a, 2)[-1], gate_messages(b, 2)[-1]
        check(ma["stream"] == mb["stream"] == gate_ids[0], f"shared stream: {ma['stream']} {mb['stream']}")
        check(ma["optimizations"]["dual_stream"] and ma["optimizations"]["substream_scale"] == 0.6,
              f"use_substream=true: {ma['optimizations']}")
        check(any(d["class"] == "person" and len(d["bbox"]) == 4 for m in gate_messages(a, 20) for d in m["detections"]),
              "no person detected on vtest.avi in 20 gate_check messages")
        a.close()
        eventually("the second client still receives after the first left", lambda: gate_messages(b, 1))
        check(gate_ids[0] in stream_ids(v.port), "the on-demand stream stopped while a client still watches")
        b.close()
        eventually("the on-demand stream removed after its last client left",
                   lambda: gate_ids[0] not in stream_ids(v.port))
        check(not os.path.exists(os.path.join(workdir, "verolux.yaml.state.json"))
              or gate_ids[0] not in open(os.path.join(workdir, "verolux.yaml.state.json")).read(),
              "the on-demand stream was saved to the state file")
    finally:
        v.stop()


# ---------------------------------------------------------------- AI Video Detective (001)

def post_json(port, path, body):
    status, text = http(port, path, method="POST", body=json.dumps(body).encode(),
                        headers={"Content-Type": "application/json"})
    return status, json.loads(text) if text.startswith("{") else text


def raw_request(port, head, body=b"", read=True):
    """Sends HEAD (the request line and headers) and BODY on one connection;
    (status, body text) of the answer, or None when read is False (the
    connection is closed after sending: a cut upload)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode() + b"\r\n" + body)
        if not read:
            return None
        data = b""
        while b"\r\n\r\n" not in data:
            piece = s.recv(65536)
            if not piece:
                break
            data += piece
        header, _, rest = data.partition(b"\r\n\r\n")
        m = re.search(rb"content-length: *(\d+)", header, re.I)
        length = int(m.group(1)) if m else 0
        while len(rest) < length:
            piece = s.recv(65536)
            if not piece:
                break
            rest += piece
        return int(header.split()[1]), rest.decode()


def upload(port, name, body, query="", headers=None):
    return http(port, f"/api/uploads?name={urllib.parse.quote(name)}{query}", method="POST", body=body,
                headers={"Content-Type": "application/octet-stream", **(headers or {})})


def head_offset(port, name):
    """Upload-Offset of HEAD /api/uploads/NAME (None when it is not 200)."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/uploads/{name}", method="HEAD")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return int(r.headers["Upload-Offset"])
    except urllib.error.HTTPError:
        return None


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_uploads(binary, workdir):
    media = os.path.join(workdir, "upload-media")
    os.makedirs(media)
    clip = os.path.join(workdir, "clip.mp4")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", VTEST, "-t", "3", "-c:v", "libx264", "-preset",
                    "ultrafast", clip], check=True)
    with open(clip, "rb") as f:
        data = f.read()
    check(len(data) > 100000, f"ffmpeg made a {len(data)}-byte clip")
    v = Vigil(binary, ["--media-dir", media, "--jobs-dir", os.path.join(workdir, "upload-jobs")], workdir,
              "uploads", config_text=f"streams: [{{id: cam, url: {VTEST}, loop: true}}]\nserver: {{upload_max_mb: 2}}\n")
    try:
        status, text = upload(v.port, "clip.mp4", data)
        check(status == 201, f"POST /api/uploads: {status} {text}")
        answer = json.loads(text)
        check(answer["bytes"] == len(data) and answer["complete"] and answer["name"] == "clip.mp4", f"answer {answer}")
        check(sha256(os.path.join(media, "clip.mp4")) == hashlib.sha256(data).hexdigest(), "stored bytes differ")
        status, text = upload(v.port, "clip.mp4", data)
        check(status == 409 and "exists" in text, f"the same name again: {status} {text}")
        check(sha256(os.path.join(media, "clip.mp4")) == hashlib.sha256(data).hexdigest(), "overwritten")
        for name, why in (("../clip2.mp4", "letters, digits"), (".hidden.mp4", "start with"),
                          ("notes.txt", "video extension"), ("a b.mp4", "letters, digits"), ("", "required")):
            status, text = upload(v.port, name, b"x")
            check(status == 400 and why in text and "name" in text, f"name {name!r}: {status} {text}")
        check(sorted(os.listdir(media)) == ["clip.mp4"], f"refused names left files: {os.listdir(media)}")
        # Cut: announce the whole file, send a part, hang up; then continue from the offset HEAD tells.
        cut = 150000
        raw_request(v.port, f"POST /api/uploads?name=cut.mp4 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            f"Content-Length: {len(data)}\r\n", data[:cut], read=False)
        offset = eventually("HEAD telling the bytes sent", lambda: head_offset(v.port, "cut.mp4") == cut and cut)
        status, text = http(v.port, "/api/uploads/cut.mp4")
        check(status == 200 and json.loads(text)["complete"] is False, f"GET the cut upload: {status} {text}")
        status, text = upload(v.port, "cut.mp4", data[offset:])
        check(status == 409 and f"offset={cut}" in text, f"no offset on a partial upload: {status} {text}")
        status, text = upload(v.port, "cut.mp4", data[offset:], "&offset=7")
        check(status == 409 and f"{cut} bytes stored" in text, f"a wrong offset: {status} {text}")
        status, text = upload(v.port, "cut.mp4", data[offset:], "&offset=x")
        check(status == 400 and "offset" in text, f"a bad offset: {status} {text}")
        status, text = upload(v.port, "cut.mp4", data[offset:], f"&offset={offset}")
        check(status == 201 and json.loads(text)["bytes"] == len(data), f"the rest: {status} {text}")
        check(sha256(os.path.join(media, "cut.mp4")) == hashlib.sha256(data).hexdigest(), "restarted bytes differ")
        check(not os.path.exists(os.path.join(media, "cut.mp4.part")), "the .part stayed")
        status, text = http(v.port, "/api/uploads/cut.mp4")
        check(status == 200 and json.loads(text)["complete"] is True, f"GET the finished upload: {status} {text}")
        status, text = http(v.port, "/api/uploads/none.mp4")
        check(status == 404, f"GET an unknown upload: {status} {text}")
        # Over the 2 MiB limit: refused by its Content-Length before any byte is stored, and chunked.
        status, text = raw_request(v.port, "POST /api/uploads?name=big.mp4 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           f"Content-Length: {3 * 1024 * 1024}\r\n")
        check(status == 413 and "server.upload_max_mb (2 MiB" in text, f"too large: {status} {text}")
        check(not os.path.exists(os.path.join(media, "big.mp4.part")), "a refused upload left a .part")
        piece = b"0" * (1024 * 1024)
        chunks = b"".join(b"%x\r\n" % len(piece) + piece + b"\r\n" for _ in range(3)) + b"0\r\n\r\n"
        status, text = raw_request(v.port, "POST /api/uploads?name=big.mp4 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           "Transfer-Encoding: chunked\r\n", chunks)
        check(status == 413 and "upload_max_mb" in text, f"too large, chunked: {status} {text}")
        check(not os.path.exists(os.path.join(media, "big.mp4")), "a too-large upload was completed")
        status, answer = post_json(v.port, "/api/jobs", {"paths": ["clip.mp4", "cut.mp4"], "sample_fps": 1})
        check(status == 201 and [j["video"] for j in answer["jobs"]] ==
              [os.path.join(media, "clip.mp4"), os.path.join(media, "cut.mp4")], f"queue the uploads: {status} {answer}")
    finally:
        v.stop()
    # No media directory, and a token.
    v = Vigil(binary, ["--token", "s3cret"], workdir, "uploads-nomedia",
              config_text=f"streams: [{{id: cam, url: {VTEST}, loop: true}}]\n")
    try:
        status, text = upload(v.port, "clip.mp4", data)
        check(status == 401, f"an upload without the token: {status} {text}")
        status, text = upload(v.port, "clip.mp4", data, headers={"Authorization": "Bearer s3cret"})
        check(status == 409 and "--media-dir" in text, f"an upload without a media directory: {status} {text}")
    finally:
        v.stop()


def check_video_detective(binary, workdir):
    check_uploads(binary, workdir)
    media = os.path.join(workdir, "media")
    os.makedirs(media)
    for name in ("a.avi", "b.avi"):
        shutil.copyfile(VTEST, os.path.join(media, name))
    v = Vigil(binary, ["--media-dir", media, "--jobs-dir", os.path.join(workdir, "jobs")], workdir,
              "video_detective", config_text=f"streams: [{{id: cam, url: {VTEST}, loop: true}}]\n")
    try:
        for body, name in (({"paths": []}, "paths"), ({"paths": "a.avi"}, "paths"),
                           ({"paths": ["a.avi", "../../etc/passwd"]}, "paths[1]"),
                           ({"paths": ["a.avi", 3]}, "paths[1]"),
                           ({"paths": ["a.avi"], "path": "b.avi"}, "not both"),
                           ({"paths": ["a.avi"], "chunk_s": 0}, "paths[0]: chunk_s")):
            status, answer = post_json(v.port, "/api/jobs", body)
            check(status == 400 and name in str(answer), f"POST /api/jobs {body}: {status} {answer}")
        check(get_json(v.port, "/api/jobs")["jobs"] == [], "a refused request queued jobs")
        status, answer = post_json(v.port, "/api/jobs", {"paths": ["a.avi", "b.avi"], "sample_fps": 1, "chunk_s": 30})
        check(status == 201, f"POST /api/jobs with two paths: {status} {answer}")
        videos = [j["video"] for j in answer["jobs"]]
        check(videos == [os.path.join(media, "a.avi"), os.path.join(media, "b.avi")], f"jobs: {videos}")
        check(sorted(j["video"] for j in get_json(v.port, "/api/jobs")["jobs"]) == videos, "GET /api/jobs")
        eventually("both jobs done", lambda: all(j["state"] == "done"
                                                 for j in get_json(v.port, "/api/jobs")["jobs"]), timeout=200)
        status, again = post_json(v.port, "/api/jobs", {"paths": ["a.avi", "b.avi"], "sample_fps": 1, "chunk_s": 30})
        check(status == 200 and [j["id"] for j in again["jobs"]] == [j["id"] for j in answer["jobs"]],
              f"the same request again: {status} {again}")
    finally:
        v.stop()


CHECKS = {"ai_director": check_ai_director, "video_detective": check_video_detective, "overwatch": check_overwatch, "trigo": check_trigo,
          "verolux": check_verolux}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CHECKS:
        print(f"usage: {sys.argv[0]} VIGIL_BINARY {{{'|'.join(CHECKS)}}}", file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as workdir:
        try:
            CHECKS[sys.argv[2]](binary, workdir)
        except Failure as e:
            print(f"FAIL: {e}")
            for name in sorted(os.listdir(workdir)):
                if name.endswith(".log"):
                    with open(os.path.join(workdir, name)) as f:
                        print(f"--- {name} (tail)\n{f.read()[-3000:]}")
            return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
