"""The wide (1200×630) share image of an award, for link previews (Open Graph, Twitter cards, oEmbed thumbnails).

Drawn with Pillow: the badge image on the organisation's colour, the badge name, the issuer, the recipient's
name (only where the public may see it), the award date and, when not valid, the status in words. A hidden
award gets a generic image with no personal details.

Made once and kept in Django's default storage under a name derived from everything it shows
(:func:`fingerprint`): when the status, visibility, name permission or badge changes, the name changes, the
image is redrawn on the next request and the old one is removed. Pages link it with ``?v=<fingerprint>`` so
preview caches refresh too.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from functools import cache
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageFont

from insignia.awards.models import Award
from insignia.awards.sharing import display_state, is_hidden, public_name

WIDTH, HEIGHT = 1200, 630
#: Bump when the drawing changes, so stored images are redrawn.
DESIGN_VERSION = "3"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
STORAGE_DIR = "share-images"

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

_STATE_BANNER = {
    "revoked": ("REVOKED", (185, 28, 28)),
    "suspended": ("SUSPENDED", (133, 77, 14)),
    "expired": ("EXPIRED", (133, 77, 14)),
}


@cache
def font(size: int, bold: bool = False) -> Font:
    """DejaVu Sans when installed (Debian's fonts-dejavu-core), else Pillow's built-in scalable font."""
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    if len(value) != 6:
        value = "1d4ed8"
    try:
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
    except ValueError:
        return 29, 78, 216


def _luminance(rgb: tuple[int, int, int]) -> float:
    linear = [(c / 255) / 12.92 if c / 255 <= 0.03928 else (((c / 255) + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _ink_on(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    lum = _luminance(rgb)
    return (255, 255, 255) if 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.06 else (17, 24, 39)


def fingerprint(award: Award, now: datetime | None = None) -> str:
    """A short digest of everything the image shows; a change gives a new stored image."""
    hidden = is_hidden(award)
    parts = [DESIGN_VERSION, display_state(award, now), "hidden" if hidden else "shown"]
    if not hidden:
        parts += [public_name(award), award.badge.name, award.issuer.name, award.organisation.brand_colour,
                  award.badge.image_png.name or award.badge.image.name or "", award.issued_on.date().isoformat()]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def _wrap(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int, max_lines: int) -> list[str]:
    words, lines, current = text.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=face) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while draw.textlength(current, font=face) > width and len(current) > 1:  # one very long word
            cut = len(current)
            while cut > 1 and draw.textlength(current[:cut], font=face) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and draw.textlength(last + "…", font=face) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, sizes: tuple[int, ...], max_lines: int,
         bold: bool = True) -> tuple[Font, list[str], int]:
    """The largest size at which ``text`` fits in ``max_lines`` lines (else the smallest, ellipsised)."""
    for size in sizes:
        face = font(size, bold)
        lines = _wrap(draw, text, face, width, max_lines + 1)
        if len(lines) <= max_lines:
            return face, lines, size
    face = font(sizes[-1], bold)
    return face, _wrap(draw, text, face, width, max_lines), sizes[-1]


def _badge_picture(award: Award, box: int) -> Image.Image | None:
    field = award.badge.image_png or (award.badge.image if award.badge.image_type == "image/png" else None)
    if not field:
        return None
    try:
        with field.open("rb") as handle:
            picture = Image.open(io.BytesIO(handle.read()))
            picture.load()
    except (OSError, ValueError):
        return None
    picture = picture.convert("RGBA")
    picture.thumbnail((box, box), Image.Resampling.LANCZOS)
    return picture


def _seal(draw: ImageDraw.ImageDraw, centre: tuple[int, int], radius: int, colour: tuple[int, int, int],
          ink: tuple[int, int, int]) -> None:
    """A plain rosette with a tick, standing in for a missing badge image and on hidden awards."""
    x, y = centre
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=ink)
    inner = radius - 18
    draw.ellipse((x - inner, y - inner, x + inner, y + inner), fill=colour)
    draw.line([(x - inner // 2, y), (x - inner // 8, y + inner // 3), (x + inner // 2, y - inner // 3)],
              fill=ink, width=max(8, radius // 9), joint="curve")


def render(award: Award, now: datetime | None = None) -> bytes:
    """The PNG bytes of the share image (not stored; see :func:`stored_image`)."""
    hidden = is_hidden(award)
    brand = (55, 65, 81) if hidden else _rgb(award.organisation.brand_colour)
    ink = _ink_on(brand)
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    panel = 470
    draw.rectangle((0, 0, panel, HEIGHT), fill=brand)
    picture = None if hidden else _badge_picture(award, 340)
    if picture is not None:
        backdrop = 380
        left, top = (panel - backdrop) // 2, (HEIGHT - backdrop) // 2
        draw.rounded_rectangle((left, top, left + backdrop, top + backdrop), radius=36, fill=(255, 255, 255))
        image.paste(picture, ((panel - picture.width) // 2, (HEIGHT - picture.height) // 2), picture)
    else:
        _seal(draw, (panel // 2, HEIGHT // 2), 150, brand, ink)

    text_left, text_width = panel + 60, WIDTH - panel - 60 - 56
    muted, dark = (75, 85, 99), (17, 24, 39)
    y = 64
    state = display_state(award, now)
    banner = _STATE_BANNER.get(state)
    if hidden:
        head_face, head_lines, head_size = _fit(draw, "A verified credential", text_width, (60, 54, 48), 2)
        for line in head_lines:
            draw.text((text_left, y), line, font=head_face, fill=dark)
            y += int(head_size * 1.2)
        y += 20
        for line in _wrap(draw, "The holder has chosen to keep its details private. Open the link to check "
                                "that it is valid.", font(30), text_width, 4):
            draw.text((text_left, y), line, font=font(30), fill=muted)
            y += 40
    else:
        if banner is not None:
            word, colour = banner
            face = font(30, True)
            pad = 14
            box = draw.textbbox((0, 0), word, font=face)
            draw.rounded_rectangle((text_left, y, text_left + box[2] + 2 * pad, y + 52), radius=10, fill=colour)
            draw.text((text_left + pad, y + 26), word, font=face, fill=(255, 255, 255), anchor="lm")
            y += 76
        for line in _wrap(draw, award.issuer.name.upper(), font(24, True), text_width, 2):
            draw.text((text_left, y), line, font=font(24, True), fill=muted)
            y += 32
        y += 14
        sizes = (64, 58, 52, 46, 40) if banner is None else (56, 50, 44, 40)
        name_face, name_lines, name_size = _fit(draw, award.badge.name, text_width, sizes, 3)
        for line in name_lines:
            draw.text((text_left, y), line, font=name_face, fill=dark)
            y += int(name_size * 1.18)
        y += 24
        recipient = public_name(award)
        if recipient:
            for line in _wrap(draw, f"Awarded to {recipient}", font(32), text_width, 2):
                draw.text((text_left, y), line, font=font(32), fill=dark)
                y += 42
        draw.text((text_left, y), f"{award.issued_on:%-d %B %Y}", font=font(28), fill=muted)
    footer = "Verifiable Open Badge · Insignia"
    draw.line((text_left, HEIGHT - 92, WIDTH - 56, HEIGHT - 92), fill=(209, 213, 219), width=2)
    draw.text((text_left, HEIGHT - 60), footer, font=font(24), fill=muted, anchor="lm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def storage_name(award: Award, now: datetime | None = None) -> str:
    return f"{STORAGE_DIR}/{award.public_id}/{fingerprint(award, now)}.png"


def stored_image(award: Award, now: datetime | None = None) -> bytes:
    """The share image as it is now: read from storage, or drawn, stored (and older versions removed)."""
    name = storage_name(award, now)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    body = render(award, now)
    folder = f"{STORAGE_DIR}/{award.public_id}"
    try:
        _, older = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError, OSError):
        older = []
    saved = default_storage.save(name, ContentFile(body))
    for old in older:
        path = f"{folder}/{old}"
        if path != saved:
            default_storage.delete(path)
    return body


__all__ = ["HEIGHT", "WIDTH", "fingerprint", "render", "stored_image"]
