"""Baking credentials into PNG images and reading them back (OB30 #png-baking, OB 2.0 baking).

Pure Python (``struct``, ``zlib``): the kernel must read untrusted uploads without an image library.

Parsing is strict, because the input is untrusted: the signature, every chunk's length and CRC, IHDR first,
IEND present, at least one IDAT, bounded size and chunk count. Bytes after IEND are tolerated (some tools
append data there) but never read for a credential, and ``bake_png`` drops them, so its output ends at IEND.

Choices made where the standards leave room:

* ``bake_png`` writes one uncompressed ``iTXt`` chunk right after IHDR and **replaces** every existing
  credential chunk (``iTXt``/``tEXt``/``zTXt`` with keyword ``openbadgecredential`` or ``openbadges``), so
  re-baking, or baking OB 3.0 into an OB 2.0 badge image, leaves exactly one credential.
* ``unbake_png`` reads ``iTXt`` with either keyword, and the legacy OB 1.0 ``tEXt:openbadges`` (a URL). The
  standards forbid compression, but old bakers did compress; a compressed ``iTXt`` (or ``zTXt``) is read
  with the decompressed size capped at ``max_text_bytes``. More than one credential chunk is an error, not
  "first one wins": a second, different credential is a sign of tampering.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from insignia.credentials.baking.payload import (
    FLAVOUR_BY_KEYWORD,
    OB2_KEYWORD,
    OB3_KEYWORD,
    BakedPayload,
    check_payload,
    require_kind,
)
from insignia.credentials.errors import BakingError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Default refusal thresholds. Badge images are small; these leave ample room.
MAX_PNG_BYTES = 10 * 1024 * 1024
MAX_CHUNKS = 10_000
MAX_TEXT_BYTES = 2 * 1024 * 1024

_MAX_CHUNK_LENGTH = 2**31 - 1  # PNG spec: lengths above this are invalid
_TEXT_TYPES = (b"iTXt", b"tEXt", b"zTXt")
_CREDENTIAL_PREFIXES = tuple(k.encode("latin-1") + b"\0" for k in (OB3_KEYWORD, OB2_KEYWORD))

__all__ = [
    "MAX_CHUNKS",
    "MAX_PNG_BYTES",
    "MAX_TEXT_BYTES",
    "OB2_KEYWORD",
    "OB3_KEYWORD",
    "PNG_SIGNATURE",
    "Chunk",
    "bake_png",
    "build_itxt",
    "is_png",
    "parse_chunks",
    "unbake_png",
]


@dataclass(frozen=True, slots=True)
class Chunk:
    """One PNG chunk: its 4-letter type and its data (length and CRC are recomputed on output)."""

    type: bytes
    data: bytes

    def to_bytes(self) -> bytes:
        crc = zlib.crc32(self.data, zlib.crc32(self.type)) & 0xFFFFFFFF
        return struct.pack(">I", len(self.data)) + self.type + self.data + struct.pack(">I", crc)


def is_png(data: bytes) -> bool:
    """True when ``data`` starts with the PNG signature."""
    return data[:8] == PNG_SIGNATURE


def parse_chunks(png: bytes, *, max_bytes: int = MAX_PNG_BYTES, max_chunks: int = MAX_CHUNKS) -> list[Chunk]:
    """Split a PNG into its chunks, IHDR to IEND, checking the structure strictly.

    Raises ``BakingError`` for anything that is not a well-formed PNG stream; never anything else.
    """
    if not isinstance(png, (bytes, bytearray, memoryview)):
        raise BakingError("A PNG image must be given as bytes.", code="png_invalid")
    data = bytes(png)
    if len(data) > max_bytes:
        raise BakingError(f"The PNG is {len(data):,} bytes; the limit is {max_bytes:,}.", code="png_too_large")
    if not is_png(data):
        raise BakingError("This is not a PNG image (the PNG signature is missing).", code="png_signature")
    chunks: list[Chunk] = []
    pos = len(PNG_SIGNATURE)
    end = len(data)
    seen_idat = False
    while True:
        if pos == end:
            raise BakingError("The PNG ends without an IEND chunk (truncated file?).", code="png_no_iend")
        if end - pos < 12:
            raise BakingError(f"The PNG is truncated inside a chunk header at byte {pos}.", code="png_truncated")
        (length,) = struct.unpack_from(">I", data, pos)
        chunk_type = data[pos + 4 : pos + 8]
        if length > _MAX_CHUNK_LENGTH:
            raise BakingError(
                f"A PNG chunk at byte {pos} declares an impossible length ({length:,} bytes).",
                code="png_chunk_length",
            )
        if not all(65 <= c <= 90 or 97 <= c <= 122 for c in chunk_type):
            raise BakingError(f"The PNG has an invalid chunk type at byte {pos}.", code="png_chunk_type")
        if length > end - pos - 12:
            raise BakingError(
                f"The {chunk_type.decode('ascii')} chunk at byte {pos} declares {length:,} bytes but the file "
                "ends before that (truncated file?).",
                code="png_truncated",
            )
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        if zlib.crc32(body, zlib.crc32(chunk_type)) & 0xFFFFFFFF != crc:
            raise BakingError(
                f"The {chunk_type.decode('ascii')} chunk at byte {pos} has a bad CRC (corrupted file).",
                code="png_crc",
            )
        if len(chunks) >= max_chunks:
            raise BakingError(f"The PNG has more than {max_chunks:,} chunks.", code="png_too_many_chunks")
        if not chunks:
            _check_ihdr(chunk_type, body)
        elif chunk_type == b"IHDR":
            raise BakingError("The PNG has a second IHDR chunk.", code="png_ihdr")
        chunks.append(Chunk(chunk_type, body))
        seen_idat = seen_idat or chunk_type == b"IDAT"
        pos += 12 + length
        if chunk_type == b"IEND":
            break
    if length != 0:
        raise BakingError("The PNG's IEND chunk is not empty.", code="png_iend")
    if not seen_idat:
        raise BakingError("The PNG has no image data (no IDAT chunk).", code="png_no_idat")
    return chunks


def _check_ihdr(chunk_type: bytes, body: bytes) -> None:
    if chunk_type != b"IHDR":
        raise BakingError("The PNG does not start with an IHDR chunk.", code="png_ihdr")
    if len(body) != 13:
        raise BakingError("The PNG's IHDR chunk has the wrong length.", code="png_ihdr")
    width, height = struct.unpack_from(">II", body)
    if not (0 < width <= _MAX_CHUNK_LENGTH and 0 < height <= _MAX_CHUNK_LENGTH):
        raise BakingError("The PNG's IHDR chunk declares an impossible size.", code="png_ihdr")


def _is_credential_chunk(chunk: Chunk) -> bool:
    return chunk.type in _TEXT_TYPES and chunk.data.startswith(_CREDENTIAL_PREFIXES)


def build_itxt(keyword: str, text: str) -> Chunk:
    """An uncompressed iTXt chunk: keyword, NUL, flag 0, method 0, empty language, NUL, empty translation, NUL, text."""
    raw_keyword = keyword.encode("latin-1")
    if not 1 <= len(raw_keyword) <= 79 or b"\0" in raw_keyword:
        raise BakingError(f"{keyword!r} is not a valid PNG keyword.", code="payload_invalid")
    return Chunk(b"iTXt", raw_keyword + b"\0\0\0" + b"\0" + b"\0" + text.encode("utf-8"))


def bake_png(
    png: bytes,
    payload: str,
    *,
    keyword: str = OB3_KEYWORD,
    max_bytes: int = MAX_PNG_BYTES,
    max_chunks: int = MAX_CHUNKS,
) -> bytes:
    """Return ``png`` with ``payload`` in one iTXt chunk after IHDR, replacing any earlier credential."""
    flavour = FLAVOUR_BY_KEYWORD.get(keyword)
    if flavour is None:
        raise BakingError(
            f"Unknown PNG keyword {keyword!r}: expected {OB3_KEYWORD!r} or {OB2_KEYWORD!r}.", code="payload_invalid"
        )
    check_payload(payload, flavour)
    chunks = parse_chunks(png, max_bytes=max_bytes, max_chunks=max_chunks)
    kept = [chunk for chunk in chunks if not _is_credential_chunk(chunk)]
    out = [PNG_SIGNATURE, kept[0].to_bytes(), build_itxt(keyword, payload).to_bytes()]
    out.extend(chunk.to_bytes() for chunk in kept[1:])
    return b"".join(out)


def unbake_png(
    png: bytes,
    *,
    max_bytes: int = MAX_PNG_BYTES,
    max_chunks: int = MAX_CHUNKS,
    max_text_bytes: int = MAX_TEXT_BYTES,
) -> BakedPayload:
    """Read the one credential baked into ``png`` (OB 3.0, OB 2.0, or an OB 1.0 URL)."""
    chunks = parse_chunks(png, max_bytes=max_bytes, max_chunks=max_chunks)
    found = [chunk for chunk in chunks if _is_credential_chunk(chunk)]
    if not found:
        raise BakingError("This PNG has no baked credential.", code="no_credential")
    if len(found) > 1:
        raise BakingError(
            f"This PNG holds {len(found)} credential chunks; a baked badge must hold exactly one.",
            code="multiple_credentials",
        )
    keyword, text = _read_text_chunk(found[0], max_text_bytes)
    stripped = text.strip()
    if not stripped:
        raise BakingError("The PNG's credential chunk is empty.", code="no_credential")
    kind = require_kind(stripped, where=f"PNG {found[0].type.decode('ascii')} chunk")
    return BakedPayload(keyword=keyword, text=stripped, flavour=FLAVOUR_BY_KEYWORD[keyword], kind=kind, container="png")


def _read_text_chunk(chunk: Chunk, max_text_bytes: int) -> tuple[str, str]:
    """Decode a tEXt/zTXt/iTXt chunk into (keyword, text)."""
    raw_keyword, _, rest = chunk.data.partition(b"\0")
    keyword = raw_keyword.decode("latin-1")
    if chunk.type == b"tEXt":
        if len(rest) > max_text_bytes:
            raise BakingError("The PNG's credential text is too large.", code="png_text_too_large")
        return keyword, rest.decode("latin-1")
    if chunk.type == b"zTXt":
        if len(rest) < 1 or rest[0] != 0:
            raise BakingError("The PNG's zTXt credential chunk uses an unknown compression.", code="png_text_malformed")
        return keyword, _inflate(rest[1:], max_text_bytes).decode("latin-1")
    # iTXt: flag, method, language NUL, translated keyword NUL, text
    if len(rest) < 2:
        raise BakingError("The PNG's iTXt credential chunk is malformed.", code="png_text_malformed")
    flag, method = rest[0], rest[1]
    parts = rest[2:].split(b"\0", 2)
    if len(parts) != 3 or flag not in (0, 1) or (flag == 1 and method != 0):
        raise BakingError("The PNG's iTXt credential chunk is malformed.", code="png_text_malformed")
    raw_text = _inflate(parts[2], max_text_bytes) if flag == 1 else parts[2]
    if len(raw_text) > max_text_bytes:
        raise BakingError("The PNG's credential text is too large.", code="png_text_too_large")
    try:
        return keyword, raw_text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BakingError("The PNG's iTXt credential text is not UTF-8.", code="png_text_encoding") from exc


def _inflate(data: bytes, limit: int) -> bytes:
    """Decompress zlib data, refusing output beyond ``limit`` bytes (a decompression bomb) or a broken stream."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise BakingError("The PNG's compressed credential text is corrupt.", code="png_text_malformed") from exc
    if len(out) > limit:
        raise BakingError(
            f"The PNG's compressed credential text expands beyond {limit:,} bytes.", code="png_text_too_large"
        )
    if not inflater.eof:
        raise BakingError("The PNG's compressed credential text is truncated.", code="png_text_malformed")
    return out
