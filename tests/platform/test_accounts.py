"""Accounts: sign-up with email verification, sign-in, password reset — through our restyled allauth pages."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from insignia.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

PASSWORD = "a long and unusual passphrase 42"


def _link(pattern: str) -> str:
    assert mail.outbox, "no email was sent"
    match = re.search(pattern, mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def _sign_up(client: Client, email: str = "new@example.org") -> None:
    response = client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response.url == "/accounts/confirm-email/"


def test_sign_up_pages_use_our_components(client) -> None:
    body = client.get("/accounts/signup/").content.decode()
    assert body.count("<h1") == 1
    assert 'class="field' in body
    assert 'class="btn btn-primary"' in body
    assert "insignia.css" in body


def test_sign_up_verify_then_sign_in() -> None:
    client = Client()
    _sign_up(client)
    pending = client.get("/accounts/confirm-email/")
    assert "Check your email" in pending.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.org"]
    confirm = _link(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)")

    # Not signed in until the address is confirmed.
    assert client.get("/dashboard/").status_code == 302
    assert client.get("/dashboard/").url.startswith("/accounts/login/")

    page = client.get(confirm)
    assert page.status_code == 200
    assert "Confirm email address" in page.content.decode()
    response = client.post(confirm)
    assert response.status_code == 302
    assert response.url == "/dashboard/"
    assert client.get("/dashboard/").url == "/orgs/new"  # onboarding: no organisation yet

    fresh = Client()
    response = fresh.post("/accounts/login/", {"login": "new@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/dashboard/"


def test_sign_in_before_verifying_is_held_back() -> None:
    _sign_up(Client())
    client = Client()
    response = client.post("/accounts/login/", {"login": "new@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/accounts/confirm-email/"
    assert client.get("/dashboard/").url.startswith("/accounts/login/")


def test_wrong_password_is_reported_on_the_form(make_user) -> None:
    make_user("someone@example.org", PASSWORD)
    response = Client().post("/accounts/login/", {"login": "someone@example.org", "password": "wrong"})
    assert response.status_code == 200
    assert 'class="alert alert-error"' in response.content.decode()


def test_invalid_confirmation_link_says_what_to_do(client) -> None:
    response = client.get("/accounts/confirm-email/not-a-key/")
    assert response.status_code == 200
    assert "expired or is not valid" in response.content.decode()


def test_password_reset_flow(make_user) -> None:
    from allauth.account.models import EmailAddress

    user = make_user("forgetful@example.org", PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": "forgetful@example.org"})
    assert response.status_code == 302
    assert "Check your email" in client.get(response.url).content.decode()
    link = _link(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+/)")

    response = client.get(link)  # allauth moves the key into the session, then shows the form
    if response.status_code == 302:
        link = response.url
        response = client.get(link)
    assert "Choose a new password" in response.content.decode()
    new_password = "another quite long passphrase 7"
    response = client.post(link, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    assert "Your password is changed" in client.get(response.url).content.decode()

    user.refresh_from_db()
    assert user.check_password(new_password)
    response = Client().post("/accounts/login/", {"login": "forgetful@example.org", "password": new_password})
    assert response.status_code == 302
    assert response.url == "/dashboard/"


def test_used_reset_link_is_refused(make_user) -> None:
    user = make_user("forgetful@example.org", PASSWORD)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    Client().post("/accounts/password/reset/", {"email": user.email})
    link = _link(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+/)")
    User.objects.filter(pk=user.pk).update(password="")  # changes the token's inputs, like a completed reset
    client = Client()
    response = client.get(link, follow=True)
    assert "This reset link cannot be used" in response.content.decode()


def test_logout_page_and_sign_out(make_user) -> None:
    client = Client()
    client.force_login(make_user())
    assert "Sign out of Insignia?" in client.get("/accounts/logout/").content.decode()
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 302
