"""Badge image uploads: hostile SVGs refused or stripped, PNGs re-encoded, bombs and oversized files refused,
and nothing already stored changes when an upload is refused."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, datetime

import pytest
from PIL import Image, PngImagePlugin

from insignia.badges import services
from insignia.badges.images import ImageUpload, normalise_raster, process_upload, sanitise_svg
from insignia.core.errors import ServiceError
from insignia.core.models import AuditEvent, Role
from insignia.credentials.baking.svg import check_svg_safe
from insignia.issuers.services import create_issuer

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 100">'


def svg(body: str, head: str = SVG_HEAD) -> bytes:
    return f"{head}{body}</svg>".encode()


def png_bytes(size: tuple[int, int] = (200, 100), colour: tuple[int, ...] = (200, 30, 30, 255), **info: str) -> bytes:
    image = Image.new("RGBA", size, colour)
    out = io.BytesIO()
    meta = PngImagePlugin.PngInfo()
    for key, value in info.items():
        meta.add_itxt(key, value)
    image.save(out, format="PNG", pnginfo=meta)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny file declaring a huge image (its pixel data compresses to almost nothing)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compressobj(9)
    data = b"".join(rows.compress(b"\x00" + b"\x00" * width) for _ in range(64)) + rows.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# == SVG =========================================================================================


def test_a_clean_svg_is_kept_and_rendered() -> None:
    result = process_upload(ImageUpload(svg(
        '<title>Star</title><defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/></linearGradient>'
        '</defs><circle cx="50" cy="50" r="40" fill="url(#g)" style="stroke: #000; stroke-width: 2"/>'
        '<text x="50" y="55" text-anchor="middle">A<tspan fill="red">B</tspan>C</text>')))
    assert result.content_type == "image/svg+xml"
    text = result.content.decode()
    assert '<circle cx="50" cy="50" r="40" fill="url(#g)" style="stroke:#000;stroke-width:2"/>' in text
    assert '<tspan fill="red">B</tspan>C</text>' in text
    check_svg_safe(result.content)
    with Image.open(io.BytesIO(result.png)) as png:
        assert png.size == (512, 512)
        assert png.getpixel((256, 256))[3] == 255


@pytest.mark.parametrize(("body", "message"), [
    ('<script>alert(1)</script>', "contains a script"),
    ('<g><script xlink:href="https://evil.example/x.js"/></g>', "contains a script"),
    ('<circle r="5" onload="alert(1)"/>', "event handler"),
    ('<a xlink:href="javascript:alert(1)"><circle r="5"/></a>', "script link"),
    ('<a href=" JaVa&#x09;ScRiPt:alert(1)"><circle r="5"/></a>', "script link"),
    ('<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>', "foreignObject"),
    ('<image href="https://tracker.example/pixel.png" width="10" height="10"/>', "external image"),
    ('<image xlink:href="file:///etc/passwd" width="10" height="10"/>', "external image"),
    ('<use href="https://evil.example/sprite.svg#x"/>', "another document"),
    ('<rect width="5" height="5" fill="url(https://evil.example/p.svg#g)"/>', "another document"),
    ('<rect width="5" height="5" style="fill: url(\'http://evil.example/x\')"/>', "another document"),
    ('<style>@import url(https://evil.example/x.css);</style>', "@import"),
    ('<style>rect { fill: url(//evil.example/x) }</style>', "another document"),
    ('<image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" width="1" height="1"/>', "script link"),
    ('<unknown><script>alert(1)</script></unknown>', "contains a script"),
])
def test_hostile_svgs_are_refused_with_the_reason(body: str, message: str) -> None:
    with pytest.raises(ServiceError, match=message) as caught:
        sanitise_svg(svg(body))
    assert caught.value.field == "image"
    assert "remove it and upload again" in caught.value.message


@pytest.mark.parametrize(("document", "message"), [
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
     b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><svg xmlns="http://www.w3.org/2000/svg"><text>&c;</text></svg>',
     "DOCTYPE|entities"),
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
     b'<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>', "DOCTYPE|entities"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><text>&undefined;</text></svg>', "not well-formed"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"></svg>', "not well-formed"),
    (b'<html xmlns="http://www.w3.org/1999/xhtml"><body><svg/></body></html>', "not an SVG"),
])
def test_xml_attacks_and_non_svgs_are_refused(document: bytes, message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        process_upload(ImageUpload(document))


def test_editor_cruft_and_unknown_content_is_stripped() -> None:
    document = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        b'<!-- Generator: Illustrator -->\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
        b'width="64" height="32" inkscape:version="1.0" data-x="1">'
        b'<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata>'
        b'<inkscape:grid/><animate attributeName="fill" to="red"/>'
        b'<a href="https://example.org"><rect width="10" height="10" inkscape:label="box" foo="bar"/></a>'
        b'<image href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/>'
        b'</svg>'
    )
    clean = sanitise_svg(document).decode()
    for gone in ("DOCTYPE", "Illustrator", "inkscape", "metadata", "rdf", "animate", "<a", "foo=", "data-x"):
        assert gone not in clean
    assert '<rect width="10" height="10"/>' in clean
    assert 'xlink:href="data:image/png;base64,iVBORw0KGgo="' in clean
    assert 'viewBox="0 0 64 32"' in clean


def test_svg_size_limit(settings) -> None:
    settings.MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    big = svg("<!--" + "x" * (3 * 1024 * 1024 + 100_000) + "-->")
    with pytest.raises(ServiceError, match=r"The file is 3\.1 MB; the limit is 2 MB"):
        process_upload(ImageUpload(big))


def test_deeply_nested_svgs_are_refused() -> None:
    with pytest.raises(ServiceError, match="nested too deeply"):
        sanitise_svg(svg("<g>" * 200 + "</g>" * 200))


def test_use_bombs_and_loops_are_refused() -> None:
    levels = ['<g id="l0"><circle r="1"/></g>']
    for level in range(1, 9):
        uses = "".join(f'<use xlink:href="#l{level - 1}"/>' for _ in range(10))
        levels.append(f'<g id="l{level}">{uses}</g>')
    with pytest.raises(ServiceError, match="too many shapes"):
        sanitise_svg(svg("<defs>" + "".join(levels) + '</defs><use href="#l8"/>'))
    with pytest.raises(ServiceError, match="loop"):
        sanitise_svg(svg('<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>'))
    sanitise_svg(svg('<defs><circle id="dot" r="2"/></defs>' + '<use href="#dot"/>' * 50))


# == raster ======================================================================================


def test_png_is_re_encoded_square_without_metadata() -> None:
    original = png_bytes((300, 150), openbadges='{"id": "https://evil.example/assertion"}')
    clean = normalise_raster(original)
    assert b"openbadges" not in clean
    assert b"iTXt" not in clean
    with Image.open(io.BytesIO(clean)) as image:
        assert image.size == (512, 512)
        assert image.mode == "RGBA"
        assert image.getpixel((256, 256)) == (200, 30, 30, 255)
        assert image.getpixel((256, 10))[3] == 0  # padded, transparent


def test_jpeg_is_accepted_and_converted() -> None:
    out = io.BytesIO()
    Image.new("RGB", (128, 128), (0, 90, 200)).save(out, format="JPEG")
    result = process_upload(ImageUpload(out.getvalue(), filename="badge.jpg"))
    assert result.content_type == "image/png"
    assert result.png == result.content


def test_a_png_bomb_is_refused() -> None:
    bomb = png_bomb()
    assert len(bomb) < 200_000
    with pytest.raises(ServiceError, match=r"pixels|decompression bomb"):
        process_upload(ImageUpload(bomb))


def test_too_many_pixels_is_refused_before_decoding() -> None:
    with pytest.raises(ServiceError, match="megapixels"):
        normalise_raster(png_bomb(8000, 8000))


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty"),
    (b"GIF89a-not-really", "damaged|not a PNG"),
    (b"%PDF-1.7 hello", "not a PNG or SVG"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "damaged|not a PNG"),
    (png_bytes((8, 8)), "at least"),
])
def test_non_images_and_broken_images_are_refused(content: bytes, message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        process_upload(ImageUpload(content))


def test_oversized_png_is_refused(settings) -> None:
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    with pytest.raises(ServiceError, match=r"the limit is 1 MB"):
        process_upload(ImageUpload(b"\x89PNG\r\n\x1a\n" + b"\x00" * (1024 * 1024 + 1)))


# == through the services: refusal leaves everything as it was ===================================


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


@pytest.fixture
def badge(owner):
    issuer = create_issuer(actor=owner, name="Acme", url="https://acme.example.org", email="b@acme.example.org")
    return services.create_badge(actor=owner, issuer=issuer, name="Safe", description="A safe badge.",
                                 criteria_narrative="Be safe.", image_upload=ImageUpload(png_bytes()), now=NOW)


def test_uploading_a_png_badge(badge) -> None:
    assert badge.image_type == "image/png"
    assert badge.image.name == badge.image_png.name
    assert badge.design == {}


@pytest.mark.parametrize("hostile", [
    svg('<script>alert(1)</script>'),
    svg('<circle r="5" onload="alert(1)"/>'),
    png_bomb(),
    b"not an image",
])
def test_a_refused_upload_changes_nothing(owner, badge, hostile: bytes, tmp_path) -> None:
    before = (badge.image.name, badge.image_png.name, badge.image_type, badge.updated_at)
    stored = sorted(p.name for p in (tmp_path / "media").rglob("*") if p.is_file())
    events = AuditEvent.objects.count()
    with pytest.raises(ServiceError):
        services.set_badge_image(actor=owner, badge=badge, image_upload=ImageUpload(hostile))
    with pytest.raises(ServiceError):
        services.update_badge(actor=owner, badge=badge, name="Renamed", image_upload=ImageUpload(hostile))
    badge.refresh_from_db()
    assert (badge.image.name, badge.image_png.name, badge.image_type, badge.updated_at) == before
    assert badge.name == "Safe"
    assert sorted(p.name for p in (tmp_path / "media").rglob("*") if p.is_file()) == stored
    assert AuditEvent.objects.count() == events


def test_replacing_the_image_with_an_svg(owner, badge, django_capture_on_commit_callbacks, tmp_path) -> None:
    old = badge.image.name
    with django_capture_on_commit_callbacks(execute=True):
        updated = services.set_badge_image(actor=owner, badge=badge,
                                           image_upload=ImageUpload(svg('<rect width="100" height="100"/>')))
    assert updated.image_type == "image/svg+xml"
    assert updated.image_png.name.endswith(".png")
    assert not (tmp_path / "media" / old).exists()  # the old file is removed once committed
    assert AuditEvent.objects.filter(verb="badge.updated", data__fields=["image"]).exists()
