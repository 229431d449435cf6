"""Claiming: the claim link from a real email → sign-up or sign-in with that address (verified) → pending in
the wallet → accept (webhook ``award.accepted``) or decline. Nobody else can act on the award."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client
from django.utils import timezone

from insignia.accounts.models import User
from insignia.awards.models import AcceptanceState, Visibility
from insignia.backpack import services
from insignia.backpack.models import Collection
from insignia.core.errors import NotFound, ServiceError
from insignia.core.models import AuditEvent
from insignia.integrations.models import Webhook, WebhookDelivery
from insignia.notifications.models import ClaimToken
from tests.platform.backpack_support import PASSWORD, client_for

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.platform.backpack_support"]


def _claim_path(text: str) -> str:
    match = re.search(re.escape(settings.BASE_URL) + r"/claim/[A-Za-z0-9_-]+", text)
    assert match, text
    return urlsplit(match.group(0)).path


def test_real_email_claim_link_signup_accept_and_webhook(smtp, award_to, issuer_actor,
                                                         django_capture_on_commit_callbacks) -> None:
    Webhook.objects.create(organisation=issuer_actor.organisation, url="https://hooks.example/in", secret="s",
                           events=["award.accepted"])
    with django_capture_on_commit_callbacks(execute=True):
        award = award_to("Grace@Example.org")  # the awards service sends the email after commit
    assert len(smtp.raw) == 1
    claim = _claim_path(smtp.texts()[0])

    browser = Client()
    page = browser.get(claim)
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    assert "Create an account" in page.content.decode()

    # Sign-up with the address the link was sent to: verified at once, no confirmation email, signed in.
    response = browser.post(f"/accounts/signup/?next={claim}", {
        "email": "grace@example.org", "password1": PASSWORD, "password2": PASSWORD, "next": claim})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == claim
    user = User.objects.get(email="grace@example.org")
    assert EmailAddress.objects.get(user=user).verified is True
    assert len(smtp.raw) == 1  # nothing more was sent

    # The award is already in the wallet, pending.
    wallet = browser.get("/wallet/")
    assert wallet.status_code == 200
    assert "Waiting for you" in wallet.content.decode()
    assert f"/wallet/awards/{award.public_id}" in wallet.content.decode()

    # Back on the claim page, signed in: "Add to my wallet" spends the token.
    page = browser.get(claim)
    assert "Add to my wallet" in page.content.decode()
    response = browser.post(claim)
    assert response.status_code == 302
    assert response["Location"] == f"/wallet/awards/{award.public_id}"
    assert ClaimToken.objects.get(award=award).used_at is not None
    assert browser.get(claim).status_code == 410  # single use

    detail = browser.get(f"/wallet/awards/{award.public_id}").content.decode()
    assert "Accept this badge?" in detail
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = browser.post(f"/wallet/awards/{award.public_id}/accept")
    assert response.status_code == 302
    for callback in callbacks:  # run the after-commit effects (the webhook recording) without delivering
        callback()
    award.refresh_from_db()
    assert award.acceptance == AcceptanceState.ACCEPTED
    assert award.earner == user
    assert award.accepted_at is not None
    deliveries = list(WebhookDelivery.objects.filter(event="award.accepted"))
    assert len(deliveries) == 1
    assert deliveries[0].payload["data"]["award"]["id"] == award.public_id
    audit = AuditEvent.objects.filter(verb="award.accepted").get()
    assert audit.actor is None
    assert audit.actor_label == "earner"

    # Accepting again is a no-op: no second event.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.accept_award(user=user, award=award.public_id)
    assert callbacks == []


def test_signed_in_user_claims_into_their_account(award_to, earner, mailoutbox,
                                                  django_capture_on_commit_callbacks) -> None:
    user = earner("ada.work@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        award = award_to("ada.home@example.org")
    claim = _claim_path(mailoutbox[-1].body)
    browser = client_for(user)
    assert browser.get(f"/wallet/awards/{award.public_id}").status_code == 404  # not hers yet
    response = browser.post(claim)
    assert response.status_code == 302
    address = EmailAddress.objects.get(user=user, email="ada.home@example.org")
    assert address.verified
    assert not address.primary
    assert browser.get(f"/wallet/awards/{award.public_id}").status_code == 200


def test_anonymous_post_goes_to_sign_in_and_spends_nothing(award_to, mailoutbox,
                                                           django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        award = award_to("ada@example.org")
    claim = _claim_path(mailoutbox[-1].body)
    response = Client().post(claim)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert ClaimToken.objects.get(award=award).used_at is None


def test_address_of_another_account_is_refused(award_to, earner, mailoutbox,
                                               django_capture_on_commit_callbacks) -> None:
    earner("ada@example.org", verified=False)  # someone registered the address but never confirmed it
    intruder = earner("mallory@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        award = award_to("ada@example.org")
    claim = _claim_path(mailoutbox[-1].body)
    response = client_for(intruder).post(claim)
    assert response.status_code == 409
    assert "belongs to another account" in response.content.decode()
    assert ClaimToken.objects.get(award=award).used_at is None
    assert not EmailAddress.objects.filter(user=intruder, email="ada@example.org").exists()


def test_expired_and_used_tokens_are_refused_by_the_service(award_to, earner, mailoutbox,
                                                            django_capture_on_commit_callbacks) -> None:
    user = earner("ada@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        award_to("ada@example.org")
    token = _claim_path(mailoutbox[-1].body).rsplit("/", 1)[1]
    later = timezone.now() + timedelta(days=91)
    with pytest.raises(ServiceError) as expired:
        services.claim_award(user=user, token=token, now=later)
    assert expired.value.code == "claim_expired"
    services.claim_award(user=user, token=token)
    with pytest.raises(ServiceError) as used:
        services.claim_award(user=user, token=token)
    assert used.value.code == "claim_used"
    with pytest.raises(NotFound):
        services.claim_award(user=user, token="not-a-token")


def test_signing_up_with_the_address_without_the_link_does_not_verify_it(award_to, settings) -> None:
    award = award_to("ada@example.org")
    browser = Client()
    browser.post("/accounts/signup/", {"email": "ada@example.org", "password1": PASSWORD, "password2": PASSWORD})
    user = User.objects.get(email="ada@example.org")
    assert EmailAddress.objects.get(user=user).verified is False
    browser.force_login(user)
    assert browser.get(f"/wallet/awards/{award.public_id}").status_code == 404
    assert award.public_id not in browser.get("/wallet/").content.decode()


def test_only_the_earner_can_act_and_decline_hides_it(award_to, earner) -> None:
    ada, eve = earner("ada@example.org"), earner("eve@example.org")
    award = award_to("ada@example.org")
    for action in ("accept", "decline"):
        assert client_for(eve).post(f"/wallet/awards/{award.public_id}/{action}").status_code == 404
    with pytest.raises(NotFound):
        services.accept_award(user=eve, award=award.public_id)
    award.refresh_from_db()
    assert award.acceptance == AcceptanceState.PENDING

    services.accept_award(user=ada, award=award)
    services.set_award_visibility(user=ada, award=award, visibility=Visibility.PUBLIC, show_recipient_name=True)
    shelf = services.create_collection(user=ada, name="Shelf")
    services.add_to_collection(user=ada, collection=shelf, award=award.public_id)
    response = client_for(ada).post(f"/wallet/awards/{award.public_id}/decline")
    assert response.status_code == 302
    award.refresh_from_db()
    assert award.acceptance == AcceptanceState.DECLINED
    assert award.show_recipient_name is False
    assert award.visibility == Visibility.UNLISTED
    assert not Collection.objects.get(pk=shelf.pk).items.exists()

    # Once the earner has acted, verifying the same address elsewhere does not hand the award over.
    EmailAddress.objects.filter(user=ada).delete()
    EmailAddress.objects.create(user=eve, email="ada@example.org", verified=True)
    assert client_for(eve).get(f"/wallet/awards/{award.public_id}").status_code == 404
    assert client_for(ada).get(f"/wallet/awards/{award.public_id}").status_code == 200


def test_a_revoked_award_cannot_be_accepted(award_to, earner, issuer_actor) -> None:
    from insignia.awards.services import revoke_award

    ada = earner("ada@example.org")
    award = award_to("ada@example.org")
    revoke_award(actor=issuer_actor, award=award, reason="Issued in error")
    with pytest.raises(ServiceError) as refused:
        services.accept_award(user=ada, award=award.public_id)
    assert refused.value.code == "award_revoked"
