"""Set-up shared by the share page, certificate and engagement tests (no tests here)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from insignia.awards.models import AcceptanceState, Award, Visibility


class HeadTags(HTMLParser):
    """The ``<meta>`` and ``<link>`` tags of a page: ``meta[name_or_property] = content``, ``links = [attrs]``."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: list[dict[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "meta":
            key = values.get("property") or values.get("name")
            if key:
                self.meta[key] = values.get("content", "")
        elif tag == "link":
            self.links.append(values)

    def link(self, rel: str, type_: str) -> dict[str, str] | None:
        return next((link for link in self.links if link.get("rel") == rel and link.get("type") == type_), None)


def set_earner_choice(award: Award, *, acceptance: str = AcceptanceState.ACCEPTED, visibility: str | None = None,
                      show_name: bool | None = None, earner: Any = None) -> Award:
    """Put the award in the state the earner's choices would leave it (the wallet's services do this for real)."""
    fields: dict[str, Any] = {"acceptance": acceptance}
    if visibility is not None:
        fields["visibility"] = visibility
    if show_name is not None:
        fields["show_recipient_name"] = show_name
    if earner is not None:
        fields["earner"] = earner
    Award.objects.filter(pk=award.pk).update(**fields)
    award.refresh_from_db()
    return award


__all__ = ["AcceptanceState", "HeadTags", "Visibility", "set_earner_choice"]
