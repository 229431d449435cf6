"""The public, standard forms of a badge class, built with the kernel's builders.

* OB 3.0 ``Achievement`` at ``{BASE}/a/<public_id>`` (JSON-LD with the VC 2.0 + OB 3.0 contexts); the same
  object without ``@context`` is what credentials embed (``achievement_for_credential``).
* OB 2.0 ``BadgeClass`` at ``{BASE}/a/<public_id>/ob2``.
* The image at ``{BASE}/a/<public_id>/image`` (SVG or PNG as stored) and ``…/image.png`` (always PNG).

The badge's ``level`` and expiry policy have no place in either standard's achievement; they appear on
the HTML page, and the expiry is carried by each credential's ``validUntil``/``expires``.
"""

from __future__ import annotations

from typing import Any

from insignia.badges.models import BadgeClass
from insignia.core.public_urls import achievement_public_url
from insignia.credentials.model import ob2, ob3
from insignia.credentials.model.vc import credential_context
from insignia.issuers.identity import issuer_did, ob2_issuer_url


def achievement_url(badge: BadgeClass) -> str:
    """The Achievement's id: HTML for people, OB 3.0 JSON for machines."""
    return achievement_public_url(badge.public_id)


def ob2_badgeclass_url(badge: BadgeClass) -> str:
    return achievement_public_url(badge.public_id, "ob2")


def image_url(badge: BadgeClass) -> str:
    """The image as stored (SVG or PNG)."""
    return achievement_public_url(badge.public_id, "image")


def image_png_url(badge: BadgeClass) -> str:
    """Always a PNG (the rendition of an SVG), for PNG baking and places that cannot show SVG."""
    return achievement_public_url(badge.public_id, "image.png")


def _criteria_parts(badge: BadgeClass) -> tuple[str | None, str | None]:
    criteria_id = badge.criteria_url or None
    narrative = badge.criteria_narrative or None
    if criteria_id is None and narrative is None:
        criteria_id = achievement_url(badge)  # drafts only: publishing requires criteria
    return criteria_id, narrative


def achievement_for_credential(badge: BadgeClass) -> ob3.Achievement:
    """The badge as a kernel ``ob3.Achievement`` (id, name, description, criteria, image, type, alignment,
    tags, creator = the issuer Profile by DID), to embed in an OpenBadgeCredential's credentialSubject."""
    criteria_id, narrative = _criteria_parts(badge)
    issuer = badge.issuer
    return ob3.Achievement(
        id=achievement_url(badge),
        name=badge.name,
        description=badge.description,
        criteria=ob3.Criteria(id=criteria_id, narrative=narrative),
        image=ob3.Image(id=image_url(badge), caption=badge.name) if badge.image else None,
        achievement_type=badge.achievement_type or None,
        alignment=[
            ob3.Alignment(
                target_name=a["name"], target_url=a["url"], target_code=a.get("code") or None,
                target_framework=a.get("framework") or None, target_description=a.get("description") or None,
            )
            for a in badge.alignments
        ],
        tag=list(badge.tags),
        creator=ob3.Profile(id=issuer_did(issuer), name=issuer.name, url=issuer.url or None),
    )


def achievement_document(badge: BadgeClass) -> dict[str, Any]:
    """The OB 3.0 Achievement as published at its own URL (with ``@context``)."""
    body = achievement_for_credential(badge).to_json()
    return {"@context": credential_context(body), **body}


def ob2_badgeclass(badge: BadgeClass) -> ob2.BadgeClass:
    criteria_id, narrative = _criteria_parts(badge)
    return ob2.BadgeClass(
        id=ob2_badgeclass_url(badge),
        name=badge.name,
        description=badge.description,
        image=image_url(badge),
        criteria=ob2.Criteria(id=criteria_id, narrative=narrative),
        issuer=ob2_issuer_url(badge.issuer),
        alignment=[
            ob2.Alignment(
                target_name=a["name"], target_url=a["url"], target_code=a.get("code") or None,
                target_framework=a.get("framework") or None, target_description=a.get("description") or None,
            )
            for a in badge.alignments
        ],
        tags=list(badge.tags),
    )


def ob2_badgeclass_document(badge: BadgeClass) -> dict[str, Any]:
    """The OB 2.0 BadgeClass as published at ``{BASE}/a/<public_id>/ob2``."""
    return ob2_badgeclass(badge).to_json()
