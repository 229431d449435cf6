"""Issuer profiles and signing keys. Private keys are stored encrypted (see ``core.keystore``)."""

from __future__ import annotations

from django.db import models

from insignia.core.ids import new_public_id
from insignia.core.models import Organisation


class DidMethod(models.TextChoices):
    """How an issuer names itself in OB 3.0 credentials (chosen once, at creation)."""

    #: ``did:web:<our host>:i:<id>``: resolved from this instance; keys can rotate.
    WEB = "web", "did:web"
    #: ``did:key:z6Mk…``: the Ed25519 public key itself; portable, resolves offline, cannot rotate.
    KEY = "key", "did:key"


class Issuer(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="issuers")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    name = models.CharField(max_length=200)
    url = models.URLField(max_length=500)
    email = models.EmailField()
    description = models.TextField(blank=True)
    image = models.FileField(upload_to="issuers/", blank=True)
    did_method = models.CharField(max_length=8, choices=DidMethod.choices, default=DidMethod.WEB)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class KeyAlgorithm(models.TextChoices):
    ED25519 = "EdDSA", "Ed25519 (eddsa-rdfc-2022, VC-JWT EdDSA)"
    RSA = "RS256", "RSA (VC-JWT RS256, OB 2.0 JWS)"


class SigningKey(models.Model):
    """One key of an issuer. Retired keys stay published so credentials they signed keep verifying."""

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="keys")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    algorithm = models.CharField(max_length=8, choices=KeyAlgorithm.choices)
    #: The fragment under the issuer's did:web document: ``did:web:…#<fragment>`` (did:key issuers' Ed25519
    #: key is named ``did:key:z…#z…`` instead, as the did:key method defines).
    fragment = models.CharField(max_length=100)
    public_jwk = models.JSONField()
    public_multibase = models.CharField(max_length=200, blank=True)
    public_pem = models.TextField()
    encrypted_private_key = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["issuer", "fragment"], name="unique_key_fragment")]

    @property
    def active(self) -> bool:
        return self.retired_at is None
