"""The award list's badge filter is written out directly (one option per badge, no template per option) and says
what Django's own ``Select`` says: the same attributes, options, labels (escaped) and selection."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django import forms
from django.test import Client

from insignia.awards.forms import AwardFilterForm, PlainSelect
from insignia.core.models import Role
from tests.platform.test_awards_support import make_badge, make_issuer

AWKWARD = [("b1", 'Tom & Jerry\'s <b>"best"</b>'), ("b2", "Zwei"), ("b2", "Same id twice"), ("3", "Ünïcödé ✓")]


class _Select(HTMLParser):
    """The attributes of the first ``<select>`` and its options as (value, label, selected)."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: dict[str, str | None] = {}
        self.options: list[tuple[str | None, str, bool]] = []
        self._option: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "select" and not self.attrs:
            self.attrs = dict(attrs)
        elif tag == "option":
            self._option = dict(attrs)
            self.options.append((self._option.get("value"), "", "selected" in self._option))

    def handle_data(self, data: str) -> None:
        if self._option is not None and self.options:
            value, label, selected = self.options[-1]
            self.options[-1] = (value, label + data, selected)

    def handle_endtag(self, tag: str) -> None:
        if tag == "option":
            self._option = None


def _parsed(html: str) -> _Select:
    parser = _Select()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("chosen", [None, "", "b1", "b2", "3", "unknown"])
@pytest.mark.parametrize("extra", [{}, {"aria-describedby": "id_badge_error", "aria-invalid": "true",
                                       "required": True, "disabled": False}])
def test_plain_select_says_what_djangos_select_says(chosen: str | None, extra: dict[str, Any]) -> None:
    choices = [("", "Any badge"), *AWKWARD]
    plain = PlainSelect(choices=choices).render("badge", chosen, {"id": "id_badge", **extra})
    django = forms.Select(choices=choices).render("badge", chosen, {"id": "id_badge", **extra})
    mine, theirs = _parsed(plain), _parsed(django)
    assert mine.attrs == theirs.attrs
    assert [(v, label.strip(), s) for v, label, s in mine.options] == [
        (v, label.strip(), s) for v, label, s in theirs.options]
    assert sum(selected for _, _, selected in mine.options) == (1 if chosen in (None, "", "b1", "b2", "3") else 0)
    assert "<b>" not in plain
    assert "&lt;b&gt;" in plain


def test_plain_select_leaves_option_groups_to_django() -> None:
    grouped = [("", "Any"), ("Group", [("a", "A"), ("b", "B")])]
    assert PlainSelect(choices=grouped).render("x", "b", {"id": "id_x"}) == forms.Select(choices=grouped).render(
        "x", "b", {"id": "id_x"})


@pytest.mark.django_db
def test_the_award_list_filters_by_the_badge_chosen(member) -> None:
    owner = member(Role.OWNER)
    other = member(Role.OWNER)
    make_badge(other, make_issuer(other), name="Another organisation's badge")
    issuer = make_issuer(owner)
    plain = make_badge(owner, issuer, name="Plain badge")
    odd = make_badge(owner, issuer, name='Fish & <Chips> "deluxe"')
    form = AwardFilterForm({"badge": odd.public_id}, badges=[(plain.public_id, plain.name), (odd.public_id, odd.name)])
    assert form.is_valid()
    assert form.cleaned_data["badge"] == odd.public_id
    assert not AwardFilterForm({"badge": "not-a-badge"}, badges=[(plain.public_id, plain.name)]).is_valid()
    client = Client()
    client.force_login(owner.user)
    html = client.get(f"/orgs/{owner.organisation.public_id}/awards/", {"badge": odd.public_id}).content.decode()
    shown = _parsed(html[html.index('<label for="id_badge">'):])
    assert (shown.attrs["id"], shown.attrs["name"]) == ("id_badge", "badge")  # the select the label names
    assert shown.options == [("", "Any badge", False), (odd.public_id, odd.name, True),
                             (plain.public_id, plain.name, False)]  # by name, this organisation's only
