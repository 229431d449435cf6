"""Sharing an award: who may see what, the network links, the embed snippets, the QR code and the status image.

The earner controls the award's public page (``Award.visibility`` and ``show_recipient_name``):

* **unlisted** (default): the page opens through its unguessable link and is marked ``noindex``;
* **public**: the page may be indexed (and appears on the earner's portfolio);
* **hidden**: the page says only whether a valid credential exists; nothing to share or embed;
* a **declined** award has no page at all (its credential documents still serve: they are the issuer's record).

The recipient's name shows only once the earner has accepted the award *and* allowed it.

Share links on our pages go through ``/c/<award>/share/<channel>``, which counts the click (nothing about the
visitor is stored) and redirects to the network; :data:`CHANNELS` are the only channels.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

import segno
from django.conf import settings

from insignia.awards.models import AcceptanceState, Award, Visibility
from insignia.issuers.identity import issuer_url

# -- who may see what ------------------------------------------------------------------------------------


def shows_recipient_name(award: Award) -> bool:
    """The earner accepted the award and allowed their name on its public page."""
    return award.acceptance == AcceptanceState.ACCEPTED and award.show_recipient_name and bool(award.recipient_name)


def public_name(award: Award) -> str:
    """The recipient's name where the public may see it, else empty."""
    return award.recipient_name if shows_recipient_name(award) else ""


def has_page(award: Award) -> bool:
    """Declined awards have no public page (nor share image, embed, QR code or certificate)."""
    return award.acceptance != AcceptanceState.DECLINED


def is_hidden(award: Award) -> bool:
    return award.visibility == Visibility.HIDDEN


def is_shareable(award: Award) -> bool:
    """A page with content (not hidden, not declined): previews, oEmbed, embeds and share links."""
    return has_page(award) and not is_hidden(award)


def is_indexable(award: Award) -> bool:
    """Only public awards may be indexed by search engines."""
    return award.visibility == Visibility.PUBLIC and has_page(award)


def display_state(award: Award, now: datetime | None = None) -> str:
    """revoked, suspended, expired or valid (the same precedence as the issuer's pages)."""
    from insignia.awards.queries import display_state as state

    return state(award, now)


# -- URLs ------------------------------------------------------------------------------------------------


def page_url(award: Award) -> str:
    """The award's public page (also its credential id)."""
    return f"{settings.BASE_URL}/c/{award.public_id}"


def absolute(path: str) -> str:
    return f"{settings.BASE_URL}{path}"


def share_redirect_url(award: Award, channel: str) -> str:
    """Our counting redirect for a share channel (a path, for links on our own pages)."""
    return f"/c/{award.public_id}/share/{channel}"


def verify_url(award: Award) -> str:
    """The public verifier, pointed at the credential document."""
    return f"/verify?{urlencode({'url': f'{page_url(award)}/credential.json'})}"


def _encode(params: list[tuple[str, str | int]]) -> str:
    return urlencode(params, quote_via=quote)


def linkedin_add_to_profile_url(award: Award) -> str:
    """LinkedIn's "Add licence or certification" form, filled in: name, organisation, dates, URL and id.

    The expiry month and year are left out when the award never expires.
    """
    params: list[tuple[str, str | int]] = [
        ("startTask", "CERTIFICATION_NAME"),
        ("name", award.badge.name),
        ("organizationName", award.issuer.name),
        ("issueYear", award.issued_on.year),
        ("issueMonth", award.issued_on.month),
    ]
    if award.expires_on is not None:
        params += [("expirationYear", award.expires_on.year), ("expirationMonth", award.expires_on.month)]
    params += [("certUrl", page_url(award)), ("certId", award.public_id)]
    return "https://www.linkedin.com/profile/add?" + _encode(params)


def share_text(award: Award) -> str:
    return f"{award.badge.name}, issued by {award.issuer.name}"


def _linkedin(award: Award) -> str:
    return "https://www.linkedin.com/sharing/share-offsite/?" + _encode([("url", page_url(award))])


def _x(award: Award) -> str:
    return "https://x.com/intent/tweet?" + _encode([("text", f"I earned {share_text(award)}"),
                                                    ("url", page_url(award))])


def _facebook(award: Award) -> str:
    return "https://www.facebook.com/sharer/sharer.php?" + _encode([("u", page_url(award))])


def _email(award: Award) -> str:
    body = f"{share_text(award)}.\n\nSee and verify it here: {page_url(award)}\n"
    return "mailto:?" + _encode([("subject", award.badge.name), ("body", body)])


@dataclass(frozen=True)
class Channel:
    slug: str
    label: str
    target: Callable[[Award], str]


#: The only share channels; each has a counting redirect at ``/c/<award>/share/<slug>``.
CHANNELS: dict[str, Channel] = {channel.slug: channel for channel in (
    Channel("linkedin-profile", "Add to LinkedIn profile", linkedin_add_to_profile_url),
    Channel("linkedin", "LinkedIn", _linkedin),
    Channel("x", "X", _x),
    Channel("facebook", "Facebook", _facebook),
    Channel("email", "Email", _email),
)}


def channel_target(award: Award, slug: str) -> str | None:
    """Where a share channel leads, or None for an unknown channel."""
    channel = CHANNELS.get(slug)
    return channel.target(award) if channel else None


# -- snippets --------------------------------------------------------------------------------------------

EMBED_WIDTH = 360
EMBED_HEIGHT = 240
MIN_EMBED_WIDTH = 240


def embed_size(maxwidth: int | None = None, maxheight: int | None = None) -> tuple[int, int]:
    """The iframe's size, within the consumer's limits (never below a readable minimum width)."""
    width = EMBED_WIDTH if not maxwidth else max(MIN_EMBED_WIDTH, min(EMBED_WIDTH, maxwidth))
    height = EMBED_HEIGHT if not maxheight else max(120, min(EMBED_HEIGHT, maxheight))
    return width, height


def embed_iframe(award: Award, width: int = EMBED_WIDTH, height: int = EMBED_HEIGHT) -> str:
    """An iframe of ``/c/<award>/embed``: it always shows the award's current status."""
    title = escape(f"{award.badge.name} — badge issued by {award.issuer.name}")
    return (f'<iframe src="{escape(page_url(award))}/embed" width="{width}" height="{height}" title="{title}" '
            f'style="border:0;max-width:100%" loading="lazy"></iframe>')


def status_image_link(award: Award) -> str:
    """A no-script fallback: a link to the page around the live status image (cached for a minute)."""
    url = escape(page_url(award))
    alt = escape(f"{award.badge.name} — {award.issuer.name}: see its current status")
    return (f'<a href="{url}"><img src="{url}/status.svg" width="{STATUS_WIDTH}" height="{STATUS_HEIGHT}" '
            f'alt="{alt}"></a>')


def embed_snippet(award: Award) -> str:
    """What an earner pastes into a web page: the live iframe, with the status image as its fallback content."""
    return embed_iframe(award) + "\n<noscript>" + status_image_link(award) + "</noscript>"


def email_signature_snippet(award: Award) -> str:
    """A small badge image linked to the page, and the badge name; fits in an email signature."""
    url = escape(page_url(award))
    name = escape(award.badge.name)
    issuer = escape(award.issuer.name)
    return (f'<a href="{url}" style="text-decoration:none;color:inherit">'
            f'<img src="{escape(absolute(f"/a/{award.badge.public_id}/image.png"))}" width="48" height="48" '
            f'alt="{name}" style="vertical-align:middle;border:0"> '
            f'<span style="vertical-align:middle">{name} · {issuer}</span></a>')


# -- QR code ---------------------------------------------------------------------------------------------


def qr_code(award: Award) -> segno.QRCode:
    return segno.make(page_url(award), error="m", micro=False)


def qr_svg(award: Award) -> bytes:
    buffer = io.BytesIO()
    qr_code(award).save(buffer, kind="svg", scale=8, border=4, dark="#111827", light="#ffffff",
                        title=f"QR code: {page_url(award)}", xmldecl=True, svgns=True)
    return buffer.getvalue()


def qr_png(award: Award, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    qr_code(award).save(buffer, kind="png", scale=scale, border=4, dark="#000000", light="#ffffff")
    return buffer.getvalue()


# -- the live status image -------------------------------------------------------------------------------

STATUS_WIDTH = 320
STATUS_HEIGHT = 84
_STATUS_STYLE = {
    # state: (word, foreground, background, icon path in a 16×16 box)
    "valid": ("Valid", "#166534", "#dcfce7", "M6.5 11.2 3.3 8l1.1-1.1 2.1 2.1 5-5 1.1 1.1z"),
    "expired": ("Expired", "#854d0e", "#fef3c7", "M8 2a6 6 0 1 0 0 12A6 6 0 0 0 8 2zm.8 6.5H7.2V4h1.6z"),
    "suspended": ("Suspended", "#854d0e", "#fef3c7", "M5 3h2v10H5zm4 0h2v10H9z"),
    "revoked": ("Revoked", "#b91c1c", "#fee2e2", "M4.4 3.3 8 6.9l3.6-3.6 1.1 1.1L9.1 8l3.6 3.6-1.1 1.1L8 9.1l-3.6 "
                                                 "3.6-1.1-1.1L6.9 8 3.3 4.4z"),
}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def status_svg(award: Award, now: datetime | None = None) -> bytes:
    """A small card (badge name, issuer, status word and icon) reflecting the status right now.

    For a hidden award it says only whether the credential is valid.
    """
    state = display_state(award, now)
    word, ink, soft, icon = _STATUS_STYLE.get(state, _STATUS_STYLE["valid"])
    if is_hidden(award):
        title, subtitle = "Credential", "Details are private"
    else:
        title, subtitle = _clip(award.badge.name, 32), _clip(f"Issued by {award.issuer.name}", 44)
    label = escape(f"{title} — {subtitle} — {word}")
    svg = f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{STATUS_WIDTH}" height="{STATUS_HEIGHT}" \
viewBox="0 0 {STATUS_WIDTH} {STATUS_HEIGHT}" role="img" aria-label="{label}">
<title>{label}</title>
<rect x="0.5" y="0.5" width="{STATUS_WIDTH - 1}" height="{STATUS_HEIGHT - 1}" rx="8" fill="#ffffff" stroke="#d1d5db"/>
<rect x="0.5" y="0.5" width="8" height="{STATUS_HEIGHT - 1}" rx="4" fill="{ink}"/>
<g font-family="DejaVu Sans, Verdana, Arial, sans-serif">
<text x="20" y="24" font-size="14" font-weight="700" fill="#111827">{escape(title)}</text>
<text x="20" y="42" font-size="12" fill="#4b5563">{escape(subtitle)}</text>
</g>
<g transform="translate(20 52)">
<rect width="{len(word) * 8 + 40}" height="22" rx="11" fill="{soft}"/>
<path transform="translate(8 3)" d="{icon}" fill="{ink}"/>
<text x="28" y="15.5" font-family="DejaVu Sans, Verdana, Arial, sans-serif" font-size="12" font-weight="700" \
fill="{ink}">{word}</text>
</g>
</svg>
"""
    return svg.encode("utf-8")


def issuer_profile_url(award: Award) -> str:
    return issuer_url(award.issuer)


def share_context(award: Award, *, is_earner: bool = False) -> dict[str, Any]:
    """What ``awards/includes/share_panel.html`` shows: counted share links, snippets, the QR code.

    "Add to LinkedIn profile" is offered to the earner only (``is_earner``); everyone may share the page.
    """
    page = page_url(award)
    return {
        "page_url": page,
        "channels": [{"slug": slug, "label": channel.label, "href": share_redirect_url(award, slug)}
                     for slug, channel in CHANNELS.items() if slug != "linkedin-profile"],
        "linkedin_profile_href": share_redirect_url(award, "linkedin-profile"),
        "embed_snippet": embed_snippet(award),
        "signature_snippet": email_signature_snippet(award),
        "status_image_url": f"/c/{award.public_id}/status.svg",
        "qr_svg_url": f"/c/{award.public_id}/qr.svg",
        "qr_png_url": f"/c/{award.public_id}/qr.png",
        "is_earner": is_earner,
    }


__all__ = [
    "CHANNELS",
    "channel_target",
    "email_signature_snippet",
    "embed_iframe",
    "embed_snippet",
    "has_page",
    "is_hidden",
    "is_indexable",
    "is_shareable",
    "linkedin_add_to_profile_url",
    "page_url",
    "public_name",
    "qr_png",
    "qr_svg",
    "share_context",
    "shows_recipient_name",
    "status_svg",
]
