"""The documents of an award: the signed OB 3.0 credential and the forms derived from it.

From one ``Award`` row we produce:

* the **OB 3.0 credential** (``eddsa-rdfc-2022``), built and signed once at issue time and stored
  unchanged in ``Award.credential``;
* its **VC-JWT** (RS256, ``kid`` = the issuer's RSA key; EdDSA with the did:key for a did:key issuer),
  made on first request, cached in ``Award.jwt``;
* the **OB 2.0 hosted assertion**, rendered from the row on each request (it is not signed; its
  authority is the issuer's origin), or the 410 body once revoked;
* the **OB 2.0 signed assertion** (compact JWS, RS256), cached in ``Award.ob2_signed``;
* **baked** PNG and SVG images of the OB 3.0 credential or the OB 2.0 assertion.

All public URLs live under ``INSIGNIA_BASE_URL``: ``/c/<award>`` for awards, ``/a/<badge>`` for
achievements, ``/i/<issuer>`` for issuers (see ``issuers.identity``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from django.conf import settings

from insignia.awards.models import Award, RecipientKind
from insignia.badges.documents import achievement_for_credential, ob2_badgeclass_url
from insignia.badges.models import BadgeClass
from insignia.credentials import bake, credential_jwt, sign_credential, sign_ob2_assertion
from insignia.credentials.model import ob2, ob3
from insignia.credentials.model.identity import make_identity_object, make_ob2_recipient
from insignia.issuers.documents import ob3_profile
from insignia.issuers.identity import active_key, active_signer, jwt_key, key_id, ob2_key_url, signer_for_key
from insignia.issuers.models import Issuer, KeyAlgorithm

# -- URLs ------------------------------------------------------------------------------------


def credential_url(public_id: str) -> str:
    """The credential's id: the public page for people, the credential JSON for machines."""
    return f"{settings.BASE_URL}/c/{public_id}"


def evidence_file_url(award_public_id: str, file_public_id: str) -> str:
    """Where an uploaded evidence file is served (as a download); both ids are random."""
    return f"{credential_url(award_public_id)}/evidence/{file_public_id}"


def assertion_url(public_id: str) -> str:
    """The OB 2.0 hosted assertion's id."""
    return f"{credential_url(public_id)}/assertion"


# -- the recipient ---------------------------------------------------------------------------

#: Our recipient kinds → the kernel's identity kinds (OB 3.0 identifier, OB 2.0 recipient type).
_OB3_KIND = {RecipientKind.EMAIL: "email", RecipientKind.URL: "url", RecipientKind.PHONE: "phone"}
_OB2_KIND = {RecipientKind.EMAIL: "email", RecipientKind.URL: "url", RecipientKind.PHONE: "telephone",
             RecipientKind.DID: "id"}


def subject_identity(kind: str, identity: str, salt: str) -> tuple[str | None, list[ob3.IdentityObject]]:
    """``(credentialSubject.id, identifier[])`` for a recipient.

    A DID is the subject's ``id`` (the holder proves control of it; it is public by design). Email,
    URL and phone recipients get one salted, hashed IdentityObject and no ``id``.
    """
    if kind == RecipientKind.DID:
        return identity, []
    return None, [make_identity_object(_OB3_KIND[RecipientKind(kind)], identity, salt=salt)]


def ob2_recipient(kind: str, identity: str, salt: str) -> dict[str, Any]:
    """The OB 2.0 recipient: the same identity hashed with the same salt."""
    return make_ob2_recipient(_OB2_KIND[RecipientKind(kind)], identity, salt=salt)


# -- OB 3.0 ----------------------------------------------------------------------------------


def evidence_documents(evidence: Sequence[Mapping[str, str]]) -> list[ob3.Evidence]:
    return [
        ob3.Evidence(id=item.get("url") or None, narrative=item.get("narrative") or None,
                     name=item.get("name") or None, description=item.get("description") or None)
        for item in evidence
    ]


def build_credential(
    *,
    public_id: str,
    issuer: Issuer,
    badge: BadgeClass,
    recipient_kind: str,
    recipient_identity: str,
    salt: str,
    evidence: Sequence[Mapping[str, str]],
    narrative: str,
    issued_on: datetime,
    expires_on: datetime | None,
    credential_status: Mapping[str, Any],
) -> dict[str, Any]:
    """The unsigned OB 3.0 credential of an award (checked strictly by the kernel builder)."""
    subject_id, identifiers = subject_identity(recipient_kind, recipient_identity, salt)
    credential = ob3.OpenBadgeCredential(
        id=credential_url(public_id),
        name=badge.name,
        description=badge.description or None,
        issuer=ob3_profile(issuer),
        valid_from=issued_on,
        valid_until=expires_on,
        awarded_date=issued_on,
        credential_subject=ob3.AchievementSubject(
            id=subject_id, identifier=identifiers, achievement=achievement_for_credential(badge),
            narrative=narrative or None,
        ),
        evidence=evidence_documents(evidence),
        credential_status=credential_status,
    )
    return credential.to_json()


def sign(credential: dict[str, Any], issuer: Issuer) -> dict[str, Any]:
    """Sign with the issuer's active Ed25519 key (eddsa-rdfc-2022)."""
    return sign_credential(credential, active_signer(issuer, KeyAlgorithm.ED25519))


def unsigned(award: Award) -> dict[str, Any]:
    """The stored credential without its Data Integrity proof (what the JWT secures instead)."""
    return {key: value for key, value in award.credential.items() if key != "proof"}


def jwt_for(award: Award) -> str:
    """The VC-JWT form (RS256; EdDSA for a did:key issuer), made once and cached in ``Award.jwt``."""
    if award.jwt:
        return award.jwt
    key = jwt_key(award.issuer)
    token = credential_jwt(unsigned(award), signer_for_key(key), kid=key_id(key))
    Award.objects.filter(pk=award.pk, jwt="").update(jwt=token)
    award.jwt = token
    return token


# -- OB 2.0 ----------------------------------------------------------------------------------


def _ob2_assertion(award: Award, *, verification: Literal["hosted", "signed"], creator: str | None = None
                   ) -> dict[str, Any]:
    image = f"{credential_url(award.public_id)}/badge-ob2.png" if award.badge.image_png else None
    return ob2.Assertion(
        id=assertion_url(award.public_id),
        recipient=ob2_recipient(award.recipient_kind, award.recipient_identity, award.recipient_salt),
        badge=ob2_badgeclass_url(award.badge),
        issued_on=award.issued_on,
        expires=award.expires_on,
        verification=verification,
        creator=creator,
        image=image,
        evidence=[ob2.Evidence(id=item.get("url") or None, narrative=item.get("narrative") or None,
                               name=item.get("name") or None, description=item.get("description") or None)
                  for item in award.evidence or []],
        narrative=award.narrative or None,
    ).to_json()


def hosted_assertion(award: Award) -> dict[str, Any]:
    """The OB 2.0 hosted assertion; for a revoked award, the body served with 410 Gone."""
    if award.status == "revoked":
        return ob2.revoked_assertion(assertion_url(award.public_id), award.status_reason or None)
    return _ob2_assertion(award, verification="hosted")


def signed_assertion(award: Award) -> str:
    """The OB 2.0 signed assertion (compact JWS, RS256), made once and cached in ``Award.ob2_signed``."""
    if award.ob2_signed:
        return award.ob2_signed
    key = active_key(award.issuer, KeyAlgorithm.RSA)
    token = sign_ob2_assertion(_ob2_assertion(award, verification="signed", creator=ob2_key_url(key)),
                               signer_for_key(key), kid=ob2_key_url(key))
    Award.objects.filter(pk=award.pk, ob2_signed="").update(ob2_signed=token)
    award.ob2_signed = token
    return token


# -- baked images ----------------------------------------------------------------------------


class ImageMissing(LookupError):
    """The badge has no image of the asked-for format."""


def badge_image(badge: BadgeClass, image_format: Literal["png", "svg"]) -> bytes:
    """The badge's PNG rendition or its SVG image, or ``ImageMissing``."""
    if image_format == "png":
        field = badge.image_png or (badge.image if badge.image_type == "image/png" else None)
    else:
        field = badge.image if badge.image_type == "image/svg+xml" else None
    if not field:
        raise ImageMissing(f"This badge has no {image_format.upper()} image.")
    with field.open("rb") as handle:
        return handle.read()


def baked(award: Award, image_format: Literal["png", "svg"], flavour: Literal["ob3", "ob2"]) -> bytes:
    """The badge image with the OB 3.0 credential (``ob3``) or OB 2.0 hosted assertion (``ob2``) baked in."""
    image = badge_image(award.badge, image_format)
    if flavour == "ob3":
        payload = json.dumps(award.credential, ensure_ascii=False, separators=(",", ":"))
    else:
        payload = json.dumps(hosted_assertion(award), ensure_ascii=False, separators=(",", ":"))
    return bake(image, payload, flavour=flavour)
