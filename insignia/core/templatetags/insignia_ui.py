"""Template helpers for the design system: accessible form widgets and status words."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()

#: The word shown in each status pill (never colour alone).
STATUS_WORDS = {
    "active": "Active", "valid": "Valid", "expired": "Expired", "revoked": "Revoked", "suspended": "Suspended",
    "pending": "Pending", "draft": "Draft", "published": "Published", "archived": "Archived",
    "accepted": "Accepted", "declined": "Declined",
}


@register.simple_tag
def field_widget(field: BoundField, **attrs: Any) -> SafeString:
    """The field's widget wired to its hint and error (``aria-describedby``, ``aria-invalid``)."""
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_hint")
    if field.errors:
        described.append(f"{field.auto_id}_error")
    final: dict[str, Any] = {k.replace("_", "-"): v for k, v in attrs.items()}
    if described:
        final["aria-describedby"] = " ".join(described)
    if field.errors:
        final["aria-invalid"] = "true"
    return field.as_widget(attrs=final)


@register.filter
def is_checkbox(field: BoundField) -> bool:
    return getattr(field.field.widget, "input_type", "") in ("checkbox", "radio") and not getattr(
        field.field.widget, "allow_multiple_selected", False)


@register.filter
def status_word(status: str) -> str:
    return STATUS_WORDS.get(str(status), str(status).replace("_", " ").capitalize())
