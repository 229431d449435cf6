"""Accepting an organisation invitation needs a *verified* address matching it, even when
INSIGNIA_EMAIL_VERIFICATION lets unverified accounts sign in ("optional" or "none")."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from insignia.core import services
from insignia.core.errors import PermissionDenied
from insignia.core.models import Invitation, Membership, Role
from insignia.core.views import PENDING_INVITATION_SESSION_KEY

pytestmark = pytest.mark.django_db
PASSWORD = "a long and unusual passphrase 42"


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def invite(owner, email: str, capture) -> str:
    """Invite through the service; the token from the email that was sent."""
    with capture(execute=True):
        services.invite_member(actor=owner, email=email, role=Role.ISSUER)
    return re.search(r"/invitations/([A-Za-z0-9_\-]+)", mail.outbox[-1].body).group(1)


@pytest.mark.parametrize("mode", ["optional", "none"])
def test_relaxed_verification_still_needs_a_confirmed_address(member, settings, mode,
                                                               django_capture_on_commit_callbacks) -> None:
    settings.ACCOUNT_EMAIL_VERIFICATION = mode
    owner = member(Role.OWNER)
    token = invite(owner, "joiner@example.org", django_capture_on_commit_callbacks)
    link = f"/invitations/{token}"
    sent = len(mail.outbox)

    client = Client()  # sign up with the invited address: relaxed settings sign the account in at once
    response = client.post("/accounts/signup/", {"email": "joiner@example.org", "password1": PASSWORD,
                                                 "password2": PASSWORD})
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code in (200, 302)
    assert "_auth_user_id" in client.session  # signed in without confirming the address
    joiner = EmailAddress.objects.get(email="joiner@example.org")
    assert not joiner.verified

    page = client.get(link)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Accept and join" not in html
    assert "Confirm joiner@example.org before joining" in html
    assert 'href="/accounts/email/"' in html
    assert client.session[PENDING_INVITATION_SESSION_KEY] == token
    refused = client.post(link)
    assert refused.status_code == 403
    assert "Confirm your email address first" in refused.content.decode()
    assert not Membership.objects.filter(user=joiner.user).exists()
    assert Invitation.objects.get().accepted_at is None

    if mode == "optional":  # allauth sent the confirmation email at sign-up: follow it
        assert len(mail.outbox) == sent + 1
        confirm = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mail.outbox[-1].body).group(1)
        assert client.post(confirm).status_code == 302
    else:  # no email at sign-up: the address gets confirmed some other way (here: directly)
        EmailAddress.objects.filter(pk=joiner.pk).update(verified=True)
    assert "Accept and join" in client.get(link).content.decode()
    accepted = client.post(link)
    assert accepted.status_code == 302
    assert Membership.objects.get(user=joiner.user, organisation=owner.organisation).role == Role.ISSUER


def test_service_refuses_unverified_and_accepts_a_verified_secondary_address(
        member, make_user, settings, django_capture_on_commit_callbacks) -> None:
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"
    owner = member(Role.OWNER)
    token = invite(owner, "team@example.org", django_capture_on_commit_callbacks)

    bare = make_user("team@example.org")  # the account's own email, with no confirmation record at all
    with pytest.raises(PermissionDenied) as info:
        services.accept_invitation(user=bare, token=token)
    assert info.value.code == "email_unverified"
    bare.delete()

    user = make_user("primary@example.org")
    EmailAddress.objects.create(user=user, email="primary@example.org", verified=True, primary=True)
    secondary = EmailAddress.objects.create(user=user, email="Team@Example.org", verified=False)
    with pytest.raises(PermissionDenied) as info:
        services.accept_invitation(user=user, token=token)
    assert info.value.code == "email_unverified"
    assert not Membership.objects.filter(user=user).exists()

    stranger = make_user("stranger@example.org")
    EmailAddress.objects.create(user=stranger, email="stranger@example.org", verified=True, primary=True)
    with pytest.raises(PermissionDenied) as info:
        services.accept_invitation(user=stranger, token=token)
    assert info.value.code == "wrong_email"

    secondary.verified = True
    secondary.save()
    membership = services.accept_invitation(user=user, token=token)
    assert (membership.organisation, membership.role) == (owner.organisation, Role.ISSUER)


def test_a_different_verified_address_is_still_told_to_switch_accounts(
        member, make_user, django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    token = invite(owner, "joiner@example.org", django_capture_on_commit_callbacks)
    other = make_user("other@example.org")
    EmailAddress.objects.create(user=other, email="other@example.org", verified=True, primary=True)
    client = Client()
    client.force_login(other)
    html = client.get(f"/invitations/{token}").content.decode()
    assert "different address" in html
    assert "Confirm joiner@example.org" not in html
    assert client.post(f"/invitations/{token}").status_code == 403
    assert Membership.objects.filter(organisation=owner.organisation).count() == 1
