"""Shared set-up for the award tests (no tests here): an issuer, badges with images, and a fetcher.

``ClientFetch`` answers a verifier's requests for URLs under INSIGNIA_BASE_URL through Django's test
client, so the kernel's ``Verifier`` checks what the platform really serves (DID document, OB 2.0
issuer, key and BadgeClass, status lists, hosted assertions, revocation lists), in-process.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from insignia.badges.models import BadgeClass, BadgeStatus
from insignia.core.tenancy import Actor
from insignia.credentials import Verifier
from insignia.credentials.errors import FetchError
from insignia.issuers.models import Issuer
from insignia.issuers.services import create_issuer

SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="120" '
       b'height="120" viewBox="0 0 120 120"><circle cx="60" cy="60" r="50" fill="#1d4ed8"/></svg>\n')


def png_bytes(size: int = 120) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (size, size), (29, 78, 216, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def make_issuer(actor: Actor, name: str = "Acme Academy") -> Issuer:
    return create_issuer(actor=actor, name=name, url="https://acme.example", email="badges@acme.example")


def make_badge(actor: Actor, issuer: Issuer, *, name: str = "Data Stewardship", image: str = "png",
               **fields: Any) -> BadgeClass:
    """A published badge with a PNG (``image="png"``), an SVG plus PNG rendition (``"svg"``) or no image."""
    badge = BadgeClass.objects.create(
        organisation=actor.organisation, issuer=issuer, name=name,
        description="Curates, documents and protects research data.",
        criteria_narrative=fields.pop("criteria_narrative", "Pass the final assessment."),
        status=fields.pop("status", BadgeStatus.PUBLISHED), **fields,
    )
    if image == "png":
        badge.image.save("badge.png", ContentFile(png_bytes()), save=False)
        badge.image_png.save("badge.png", ContentFile(png_bytes()), save=False)
        badge.image_type = "image/png"
    elif image == "svg":
        badge.image.save("badge.svg", ContentFile(SVG), save=False)
        badge.image_png.save("badge.png", ContentFile(png_bytes()), save=False)
        badge.image_type = "image/svg+xml"
    badge.save()
    return badge


def make_public_award(actor: Actor, badge: BadgeClass | None = None, *, recipient: str = "ada@example.org") -> Any:
    """An award to Ada Lovelace, accepted and made public by its earner: the public page shows everything."""
    from insignia.awards.models import Award
    from insignia.awards.services import issue_award

    issued = issue_award(actor=actor, badge=badge or make_badge(actor, make_issuer(actor)), recipient=recipient,
                         recipient_name="Ada Lovelace")
    Award.objects.filter(pk=issued.pk).update(visibility="public", acceptance="accepted")
    return Award.objects.get(pk=issued.pk)


@dataclass
class ClientFetch:
    """``fetch(url) -> bytes`` for the Verifier, answering URLs under BASE_URL with the Django test client."""

    client: Client
    requests: list[str]

    def __init__(self, client: Client | None = None) -> None:
        self.client = client or Client()
        self.requests = []

    def __call__(self, url: str) -> bytes:
        self.requests.append(url)
        if not url.startswith(settings.BASE_URL + "/"):
            raise FetchError(f"{url} is outside this instance.", code="fetch_refused")
        path = urlsplit(url).path
        response = self.client.get(path, HTTP_ACCEPT="application/json")
        if response.status_code != 200:
            raise FetchError(f"{url} answered HTTP {response.status_code}.", code=f"http_{response.status_code}",
                             status=response.status_code)
        return response.content

    def verifier(self) -> Verifier:
        return Verifier(fetch=self, allow_http_loopback=True)


def check(report: Any, check_id: str) -> tuple[str, str]:
    """``(status, code)`` of one check of a verification report."""
    found = report.get(check_id)
    assert found is not None, f"no {check_id!r} check in {report.to_json()}"
    return str(found.status), found.code
