"""Uploads the server must refuse, built in a few bytes: fixtures of the bad-input tests, which the soak
(benchmarks/soak.py) also mixes into its traffic."""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(side: int = 50000) -> bytes:
    """A few hundred bytes declaring side x side pixels (a decompression bomb)."""
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + png_chunk(b"IEND", b""))


@dataclass(frozen=True)
class Refusal:
    """An upload and the phrase the server's error must contain for it."""

    name: str
    payload: bytes
    phrase: str


def refusals(jpeg: bytes) -> list[Refusal]:
    """The kinds of bad upload a production soak mixes into real traffic; ``jpeg`` is a good image to break."""
    return [
        Refusal("empty bytes", b"", "is empty"),
        Refusal("truncated JPEG (first third)", jpeg[: len(jpeg) // 3], "could not be decoded"),
        Refusal("a PDF instead of an image", b"%PDF-1.7\n" + bytes(200), "not a JPEG, PNG, BMP or WebP file"),
        Refusal("PNG declaring 50000x50000 pixels", bomb_png(), "refused before decoding"),
    ]
