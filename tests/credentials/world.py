"""A small world for verification tests: issuers with keys, their published documents, status lists.

``Network`` stands in for the internet (URL → response); it is a test double of the network only —
every component of ours runs for real against it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from insignia.credentials.dids import build_did_web_document, did_web_to_url
from insignia.credentials.errors import FetchError
from insignia.credentials.issue import sign_credential
from insignia.credentials.keys import Ed25519Signer, RsaSigner
from insignia.credentials.model.identity import make_identity_object
from insignia.credentials.model.ob3 import (
    Achievement,
    AchievementSubject,
    Alignment,
    Criteria,
    Evidence,
    Image,
    OpenBadgeCredential,
    Profile,
)
from insignia.credentials.status.bitstring import Bitstring, status_entry, status_list_credential

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
RECIPIENT = "ada@example.org"


class Network:
    """URL → bytes, or an HTTP status code to answer with."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes | int] = {}
        self.requests: list[str] = []

    def put_json(self, url: str, document: Any) -> None:
        self.pages[url] = json.dumps(document).encode()

    def __call__(self, url: str) -> bytes:
        self.requests.append(url)
        page = self.pages.get(url)
        if page is None:
            raise FetchError(f"{url} answered HTTP 404.", code="http_404", status=404)
        if isinstance(page, int):
            raise FetchError(f"{url} answered HTTP {page}.", code=f"http_{page}", status=page)
        return page


@dataclass
class Issuer:
    network: Network
    slug: str = "acme"
    host: str = "issuer.example"
    ed25519: Ed25519Signer = field(init=False)
    rsa: RsaSigner = field(init=False)
    lists: dict[str, Bitstring] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.did = f"did:web:{self.host}:issuers:{self.slug}"
        self.ed25519 = Ed25519Signer.generate(key_id=f"{self.did}#key-1")
        self.rsa = RsaSigner.generate(key_id=f"{self.did}#rsa-1")
        document = build_did_web_document(
            self.did,
            ed25519_keys=[("key-1", self.ed25519.public_key())],
            rsa_keys=[("rsa-1", self.rsa.public_key())],
        )
        self.network.put_json(did_web_to_url(self.did), document)
        for purpose in ("revocation", "suspension"):
            self.lists[purpose] = Bitstring()
            self.publish_list(purpose)

    def list_url(self, purpose: str) -> str:
        return f"https://{self.host}/status/{self.slug}/{purpose}"

    def publish_list(self, purpose: str, *, signer: Ed25519Signer | None = None, issuer: str | None = None) -> None:
        unsigned = status_list_credential(
            id=self.list_url(purpose),
            issuer=issuer or self.did,
            purpose=purpose,  # type: ignore[arg-type]
            bitstring=self.lists[purpose],
            valid_from=NOW - timedelta(days=30),
        )
        self.network.put_json(self.list_url(purpose), sign_credential(unsigned, signer or self.ed25519))

    def set_status(self, purpose: str, index: int, value: bool) -> None:
        self.lists[purpose].set(index, value)
        self.publish_list(purpose)

    def profile(self) -> Profile:
        return Profile(id=self.did, name=f"{self.slug.title()} Academy", url=f"https://{self.host}/")

    def credential(
        self,
        *,
        index: int = 4242,
        purpose: str = "revocation",
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        recipient: str = RECIPIENT,
        name: str = "Data Stewardship",
        endorsement: tuple[dict, ...] = (),
    ) -> dict[str, Any]:
        achievement = Achievement(
            id=f"https://{self.host}/achievements/data-stewardship",
            name=name,
            description="Curates, documents and protects research data.",
            criteria=Criteria(narrative="Pass the final assessment."),
            image=Image(id=f"https://{self.host}/achievements/data-stewardship.png"),
            achievement_type="Competency",
            alignment=[Alignment(target_name="Manage data", target_url="https://frameworks.example/rdm/1")],
            tag=["data"],
            endorsement=endorsement,
        )
        credential = OpenBadgeCredential(
            id=f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
            name=name,
            issuer=self.profile(),
            valid_from=valid_from or NOW - timedelta(days=1),
            valid_until=valid_until,
            credential_subject=AchievementSubject(
                achievement=achievement, identifier=[make_identity_object("emailAddress", recipient)]
            ),
            evidence=[Evidence(id=f"https://{self.host}/evidence/1", narrative="A data management plan.")],
            credential_status=status_entry(
                list_url=self.list_url(purpose), index=index, purpose=purpose  # type: ignore[arg-type]
            ),
        )
        return credential.to_json()

    def sign(self, credential: dict[str, Any]) -> dict[str, Any]:
        return sign_credential(credential, self.ed25519, created=NOW - timedelta(hours=1))


# == Open Badges 2.0 ============================================================================================

OB2_ORIGIN = "https://issuer.example"


@dataclass
class Ob2Issuer:
    """An OB 2.0 issuer publishing its Profile, BadgeClass, RSA CryptographicKey and RevocationList on a Network.

    Hosted assertions are served at their ids with ``host``; signed ones are JWS strings from ``sign``.
    """

    network: Network
    origin: str = OB2_ORIGIN
    email: str | None = "badges@issuer.example"
    rsa: RsaSigner = field(init=False)
    revoked: dict[str, str | None] = field(default_factory=dict)
    allowed_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.rsa = RsaSigner.generate(key_id=self.key_id)
        self.publish()

    @property
    def issuer_id(self) -> str:
        return f"{self.origin}/ob2/issuer"

    @property
    def badge_id(self) -> str:
        return f"{self.origin}/ob2/badges/data-stewardship"

    @property
    def key_id(self) -> str:
        return f"{self.origin}/ob2/keys/rsa-1"

    @property
    def revocation_list_url(self) -> str:
        return f"{self.origin}/ob2/revocations"

    def profile(self) -> dict[str, Any]:
        from insignia.credentials.model.ob2 import Issuer as Ob2Profile
        from insignia.credentials.model.ob2 import IssuerVerification

        verification = IssuerVerification(allowed_origins=self.allowed_origins) if self.allowed_origins else None
        document = Ob2Profile(
            id=self.issuer_id, name="Acme Academy", url=f"{self.origin}/", email=self.email or "x@example.org",
            public_key=[self.key_id], revocation_list=self.revocation_list_url, verification=verification,
        ).to_json()
        if self.email is None:
            del document["email"]
        return document

    def badge_class(self) -> dict[str, Any]:
        from insignia.credentials.model.ob2 import BadgeClass, Criteria

        return BadgeClass(
            id=self.badge_id, name="Data Stewardship", description="Curates, documents and protects research data.",
            image=f"{self.origin}/ob2/badges/data-stewardship.png",
            criteria=Criteria(narrative="Pass the final assessment."), issuer=self.issuer_id,
        ).to_json()

    def key(self, *, owner: str | None = None) -> dict[str, Any]:
        from insignia.credentials.model.ob2 import CryptographicKey

        return CryptographicKey(id=self.key_id, owner=owner or self.issuer_id,
                                public_key_pem=self.rsa.public_key_pem()).to_json()

    def publish(self) -> None:
        """(Re)publish the profile, badge class, key and revocation list at their ids."""
        from insignia.credentials.status.revocation_list import revocation_list

        self.network.put_json(self.issuer_id, self.profile())
        self.network.put_json(self.badge_id, self.badge_class())
        self.network.put_json(self.key_id, self.key())
        self.network.put_json(self.revocation_list_url, revocation_list(
            id=self.revocation_list_url, issuer=self.issuer_id, revoked=self.revoked))

    def assertion(
        self,
        slug: str = "1",
        *,
        signed: bool = False,
        host: str | None = None,
        issued_on: datetime | None = None,
        expires: datetime | None = None,
        recipient: str = RECIPIENT,
        salt: str | None = "deadbeefcafe",
    ) -> dict[str, Any]:
        """An assertion JSON (hosted unless ``signed``); ``host`` puts its id on another origin."""
        from insignia.credentials.model.identity import make_ob2_recipient
        from insignia.credentials.model.ob2 import Assertion

        return Assertion(
            id=f"{host or self.origin}/ob2/assertions/{slug}",
            recipient=make_ob2_recipient("email", recipient, salt=salt),
            badge=self.badge_id,
            issued_on=issued_on or NOW - timedelta(days=1),
            expires=expires,
            verification="signed" if signed else "hosted",
            creator=self.key_id if signed else None,
        ).to_json()

    def host(self, assertion: dict[str, Any]) -> str:
        """Serve ``assertion`` at its id; returns the URL."""
        self.network.put_json(assertion["id"], assertion)
        return assertion["id"]

    def sign(self, assertion: dict[str, Any], signer: RsaSigner | None = None) -> str:
        from insignia.credentials.proofs.jose import sign_ob2_assertion

        return sign_ob2_assertion(assertion, signer or self.rsa)

    def revoke(self, assertion_id: str, reason: str | None = None) -> None:
        self.revoked[assertion_id] = reason
        self.publish()


def did_key_signer() -> Ed25519Signer:
    """An Ed25519 key whose did:key is its own controller (verifies offline: no network needed)."""
    from insignia.credentials.dids import did_key_from_public_key

    signer = Ed25519Signer.generate()
    did = did_key_from_public_key(signer.public_key())
    signer.key_id = f"{did}#{did.split(':')[-1]}"
    return signer


def did_key_credential(signer: Ed25519Signer, *, recipient: str = RECIPIENT, list_url: str | None = None,
                       now: datetime = NOW) -> dict[str, Any]:
    """A signed OB 3.0 credential issued by ``signer``'s did:key; with ``list_url`` it carries a status entry.

    It is valid from a day before ``now`` (pass the real time for tests that cannot set the verifier's clock).
    """
    did = (signer.key_id or "").split("#")[0]
    credential = OpenBadgeCredential(
        id="urn:uuid:00000000-0000-4000-8000-000000000777",
        name="Data Stewardship",
        issuer=Profile(id=did, name="Key Academy", url="https://key-academy.example/"),
        valid_from=now - timedelta(days=1),
        credential_subject=AchievementSubject(
            achievement=Achievement(
                id="https://key-academy.example/achievements/data-stewardship",
                name="Data Stewardship",
                description="Curates, documents and protects research data.",
                criteria=Criteria(narrative="Pass the final assessment."),
            ),
            identifier=[make_identity_object("emailAddress", recipient)],
        ),
        credential_status=status_entry(list_url=list_url, index=3, purpose="revocation") if list_url else None,
    ).to_json()
    return sign_credential(credential, signer, created=now - timedelta(hours=1))


def plain_png(size: int = 8) -> bytes:
    """A small, unbaked PNG."""
    from io import BytesIO

    from PIL import Image as PILImage

    out = BytesIO()
    PILImage.new("RGBA", (size, size), (20, 90, 200, 255)).save(out, format="PNG")
    return out.getvalue()


PLAIN_SVG = (b'<?xml version="1.0"?>\n'
             b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle r="4"/></svg>')
