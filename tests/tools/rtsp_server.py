#!/usr/bin/python3
"""A real RTSP server for the tests: GStreamer's GstRtspServer serving an H.264
MP4 without re-encoding (qtdemux ! h264parse ! rtph264pay), on 127.0.0.1 only.

Usage: rtsp_server.py PORT FILE.mp4   ->  rtsp://127.0.0.1:PORT/stream
Every client gets its own pipeline from the start of the file, played at its
native rate; at the end of the file the session ends (clients reconnect and
start again: the loop). No authentication: any user:password is accepted.
Prints "ready rtsp://127.0.0.1:PORT/stream" on stdout once it listens.
Needs Debian's python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good
and gstreamer1.0-plugins-bad (h264parse)."""
import os
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main():
    if len(sys.argv) != 3 or not os.path.isfile(sys.argv[2]):
        sys.exit("usage: rtsp_server.py PORT FILE.mp4")
    port, path = sys.argv[1], os.path.abspath(sys.argv[2])
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    location = path.replace("\\", "\\\\").replace('"', '\\"')
    factory.set_launch(f'( filesrc location="{location}" ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 '
                       'config-interval=1 )')
    factory.set_shared(False)
    server.get_mount_points().add_factory("/stream", factory)
    if server.attach(None) == 0:
        sys.exit(f"rtsp_server.py: cannot listen on 127.0.0.1:{port}")
    print(f"ready rtsp://127.0.0.1:{port}/stream", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
