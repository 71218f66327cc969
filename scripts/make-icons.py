#!/usr/bin/env python3
"""Draws the tray images (assets/tray/*.png: a coloured shield-like disc per state) and the app icon.
Plain zlib PNG writing, no imaging library: run it again after changing a colour."""
import struct, zlib, math, os

def png(path, size, pixel):
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            row += bytes(pixel(x, y, size))
        rows.append(bytes(row))
    raw = b''.join(rows)
    def chunk(t, d):
        c = struct.pack('>I', len(d)) + t + d
        return c + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    data = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', size, size, 8, 6, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(data)

def disc(color, ring=(255, 255, 255)):
    def pixel(x, y, size):
        c = (size - 1) / 2
        d = math.hypot(x - c, y - c) / (size / 2)
        if d > 1.0:
            return (0, 0, 0, 0)
        a = 255 if d < 0.94 else int(255 * (1.0 - d) / 0.06)
        if 0.55 < d < 0.68:
            return (*ring, a)
        return (*color, a)
    return pixel

root = os.path.join(os.path.dirname(__file__), '..', 'assets')
for name, color in {'ok': (46, 157, 79), 'warning': (224, 161, 0), 'error': (209, 52, 47), 'unknown': (138, 143, 152)}.items():
    png(os.path.join(root, 'tray', f'{name}.png'), 32, disc(color))
png(os.path.join(root, 'icons', '512x512.png'), 512, disc((38, 84, 164)))
