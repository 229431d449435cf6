"""Badge class operations: every write to ``BadgeClass`` happens here.

Each function takes a required ``actor`` (see ``core.tenancy``), checks that the badge or issuer belongs
to the actor's organisation (another tenant's object is *not found*), then the ``design`` permission,
validates everything before writing anything, runs in one transaction and records an audit event.

Life cycle: ``draft`` → ``published`` → ``archived`` (→ ``published`` again). Drafts are private;
published and archived badges are public, because awards point at them; only published badges can be
awarded (``require_awardable``).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from insignia.badges.designer import Design, default_design, design_png, design_svg, parse_design
from insignia.badges.images import PNG_TYPE, SVG_TYPE, ImageUpload, ProcessedImage, process_upload
from insignia.badges.models import BadgeClass, BadgeStatus, ExpiryPolicy
from insignia.core import audit
from insignia.core.errors import NotFound, ServiceError
from insignia.core.tenancy import Actor
from insignia.credentials.model.ob3 import ACHIEVEMENT_TYPES
from insignia.credentials.model.vc import EXT_RE
from insignia.issuers.models import Issuer

MAX_NAME = 200
MAX_DESCRIPTION = 5_000
MAX_NARRATIVE = 20_000
MAX_LEVEL = 64
MAX_TAGS = 20
MAX_TAG = 64
MAX_ALIGNMENTS = 20
MAX_EXPIRY_DAYS = 36_500
ALIGNMENT_KEYS = ("framework", "code", "name", "url", "description")
#: Fields ``update_badge`` may change.
EDITABLE_FIELDS = frozenset({
    "issuer", "name", "description", "criteria_narrative", "criteria_url", "achievement_type", "level",
    "alignments", "tags", "expiry_policy", "expiry_date", "expiry_days", "evidence_required",
})
_ACHIEVEMENT_TYPES_BY_LOWER = {t.lower(): t for t in ACHIEVEMENT_TYPES}


class BadgeInvalid(ServiceError):
    """One or more fields are wrong. ``errors`` lists ``(field, message)``; the message joins them."""

    code = "badge_invalid"

    def __init__(self, errors: Sequence[tuple[str | None, str]]) -> None:
        self.errors = list(errors)
        super().__init__(" ".join(message for _, message in self.errors), field=self.errors[0][0])


# == validation ==================================================================================


class _Problems:
    def __init__(self) -> None:
        self.errors: list[tuple[str | None, str]] = []

    def add(self, field: str | None, message: str) -> None:
        self.errors.append((field, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise BadgeInvalid(self.errors)


def _text(value: Any) -> str:
    return "" if value is None else str(value).replace("\x00", "").strip()


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in value)


def _as_expiry_datetime(value: Any) -> datetime | None:
    """A date means the end of that day (UTC); a naive datetime is taken as UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), tzinfo=UTC)
    if isinstance(value, str):
        try:
            return _as_expiry_datetime(date.fromisoformat(value.strip()))
        except ValueError:
            pass
        try:
            return _as_expiry_datetime(datetime.fromisoformat(value.strip()))
        except ValueError:
            pass
    raise ServiceError(f"The expiry date {value!r} is not a date (use YYYY-MM-DD).", field="expiry_date")


def _clean_alignments(value: Any, p: _Problems) -> list[dict[str, str]]:
    if value in (None, ""):
        return []
    if isinstance(value, Mapping) or not isinstance(value, Sequence) or isinstance(value, str):
        p.add("alignments", "Alignments must be a list of {framework, code, name, url, description}.")
        return []
    if len(value) > MAX_ALIGNMENTS:
        p.add("alignments", f"A badge can align with at most {MAX_ALIGNMENTS} skills; this has {len(value)}.")
        return []
    cleaned = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            p.add(f"alignments.{index}", f"Alignment {index + 1} must be an object.")
            continue
        row = {key: _text(item.get(key)) for key in ALIGNMENT_KEYS}
        if not any(row.values()):
            continue
        where = f"alignments.{index}"
        if not row["name"]:
            p.add(f"{where}.name", f"Skill {index + 1}: give the skill's name.")
        if not row["url"]:
            p.add(f"{where}.url", f"Skill {index + 1}: give the URL of the skill in its framework.")
        elif not _is_http_url(row["url"]):
            p.add(f"{where}.url", f"Skill {index + 1}: the URL must be absolute (https://…), not {row['url']!r}.")
        for key, limit in (("name", 200), ("framework", 200), ("code", 100), ("description", 1000), ("url", 500)):
            if len(row[key]) > limit:
                p.add(f"{where}.{key}", f"Skill {index + 1}: the {key} is longer than {limit} characters.")
        cleaned.append(row)
    return cleaned


def _clean_tags(value: Any, p: _Problems) -> list[str]:
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    tags: list[str] = []
    for item in items:
        tag = " ".join(_text(item).split())
        if not tag or tag in tags:
            continue
        if len(tag) > MAX_TAG:
            p.add("tags", f"The tag {tag[:20]!r}… is longer than {MAX_TAG} characters.")
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        p.add("tags", f"A badge can have at most {MAX_TAGS} tags; this has {len(tags)}.")
    return tags


def _clean_achievement_type(value: Any, p: _Problems) -> str:
    text = _text(value) or "Badge"
    if EXT_RE.match(text):
        return text
    canonical = _ACHIEVEMENT_TYPES_BY_LOWER.get(text.lower())
    if canonical is None:
        p.add("achievement_type", f"{text!r} is not an Open Badges 3.0 achievement type; choose one from the list "
                                  "or write your own as ext:YourType.")
        return text
    return canonical


def _clean(fields: dict[str, Any], *, now: datetime, check_dates: bool) -> dict[str, Any]:
    """Validate a full set of badge fields; raise ``BadgeInvalid`` listing every problem."""
    p = _Problems()
    out: dict[str, Any] = {}
    out["name"] = " ".join(_text(fields.get("name")).split())
    if not out["name"]:
        p.add("name", "Give the badge a name.")
    elif len(out["name"]) > MAX_NAME:
        p.add("name", f"The name is {len(out['name'])} characters; the limit is {MAX_NAME}.")
    out["description"] = _text(fields.get("description"))
    if not out["description"]:
        p.add("description", "Describe the badge: what does it recognise?")
    elif len(out["description"]) > MAX_DESCRIPTION:
        p.add("description", f"The description is {len(out['description'])} characters; the limit is "
                             f"{MAX_DESCRIPTION}.")
    out["criteria_narrative"] = _text(fields.get("criteria_narrative")).replace("\r\n", "\n")
    if len(out["criteria_narrative"]) > MAX_NARRATIVE:
        p.add("criteria_narrative", f"The criteria are longer than {MAX_NARRATIVE} characters.")
    out["criteria_url"] = _text(fields.get("criteria_url"))
    if out["criteria_url"] and (not _is_http_url(out["criteria_url"]) or len(out["criteria_url"]) > 500):
        p.add("criteria_url", "The criteria URL must be an absolute http(s) URL (https://…) of up to 500 characters.")
    out["achievement_type"] = _clean_achievement_type(fields.get("achievement_type"), p)
    out["level"] = " ".join(_text(fields.get("level")).split())
    if len(out["level"]) > MAX_LEVEL:
        p.add("level", f"The level is at most {MAX_LEVEL} characters.")
    out["alignments"] = _clean_alignments(fields.get("alignments"), p)
    out["tags"] = _clean_tags(fields.get("tags"), p)
    out["evidence_required"] = bool(fields.get("evidence_required"))

    policy = _text(fields.get("expiry_policy")) or ExpiryPolicy.NONE
    out["expiry_policy"], out["expiry_date"], out["expiry_days"] = policy, None, None
    if policy not in ExpiryPolicy.values:
        p.add("expiry_policy", "Choose when awards expire: never, on a fixed date, or a number of days after "
                               "the award.")
    elif policy == ExpiryPolicy.FIXED_DATE:
        try:
            expiry = _as_expiry_datetime(fields.get("expiry_date"))
        except ServiceError as exc:
            p.add("expiry_date", exc.message)
            expiry = None
        else:
            if expiry is None:
                p.add("expiry_date", "Give the date awards of this badge expire.")
            elif check_dates and expiry <= now:
                p.add("expiry_date", f"The expiry date {expiry:%Y-%m-%d} has passed; choose a future date.")
        out["expiry_date"] = expiry
    elif policy == ExpiryPolicy.DURATION:
        raw = fields.get("expiry_days")
        try:
            days = int(raw) if raw not in (None, "") else None
        except (TypeError, ValueError):
            days = None
            p.add("expiry_days", f"The number of days must be a whole number, not {raw!r}.")
        else:
            if days is None:
                p.add("expiry_days", "Give the number of days after the award when it expires.")
            elif not 1 <= days <= MAX_EXPIRY_DAYS:
                p.add("expiry_days", f"The number of days must be between 1 and {MAX_EXPIRY_DAYS}.")
        out["expiry_days"] = days
    p.raise_if_any()
    return out


def _publish_problems(badge: BadgeClass, *, now: datetime) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    if not badge.criteria_narrative and not badge.criteria_url:
        problems.append(("criteria_narrative", "Say how the badge is earned (criteria narrative and/or criteria "
                                               "URL) before publishing."))
    if not badge.image:
        problems.append(("image", "Give the badge an image (upload one or use the designer) before publishing."))
    if badge.expiry_policy == ExpiryPolicy.FIXED_DATE and badge.expiry_date and badge.expiry_date <= now:
        problems.append(("expiry_date", "The expiry date has passed, so every award would be expired at once; "
                                        "choose a later date."))
    return problems


# == tenancy =====================================================================================


def _sync(passed: BadgeClass | str, current: BadgeClass) -> BadgeClass:
    """Bring the caller's instance up to date too, so it does not go stale after a service call."""
    if isinstance(passed, BadgeClass) and passed is not current:
        passed.refresh_from_db()
    return current


def _resolve_issuer(actor: Actor, issuer: Issuer | str) -> Issuer:
    if isinstance(issuer, Issuer):
        if issuer.organisation_id != actor.organisation.pk:
            raise NotFound("No such issuer.")
        return issuer
    found = Issuer.objects.filter(organisation=actor.organisation, public_id=str(issuer)).first()
    if found is None:
        raise NotFound("No such issuer.")
    return found


def _locked_badge(actor: Actor, badge: BadgeClass | str) -> BadgeClass:
    """The badge row, locked for this transaction, if it belongs to the actor's organisation."""
    query = BadgeClass.objects.select_for_update().filter(organisation=actor.organisation)
    found = query.filter(pk=badge.pk).first() if isinstance(badge, BadgeClass) else query.filter(
        public_id=str(badge)).first()
    if found is None:
        raise NotFound("No such badge.")
    return found


# == images ======================================================================================


def _prepare_image(*, name: str, image_upload: ImageUpload | None, design: Mapping[str, Any] | Design | None,
                   organisation_colour: str) -> tuple[ProcessedImage, dict[str, str]]:
    """Process an upload or render a design (or a default design) *before* anything is written."""
    if image_upload is not None and design is not None:
        raise ServiceError("Upload an image or use the designer, not both.", field="image")
    if image_upload is not None:
        if not isinstance(image_upload, ImageUpload):
            image_upload = ImageUpload(content=bytes(image_upload))
        return process_upload(image_upload), {}
    if design is None:
        chosen = default_design(name, colour=organisation_colour)
    elif isinstance(design, Design):
        chosen = design
    else:
        chosen = parse_design(design)
    svg = design_svg(chosen, title=name).encode("utf-8")
    return ProcessedImage(content=svg, content_type=SVG_TYPE, png=design_png(chosen, title=name)), chosen.to_json()


def _store_image(badge: BadgeClass, image: ProcessedImage, created: list[str]) -> list[str]:
    """Save the files under content-addressed names; return the old names that are no longer used."""
    old = [n for n in (badge.image.name, badge.image_png.name) if n]
    digest = hashlib.sha256(image.content).hexdigest()[:16]
    badge.image.save(f"{badge.public_id}-{digest}.{image.extension}", ContentFile(image.content), save=False)
    created.append(badge.image.name)
    if image.content_type == PNG_TYPE:
        badge.image_png.name = badge.image.name
    else:
        png_digest = hashlib.sha256(image.png).hexdigest()[:16]
        badge.image_png.save(f"{badge.public_id}-{png_digest}.png", ContentFile(image.png), save=False)
        created.append(badge.image_png.name)
    badge.image_type = image.content_type
    in_use = {badge.image.name, badge.image_png.name}
    return [n for n in old if n not in in_use]


def _delete_files(storage: Any, names: Sequence[str]) -> Callable[[], None]:
    def delete() -> None:
        for name in dict.fromkeys(names):
            with contextlib.suppress(OSError):  # a leftover file is harmless
                storage.delete(name)

    return delete


def _run_storing(badge: BadgeClass, write: Callable[[list[str]], None]) -> None:
    """Run ``write`` (which saves files into the list it is given); on failure remove what it saved."""
    created: list[str] = []
    try:
        write(created)
    except BaseException:
        _delete_files(badge.image.storage, created)()
        raise


# == operations ==================================================================================


def create_badge(
    *,
    actor: Actor,
    issuer: Issuer | str,
    name: str,
    description: str,
    criteria_narrative: str = "",
    criteria_url: str = "",
    achievement_type: str = "Badge",
    level: str = "",
    alignments: Sequence[Mapping[str, Any]] = (),
    tags: Sequence[str] = (),
    expiry_policy: str = ExpiryPolicy.NONE,
    expiry_date: datetime | date | None = None,
    expiry_days: int | None = None,
    evidence_required: bool = False,
    image_upload: ImageUpload | None = None,
    design: Mapping[str, Any] | Design | None = None,
    now: datetime | None = None,
) -> BadgeClass:
    """A new draft badge. Its image is the upload, the design, or (neither given) a default design."""
    issuer = _resolve_issuer(actor, issuer)
    actor.require("design")
    now = now or timezone.now()
    fields = _clean({
        "name": name, "description": description, "criteria_narrative": criteria_narrative,
        "criteria_url": criteria_url, "achievement_type": achievement_type, "level": level,
        "alignments": list(alignments), "tags": tags, "expiry_policy": expiry_policy, "expiry_date": expiry_date,
        "expiry_days": expiry_days, "evidence_required": evidence_required,
    }, now=now, check_dates=True)
    image, design_json = _prepare_image(name=fields["name"], image_upload=image_upload, design=design,
                                        organisation_colour=actor.organisation.brand_colour)
    badge = BadgeClass(organisation=actor.organisation, issuer=issuer, design=design_json, **fields)

    def write(created: list[str]) -> None:
        with transaction.atomic():
            _store_image(badge, image, created)
            badge.save()
            audit.record(actor.organisation, actor=actor.audit_actor, verb="badge.created", obj=badge,
                         data={"name": badge.name, "issuer": issuer.public_id, "image": badge.image_type})

    _run_storing(badge, write)
    return badge


def update_badge(
    *,
    actor: Actor,
    badge: BadgeClass | str,
    image_upload: ImageUpload | None = None,
    design: Mapping[str, Any] | Design | None = None,
    now: datetime | None = None,
    **changes: Any,
) -> BadgeClass:
    """Change any of ``EDITABLE_FIELDS`` (and optionally the image). Archived badges cannot be edited;
    the issuer can only change while the badge is a draft. A designed image follows a change of name."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"update_badge() got unexpected fields: {', '.join(sorted(unknown))}")
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked_badge(actor, badge)
        actor.require("design")
        if current.status == BadgeStatus.ARCHIVED:
            raise ServiceError("This badge is archived; publish it again before changing it.", code="archived")
        new_issuer = current.issuer
        if "issuer" in changes:
            new_issuer = _resolve_issuer(actor, changes.pop("issuer"))
            if new_issuer.pk != current.issuer_id and current.status != BadgeStatus.DRAFT:
                raise ServiceError("The issuer of a published badge cannot change (its awards name it); create a "
                                   "new badge instead.", field="issuer")
        merged = {key: getattr(current, key) for key in EDITABLE_FIELDS - {"issuer"}} | changes
        dates_changed = any(k in changes for k in ("expiry_policy", "expiry_date"))
        fields = _clean(merged, now=now, check_dates=dates_changed)
        changed = sorted(k for k, v in fields.items() if getattr(current, k) != v)
        if new_issuer.pk != current.issuer_id:
            changed.append("issuer")
        image: ProcessedImage | None = None
        design_json: dict[str, str] | None = None
        if image_upload is not None or design is not None:
            image, design_json = _prepare_image(name=fields["name"], image_upload=image_upload, design=design,
                                                organisation_colour=actor.organisation.brand_colour)
        elif "name" in changed and current.design:
            image, design_json = _prepare_image(name=fields["name"], image_upload=None,
                                                design=parse_design(current.design),
                                                organisation_colour=actor.organisation.brand_colour)
        for key, value in fields.items():
            setattr(current, key, value)
        current.issuer = new_issuer
        if current.status == BadgeStatus.PUBLISHED:
            problems = [(f, m) for f, m in _publish_problems(current, now=now) if f != "expiry_date" or dates_changed]
            if problems:
                raise BadgeInvalid(problems)
        stale: list[str] = []

        def write(created: list[str]) -> None:
            nonlocal stale
            if image is not None:
                stale = _store_image(current, image, created)
                current.design = design_json or {}
                changed.append("image")
            current.save()
            audit.record(actor.organisation, actor=actor.audit_actor, verb="badge.updated", obj=current,
                         data={"fields": sorted(set(changed))})

        _run_storing(current, write)
        transaction.on_commit(_delete_files(current.image.storage, stale))
    return _sync(badge, current)


def set_badge_image(
    *,
    actor: Actor,
    badge: BadgeClass | str,
    image_upload: ImageUpload | None = None,
    design: Mapping[str, Any] | Design | None = None,
    now: datetime | None = None,
) -> BadgeClass:
    """Replace the badge's image with an upload or a design. On refusal nothing stored changes."""
    if image_upload is None and design is None:
        raise ServiceError("Upload an image or use the designer.", field="image")
    return update_badge(actor=actor, badge=badge, image_upload=image_upload, design=design, now=now)


@transaction.atomic
def publish_badge(*, actor: Actor, badge: BadgeClass | str, now: datetime | None = None) -> BadgeClass:
    """Make a draft (or archived) badge public and awardable."""
    current = _locked_badge(actor, badge)
    actor.require("design")
    now = now or timezone.now()
    if current.status == BadgeStatus.PUBLISHED:
        return current
    problems = _publish_problems(current, now=now)
    if problems:
        raise BadgeInvalid(problems)
    previous = current.status
    current.status = BadgeStatus.PUBLISHED
    current.published_at = now
    current.save(update_fields=["status", "published_at", "updated_at"])
    audit.record(actor.organisation, actor=actor.audit_actor, verb="badge.published", obj=current,
                 data={"from": previous})
    return _sync(badge, current)


@transaction.atomic
def archive_badge(*, actor: Actor, badge: BadgeClass | str, now: datetime | None = None) -> BadgeClass:
    """Stop awarding a published badge. It stays public, because existing awards point at it."""
    current = _locked_badge(actor, badge)
    actor.require("design")
    if current.status == BadgeStatus.ARCHIVED:
        return current
    if current.status == BadgeStatus.DRAFT:
        raise ServiceError("Only published badges can be archived; a draft is not public and has no awards.",
                           code="draft")
    current.status = BadgeStatus.ARCHIVED
    current.save(update_fields=["status", "updated_at"])
    audit.record(actor.organisation, actor=actor.audit_actor, verb="badge.archived", obj=current)
    return _sync(badge, current)


# == rules used by awards ========================================================================


def expiry_for(badge: BadgeClass, awarded_at: datetime) -> datetime | None:
    """When an award of ``badge`` made at ``awarded_at`` expires under the badge's policy (None: never)."""
    if badge.expiry_policy == ExpiryPolicy.FIXED_DATE and badge.expiry_date is not None:
        return badge.expiry_date
    if badge.expiry_policy == ExpiryPolicy.DURATION and badge.expiry_days:
        return awarded_at + timedelta(days=int(badge.expiry_days))
    return None


def require_awardable(badge: BadgeClass, *, awarded_at: datetime) -> None:
    """Raise ``ServiceError`` unless ``badge`` can be awarded at ``awarded_at``."""
    if badge.status == BadgeStatus.DRAFT:
        raise ServiceError("This badge is a draft; publish it before awarding it.", code="badge_draft",
                           field="badge")
    if badge.status == BadgeStatus.ARCHIVED:
        raise ServiceError("This badge is archived and can no longer be awarded.", code="badge_archived",
                           field="badge")
    expiry = expiry_for(badge, awarded_at)
    if expiry is not None and expiry <= awarded_at:
        raise ServiceError(f"Awards of this badge expire on {expiry:%Y-%m-%d}, before the award date; change the "
                           "badge's expiry first.", code="badge_expired", field="badge")
