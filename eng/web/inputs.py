"""Writes the inputs of eng/web.sh bench and soak from the MNIST test images (standard library only).

python3 inputs.py IMAGES_IDX OUTPUT_FOLDER: digit.png (test image 0, 28x28 grey PNG), rows-1024.bin and
rows-64.bin (the first 1024 and 64 test images as raw 784-byte rows).
"""
import struct
import sys
import zlib
from pathlib import Path


def png(pixels: bytes, width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def main() -> None:
    images, output = Path(sys.argv[1]).read_bytes(), Path(sys.argv[2])
    output.mkdir(parents=True, exist_ok=True)
    pixels = images[16:]
    (output / "digit.png").write_bytes(png(pixels[:784], 28, 28))
    (output / "rows-1024.bin").write_bytes(pixels[:1024 * 784])
    (output / "rows-64.bin").write_bytes(pixels[:64 * 784])


main()
