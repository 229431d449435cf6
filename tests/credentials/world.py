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
