"""Issuer operations: every write to issuers and signing keys happens here."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from insignia.core import audit
from insignia.core.errors import ServiceError
from insignia.core.keystore import encrypt_private_key
from insignia.core.tenancy import Actor
from insignia.credentials.keys import Ed25519Signer, RsaSigner
from insignia.issuers.models import Issuer, KeyAlgorithm, SigningKey


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


def _check_fields(name: str, url: str, email: str) -> None:
    if not name.strip():
        raise ServiceError("Give the issuer a name.", field="name")
    if not url.startswith(("https://", "http://")):
        raise ServiceError("The issuer's website must be an http(s) URL.", field="url")
    if "@" not in email:
        raise ServiceError("Give a contact email address for the issuer.", field="email")


@transaction.atomic
def create_issuer(
    *,
    actor: Actor,
    name: str,
    url: str,
    email: str,
    description: str = "",
    now: datetime | None = None,
) -> Issuer:
    """A new issuer profile with a fresh Ed25519 key (did:web, eddsa-rdfc-2022) and RSA key (RS256)."""
    actor.require("manage")
    _check_fields(name, url, email)
    now = now or timezone.now()
    issuer = Issuer.objects.create(
        organisation=actor.organisation, name=name.strip(), url=url.strip(), email=email.strip().lower(),
        description=description.strip(),
    )
    for algorithm in (KeyAlgorithm.ED25519, KeyAlgorithm.RSA):
        _new_key(issuer, algorithm, now=now)
    audit.record(actor.organisation, actor=actor.audit_actor, verb="issuer.created", obj=issuer,
                 data={"name": issuer.name})
    return issuer


@transaction.atomic
def rotate_keys(*, actor: Actor, issuer: Issuer, now: datetime | None = None) -> list[SigningKey]:
    """Retire the active keys and create new ones. Retired keys stay published, so what they signed verifies."""
    actor.require("manage")
    if issuer.organisation_id != actor.organisation.pk:
        raise ServiceError("No such issuer.", code="not_found")
    now = now or timezone.now()
    issuer.keys.filter(retired_at__isnull=True).update(retired_at=now)
    keys = [_new_key(issuer, algorithm, now=now) for algorithm in (KeyAlgorithm.ED25519, KeyAlgorithm.RSA)]
    audit.record(actor.organisation, actor=actor.audit_actor, verb="issuer.keys_rotated", obj=issuer,
                 data={"keys": [k.fragment for k in keys]})
    return keys
