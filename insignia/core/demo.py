"""A demo organisation to look around in: ``insignia serve --demo`` calls ``seed_demo``.

It creates, once, through the same services as the web pages:

* the user ``demo@insignia.local`` (email verified), owner of
* the organisation "Demo University", with
* one issuer, four published badges drawn with the in-app designer, and
* twelve awards to made-up recipients (``@example.org``), one of them revoked and one suspended.

Running it again changes nothing (every object is looked up before it is made).

The password: outside production it is the fixed, documented ``DEMO_PASSWORD`` (so a demo can be
shared). With ``INSIGNIA_ENV=production`` a random password is generated when the user is created and
printed that one time only.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TextIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

DEMO_EMAIL = "demo@insignia.local"
#: Only used outside production (see the module docstring).
DEMO_PASSWORD = "insignia-demo-password"  # noqa: S105 (a documented demo credential)
DEMO_ORGANISATION = "Demo University"
DEMO_ISSUER = {
    "name": "Demo University Digital Credentials",
    "url": "https://demo-university.example.org",
    "email": "credentials@demo-university.example.org",
    "description": "Digital credentials for the courses and activities of Demo University (a demonstration).",
}
DEMO_BADGES: tuple[dict[str, Any], ...] = (
    {"name": "Python Foundations", "description": "Writes, tests and documents small Python programs.",
     "criteria": "Complete the six Python Foundations workshops and pass the final project review.",
     "design": {"shape": "hexagon", "primary": "#1d4ed8", "secondary": "#f59e0b", "icon": "code",
                "ribbon": "Foundations"}, "tags": ["programming", "python"]},
    {"name": "Research Skills", "description": "Finds, evaluates and cites sources responsibly.",
     "criteria": "Complete the library research module and submit an annotated bibliography.",
     "design": {"shape": "shield", "primary": "#047857", "secondary": "#fde68a", "icon": "book",
                "ribbon": "Research"}, "tags": ["research"]},
    {"name": "Community Volunteer", "description": "Gave at least 20 hours to a community project.",
     "criteria": "Log 20 or more hours of volunteering, confirmed by the project coordinator.",
     "design": {"shape": "circle", "primary": "#be123c", "secondary": "#fecdd3", "icon": "heart",
                "ribbon": "Volunteer"}, "tags": ["community"]},
    {"name": "Innovation Challenge Winner", "description": "Won the annual student innovation challenge.",
     "criteria": "Place first, second or third in the Demo University Innovation Challenge.",
     "design": {"shape": "star", "primary": "#6d28d9", "secondary": "#fbbf24", "icon": "trophy",
                "ribbon": "Winner"}, "tags": ["innovation"]},
)
#: (recipient, name, badge index, days ago, evidence URL, state)
DEMO_AWARDS: tuple[tuple[str, str, int, int, str, str], ...] = (
    ("ada.lovelace@example.org", "Ada Lovelace", 0, 90, "https://example.org/portfolio/ada", "active"),
    ("grace.hopper@example.org", "Grace Hopper", 0, 85, "", "active"),
    ("alan.turing@example.org", "Alan Turing", 0, 80, "https://example.org/portfolio/alan", "active"),
    ("katherine.johnson@example.org", "Katherine Johnson", 1, 60, "", "active"),
    ("margaret.hamilton@example.org", "Margaret Hamilton", 1, 55, "", "active"),
    ("tim.berners-lee@example.org", "Tim Berners-Lee", 1, 50, "", "revoked"),
    ("mary.jackson@example.org", "Mary Jackson", 2, 40, "", "active"),
    ("dorothy.vaughan@example.org", "Dorothy Vaughan", 2, 35, "", "active"),
    ("edsger.dijkstra@example.org", "Edsger Dijkstra", 2, 30, "", "suspended"),
    ("barbara.liskov@example.org", "Barbara Liskov", 3, 20, "https://example.org/challenge/liskov", "active"),
    ("donald.knuth@example.org", "Donald Knuth", 3, 10, "", "active"),
    ("hedy.lamarr@example.org", "Hedy Lamarr", 0, 2, "", "active"),
)


@dataclass(frozen=True)
class DemoInfo:
    """What ``seed_demo`` made or found; ``password`` is None when it is not ours to show."""

    email: str
    password: str | None
    organisation: Any
    created: bool


def _demo_user() -> tuple[Any, str | None, bool]:
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user = user_model.objects.filter(email=DEMO_EMAIL).first()
    created = user is None
    password: str | None = None if settings.PRODUCTION else DEMO_PASSWORD
    if user is None:
        if settings.PRODUCTION:
            password = secrets.token_urlsafe(12)
        user = user_model.objects.create_user(email=DEMO_EMAIL, password=password, display_name="Demo User")
    EmailAddress.objects.get_or_create(user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True})
    return user, password, created


def _demo_organisation(user: Any) -> Any:
    from insignia.core.models import Membership, Role
    from insignia.core.services import create_organisation
    from insignia.core.tenancy import Actor

    membership = (Membership.objects.select_related("organisation")
                  .filter(user=user, organisation__name=DEMO_ORGANISATION).first())
    if membership is None:
        return create_organisation(user=user, name=DEMO_ORGANISATION)
    return Actor(organisation=membership.organisation, role=membership.role or Role.OWNER, user=user)


@transaction.atomic
def seed_demo(*, out: TextIO | None = None) -> DemoInfo:
    """Create the demo user, organisation, issuer, badges and awards if they are missing; say how to sign in."""
    from insignia.awards.models import Award, AwardStatus
    from insignia.awards.services import issue_award, revoke_award, suspend_award
    from insignia.badges.models import BadgeClass
    from insignia.badges.services import create_badge, publish_badge
    from insignia.issuers.models import Issuer
    from insignia.issuers.services import create_issuer

    user, password, created = _demo_user()
    actor = _demo_organisation(user)
    organisation = actor.organisation
    issuer = Issuer.objects.filter(organisation=organisation, name=DEMO_ISSUER["name"]).first()
    if issuer is None:
        issuer = create_issuer(actor=actor, **DEMO_ISSUER)
    badges: list[BadgeClass] = []
    for spec in DEMO_BADGES:
        badge = BadgeClass.objects.filter(organisation=organisation, name=spec["name"]).first()
        if badge is None:
            badge = create_badge(actor=actor, issuer=issuer, name=spec["name"], description=spec["description"],
                                 criteria_narrative=spec["criteria"], tags=spec["tags"],
                                 design={**spec["design"], "initials": ""})
        badges.append(publish_badge(actor=actor, badge=badge))
    now = timezone.now().replace(microsecond=0)
    for number, (email, name, badge_index, days_ago, evidence_url, state) in enumerate(DEMO_AWARDS, start=1):
        key = f"demo:{number}"
        award = Award.objects.filter(organisation=organisation, idempotency_key=key).first()
        if award is None:
            evidence = [{"url": evidence_url}] if evidence_url else []
            award = issue_award(actor=actor, badge=badges[badge_index], recipient=email, recipient_name=name,
                                evidence=evidence, issued_on=now - timedelta(days=days_ago), idempotency_key=key)
        if state == "revoked" and award.status != AwardStatus.REVOKED:
            revoke_award(actor=actor, award=award, reason="Awarded by mistake (a demonstration of revocation).")
        elif state == "suspended" and award.status == AwardStatus.ACTIVE:
            suspend_award(actor=actor, award=award, reason="Under review (a demonstration of suspension).")
    stream = out if out is not None else sys.stdout
    login = f"{settings.BASE_URL}/accounts/login/"
    if password is not None:
        print(f"Demo: sign in at {login} as {DEMO_EMAIL} with the password {password}", file=stream, flush=True)
    else:
        print(f"Demo: sign in at {login} as {DEMO_EMAIL} (password shown when it was created; reset it with "
              "'Forgot password' if lost).", file=stream, flush=True)
    return DemoInfo(email=DEMO_EMAIL, password=password, organisation=organisation, created=created)
