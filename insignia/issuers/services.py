"""Issuer operations: every write to issuers and signing keys happens here."""

from __future__ import annotations

import io
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone

from insignia.core import audit
from insignia.core.errors import NotFound, ServiceError
from insignia.core.ids import new_public_id
from insignia.core.keystore import encrypt_private_key
from insignia.core.tenancy import Actor
from insignia.credentials.baking.svg import check_svg_safe
from insignia.credentials.errors import BakingError
from insignia.credentials.keys import Ed25519Signer, RsaSigner
from insignia.issuers.models import DidMethod, Issuer, KeyAlgorithm, SigningKey

MAX_DESCRIPTION = 5000
#: Issuer images are logos: anything larger than this on a side is refused rather than decoded.
MAX_IMAGE_SIDE = 4096
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _require_own(actor: Actor, issuer: Issuer) -> None:
    """An issuer of another organisation is *not found*, never *forbidden*."""
    if issuer.organisation_id != actor.organisation.pk:
        raise NotFound("No such issuer.")


def _new_key(issuer: Issuer, algorithm: str, *, now: datetime) -> SigningKey:
    signer: Ed25519Signer | RsaSigner
    if algorithm == KeyAlgorithm.ED25519:
        signer = Ed25519Signer.generate()
        prefix = "ed25519"
    else:
        signer = RsaSigner.generate(bits=2048)
        prefix = "rsa"
    public = signer.public_key()
    fragment = f"{prefix}-{now.strftime('%Y%m%d%H%M%S')}-{issuer.keys.filter(algorithm=algorithm).count() + 1}"
    return SigningKey.objects.create(
        issuer=issuer,
        algorithm=algorithm,
        fragment=fragment,
        public_jwk=public.to_jwk(),
        public_multibase=public.to_multibase() if algorithm == KeyAlgorithm.ED25519 else "",
        public_pem=public.to_pem(),
        encrypted_private_key=encrypt_private_key(signer),
    )


def _check_fields(name: str, url: str, email: str, description: str = "") -> None:
    """Refuse profile fields that could not be published (OB 2.0 needs a web URL and an email address)."""
    if not name.strip():
        raise ServiceError("Give the issuer a name.", field="name")
    if len(name.strip()) > Issuer._meta.get_field("name").max_length:
        raise ServiceError("The name is too long: keep it under 200 characters.", field="name")
    url = url.strip()
    if not url.startswith(("https://", "http://")):
        raise ServiceError("The issuer's website must be an http(s) URL, e.g. https://example.org.", field="url")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except DjangoValidationError:
        raise ServiceError(f"{url} is not a valid web address.", field="url") from None
    if len(url) > Issuer._meta.get_field("url").max_length:
        raise ServiceError("The website address is too long (500 characters at most).", field="url")
    try:
        validate_email(email.strip())
    except DjangoValidationError:
        raise ServiceError("Give a valid contact email address for the issuer.", field="email") from None
    if len(description) > MAX_DESCRIPTION:
        raise ServiceError(f"The description is too long ({MAX_DESCRIPTION:,} characters at most).",
                           field="description")


@transaction.atomic
def create_issuer(
    *,
    actor: Actor,
    name: str,
    url: str,
    email: str,
    description: str = "",
    did_method: str = DidMethod.WEB,
    now: datetime | None = None,
) -> Issuer:
    """A new issuer profile with a fresh Ed25519 key (eddsa-rdfc-2022) and RSA key (RS256).

    ``did_method`` names the issuer in OB 3.0 credentials: ``"web"`` (did:web under this instance's
    domain; keys can rotate) or ``"key"`` (did:key of the Ed25519 key: portable, cannot rotate). It cannot
    be changed later: credentials already issued name the DID.
    """
    actor.require("manage")
    _check_fields(name, url, email, description)
    method = str(did_method or DidMethod.WEB)
    if method not in DidMethod.values:
        raise ServiceError(f"Unknown DID method {method!r}: choose web (did:web) or key (did:key).",
                           field="did_method", code="did_method_invalid")
    now = now or timezone.now()
    issuer = Issuer.objects.create(
        organisation=actor.organisation, name=name.strip(), url=url.strip(), email=email.strip().lower(),
        description=description.strip(), did_method=method,
    )
    for algorithm in (KeyAlgorithm.ED25519, KeyAlgorithm.RSA):
        _new_key(issuer, algorithm, now=now)
    audit.record(actor.organisation, actor=actor.audit_actor, verb="issuer.created", obj=issuer,
                 data={"name": issuer.name, "did_method": method})
    return issuer


def rotating_algorithms(issuer: Issuer) -> list[str]:
    """The key algorithms ``rotate_keys`` replaces: both, or only RSA for a did:key issuer."""
    if issuer.did_method == DidMethod.KEY:
        return [KeyAlgorithm.RSA]
    return [KeyAlgorithm.ED25519, KeyAlgorithm.RSA]


@transaction.atomic
def rotate_keys(*, actor: Actor, issuer: Issuer, now: datetime | None = None) -> list[SigningKey]:
    """Retire the active keys and create new ones. Retired keys stay published, so what they signed verifies.

    A did:key issuer's Ed25519 key *is* its DID, so only its RSA (OB 2.0) key rotates.
    """
    actor.require("manage")
    _require_own(actor, issuer)
    now = now or timezone.now()
    algorithms = rotating_algorithms(issuer)
    issuer.keys.filter(retired_at__isnull=True, algorithm__in=algorithms).update(retired_at=now)
    keys = [_new_key(issuer, algorithm, now=now) for algorithm in algorithms]
    audit.record(actor.organisation, actor=actor.audit_actor, verb="issuer.keys_rotated", obj=issuer,
                 data={"keys": [k.fragment for k in keys]})
    return keys


@transaction.atomic
def update_issuer(
    *,
    actor: Actor,
    issuer: Issuer,
    name: str,
    url: str,
    email: str,
    description: str = "",
    now: datetime | None = None,
) -> Issuer:
    """Change the issuer's public profile. Its DID and keys stay; credentials already issued keep their copy."""
    actor.require("manage")
    _require_own(actor, issuer)
    _check_fields(name, url, email, description)
    new = {"name": name.strip(), "url": url.strip(), "email": email.strip().lower(),
           "description": description.strip()}
    changed = sorted(field for field, value in new.items() if getattr(issuer, field) != value)
    if not changed:
        return issuer
    for field, value in new.items():
        setattr(issuer, field, value)
    issuer.save(update_fields=[*new, "updated_at"])
    audit.record(actor.organisation, actor=actor.audit_actor, verb="issuer.updated", obj=issuer,
                 data={"fields": changed})
    return issuer


def _reencode_png(content: bytes) -> bytes:
    """Decode and re-encode a PNG (drops metadata and anything hidden after the image data)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content), formats=["PNG"]) as image:
            width, height = image.size
            if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
                raise ServiceError(
                    f"The image is {width}×{height} pixels; use one at most {MAX_IMAGE_SIDE} pixels on each side.",
                    field="image", code="image_too_large",
                )
            image.load()
            clean = image if image.mode in ("RGB", "RGBA", "L", "LA") else image.convert("RGBA")
            out = io.BytesIO()
            clean.save(out, format="PNG", optimize=True)
    except ServiceError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        raise ServiceError(f"This PNG cannot be read ({exc}); export it again and upload the new file.",
                           field="image", code="image_invalid") from None
    return out.getvalue()


def clean_issuer_image(content: bytes) -> tuple[bytes, str]:
    """The image as we will store it and its extension: a re-encoded PNG, or an SVG the kernel finds safe."""
    limit = settings.MAX_UPLOAD_BYTES
    if not content:
        raise ServiceError("The file is empty; choose a PNG or SVG image.", field="image", code="image_empty")
    if len(content) > limit:
        raise ServiceError(f"The image is {len(content):,} bytes; the limit is {limit:,} bytes.",
                           field="image", code="image_too_large")
    if content.startswith(PNG_SIGNATURE):
        return _reencode_png(content), "png"
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") and b"<svg" in content[:65536].lower():
        try:
            check_svg_safe(content, max_bytes=limit)
        except BakingError as exc:
            raise ServiceError(f"This SVG cannot be used: {exc.message} Remove scripts, event handlers, "
                               "external references and entity declarations, then upload it again.",
                               field="image", code="svg_refused") from None
        return content, "svg"
    raise ServiceError("Upload a PNG or SVG image.", field="image", code="image_unsupported")


def _replace_image(issuer: Issuer, content: bytes | None, extension: str = "") -> str:
    """Point the issuer at a new stored file (or none); returns the old file's name, deleted after commit."""
    old_name = issuer.image.name if issuer.image else ""
    if content is None:
        issuer.image = ""
    else:
        issuer.image.save(f"{issuer.public_id}-{new_public_id()[:12]}.{extension}", ContentFile(content), save=False)
    new_name = issuer.image.name if issuer.image else ""
    try:
        issuer.save(update_fields=["image", "updated_at"])
    except Exception:
        if new_name:
            issuer.image.storage.delete(new_name)
        raise
    if old_name:
        storage = issuer.image.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    return old_name


@transaction.atomic
def set_issuer_image(
    *, actor: Actor, issuer: Issuer, content: bytes, now: datetime | None = None
) -> Issuer:
    """Store a new issuer image: a PNG (re-encoded) or an SVG free of script and external references.

    Everything is checked before anything is written, so a refused file leaves the issuer as it was.
    """
    actor.require("manage")
    _require_own(actor, issuer)
    data, extension = clean_issuer_image(content)
    _replace_image(issuer, data, extension)
    audit.record(actor.organisation, actor=actor.audit_actor, verb="issuer.image_set", obj=issuer,
                 data={"type": "image/png" if extension == "png" else "image/svg+xml", "bytes": len(data)})
    return issuer


@transaction.atomic
def remove_issuer_image(*, actor: Actor, issuer: Issuer, now: datetime | None = None) -> Issuer:
    """Remove the issuer's image."""
    actor.require("manage")
    _require_own(actor, issuer)
    if issuer.image:
        _replace_image(issuer, None)
        audit.record(actor.organisation, actor=actor.audit_actor, verb="issuer.image_removed", obj=issuer)
    return issuer
