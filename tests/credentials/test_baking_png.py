"""PNG baking: byte layout, round trips, independent read-back with Pillow, hostile files, fuzzing."""

from __future__ import annotations

import contextlib
import io
import json
import struct
import time
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from insignia.credentials.baking import OB2_KEYWORD, OB3_KEYWORD, bake, sniff_image_type, unbake
from insignia.credentials.baking.png import PNG_SIGNATURE, Chunk, bake_png, parse_chunks, unbake_png
from insignia.credentials.errors import BakingError

OB3_JSON = json.dumps(
    {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:0b5cbd8d-2a4b-4a3f-9a34-6c2b1b1f1a11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Ünïcödé badge — 徽章 ✓ 🏅",
    },
    ensure_ascii=False,
)
JWS = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2V4YW1wbGUub3JnIn0.c2lnbmF0dXJlLWJ5dGVz"
OB2_URL = "https://example.org/assertions/123"
OB2_JSON = json.dumps({"@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": OB2_URL})


def make_png(size: tuple[int, int] = (16, 16), pnginfo: PngImagePlugin.PngInfo | None = None) -> bytes:
    image = Image.new("RGBA", size, (30, 120, 200, 255))
    image.putpixel((0, 0), (255, 0, 0, 128))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=pnginfo)
    return buffer.getvalue()


def raw_chunks(png: bytes) -> list[tuple[bytes, bytes, int]]:
    """(type, data, crc) of every chunk, read independently of the code under test."""
    out, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        ctype = png[pos + 4 : pos + 8]
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        out.append((ctype, data, crc))
        pos += 12 + length
        if ctype == b"IEND":
            break
    return out


def chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def credential_chunks(png: bytes) -> list[bytes]:
    return [
        data
        for ctype, data, _ in raw_chunks(png)
        if ctype in (b"iTXt", b"tEXt", b"zTXt") and data.split(b"\0", 1)[0] in (b"openbadgecredential", b"openbadges")
    ]


PNG = make_png()


# Round trips -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "flavour", "kind"),
    [(OB3_JSON, "ob3", "json"), (JWS, "ob3", "jwt"), (JWS, "ob2", "jwt"), (OB2_JSON, "ob2", "json"),
     (OB2_URL, "ob2", "url")],
)
def test_round_trip(payload: str, flavour: str, kind: str) -> None:
    baked = bake(PNG, payload, flavour=flavour)
    result = unbake(baked)
    assert (result.text, result.flavour, result.kind, result.container) == (payload, flavour, kind, "png")
    assert result.keyword == (OB3_KEYWORD if flavour == "ob3" else OB2_KEYWORD)


def test_ob3_refuses_a_url_payload() -> None:
    with pytest.raises(BakingError) as info:
        bake_png(PNG, OB2_URL)
    assert info.value.code == "payload_invalid"


@pytest.mark.parametrize("payload", ["", "   ", "not a credential"])
def test_refuses_payloads_that_are_not_credentials(payload: str) -> None:
    with pytest.raises(BakingError) as info:
        bake_png(PNG, payload)
    assert info.value.code == "payload_invalid"


def test_refuses_unknown_keyword() -> None:
    with pytest.raises(BakingError) as info:
        bake_png(PNG, JWS, keyword="Comment")
    assert info.value.code == "payload_invalid"


# Layout --------------------------------------------------------------------------------------------------


def test_itxt_chunk_is_byte_exact_right_after_ihdr_and_crc_valid() -> None:
    baked = bake_png(PNG, OB3_JSON)
    chunks = raw_chunks(baked)
    assert [c[0] for c in chunks[:2]] == [b"IHDR", b"iTXt"]
    _, data, crc = chunks[1]
    assert data == b"openbadgecredential" + b"\x00" + b"\x00\x00" + b"" + b"\x00" + b"" + b"\x00" + OB3_JSON.encode()
    assert zlib.crc32(b"iTXt" + data) == crc
    assert all(zlib.crc32(ctype + body) == c for ctype, body, c in chunks)
    # the other chunks are untouched
    assert [c for c in chunks if c[0] != b"iTXt"] == raw_chunks(PNG)
    assert baked.endswith(chunk(b"IEND", b""))


def test_rebaking_replaces_the_credential() -> None:
    once = bake(PNG, OB2_URL, flavour="ob2")
    twice = bake(once, JWS, flavour="ob2")
    thrice = bake(twice, OB3_JSON)  # OB 3.0 over an OB 2.0 badge: the OB 2.0 assertion goes
    assert credential_chunks(twice) == [b"openbadges\x00\x00\x00\x00\x00" + JWS.encode()]
    assert len(credential_chunks(thrice)) == 1
    assert unbake(thrice).text == OB3_JSON
    assert bake(thrice, OB3_JSON) == thrice


def test_baking_replaces_legacy_and_compressed_chunks() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("openbadges", OB2_URL)
    info.add_itxt("openbadgecredential", JWS, zip=True)
    info.add_text("Software", "kept")
    source = make_png(pnginfo=info)
    baked = bake(source, OB3_JSON)
    assert len(credential_chunks(baked)) == 1
    assert Image.open(io.BytesIO(baked)).text["Software"] == "kept"


# Independent decoders --------------------------------------------------------------------------------------


def test_pillow_decodes_the_baked_image_and_reads_the_payload() -> None:
    baked = bake_png(PNG, OB3_JSON)
    image = Image.open(io.BytesIO(baked))
    image.load()
    original = Image.open(io.BytesIO(PNG))
    assert image.size == original.size
    assert image.tobytes() == original.convert(image.mode).tobytes()
    assert image.text["openbadgecredential"] == OB3_JSON
    assert isinstance(image.text["openbadgecredential"], PngImagePlugin.iTXt)
    assert image.text["openbadgecredential"].lang == ""
    assert image.text["openbadgecredential"].tkey == ""


def test_reads_itxt_written_by_pillow() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("openbadgecredential", OB3_JSON)
    result = unbake_png(make_png(pnginfo=info))
    assert (result.text, result.flavour, result.kind) == (OB3_JSON, "ob3", "json")


def test_reads_compressed_itxt_with_a_cap() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("openbadges", OB2_JSON, zip=True)
    source = make_png(pnginfo=info)
    assert unbake_png(source).text == OB2_JSON
    with pytest.raises(BakingError) as exc:
        unbake_png(source, max_text_bytes=10)
    assert exc.value.code == "png_text_too_large"


def test_reads_ob1_text_url() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("openbadges", OB2_URL)
    result = unbake_png(make_png(pnginfo=info))
    assert (result.text, result.flavour, result.kind) == (OB2_URL, "ob2", "url")


# Refusals ---------------------------------------------------------------------------------------------------


def error_code(data: bytes, **kwargs: int) -> str:
    with pytest.raises(BakingError) as info:
        unbake_png(data, **kwargs)
    return info.value.code


def test_no_credential() -> None:
    assert error_code(PNG) == "no_credential"


def test_two_credential_chunks() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("openbadgecredential", OB3_JSON)
    info.add_itxt("openbadges", OB2_JSON)
    assert error_code(make_png(pnginfo=info)) == "multiple_credentials"


def test_not_a_png() -> None:
    assert error_code(b"GIF89a" + b"\0" * 100) == "png_signature"
    assert error_code(b"") == "png_signature"


@pytest.mark.parametrize("cut", [8, 10, 20, 33, 40, -13, -12, -5, -1])
def test_truncated(cut: int) -> None:
    baked = bake_png(PNG, JWS)
    assert error_code(baked[:cut]) in {"png_truncated", "png_no_iend"}


def test_no_iend() -> None:
    assert error_code(PNG[: -12]) == "png_no_iend"


def test_bad_crc() -> None:
    baked = bytearray(bake_png(PNG, JWS))
    baked[40] ^= 0x01  # inside the iTXt keyword
    assert error_code(bytes(baked)) == "png_crc"


def test_length_overflow_and_giant_declared_length() -> None:
    head = PNG_SIGNATURE + chunk(b"IHDR", PNG[16:29])
    assert error_code(head + b"\xff\xff\xff\xff" + b"IDAT" + b"\0" * 20) == "png_chunk_length"
    assert error_code(head + struct.pack(">I", 2**31 - 1) + b"IDAT" + b"\0" * 20) == "png_truncated"


def test_structure_rules() -> None:
    ihdr = chunk(b"IHDR", PNG[16:29])
    idat = chunk(b"IDAT", zlib.compress(b"\0" * 10))
    iend = chunk(b"IEND", b"")
    assert error_code(PNG_SIGNATURE + idat + ihdr + iend) == "png_ihdr"
    assert error_code(PNG_SIGNATURE + ihdr + ihdr + idat + iend) == "png_ihdr"
    assert error_code(PNG_SIGNATURE + ihdr + iend) == "png_no_idat"
    assert error_code(PNG_SIGNATURE + chunk(b"IHDR", b"\0" * 13) + idat + iend) == "png_ihdr"
    assert error_code(PNG_SIGNATURE + ihdr + chunk(b"ID4T", b"") + idat + iend) == "png_chunk_type"
    assert error_code(PNG_SIGNATURE + ihdr + idat + chunk(b"IEND", b"x")) == "png_iend"


def test_limits() -> None:
    assert error_code(PNG, max_bytes=100) == "png_too_large"
    many = PNG_SIGNATURE + chunk(b"IHDR", PNG[16:29]) + chunk(b"tIME", b"\0" * 7) * 50 + PNG[33:]
    assert error_code(many, max_chunks=20) == "png_too_many_chunks"


def test_decompression_bomb_is_refused_fast() -> None:
    bomb = zlib.compress(b"{" + b" " * (24 * 1024 * 1024), 9)
    itxt = chunk(b"iTXt", b"openbadgecredential\x00\x01\x00\x00\x00" + bomb)
    start = time.perf_counter()
    assert error_code(PNG[:33] + itxt + PNG[33:]) == "png_text_too_large"
    assert time.perf_counter() - start < 20  # hang guard, not a speed test


def test_malformed_credential_chunks() -> None:
    def with_chunk(ctype: bytes, data: bytes) -> bytes:
        return PNG[:33] + chunk(ctype, data) + PNG[33:]

    assert error_code(with_chunk(b"iTXt", b"openbadgecredential\x00\x00")) == "png_text_malformed"
    assert error_code(with_chunk(b"iTXt", b"openbadgecredential\x00\x02\x00\x00\x00{}")) == "png_text_malformed"
    assert error_code(with_chunk(b"iTXt", b"openbadgecredential\x00\x01\x00\x00\x00garbage")) == "png_text_malformed"
    assert error_code(with_chunk(b"iTXt", b"openbadgecredential\x00\x00\x00\x00\x00{\xff}")) == "png_text_encoding"
    assert error_code(with_chunk(b"iTXt", b"openbadgecredential\x00\x00\x00\x00\x00  ")) == "no_credential"
    assert error_code(with_chunk(b"iTXt", b"openbadgecredential\x00\x00\x00\x00\x00hello")) == "payload_unrecognised"


def test_trailing_bytes_after_iend_are_ignored_and_dropped() -> None:
    baked = bake_png(PNG, JWS)
    hidden = chunk(b"iTXt", b"openbadges\x00\x00\x00\x00\x00" + OB2_URL.encode())
    assert unbake_png(baked + b"junk" + hidden).text == JWS
    assert bake_png(PNG + b"trailing", JWS) == baked


def test_parse_chunks_returns_the_structure() -> None:
    chunks = parse_chunks(PNG)
    assert chunks[0].type == b"IHDR"
    assert chunks[-1] == Chunk(b"IEND", b"")
    assert PNG_SIGNATURE + b"".join(c.to_bytes() for c in chunks) == PNG


def test_sniff() -> None:
    assert sniff_image_type(PNG) == "png"
    assert sniff_image_type(b'{"a": 1}') is None
    with pytest.raises(BakingError) as info:
        unbake(b"GIF89a....")
    assert info.value.code == "unknown_image_type"


# Fuzzing ----------------------------------------------------------------------------------------------------

BAKED = bake_png(PNG, OB3_JSON)
FUZZ = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_baking_errors(data: bytes) -> None:
    with contextlib.suppress(BakingError):
        unbake(data)
    with contextlib.suppress(BakingError):
        bake_png(data, JWS)


@FUZZ
@given(st.binary(max_size=2048))
def test_fuzz_random_bytes(data: bytes) -> None:
    _only_baking_errors(data)
    _only_baking_errors(PNG_SIGNATURE + data)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(BAKED) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(0, len(BAKED)))
def test_fuzz_mutated_png(edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(BAKED)
    for position, value in edits:
        data[position] = value
    _only_baking_errors(bytes(data))
    _only_baking_errors(bytes(data[:cut]))


@FUZZ
@given(st.binary(max_size=512), st.sampled_from([b"iTXt", b"tEXt", b"zTXt"]),
       st.sampled_from([b"openbadgecredential\x00", b"openbadges\x00", b""]))
def test_fuzz_credential_chunk_content_with_valid_crc(body: bytes, ctype: bytes, prefix: bytes) -> None:
    _only_baking_errors(PNG[:33] + chunk(ctype, prefix + body) + PNG[33:])
