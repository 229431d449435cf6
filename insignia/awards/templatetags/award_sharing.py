"""``{% share_context award as share %}``: what the share panel needs, for any page that shows an award."""

from __future__ import annotations

from typing import Any

from django import template

from insignia.awards import sharing
from insignia.awards.models import Award

register = template.Library()


@register.simple_tag(takes_context=True)
def share_context(context: template.Context, award: Award, is_earner: bool | None = None) -> dict[str, Any]:
    """Share links, snippets and QR code URLs; the earner (signed in as ``award.earner``) also gets LinkedIn's
    "add to profile" unless ``is_earner`` says otherwise."""
    if is_earner is None:
        request = context.get("request")
        user = getattr(request, "user", None)
        is_earner = bool(user is not None and user.is_authenticated and award.earner_id == user.pk)
    return sharing.share_context(award, is_earner=is_earner)


@register.simple_tag
def engagement_counts(award: Award) -> list[dict[str, Any]]:
    """The award's all-time counts, labelled, for the issuer's and earner's pages."""
    from insignia.awards.engagement import counts_for_award
    from insignia.awards.models import EngagementKind

    counts = counts_for_award(award)
    return [{"kind": kind, "label": label, "count": counts.get(kind, 0)} for kind, label in EngagementKind.choices]


@register.simple_tag
def share_channel_counts(award: Award) -> dict[str, int]:
    from insignia.awards.engagement import share_channels_for_award

    return share_channels_for_award(award)
