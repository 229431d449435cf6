"""The in-app badge designer: a few parameters in, an accessible SVG and a matching PNG out.

Parameters (``Design``): a shape (circle, shield, hexagon, rounded-square, star), a primary and a
secondary colour (``#rrggbb``), a mark — one of our own icons, or 1–3 initials (initials win when both
are given) — and optional ribbon text of at most 24 characters. The SVG is a 512×512 image with
``role="img"`` and a ``<title>`` naming the badge; text colours are picked for contrast against the
colour beneath them. The PNG is the same SVG drawn by resvg, so the two always match. Output is
deterministic: the same parameters and title always give the same bytes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from insignia.core.errors import ServiceError

SIZE = 512
SHAPES = ("circle", "shield", "hexagon", "rounded-square", "star")
MAX_INITIALS = 3
MAX_RIBBON = 24
FONT_FAMILY = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_DARK = "#111827"
_LIGHT = "#ffffff"


def _star_path(cx: float, cy: float, outer: float, inner: float, points: int) -> str:
    corners = []
    for i in range(points * 2):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(-90 + 180 / points * i)
        corners.append(f"{cx + radius * math.cos(angle):.2f} {cy + radius * math.sin(angle):.2f}")
    return "M" + " L".join(corners) + " Z"


def _polygon_path(cx: float, cy: float, radius: float, sides: int) -> str:
    corners = []
    for i in range(sides):
        angle = math.radians(-90 + 360 / sides * i)
        corners.append(f"{cx + radius * math.cos(angle):.2f} {cy + radius * math.sin(angle):.2f}")
    return "M" + " L".join(corners) + " Z"


#: Badge outlines in a 512×512 box, as path data.
SHAPE_PATHS: dict[str, str] = {
    "circle": "M256 16 A240 240 0 1 1 256 496 A240 240 0 1 1 256 16 Z",
    "shield": "M256 14 L468 78 V236 C468 368 380 450 256 498 C132 450 44 368 44 236 V78 Z",
    "hexagon": _polygon_path(256, 256, 248, 6),
    "rounded-square": "M112 20 H400 A92 92 0 0 1 492 112 V400 A92 92 0 0 1 400 492 H112 A92 92 0 0 1 20 400 "
                      "V112 A92 92 0 0 1 112 20 Z",
    "star": _star_path(256, 256, 250, 226, 24),
}

#: Our own icons on a 24×24 grid: (path data, drawn as a filled shape?).
ICONS: dict[str, tuple[str, bool]] = {
    "star": (_star_path(12, 12.6, 9.6, 4.1, 5), True),
    "check": ("M5 12.5 L10 17.5 L19 7", False),
    "book": ("M3 5.5 C6 4.5 9 4.5 12 6.5 C15 4.5 18 4.5 21 5.5 V19 C18 18 15 18 12 20 C9 18 6 18 3 19 Z "
             "M12 6.5 V20", False),
    "code": ("M8 7 L3 12 L8 17 M16 7 L21 12 L16 17 M14 4.5 L10 19.5", False),
    "heart": ("M12 20 C12 20 3 14.5 3 8.8 C3 6.1 5.1 4 7.7 4 C9.5 4 11.1 5 12 6.5 C12.9 5 14.5 4 16.3 4 "
              "C18.9 4 21 6.1 21 8.8 C21 14.5 12 20 12 20 Z", True),
    "trophy": ("M7 4 H17 V10 C17 13 14.8 15 12 15 C9.2 15 7 13 7 10 Z M7 6 H4 C4 9 5.5 10.5 7.5 10.8 "
               "M17 6 H20 C20 9 18.5 10.5 16.5 10.8 M12 15 V18.5 M8 20.5 H16 M9.5 18.5 H14.5", False),
    "lightbulb": ("M9 17.5 H15 M10 20.5 H14 M12 3 C8.7 3 6 5.6 6 8.9 C6 11.2 7.3 12.6 8.4 13.7 "
                  "C9 14.3 9.2 15 9.2 15.8 V17.5 H14.8 V15.8 C14.8 15 15 14.3 15.6 13.7 C16.7 12.6 18 11.2 18 8.9 "
                  "C18 5.6 15.3 3 12 3 Z", False),
}
ICON_LABELS: dict[str, str] = {
    "star": "Star", "check": "Check mark", "book": "Book", "code": "Code", "heart": "Heart", "trophy": "Trophy",
    "lightbulb": "Light bulb",
}
SHAPE_LABELS: dict[str, str] = {
    "circle": "Circle", "shield": "Shield", "hexagon": "Hexagon", "rounded-square": "Rounded square",
    "star": "Star seal",
}


@dataclass(frozen=True)
class Design:
    """Validated designer parameters (store ``to_json()`` in ``BadgeClass.design``)."""

    shape: str = "circle"
    primary: str = "#1d4ed8"
    secondary: str = "#f59e0b"
    icon: str = "star"
    initials: str = ""
    ribbon: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def _colour(value: Any, field: str, label: str) -> str:
    text = str(value or "").strip()
    match = _HEX.match(text)
    if not match:
        raise ServiceError(f"The {label} colour must be a hex colour such as #1d4ed8, not {text!r}.",
                           code="design_invalid", field=field)
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return f"#{digits}"


def parse_design(params: Mapping[str, Any], *, defaults: Design | None = None) -> Design:
    """Check designer parameters (from a form, a query string or JSON); missing ones take ``defaults``."""
    base = defaults or Design()

    def get(key: str) -> Any:
        value = params.get(key)
        return getattr(base, key) if value is None else value

    shape = str(get("shape")).strip()
    if shape not in SHAPES:
        raise ServiceError(f"Choose a shape: {', '.join(SHAPES)}.", code="design_invalid", field="shape")
    primary = _colour(get("primary"), "primary", "primary")
    secondary = _colour(get("secondary"), "secondary", "secondary")
    initials = "".join(str(get("initials")).split()).upper()
    if initials and (len(initials) > MAX_INITIALS or not all(c.isalnum() for c in initials)):
        raise ServiceError(f"Initials are 1 to {MAX_INITIALS} letters or digits.", code="design_invalid",
                           field="initials")
    icon = str(get("icon") or "").strip()
    if icon and icon not in ICONS:
        raise ServiceError(f"Choose an icon: {', '.join(ICONS)}.", code="design_invalid", field="icon")
    if not icon and not initials:
        raise ServiceError("Choose an icon or type initials for the middle of the badge.", code="design_invalid",
                           field="icon")
    ribbon = " ".join(str(get("ribbon") or "").split())
    if len(ribbon) > MAX_RIBBON:
        raise ServiceError(f"Ribbon text is at most {MAX_RIBBON} characters; this is {len(ribbon)}.",
                           code="design_invalid", field="ribbon")
    if any(ord(c) < 32 for c in ribbon):
        raise ServiceError("Ribbon text cannot contain control characters.", code="design_invalid", field="ribbon")
    return Design(shape=shape, primary=primary, secondary=secondary, icon=icon, initials=initials, ribbon=ribbon)


def default_design(name: str, *, colour: str = "#1d4ed8") -> Design:
    """A starting design for a new badge: the organisation's colour and the name's initials."""
    words = [w for w in re.split(r"\W+", name) if w]
    initials = "".join(w[0] for w in words[:3]).upper() if words else ""
    try:
        primary = _colour(colour, "primary", "primary")
    except ServiceError:
        primary = Design.primary
    return Design(primary=primary, initials=initials if initials.isalnum() else "", icon="star")


def _luminance(colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour_on(background: str) -> str:
    """White or near-black, whichever reads better on ``background``."""
    return _LIGHT if contrast_ratio(_LIGHT, background) >= contrast_ratio(_DARK, background) else _DARK


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def design_svg(design: Design, *, title: str) -> str:
    """The badge as an SVG document (UTF-8 text)."""
    outline = SHAPE_PATHS[design.shape]
    ink = text_colour_on(design.primary)
    centre_y = 212 if design.ribbon else 256
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" '
        'role="img" aria-labelledby="badge-title">',
        f'<title id="badge-title">{_escape(title.strip() or "Badge")}</title>',
        f'<path d="{outline}" fill="{design.primary}"/>',
        f'<path d="{outline}" fill="none" stroke="{design.secondary}" stroke-width="14" '
        'transform="translate(256 256) scale(0.88) translate(-256 -256)"/>',
    ]
    if design.initials:
        size = {1: 200, 2: 164, 3: 118}[len(design.initials)] * (0.85 if design.ribbon else 1)
        parts.append(
            f'<text x="256" y="{centre_y + 0.36 * size:.1f}" text-anchor="middle" font-family="{FONT_FAMILY}" '
            f'font-weight="700" font-size="{size:.1f}" fill="{ink}">{_escape(design.initials)}</text>'
        )
    else:
        path, filled = ICONS[design.icon]
        scale = (168 if design.ribbon else 208) / 24
        offset_x, offset_y = 256 - 12 * scale, centre_y - 12 * scale
        paint = (f'fill="{ink}"' if filled else
                 f'fill="none" stroke="{ink}" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"')
        parts.append(
            f'<path d="{path}" {paint} transform="translate({offset_x:.2f} {offset_y:.2f}) scale({scale:.4f})"/>'
        )
    if design.ribbon:
        ribbon_ink = text_colour_on(design.secondary)
        size = min(40.0, 440 / (0.72 * len(design.ribbon)))
        parts.append(f'<path d="M0 330 H512 L488 366 L512 402 H0 L24 366 Z" fill="{design.secondary}"/>')
        parts.append(
            f'<text x="256" y="{366 + 0.36 * size:.1f}" text-anchor="middle" font-family="{FONT_FAMILY}" '
            f'font-weight="700" font-size="{size:.1f}" fill="{ribbon_ink}">{_escape(design.ribbon)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def design_png(design: Design, *, title: str) -> bytes:
    """The same badge as a 512×512 PNG (the SVG drawn by resvg)."""
    from insignia.badges.images import render_svg_png

    return render_svg_png(design_svg(design, title=title).encode("utf-8"))
