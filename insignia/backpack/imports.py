"""Importing badges earned elsewhere: verified by the kernel on import and again on demand.

``import_credential`` takes exactly one of a URL (an OB 2.0 hosted assertion, an OB 3.0 credential or a
baked image), an uploaded file (a baked PNG/SVG, or credential JSON) or pasted text (JSON or a JWT), and runs
it through the platform verifier (``insignia.verification.services.verify_submission``: URLs of this instance
are answered in-process, every other URL goes through the hardened ``HttpFetcher``).

**What is accepted.** A *valid* verdict, or an *indeterminate* one where the only checks that could not be made
are the revocation status (the issuer's status list could not be fetched) and/or embedded endorsements: the
format, structure, signature, key binding and dates all passed, so the badge is what it says; the page then
warns that its status is unconfirmed and offers "Verify again". Anything else is refused with the failing check
named in plain words (``ImportRefused.check`` and ``.code``).

**Whose badge.** The recipient must be one of the user's verified identities (``EarnerIdentity`` with
``verified_at`` plus allauth's verified email addresses). The kernel's own recipient check runs once per
identity against the verified credential (salted hashes recomputed, never revealed); the stored report records
only that it matched one of the user's identities and of which kind.

**Images.** Nothing foreign is rendered as sent, and pages never load an image from elsewhere (no third party
learns who views a badge). The uploaded baked image, a ``data:`` image in the credential, or its ``https`` image
(fetched once, at import, through the platform fetcher) is re-encoded through Pillow (raster) or the badge SVG
sanitiser and resvg (SVG) into a 256 px PNG kept as a ``data:`` URI in ``summary["image"]``; an image that cannot
be made safe is dropped. The original stays inside ``document``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image

from insignia.awards.models import Visibility
from insignia.backpack import identities as proofs
from insignia.backpack.identities import Identity
from insignia.backpack.models import ImportedBadge, ImportOrigin
from insignia.core.errors import Conflict, NotFound, ServiceError
from insignia.credentials.baking import sniff_image_type, unbake
from insignia.credentials.errors import CredentialError
from insignia.credentials.verify import ob2 as ob2_checks
from insignia.credentials.verify import ob3 as ob3_checks
from insignia.credentials.verify.pipeline import DEFAULT_SKEW
from insignia.credentials.verify.report import CheckStatus, VerificationReport

log = logging.getLogger(__name__)

#: Side of the PNG an imported badge's image is re-encoded to.
THUMBNAIL_SIZE = 256
#: Checks that may be left undecided on import (the badge itself verified; only these could not be fetched).
MAY_BE_UNCHECKED = frozenset({"status", "endorsements"})

_KIND_WORDS = {"email": "email address", "url": "web address", "did": "DID"}


class ImportRefused(ServiceError):
    """The credential was not imported. ``check`` names the verification check that failed (or ``None``)."""

    status = 400
    code = "import_refused"

    def __init__(self, message: str, *, code: str | None = None, check: str | None = None,
                 report: dict[str, Any] | None = None, field: str | None = None) -> None:
        super().__init__(message, code=code, field=field)
        self.check = check
        #: The kernel report (``VerificationReport.to_json()``) when verification ran, for showing every check.
        self.report = report


class AlreadyImported(Conflict):
    """The same credential is already in this wallet."""

    code = "already_imported"

    def __init__(self, message: str, *, existing: ImportedBadge) -> None:
        super().__init__(message)
        self.existing = existing


# -- identities ------------------------------------------------------------------------------------------------


def _word(kind: str) -> str:
    return _KIND_WORDS.get(kind, kind)


def verified_identities(user: Any) -> list[Identity]:
    """The user's verified identities (the wallet's one rule: ``insignia.backpack.identities``), deduplicated."""
    return list(dict.fromkeys(proofs.verified_identities(user)))


def _recipient_matches(report: VerificationReport, identity: Identity, now: datetime) -> bool:
    """The kernel's recipient check for one identity, run on the already verified credential."""
    credential = report.credential
    if not isinstance(credential, dict):
        return False
    scratch = VerificationReport()
    context = ob3_checks.Context(verifier=None, report=scratch, now=now,  # type: ignore[arg-type]
                                 recipient=identity.value, skew=DEFAULT_SKEW)
    if report.summary.standard == "ob2":
        ob2_checks._check_recipient(credential, context)  # the kernel's one OB 2.0 recipient rule
    else:
        ob3_checks.check_recipient(credential, context)
    check = scratch.get("recipient")
    return check is not None and check.status is CheckStatus.PASSED


def _recipient_kind_words(report: VerificationReport) -> str:
    """How the credential names its recipient (email address, web address, DID…), without revealing it."""
    credential = report.credential or {}
    words: list[str] = []
    if report.summary.standard == "ob2":
        recipient = credential.get("recipient")
        kind = recipient.get("type") if isinstance(recipient, dict) else None
        words.append({"email": "email address", "url": "web address", "telephone": "phone number",
                      "id": "identifier (URL or DID)"}.get(str(kind).lower(), "identifier"))
    else:
        subjects = credential.get("credentialSubject")
        for subject in subjects if isinstance(subjects, list) else [subjects]:
            if not isinstance(subject, dict):
                continue
            subject_id = subject.get("id")
            if isinstance(subject_id, str):
                words.append("DID" if subject_id.startswith("did:") else "web address")
            identifiers = subject.get("identifier")
            for item in identifiers if isinstance(identifiers, list) else [identifiers]:
                if isinstance(item, dict):
                    kind = str(item.get("identityType", "")).lower()
                    words.append("email address" if "email" in kind else
                                 "phone number" if "phone" in kind or "telephone" in kind else "web address")
    unique = list(dict.fromkeys(words)) or ["identity"]
    return " or ".join(unique)


# -- judging the report ----------------------------------------------------------------------------------------

_LEADS: dict[tuple[str, str | None], str] = {
    ("proof", "proof_missing"): "The badge is not signed, so nobody can tell who issued it or whether it was "
                                "changed.",
    ("proof", None): "The signature does not match: the badge was changed after it was issued, or it was not "
                     "signed by the key it names.",
    ("validity", "expired"): "The badge has expired.",
    ("validity", "not_yet_valid"): "The badge is not valid yet.",
    ("validity", None): "The badge's issue or expiry date is not valid.",
    ("status", "revoked"): "The issuer has revoked this badge.",
    ("status", "suspended"): "The issuer has suspended this badge.",
    ("status", None): "The badge's revocation status cannot be trusted.",
    ("format", None): "This is not a badge Insignia can read.",
    ("schema", None): "The badge is malformed: it does not have the shape the Open Badges standard requires.",
    ("issuer_key", None): "The key that signed the badge does not belong to the issuer it names.",
    ("endorsements", None): "An endorsement inside the badge is not valid.",
    ("recipient", None): "The badge was not awarded to you.",
}


def _lead(check_id: str, code: str) -> str:
    return _LEADS.get((check_id, code)) or _LEADS.get((check_id, None)) or "The badge did not verify."


def _refusal(report: VerificationReport) -> ImportRefused | None:
    """Why this report cannot be imported, or None when it can (see the module docstring)."""
    as_json = report.to_json()
    failed = next((c for c in report.checks if c.status is CheckStatus.FAILED), None)
    if failed is not None:
        return ImportRefused(f"{_lead(failed.id, failed.code)} ({failed.title}: {failed.message})",
                             code=failed.code, check=failed.id, report=as_json)
    undecided = next((c for c in report.checks if c.status is CheckStatus.NOT_CHECKED and c.blocking
                      and c.id not in MAY_BE_UNCHECKED), None)
    if undecided is not None:
        return ImportRefused(f"Insignia could not check the badge's {undecided.title.lower()}: {undecided.message} "
                             "Nothing was imported; try again later, or import the badge's file instead.",
                             code=undecided.code, check=undecided.id, report=as_json)
    if report.summary.standard == "vc":
        return ImportRefused("This is a verifiable credential but not an Open Badge (its type is neither "
                             "OpenBadgeCredential nor AchievementCredential), so it cannot join a badge wallet.",
                             code="not_a_badge", check="schema", report=as_json)
    return None


# -- images ----------------------------------------------------------------------------------------------------


def _png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _thumbnail(data: bytes) -> str | None:
    """A safe PNG ``data:`` URI re-encoded from a foreign image, or None when it cannot be made safe."""
    from insignia.badges.images import normalise_raster, render_svg_png, sanitise_svg

    try:
        if sniff_image_type(data) == "svg" or data.lstrip()[:5] in (b"<?xml", b"<svg ", b"<svg>"):
            png = render_svg_png(sanitise_svg(data), size=THUMBNAIL_SIZE)
        else:
            png = normalise_raster(data)
            with Image.open(io.BytesIO(png), formats=("PNG",)) as image:
                image.load()
                small = image.resize((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
                buffer = io.BytesIO()
                small.save(buffer, format="PNG", optimize=True)
                png = buffer.getvalue()
    except ServiceError:
        return None
    except Exception:  # a foreign image must never break an import; it is simply not shown
        log.warning("An imported badge image could not be re-encoded.", exc_info=True)
        return None
    return _png_data_uri(png)


def _decode_data_uri(value: str) -> bytes | None:
    header, _, payload = value.partition(",")
    if not header.startswith("data:image/") or len(payload) > int(settings.MAX_UPLOAD_BYTES) * 4 // 3 + 4:
        return None
    try:
        if header.endswith(";base64"):
            return base64.b64decode(payload, validate=False)
        from urllib.parse import unquote_to_bytes

        return unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        return None


def safe_image_url(value: Any) -> str | None:
    """An image URL a page may load: https (or this instance's own), or a PNG ``data:`` URI we made."""
    if not isinstance(value, str) or (len(value) > 2000 and not value.startswith("data:image/png;base64,")):
        return None
    if value.startswith("data:image/png;base64,"):
        return value
    if value.startswith("https://") or value.startswith(settings.BASE_URL + "/"):
        return value if all(ch not in value for ch in "\"'<> \n\r\t") else None
    return None


def _fetch_image(url: str) -> bytes | None:
    """A remote image fetched once, at import, through the platform fetcher (pages never load it themselves)."""
    from insignia.verification.services import instance_fetch

    try:
        return instance_fetch(url)
    except CredentialError:
        return None
    except Exception:  # an unreachable image never blocks an import
        log.warning("The image %s of an imported badge could not be fetched.", url, exc_info=True)
        return None


def _display_image(file_bytes: bytes | None, image: Any) -> str | None:
    """A PNG ``data:`` URI made from the uploaded image, the credential's data: image, or its https image."""
    if file_bytes is not None and sniff_image_type(file_bytes) is not None:
        made = _thumbnail(file_bytes)
        if made:
            return made
    if isinstance(image, str) and image.startswith("data:"):
        data = _decode_data_uri(image)
        return _thumbnail(data) if data else None
    url = safe_image_url(image)
    if url and not url.startswith("data:"):
        data = _fetch_image(url)
        return _thumbnail(data) if data else None
    return None


# -- importing -------------------------------------------------------------------------------------------------


def _limit() -> int:
    return int(settings.MAX_UPLOAD_BYTES)


def _too_large(size: int, what: str) -> ImportRefused:
    limit = _limit()
    return ImportRefused(f"The {what} is {size:,} bytes; the limit is {limit:,}. No badge needs more.",
                         code="input_too_large", check="format", field="file" if what == "file" else "text")


def _document(origin: str, *, text: str | None, file_bytes: bytes | None, report: VerificationReport) -> str:
    """What is stored as ``document``: the text as given (pasted, or baked in the file), else as fetched."""
    if origin in (ImportOrigin.JSON, ImportOrigin.JWT) and text is not None:
        return text
    if origin == ImportOrigin.FILE and file_bytes is not None:
        if sniff_image_type(file_bytes) is not None:
            try:
                return unbake(file_bytes).text.strip()
            except CredentialError:
                pass
        else:
            try:
                return file_bytes.decode("utf-8").strip().lstrip("\ufeff")
            except UnicodeDecodeError:
                pass
    source = report.source
    if isinstance(source, str) and source.count(".") == 2 and not source.startswith(("http://", "https://")):
        return source  # a JWT or JWS
    return json.dumps(report.credential, ensure_ascii=False, separators=(",", ":"))


def _format(report: VerificationReport, document: str) -> str:
    if report.summary.standard == "ob2":
        return "ob2"
    return "vc-jwt" if not document.lstrip().startswith("{") else "ob3"


def _verify(*, url: str | None = None, file_bytes: bytes | None = None, text: str | None = None,
            now: datetime | None = None) -> VerificationReport:
    from insignia.verification.services import SubmissionError, verify_submission

    try:
        result = verify_submission(url=url, file_bytes=file_bytes, credential=text, now=now)
    except SubmissionError as exc:
        raise ImportRefused(exc.message, code=exc.code, check="format", field=exc.field) from exc
    return result.report


def _match(report: VerificationReport, user: Any, now: datetime) -> Identity:
    identities = verified_identities(user)
    for identity in identities:
        if _recipient_matches(report, identity, now):
            return identity
    kinds = _recipient_kind_words(report)
    have = ", ".join(sorted({_word(i.kind) for i in identities})) or "none yet"
    raise ImportRefused(
        f"This badge was not awarded to any of your verified identities (yours: {have}). It names its recipient "
        f"by {_a(kinds)}: add that {kinds} to your account and verify it, then import the badge again.",
        code="recipient_mismatch", check="recipient", report=report.to_json(),
    )


def _a(words: str) -> str:
    return ("an " if words[:1].lower() in "aeiou" else "a ") + words


def _record_recipient(report: VerificationReport, identity: Identity) -> None:
    plural = {"email": "email addresses", "url": "web addresses", "did": "DIDs"}.get(identity.kind, "identities")
    report.passed("recipient", "recipient_match",
                  f"Awarded to the person who imported it: it matches one of their verified {plural}.")


def import_credential(
    *,
    user: Any,
    url: str | None = None,
    file_bytes: bytes | None = None,
    filename: str | None = None,
    text: str | None = None,
    now: datetime | None = None,
) -> ImportedBadge:
    """Verify a badge earned elsewhere and keep it in the user's wallet; ``ImportRefused`` says why not."""
    now = now or timezone.now()
    given = [name for name, value in (("url", url), ("file", file_bytes), ("text", text))
             if value not in (None, "", b"")]
    if len(given) != 1:
        raise ImportRefused("Give one badge to import: a link, a file, or the badge's JSON or JWT."
                            if not given else "Give one badge at a time: a link, a file or pasted text.",
                            code="input_missing" if not given else "input_ambiguous")
    if text and text.strip().lower().startswith(("http://", "https://")) and "\n" not in text.strip():
        url, text = text, None  # a link pasted into the text box
    if url:
        url = url.strip()
        if len(url) > 2000:
            raise ImportRefused("The link is too long (at most 2,000 characters).", code="url_invalid", field="url")
        if not url.lower().startswith(("https://", "http://")):
            raise ImportRefused("Give the full link to the badge, starting with https://.", code="url_invalid",
                                field="url")
        origin = ImportOrigin.URL
        report = _verify(url=url, now=now)
    elif file_bytes:
        if len(file_bytes) > _limit():
            raise _too_large(len(file_bytes), "file")
        origin = ImportOrigin.FILE
        report = _verify(file_bytes=file_bytes, now=now)
    else:
        assert text is not None
        text = text.strip().lstrip("\ufeff")
        if len(text.encode("utf-8")) > _limit():
            raise _too_large(len(text.encode("utf-8")), "pasted text")
        origin = ImportOrigin.JSON if text.startswith(("{", "[")) else ImportOrigin.JWT
        report = _verify(text=text, now=now)
    refusal = _refusal(report)
    if refusal is not None:
        raise refusal
    identity = _match(report, user, now)
    _record_recipient(report, identity)
    document = _document(origin, text=text, file_bytes=file_bytes, report=report)
    fingerprint = hashlib.sha256(document.encode("utf-8")).hexdigest()
    credential_id = (report.summary.id or "")[:2000]
    existing = _existing(user, fingerprint, credential_id)
    if existing is not None:
        raise AlreadyImported(f"“{_name(existing.summary)}” is already in your wallet.", existing=existing)
    summary = report.summary.to_json()
    image = _display_image(file_bytes if origin == ImportOrigin.FILE else None, summary.get("image"))
    summary.pop("image", None)
    if image:
        summary["image"] = image
    try:
        with transaction.atomic():
            imported = ImportedBadge.objects.create(
                user=user, origin=origin, source_url=url or "", format=_format(report, document), document=document,
                fingerprint=fingerprint, credential_id=credential_id, summary=summary, report=report.to_json(),
                verdict=str(report.verdict), verified_at=now,
            )
    except IntegrityError:  # the same import submitted twice at once
        existing = _existing(user, fingerprint, credential_id)
        if existing is None:
            raise
        raise AlreadyImported(f"“{_name(existing.summary)}” is already in your wallet.", existing=existing) from None
    log.info("Imported badge %s (%s, %s)", imported.public_id, imported.format, imported.verdict)
    return imported


def _existing(user: Any, fingerprint: str, credential_id: str) -> ImportedBadge | None:
    found = ImportedBadge.objects.filter(user=user, fingerprint=fingerprint).first()
    if found is None and credential_id:
        found = ImportedBadge.objects.filter(user=user, credential_id=credential_id).first()
    return found


def _name(summary: dict[str, Any]) -> str:
    name = summary.get("name") or summary.get("achievement_name")
    return str(name) if isinstance(name, str) and name else "This badge"


# -- after import ----------------------------------------------------------------------------------------------


def get_import(*, user: Any, public_id: str) -> ImportedBadge:
    """One of the user's imported badges, or NotFound (also for other users' imports)."""
    found = ImportedBadge.objects.filter(user=user, public_id=public_id).first() if user.is_authenticated else None
    if found is None:
        raise NotFound("No such imported badge in your wallet.")
    return found


def public_import(public_id: str) -> ImportedBadge:
    """An imported badge for its public page (the page itself applies the visibility rules)."""
    found = ImportedBadge.objects.filter(public_id=public_id).first()
    if found is None:
        raise NotFound("No such badge.")
    return found


def reverify_import(*, user: Any, imported: ImportedBadge, now: datetime | None = None) -> ImportedBadge:
    """Verify the stored document again (the issuer may have revoked it since) and keep the new report.

    The recipient is matched against the user's *current* verified identities: a badge whose identity was
    removed from the account no longer shows as theirs.
    """
    if imported.user_id != user.pk:
        raise NotFound("No such imported badge in your wallet.")
    now = now or timezone.now()
    try:
        report = _verify(text=imported.document, now=now)
    except ImportRefused as exc:  # e.g. the size limit was lowered since: report it, keep the badge
        report = VerificationReport()
        report.failed("format", exc.code, exc.message)
    if report.credential is not None and report.get("recipient") is not None:
        identity = next((i for i in verified_identities(user) if _recipient_matches(report, i, now)), None)
        if identity is not None:
            _record_recipient(report, identity)
        else:
            report.failed("recipient", "recipient_mismatch",
                          "It no longer matches any of the verified identities on this account.")
    imported.report = report.to_json()
    imported.verdict = str(report.verdict)
    imported.verified_at = now
    imported.save(update_fields=["report", "verdict", "verified_at"])
    return imported


def remove_import(*, user: Any, imported: ImportedBadge) -> None:
    """Delete an imported badge from the wallet (and from every collection it was in)."""
    if imported.user_id != user.pk:
        raise NotFound("No such imported badge in your wallet.")
    imported.delete()


def set_import_visibility(*, user: Any, imported: ImportedBadge, visibility: str) -> ImportedBadge:
    """Unlisted (link only, noindex), public (on the portfolio) or hidden (the page says only that it exists)."""
    if imported.user_id != user.pk:
        raise NotFound("No such imported badge in your wallet.")
    if visibility not in Visibility.values:
        raise ServiceError("Choose unlisted, public or hidden.", code="visibility_invalid", field="visibility")
    imported.visibility = visibility
    imported.save(update_fields=["visibility"])
    return imported


def display_state(imported: ImportedBadge) -> str:
    """The status word for pills: valid, revoked, suspended, expired, invalid or unconfirmed."""
    if imported.verdict == "valid":
        return "valid"
    checks = {c.get("id"): c for c in (imported.report or {}).get("checks", []) if isinstance(c, dict)}
    status = checks.get("status") or {}
    if status.get("status") == "failed" and status.get("code") in ("revoked", "suspended"):
        return str(status["code"])
    validity = checks.get("validity") or {}
    if validity.get("status") == "failed" and validity.get("code") == "expired":
        return "expired"
    return "invalid" if imported.verdict == "invalid" else "unconfirmed"


__all__ = [
    "AlreadyImported",
    "Identity",
    "ImportRefused",
    "display_state",
    "get_import",
    "import_credential",
    "public_import",
    "remove_import",
    "reverify_import",
    "safe_image_url",
    "set_import_visibility",
    "verified_identities",
]
