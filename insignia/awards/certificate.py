"""The PDF certificate of an award: landscape A4 or US Letter, in the organisation's colours.

It shows the organisation (name, colour, the issuer's logo when it is a raster image), the badge image, the
recipient's name (see *whose name* below), the badge name, a criteria summary, the award and expiry dates, the
issuer, the credential id and a QR code (an embedded PNG) that opens the public page, where the live status is.

A certificate is a printout, not the credential: the signed credential (JSON, VC-JWT or a baked image) is what
verifies. So a certificate of a revoked, suspended or expired award is still produced, stamped with the
status in large words across the page and in a banner, never passed off as valid.

Whose name: the public ``/c/<award>/certificate.pdf`` prints the recipient's name only where the public page
shows it (accepted and allowed by the earner); the signed-in earner always gets their own name, and so does
``insignia export --format pdf`` (run by the instance's operator, who holds the issuer's records anyway).

Drawn with fpdf2 in points; DejaVu Sans (Unicode) when installed, else Helvetica with characters outside
Latin-1 replaced.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from django.utils.html import strip_tags
from fpdf import FPDF
from PIL import Image

from insignia.awards.models import Award
from insignia.awards.share_image import _ink_on, _rgb
from insignia.awards.sharing import display_state, page_url, qr_png
from insignia.core.markdown import render_markdown

PageSize = Literal["a4", "letter"]
SIZES: dict[str, tuple[float, float]] = {"a4": (841.89, 595.28), "letter": (792.0, 612.0)}
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
CRITERIA_CHARS = 420
_STAMPS = {
    "revoked": ("REVOKED", "This credential has been revoked by its issuer and is no longer valid.", (185, 28, 28)),
    "suspended": ("SUSPENDED", "This credential is suspended by its issuer and is not valid at present.",
                  (133, 77, 14)),
    "expired": ("EXPIRED", "This credential has expired.", (133, 77, 14)),
}


@dataclass(frozen=True)
class Certificate:
    content: bytes
    filename: str


def criteria_summary(award: Award, limit: int = CRITERIA_CHARS) -> str:
    """The badge's criteria as plain text (Markdown rendered, tags stripped), cut at a word near ``limit``."""
    rendered = re.sub(r"</li>\s*", "; ", render_markdown(award.badge.criteria_narrative or ""))
    text = html.unescape(strip_tags(rendered))
    text = re.sub(r"\s+", " ", text).strip().rstrip(";").strip() or award.badge.description.strip()
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def _picture(field: object) -> bytes | None:
    """PNG bytes of a stored raster image, or None (SVG, missing or unreadable)."""
    if not field:
        return None
    try:
        with field.open("rb") as handle:  # type: ignore[attr-defined]
            image = Image.open(io.BytesIO(handle.read()))
            image.load()
    except (OSError, ValueError):
        return None
    buffer = io.BytesIO()
    image.convert("RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


class _Document(FPDF):
    unicode_fonts = False

    def setup_fonts(self) -> None:
        regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            self.add_font("Body", "", str(regular))
            self.add_font("Body", "B", str(bold))
            self.unicode_fonts = True

    def use(self, size: float, bold: bool = False) -> None:
        family = "Body" if self.unicode_fonts else "Helvetica"
        self.set_font(family, "B" if bold else "", size)

    def safe(self, text: str) -> str:
        if self.unicode_fonts:
            return text
        return text.replace("…", "...").replace("—", "-").replace("·", "-").encode("latin-1", "replace").decode(
            "latin-1")


def render_certificate(award: Award, *, size: PageSize = "a4", include_name: bool = False,
                       now: datetime | None = None) -> Certificate:
    """The certificate as PDF bytes. ``include_name``: print the recipient's name (see the module docstring)."""
    if size not in SIZES:
        raise ValueError(f"Unknown page size {size!r}; use a4 or letter.")
    width, height = SIZES[size]
    pdf = _Document(orientation="L", unit="pt", format=(height, width))
    pdf.setup_fonts()
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(pdf.safe(f"{award.badge.name} — certificate"))
    pdf.set_author(pdf.safe(award.issuer.name))
    pdf.set_creator("Insignia")
    pdf.add_page()
    brand = _rgb(award.organisation.brand_colour)
    brand_ink = _ink_on(brand)
    dark, muted = (17, 24, 39), (75, 85, 99)
    state = display_state(award, now)
    stamp = _STAMPS.get(state)
    margin = 28.0

    # Frame and the organisation's band.
    pdf.set_draw_color(*brand)
    pdf.set_line_width(3)
    pdf.rect(margin, margin, width - 2 * margin, height - 2 * margin)
    band = 58.0
    pdf.set_fill_color(*brand)
    pdf.rect(margin, margin, width - 2 * margin, band, style="F")
    logo = _picture(award.issuer.image)
    text_x = margin + 24
    if logo is not None:
        pdf.set_fill_color(255, 255, 255)
        pdf.rect(margin + 14, margin + 9, 40, 40, style="F")
        pdf.image(io.BytesIO(logo), x=margin + 16, y=margin + 11, w=36, h=36, keep_aspect_ratio=True)
        text_x = margin + 66
    pdf.set_text_color(*brand_ink)
    pdf.use(18, bold=True)
    pdf.set_xy(text_x, margin + 12)
    pdf.cell(width - text_x - margin - 24, 22, pdf.safe(award.organisation.name))
    pdf.use(10)
    pdf.set_xy(text_x, margin + 34)
    pdf.cell(width - text_x - margin - 24, 14, "Certificate of achievement")

    # Status banner (not valid): words and colour, never colour alone.
    top = margin + band + 18
    if stamp is not None:
        word, sentence, colour = stamp
        pdf.set_fill_color(*colour)
        pdf.rect(margin + 24, top, width - 2 * margin - 48, 30, style="F")
        pdf.set_text_color(255, 255, 255)
        pdf.use(13, bold=True)
        pdf.set_xy(margin + 36, top + 8)
        pdf.cell(width - 2 * margin - 72, 14, pdf.safe(f"{word} — {sentence}"))
        top += 42

    # Badge image (left column) and the text (right column).
    column = 170.0
    picture = _picture(award.badge.image_png or (award.badge.image if award.badge.image_type == "image/png"
                                                 else None))
    image_y = top + 14
    if picture is not None:
        pdf.image(io.BytesIO(picture), x=margin + 36, y=image_y, w=column - 24, h=column - 24,
                  keep_aspect_ratio=True)
    text_left = margin + 36 + column
    text_width = width - text_left - margin - 36
    y = top + 6
    pdf.set_text_color(*muted)
    pdf.use(12)
    pdf.set_xy(text_left, y)
    pdf.cell(text_width, 16, "This certifies that")
    y += 20
    name = award.recipient_name if include_name and award.recipient_name else ""
    pdf.set_text_color(*dark)
    pdf.use(28 if name else 16, bold=bool(name))
    pdf.set_xy(text_left, y)
    pdf.multi_cell(text_width, 32 if name else 20, pdf.safe(name or "the holder of this credential"), align="L")
    y = pdf.get_y() + 6
    pdf.set_text_color(*muted)
    pdf.use(12)
    pdf.set_xy(text_left, y)
    pdf.cell(text_width, 16, "has earned")
    y += 20
    pdf.set_text_color(*brand if _luminance_ok(brand) else dark)
    pdf.use(24, bold=True)
    pdf.set_xy(text_left, y)
    pdf.multi_cell(text_width, 28, pdf.safe(award.badge.name), align="L")
    y = pdf.get_y() + 8
    summary = criteria_summary(award)
    if summary:
        pdf.set_text_color(*dark)
        pdf.use(10)
        pdf.set_xy(text_left, y)
        pdf.multi_cell(text_width, 13, pdf.safe(summary), align="L")

    # Facts and the QR code along the bottom.
    qr_side = 96.0
    bottom = height - margin - 24
    facts_top = bottom - qr_side
    facts = [
        ("Issued by", award.issuer.name),
        ("Awarded", f"{award.issued_on:%-d %B %Y}"),
        ("Expires", f"{award.expires_on:%-d %B %Y}" if award.expires_on else "Never"),
        ("Credential ID", award.credential_id),
    ]
    pdf.set_draw_color(209, 213, 219)
    pdf.set_line_width(0.8)
    pdf.line(margin + 36, facts_top - 14, width - margin - 36, facts_top - 14)
    fy = facts_top
    label_width = 80.0
    for label, value in facts:
        pdf.set_text_color(*muted)
        pdf.use(9, bold=True)
        pdf.set_xy(margin + 36, fy)
        pdf.cell(label_width, 12, pdf.safe(label))
        pdf.set_text_color(*dark)
        pdf.use(10)
        pdf.set_xy(margin + 36 + label_width, fy)
        pdf.cell(width - 2 * margin - label_width - qr_side - 96, 12, pdf.safe(value))
        fy += 18
    pdf.set_text_color(*muted)
    pdf.use(9)
    pdf.set_xy(margin + 36, fy + 2)
    pdf.cell(width - 2 * margin - qr_side - 96, 12,
             pdf.safe(f"Check its current status: scan the code or open {page_url(award)}"))
    pdf.image(io.BytesIO(qr_png(award)), x=width - margin - 36 - qr_side, y=facts_top - 4, w=qr_side, h=qr_side)

    if stamp is not None:  # the status across the page, so a printout cannot pass for a valid certificate
        word, _, colour = stamp
        with pdf.local_context(fill_opacity=0.16, text_color=colour):
            pdf.use(110, bold=True)
            text_w = pdf.get_string_width(word)
            with pdf.rotation(24, x=width / 2, y=height / 2):
                pdf.set_xy(width / 2 - text_w / 2, height / 2 - 40)
                pdf.set_text_color(*colour)
                pdf.cell(text_w, 80, word)
    content = bytes(pdf.output())
    return Certificate(content=content, filename=f"certificate-{award.public_id}-{size}.pdf")


def _luminance_ok(rgb: tuple[int, int, int]) -> bool:
    """The brand colour is dark enough to read on white (≥ 4.5:1); else the text is printed in ink."""
    from insignia.awards.share_image import _luminance

    return 1.05 / (_luminance(rgb) + 0.05) >= 4.5


__all__ = ["SIZES", "Certificate", "criteria_summary", "render_certificate"]
