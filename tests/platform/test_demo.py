"""``seed_demo``: a demo organisation to look around in, made once; running it again changes nothing."""

from __future__ import annotations

import io

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import authenticate

from insignia.accounts.models import User
from insignia.awards.models import Award, AwardStatus
from insignia.badges.models import BadgeClass, BadgeStatus
from insignia.core.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from insignia.core.models import AuditEvent, Membership, Organisation
from insignia.issuers.models import Issuer


def snapshot() -> dict[str, object]:
    return {
        "users": sorted(User.objects.values_list("email", flat=True)),
        "organisations": sorted(Organisation.objects.values_list("public_id", flat=True)),
        "issuers": sorted(Issuer.objects.values_list("public_id", flat=True)),
        "badges": sorted(BadgeClass.objects.values_list("public_id", "status")),
        "awards": sorted(Award.objects.values_list("public_id", "status", "recipient_identity")),
        "audit": AuditEvent.objects.count(),
    }


@pytest.mark.django_db
def test_seed_demo_makes_a_demo_organisation() -> None:
    out = io.StringIO()
    info = seed_demo(out=out)
    assert info.created
    assert info.email == DEMO_EMAIL
    assert info.password == DEMO_PASSWORD
    assert DEMO_PASSWORD in out.getvalue()
    assert "/accounts/login/" in out.getvalue()
    user = authenticate(email=DEMO_EMAIL, password=DEMO_PASSWORD)
    assert user is not None
    assert EmailAddress.objects.get(user=user).verified  # can sign in although verification is mandatory
    organisation = Organisation.objects.get(name="Demo University")
    assert Membership.objects.get(user=user, organisation=organisation).role == "owner"
    badges = BadgeClass.objects.filter(organisation=organisation)
    assert badges.count() == 4
    assert all(b.status == BadgeStatus.PUBLISHED and b.design and b.image and b.image_png for b in badges)
    awards = Award.objects.filter(organisation=organisation)
    assert awards.count() == 12
    assert awards.filter(status=AwardStatus.REVOKED).count() == 1
    assert awards.filter(status=AwardStatus.SUSPENDED).count() == 1
    assert all(a.recipient_identity.endswith("@example.org") for a in awards)


@pytest.mark.django_db
def test_seed_demo_twice_gives_the_same_data() -> None:
    seed_demo(out=io.StringIO())
    first = snapshot()
    info = seed_demo(out=io.StringIO())
    assert not info.created
    assert snapshot() == first


@pytest.mark.django_db
def test_in_production_the_password_is_random_and_shown_once(settings: object) -> None:
    settings.PRODUCTION = True  # type: ignore[attr-defined]
    out = io.StringIO()
    info = seed_demo(out=out)
    assert info.password
    assert info.password != DEMO_PASSWORD
    assert info.password in out.getvalue()
    assert authenticate(email=DEMO_EMAIL, password=info.password) is not None
    again = io.StringIO()
    assert seed_demo(out=again).password is None
    assert info.password not in again.getvalue()
