"""Award emails: a real SMTP server (aiosmtpd) receives them, the claim link works, opt-outs and resends.

The SMTP tests point Django's SMTP backend at an aiosmtpd server started on a free local port; the others
use pytest-django's in-memory outbox.
"""

from __future__ import annotations

import email
import hashlib
import re
import socket
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from insignia.awards import events
from insignia.awards.models import Award
from insignia.awards.services import issue_award, revoke_award
from insignia.core.errors import NotFound, PermissionDenied, ServiceError
from insignia.core.models import AuditEvent, Membership, Role
from insignia.notifications.models import ClaimToken, EmailOptOut, Notification, NotificationStatus
from insignia.notifications.services import (
    RESEND_INTERVAL,
    ResendTooSoon,
    notify_award_issued,
    opt_out,
    opt_out_url,
    resend_award_email,
    send_award_email,
)
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db

BASE = django_settings.BASE_URL


# -- a real SMTP server ------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=default_policy) for _, _, raw in self.envelopes]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings) -> Any:
    """A real SMTP server on 127.0.0.1 that Django's SMTP backend sends to; yields its Inbox."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield inbox
    finally:
        controller.stop()


# -- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
def owner(member):
    actor = member(Role.OWNER)
    actor.organisation.brand_colour = "#0f766e"
    actor.organisation.save()
    return actor


@pytest.fixture
def badge(owner):
    return make_badge(owner, make_issuer(owner))


@pytest.fixture
def award(owner, badge) -> Award:
    """Issued with the awards service (outside any on-commit capture, so its own hook does not run)."""
    return issue_award(actor=owner, badge=badge, recipient="Ada@Example.org", recipient_name="Ada Lovelace")


def _parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


def _link(text: str, prefix: str) -> str:
    match = re.search(re.escape(f"{BASE}{prefix}") + r"[^\s\"'<>]+", text)
    assert match, f"no {prefix} link in {text!r}"
    return match.group(0)


def _path(url: str) -> str:
    return urlsplit(url).path


def _send(capture, **kwargs: Any) -> Notification:
    with capture(execute=True):
        notification = send_award_email(**kwargs)
    assert notification is not None
    notification.refresh_from_db()
    return notification


# -- the email, through a real SMTP server -----------------------------------------------------


def test_award_email_reaches_a_real_smtp_server_and_its_claim_link_shows_the_award(
        smtp, award, badge, owner, django_capture_on_commit_callbacks) -> None:
    notification = _send(django_capture_on_commit_callbacks, award=award)

    assert notification.status == NotificationStatus.SENT, notification.error
    assert notification.sent_at is not None
    assert len(smtp.envelopes) == 1
    _, rcpt_tos, _ = smtp.envelopes[0]
    assert rcpt_tos == ["ada@example.org"]
    (message,) = smtp.messages
    assert message["To"] == "ada@example.org"
    assert "Acme Academy via Insignia" in message["From"]
    assert message["Subject"].strip() == "Acme Academy awarded you “Data Stewardship”"
    assert message["Message-ID"] == notification.message_id
    assert message["Reply-To"] == "badges@acme.example"

    parts = _parts(message)
    assert set(parts) == {"text/plain", "text/html"}
    text, html = parts["text/plain"], parts["text/html"]
    for body in (text, html):
        assert "Acme Academy" in body
        assert "Data Stewardship" in body
        assert "Ada Lovelace" in body
        assert f"{BASE}/c/{award.public_id}" in body
    assert "#0f766e" in html  # the organisation's brand colour
    assert f'src="{BASE}/a/{badge.public_id}/image.png"' in html
    assert 'alt="Data Stewardship"' in html
    claim = _link(text, "/claim/")
    assert f'href="{claim}"' in html
    unsubscribe = _link(text, "/email/opt-out/")
    assert message["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # Only the token's hash is stored.
    token = claim.rsplit("/", 1)[1]
    stored = ClaimToken.objects.get(award=award)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.expires_at - stored.created_at == timedelta(days=90)

    response = Client().get(_path(claim))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Data Stewardship" in page
    assert "Acme Academy" in page
    assert "a***@example.org" in page
    assert "ada@example.org" not in page.replace("ada%40example.org", "")  # only in the sign-up link, encoded
    assert f'href="/c/{award.public_id}"' in page
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    links = re.findall(r'href="(/accounts/(?:login|signup)/\?[^"]+)"', page)
    queries = {urlsplit(link).path: parse_qs(urlsplit(link.replace("&amp;", "&")).query) for link in links}
    assert queries["/accounts/login/"] == {"next": [_path(claim)]}
    assert queries["/accounts/signup/"] == {"email": ["ada@example.org"], "next": [_path(claim)]}


def test_a_failed_delivery_is_recorded_not_raised(settings, award, django_capture_on_commit_callbacks) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 2
    notification = _send(django_capture_on_commit_callbacks, award=award)
    assert notification.status == NotificationStatus.FAILED
    assert "Connection" in notification.error or "refused" in notification.error.lower()
    assert notification.sent_at is None


# -- the claim link ----------------------------------------------------------------------------


def _claim_path(outbox: list) -> str:
    return _path(_link(outbox[-1].body, "/claim/"))


def test_used_expired_and_unknown_claim_links_are_refused_without_revealing_the_award(
        award, mailoutbox, django_capture_on_commit_callbacks) -> None:
    client = Client()

    _send(django_capture_on_commit_callbacks, award=award)
    used = _claim_path(mailoutbox)
    assert client.get(used).status_code == 200
    ClaimToken.objects.filter(award=award).update(used_at=timezone.now())
    response = client.get(used)
    assert response.status_code == 410
    assert "already been used" in response.content.decode()

    _send(django_capture_on_commit_callbacks, award=award, now=timezone.now() - timedelta(days=91))
    response = client.get(_claim_path(mailoutbox))
    assert response.status_code == 410
    assert "expired" in response.content.decode()

    for path in ("/claim/not-a-real-token", "/claim/" + "A" * 43, "/claim/" + "x" * 300):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "does not work" in response.content.decode()

    for refused in (used, _claim_path(mailoutbox), "/claim/not-a-real-token"):
        page = client.get(refused).content.decode()
        assert "Data Stewardship" not in page
        assert "Ada" not in page
        assert award.public_id not in page


def test_non_email_recipients_get_no_email(owner, badge, mailoutbox, django_capture_on_commit_callbacks) -> None:
    award = issue_award(actor=owner, badge=badge, recipient="https://ada.example/me", recipient_kind="url")
    with django_capture_on_commit_callbacks(execute=True):
        assert send_award_email(award=award) is None
    assert mailoutbox == []
    assert not ClaimToken.objects.filter(award=award).exists()


def test_the_email_escapes_what_an_organisation_typed(owner, award, mailoutbox,
                                                      django_capture_on_commit_callbacks) -> None:
    owner.organisation.name = 'Acme <script>alert("x")</script>'
    owner.organisation.brand_colour = "red;}a{"  # not a hex colour (the column holds 7 characters)
    owner.organisation.save()
    award.refresh_from_db()
    _send(django_capture_on_commit_callbacks, award=award)
    html = mailoutbox[0].alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "red;}a{" not in html
    assert "#1d4ed8" in html  # the default brand colour stands in
    assert "\n" not in mailoutbox[0].subject


# -- opting out --------------------------------------------------------------------------------


def test_unsubscribe_link_records_an_opt_out_that_suppresses_the_next_email(
        smtp, award, owner, django_capture_on_commit_callbacks) -> None:
    _send(django_capture_on_commit_callbacks, award=award)
    unsubscribe = _path(_link(_parts(smtp.messages[0])["text/plain"], "/email/opt-out/"))
    client = Client(enforce_csrf_checks=True)

    page = client.get(unsubscribe)
    assert page.status_code == 200
    assert "a***@example.org" in page.content.decode()
    assert "Acme Academy" in page.content.decode()
    assert not EmailOptOut.objects.exists()  # GET only asks

    for _ in range(2):  # idempotent
        done = client.post(unsubscribe, {"scope": "organisation"})
        assert done.status_code == 200
        assert "You are unsubscribed" in done.content.decode()
    (entry,) = EmailOptOut.objects.all()
    assert (entry.email, entry.organisation) == ("ada@example.org", owner.organisation)
    assert AuditEvent.objects.filter(organisation=owner.organisation, verb="email.opted_out").count() == 1

    tokens = ClaimToken.objects.count()
    skipped = _send(django_capture_on_commit_callbacks, award=award)
    assert skipped.status == NotificationStatus.SKIPPED_OPTED_OUT
    assert len(smtp.envelopes) == 1  # nothing more arrived
    assert ClaimToken.objects.count() == tokens


def test_opting_out_of_one_organisation_or_all(owner, award, member, mailoutbox,
                                               django_capture_on_commit_callbacks) -> None:
    other = member(Role.OWNER)
    other_badge = make_badge(other, make_issuer(other, "Beta"))
    other_award = issue_award(actor=other, badge=other_badge, recipient="ada@example.org")

    opt_out("ADA@example.org ", owner.organisation)
    assert _send(django_capture_on_commit_callbacks, award=award).status == NotificationStatus.SKIPPED_OPTED_OUT
    assert _send(django_capture_on_commit_callbacks, award=other_award).status == NotificationStatus.SENT

    # One-click unsubscribe (RFC 8058): the mail client POSTs with no CSRF token; "all" is offered on the page.
    client = Client(enforce_csrf_checks=True)
    url = _path(opt_out_url("ada@example.org", other.organisation))
    assert client.post(url, {"List-Unsubscribe": "One-Click", "scope": "all"}).status_code == 200
    assert EmailOptOut.objects.filter(organisation__isnull=True, email="ada@example.org").exists()
    assert _send(django_capture_on_commit_callbacks, award=other_award).status == NotificationStatus.SKIPPED_OPTED_OUT
    assert len(mailoutbox) == 1


def test_forged_unsubscribe_links_are_refused(award) -> None:
    client = Client()
    genuine = _path(opt_out_url("ada@example.org", award.organisation))
    forged = genuine[:-3] + ("AAA" if not genuine.endswith("AAA") else "BBB")
    for path in (forged, "/email/opt-out/nonsense", "/email/opt-out/" + "x" * 2000):
        assert client.get(path).status_code == 404
        assert client.post(path, {"scope": "all"}).status_code == 404
    assert not EmailOptOut.objects.exists()
    with pytest.raises(ServiceError):
        opt_out("not an email")


# -- resending ---------------------------------------------------------------------------------


def test_resend_is_rate_limited_per_award(owner, award, mailoutbox, django_capture_on_commit_callbacks) -> None:
    start = timezone.now()
    _send(django_capture_on_commit_callbacks, award=award, now=start)

    with pytest.raises(ResendTooSoon) as refused:
        resend_award_email(actor=owner, award=award, now=start + timedelta(minutes=3))
    assert refused.value.retry_at == start + RESEND_INTERVAL
    assert "7 minutes" in refused.value.message
    assert refused.value.status == 429

    with django_capture_on_commit_callbacks(execute=True):
        again = resend_award_email(actor=owner, award=award.public_id, now=start + timedelta(minutes=10))
    again.refresh_from_db()
    assert (again.kind, again.status) == ("reminder", NotificationStatus.SENT)
    assert len(mailoutbox) == 2
    assert mailoutbox[1].subject.startswith("Reminder:")
    assert _link(mailoutbox[0].body, "/claim/") != _link(mailoutbox[1].body, "/claim/")  # a fresh token
    assert ClaimToken.objects.filter(award=award).count() == 2
    assert AuditEvent.objects.filter(verb="award.email_resent", object_id=award.public_id).count() == 1

    with pytest.raises(ResendTooSoon):
        resend_award_email(actor=owner, award=award, now=start + timedelta(minutes=19))


def test_resend_checks_role_tenancy_and_state(owner, award, member) -> None:
    viewer = member(Role.VIEWER, org=owner.organisation)
    with pytest.raises(PermissionDenied):
        resend_award_email(actor=viewer, award=award)
    stranger = member(Role.OWNER)
    with pytest.raises(NotFound):
        resend_award_email(actor=stranger, award=award.public_id)
    revoke_award(actor=owner, award=award, reason="Issued in error")
    with pytest.raises(ServiceError) as refused:
        resend_award_email(actor=owner, award=award)
    assert refused.value.code == "award_revoked"


def test_resend_endpoint(owner, award, member, mailoutbox) -> None:
    url = f"/orgs/{owner.organisation.public_id}/awards/{award.public_id}/resend"
    detail = f"/orgs/{owner.organisation.public_id}/awards/{award.public_id}/"

    anonymous = Client().post(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")

    issuer = member(Role.ISSUER, org=owner.organisation)
    client = Client()
    client.force_login(issuer.user)
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == detail
    assert Notification.objects.filter(award=award, kind="reminder").count() == 1
    followed = client.post(url, follow=True)  # too soon: back to the award, with when to retry
    assert "You can resend it in" in followed.content.decode()
    assert client.post(url, {"next": "https://evil.example/"})["Location"] == detail
    assert client.post(url, {"next": f"/orgs/{owner.organisation.public_id}/awards/"})["Location"].endswith(
        "/awards/")

    viewer = member(Role.VIEWER, org=owner.organisation)
    client.force_login(viewer.user)
    assert client.post(url).status_code == 403

    # Organisation A's member gets 404 for organisation B's award, by either organisation's URL.
    other = member(Role.OWNER)
    client.force_login(other.user)
    assert client.post(f"/orgs/{other.organisation.public_id}/awards/{award.public_id}/resend").status_code == 404
    assert client.post(url).status_code == 404
    assert Notification.objects.filter(award=award, kind="reminder").count() == 1
    assert Membership.objects.filter(user=other.user).count() == 1


# -- wiring ------------------------------------------------------------------------------------


def test_the_hook_sends_the_email_after_the_award_commits(owner, badge, mailoutbox, monkeypatch,
                                                          django_capture_on_commit_callbacks) -> None:
    """``notify_award_issued`` in the place of ``events.award_issued``, as the one-line wiring will put it."""
    monkeypatch.setattr(events, "award_issued", notify_award_issued)
    award = issue_award(actor=owner, badge=badge, recipient="grace@example.org")  # not committed: nothing sent
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        award = issue_award(actor=owner, badge=badge, recipient="grace@example.org")
    assert [m.to for m in mailoutbox] == [["grace@example.org"]]
    assert Notification.objects.get(award=award).status == NotificationStatus.SENT


def test_the_hook_never_raises_to_the_issuer(award, monkeypatch, caplog) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr("insignia.notifications.services.send_award_email", broken)
    notify_award_issued(award)  # logged, not raised
    assert "Could not prepare the award email" in caplog.text


def test_issuing_an_award_sends_its_email(owner, badge, mailoutbox, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        award = issue_award(actor=owner, badge=badge, recipient="grace@example.org")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["grace@example.org"]
    assert Notification.objects.get(award=award).status == NotificationStatus.SENT
