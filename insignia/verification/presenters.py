"""Turn a verification result into what the page shows: plain words, safe links, safe images.

Everything in a foreign credential is hostile until shown otherwise: only strings are shown (Django
escapes them), links only when they are http(s), images only as data: URIs of raster/SVG types, https
URLs, or this instance's own URLs — and the template loads them with ``referrerpolicy="no-referrer"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from insignia.verification.services import VerificationResult

MAX_TEXT = 2000
MAX_ITEMS = 50

_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml)(;[a-z0-9=.+-]+)*(;base64)?,", re.IGNORECASE)

HEADLINES = {
    "valid": ("Valid", "This badge is authentic, unaltered and current."),
    "invalid": ("Invalid", "Do not trust this badge: at least one check failed."),
    "indeterminate": ("Could not fully check", "Some checks could not be made, so this badge cannot be confirmed."),
}
STATUS_WORDS = {"passed": "Passed", "failed": "Failed", "not_checked": "Not checked"}
TRUST_TITLES = {
    "known": "Issuer known to this site",
    "domain": "Issuer's domain verified",
    "unknown": "Issuer not known to this site",
    "unverified": "Issuer not confirmed",
}


def text(value: Any, limit: int = MAX_TEXT) -> str | None:
    """A display string: strings only (numbers, lists and objects from hostile input are dropped)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return (value[: limit - 1] + "…") if len(value) > limit else (value or None)


def link(value: Any) -> str | None:
    """An http(s) URL that is safe as an ``href`` (no javascript:, data: or other schemes)."""
    if not isinstance(value, str) or len(value) > 2000:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def image(value: Any) -> str | None:
    """An image source the page may load without leaking anything: data: images, https, or our own URLs."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if _DATA_IMAGE.match(value):
        return value
    url = link(value)
    if url is None:
        return None
    if url.startswith("https://") or url.startswith(settings.BASE_URL.rstrip("/") + "/"):
        return url
    return None


@dataclass
class ItemView:
    title: str | None = None
    url: str | None = None
    detail: str | None = None
    extra: str | None = None


@dataclass
class BadgeView:
    name: str | None = None
    description: str | None = None
    image: str | None = None
    image_withheld: str | None = None
    issuer_name: str | None = None
    issuer_id: str | None = None
    issuer_url: str | None = None
    recipient_name: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    #: The same dates for people ("23 November 2026, 14:05 UTC"); the raw value stays in ``<time datetime>``.
    valid_from_display: str | None = None
    valid_until_display: str | None = None
    criteria: str | None = None
    criteria_url: str | None = None
    evidence: list[ItemView] = field(default_factory=list)
    alignments: list[ItemView] = field(default_factory=list)
    endorsements: list[ItemView] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.name or self.issuer_name or self.issuer_id)


def _evidence(items: list[Any]) -> list[ItemView]:
    shown = []
    for item in items[:MAX_ITEMS]:
        if not isinstance(item, dict):
            continue
        url = link(item.get("id")) or link(item.get("url"))
        title = text(item.get("name"), 200) or (None if url else text(item.get("id"), 200))
        detail = text(item.get("narrative")) or text(item.get("description"))
        if title or url or detail:
            shown.append(ItemView(title=title, url=url, detail=detail, extra=text(item.get("genre"), 100)))
    return shown


def _alignments(items: list[Any]) -> list[ItemView]:
    shown = []
    for item in items[:MAX_ITEMS]:
        if not isinstance(item, dict):
            continue
        title = text(item.get("targetName"), 200)
        framework = text(item.get("targetFramework"), 200)
        code = text(item.get("targetCode"), 100)
        if title or framework:
            shown.append(ItemView(title=title or code, url=link(item.get("targetUrl")),
                                  detail=text(item.get("targetDescription")),
                                  extra=" · ".join(x for x in (framework, code) if x) or None))
    return shown


def _endorsements(items: list[Any]) -> list[ItemView]:
    shown = []
    for item in items[:MAX_ITEMS]:
        if not isinstance(item, dict):
            continue
        by = text(item.get("issuer_name"), 200) or text(item.get("issuer_id"), 200)
        shown.append(ItemView(title=by, url=link(item.get("issuer_url")), detail=text(item.get("description")),
                              extra=text(item.get("name"), 200)))
    return shown


def readable_date(value: str | None) -> str | None:
    """An ISO 8601 date-time as people read it, in UTC; the text as given when it is not one."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    day = f"{moment.day} {moment:%B %Y}"
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return day
    return f"{day}, {moment:%H:%M} UTC" if moment.tzinfo is not None else f"{day}, {moment:%H:%M}"


def badge_view(result: VerificationResult) -> BadgeView:
    summary = result.report.summary
    source = summary.image
    shown = image(source)
    return BadgeView(
        name=text(summary.name, 300) or text(summary.achievement_name, 300),
        description=text(summary.description) or text(summary.achievement_description),
        image=shown,
        image_withheld=link(source) if source and not shown else None,
        issuer_name=text(summary.issuer_name, 300),
        issuer_id=text(summary.issuer_id, 500),
        issuer_url=link(summary.issuer_url),
        recipient_name=text(summary.recipient_name, 300),
        valid_from=text(summary.valid_from, 60),
        valid_until=text(summary.valid_until, 60),
        valid_from_display=readable_date(text(summary.valid_from, 60)),
        valid_until_display=readable_date(text(summary.valid_until, 60)),
        criteria=text(summary.criteria, 5000),
        criteria_url=link(summary.criteria_url),
        evidence=_evidence(summary.evidence),
        alignments=_alignments(summary.alignments),
        endorsements=_endorsements(summary.endorsements),
    )


@dataclass
class CheckView:
    id: str
    title: str
    status: str
    status_word: str
    code: str
    message: str


def check_views(result: VerificationResult) -> list[CheckView]:
    return [CheckView(id=c.id, title=c.title, status=str(c.status), status_word=STATUS_WORDS[str(c.status)],
                      code=c.code, message=c.message) for c in result.report.checks]


def page_context(result: VerificationResult) -> dict[str, Any]:
    verdict = result.verdict
    word, sentence = HEADLINES[verdict]
    # Say why at once: the first check that failed (or could not be made) is the reason people need.
    deciding = next((c for c in result.report.checks if (verdict == "invalid" and str(c.status) == "failed")
                     or (verdict == "indeterminate" and str(c.status) == "not_checked" and c.blocking)), None)
    if deciding is not None:
        sentence = f"{sentence} {deciding.title}: {deciding.message}"
    return {
        "result": result,
        "verdict": verdict,
        "verdict_word": word,
        "verdict_sentence": sentence,
        "checks": check_views(result),
        "trust": result.trust,
        "trust_title": TRUST_TITLES.get(result.trust.level, "Issuer"),
        "badge": badge_view(result),
    }
