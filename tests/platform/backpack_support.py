"""Set-up shared by the wallet tests (no tests here): an issuing organisation, awards, earners with verified
addresses, and a signed-in client per earner."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from insignia.awards.models import Award
from insignia.awards.services import issue_award
from insignia.core.models import Role
from insignia.core.tenancy import Actor
from tests.platform.test_awards_support import make_badge, make_issuer

PASSWORD = "correct horse battery staple"


@pytest.fixture
def issuer_actor(member) -> Actor:
    return member(Role.OWNER, email="registrar@acme.example")


@pytest.fixture
def badge(issuer_actor):
    return make_badge(issuer_actor, make_issuer(issuer_actor))


@pytest.fixture
def award_to(issuer_actor, badge):
    """award_to(recipient, kind="email", **fields) -> Award issued with the real awards service."""

    def make(recipient: str, kind: str = "email", **fields: Any) -> Award:
        return issue_award(actor=issuer_actor, badge=fields.pop("badge", badge), recipient=recipient,
                           recipient_kind=kind, recipient_name=fields.pop("recipient_name", "Ada Lovelace"),
                           **fields)

    return make


@pytest.fixture
def earner(make_user):
    """earner(email, verified=True) -> a user whose (allauth) primary address is ``email``."""

    def make(email: str = "ada@example.org", *, verified: bool = True) -> Any:
        user = make_user(email, PASSWORD)
        EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
        return user

    return make


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- a real SMTP server ------------------------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.original_content)
        return "250 Message accepted for delivery"

    def texts(self) -> list[str]:
        import email
        from email.policy import default as default_policy

        found = []
        for raw in self.raw:
            message = email.message_from_bytes(raw, policy=default_policy)
            part = message.get_body(preferencelist=("plain",))
            found.append(part.get_content() if part is not None else "")
        return found


@pytest.fixture
def smtp(settings) -> Any:
    """A real SMTP server on 127.0.0.1 that Django's SMTP backend sends to; yields its Inbox."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield inbox
    finally:
        controller.stop()
