"""Organisation services: permission rules, the last-owner rule, invitations and the audit trail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone

from insignia.core import services
from insignia.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from insignia.core.models import AuditEvent, Invitation, Membership, Organisation, Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _verbs(org: Organisation) -> list[str]:
    return list(AuditEvent.objects.filter(organisation=org).values_list("verb", flat=True))


def _membership(actor) -> Membership:
    return Membership.objects.get(organisation=actor.organisation, user=actor.user)


def _token_from_outbox() -> str:
    match = re.search(r"/invitations/([A-Za-z0-9_\-]+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


# --- create / update -----------------------------------------------------------------------------------------------


def test_create_organisation_makes_the_user_owner_and_records_it(make_user) -> None:
    user = make_user()
    actor = services.create_organisation(user=user, name="  Acme Academy ")
    assert actor.organisation.name == "Acme Academy"
    assert Membership.objects.get(user=user).role == Role.OWNER
    assert _verbs(actor.organisation) == ["organisation.created"]


def test_create_organisation_needs_a_name(make_user) -> None:
    with pytest.raises(ServiceError) as info:
        services.create_organisation(user=make_user(), name="   ")
    assert info.value.field == "name"
    assert not Organisation.objects.exists()


def test_update_organisation_by_an_admin(member) -> None:
    admin = member(Role.ADMIN)
    org = services.update_organisation(actor=admin, name="Acme Institute", brand_colour="#0F766E")
    assert (org.name, org.brand_colour) == ("Acme Institute", "#0f766e")
    event = AuditEvent.objects.get(organisation=org, verb="organisation.updated")
    assert event.data["changes"]["brand_colour"] == ["#1d4ed8", "#0f766e"]
    assert event.actor == admin.user


@pytest.mark.parametrize("role", [Role.ISSUER, Role.VIEWER])
def test_update_organisation_refused_below_admin(member, role) -> None:
    actor = member(role)
    with pytest.raises(PermissionDenied):
        services.update_organisation(actor=actor, name="Hijacked")
    assert Organisation.objects.get(pk=actor.organisation.pk).name == "Acme Academy"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("colour", ["blue", "#12345", "#gggggg", "1d4ed8", "#1d4ed8;}", ""])
def test_brand_colour_must_be_a_hex_code(member, colour) -> None:
    owner = member(Role.OWNER)
    with pytest.raises(ServiceError) as info:
        services.update_organisation(actor=owner, brand_colour=colour)
    assert info.value.field == "brand_colour"
    assert Organisation.objects.get(pk=owner.organisation.pk).brand_colour == "#1d4ed8"


def test_short_hex_is_expanded(member) -> None:
    org = services.update_organisation(actor=member(Role.OWNER), brand_colour="#0af")
    assert org.brand_colour == "#00aaff"


# --- invitations ---------------------------------------------------------------------------------------------------


def test_invite_member_stores_only_a_hash_and_emails_after_commit(member, django_capture_on_commit_callbacks) -> None:
    admin = member(Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invitation = services.invite_member(actor=admin, email="New.Person@Example.org", role=Role.ISSUER)
    assert mail.outbox == []  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.org"]
    assert "Acme Academy" in message.subject
    html = message.alternatives[0][0]
    token = _token_from_outbox()
    assert token in html
    assert invitation.token_hash == services.hash_token(token)
    assert token not in invitation.token_hash
    assert invitation.role == Role.ISSUER
    assert invitation.expires_at > timezone.now() + timedelta(days=6)
    assert _verbs(admin.organisation) == ["invitation.created"]


@pytest.mark.parametrize("role", [Role.ISSUER, Role.VIEWER])
def test_issuers_and_viewers_cannot_invite(member, role) -> None:
    actor = member(role)
    with pytest.raises(PermissionDenied):
        services.invite_member(actor=actor, email="x@example.org", role=Role.VIEWER)
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_only_owners_invite_owners(member, django_capture_on_commit_callbacks) -> None:
    admin = member(Role.ADMIN)
    with pytest.raises(PermissionDenied):
        services.invite_member(actor=admin, email="boss@example.org", role=Role.OWNER)
    owner = member(Role.OWNER, org=admin.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite_member(actor=owner, email="boss@example.org", role=Role.OWNER)
    assert invitation.role == Role.OWNER


def test_inviting_a_member_or_a_bad_address_is_refused(member) -> None:
    owner = member(Role.OWNER)
    member(Role.VIEWER, org=owner.organisation, email="there@example.org")
    with pytest.raises(Conflict):
        services.invite_member(actor=owner, email="THERE@example.org", role=Role.ISSUER)
    with pytest.raises(ServiceError) as info:
        services.invite_member(actor=owner, email="not-an-address", role=Role.ISSUER)
    assert info.value.field == "email"
    with pytest.raises(ServiceError):
        services.invite_member(actor=owner, email="x@example.org", role="superuser")


def test_reinviting_replaces_the_pending_invitation(member, django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_member(actor=owner, email="a@example.org", role=Role.VIEWER)
    first = _token_from_outbox()
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_member(actor=owner, email="a@example.org", role=Role.ISSUER)
    assert Invitation.objects.count() == 1
    assert services.find_invitation(first) is None


def _invite(actor, email: str, role: str, capture) -> str:
    with capture(execute=True):
        services.invite_member(actor=actor, email=email, role=role)
    return _token_from_outbox()


def test_accept_invitation_with_the_invited_email(member, make_user, django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    token = _invite(owner, "joiner@example.org", Role.ISSUER, django_capture_on_commit_callbacks)
    joiner = make_user("joiner@example.org")
    EmailAddress.objects.create(user=joiner, email=joiner.email, verified=True, primary=True)
    membership = services.accept_invitation(user=joiner, token=token)
    assert (membership.organisation, membership.role) == (owner.organisation, Role.ISSUER)
    assert Invitation.objects.get().accepted_at is not None
    assert _verbs(owner.organisation)[0] == "invitation.accepted"


def test_accept_invitation_refuses_another_email(member, make_user, django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    token = _invite(owner, "joiner@example.org", Role.ADMIN, django_capture_on_commit_callbacks)
    other = make_user("intruder@example.org")
    with pytest.raises(PermissionDenied) as info:
        services.accept_invitation(user=other, token=token)
    assert info.value.code == "wrong_email"
    assert "joiner@example.org" not in info.value.message  # masked, not disclosed in full
    assert not Membership.objects.filter(user=other).exists()
    assert Invitation.objects.get().accepted_at is None


def test_accept_invitation_refuses_expired_used_and_unknown(member, make_user,
                                                            django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    token = _invite(owner, "joiner@example.org", Role.VIEWER, django_capture_on_commit_callbacks)
    joiner = make_user("joiner@example.org")
    EmailAddress.objects.create(user=joiner, email=joiner.email, verified=True, primary=True)
    with pytest.raises(ServiceError) as info:
        services.accept_invitation(user=joiner, token=token, now=timezone.now() + timedelta(days=8))
    assert info.value.code == "invitation_expired"
    assert not Membership.objects.filter(user=joiner).exists()

    services.accept_invitation(user=joiner, token=token)
    with pytest.raises(Conflict) as info:
        services.accept_invitation(user=joiner, token=token)
    assert info.value.code == "invitation_used"

    with pytest.raises(NotFound):
        services.accept_invitation(user=joiner, token="forged-token")


def test_cancel_invitation(member, django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    token = _invite(owner, "a@example.org", Role.VIEWER, django_capture_on_commit_callbacks)
    viewer = member(Role.VIEWER, org=owner.organisation)
    invitation = Invitation.objects.get()
    with pytest.raises(PermissionDenied):
        services.cancel_invitation(actor=viewer, invitation_id=invitation.pk)
    services.cancel_invitation(actor=owner, invitation_id=invitation.pk)
    assert services.find_invitation(token) is None
    assert "invitation.cancelled" in _verbs(owner.organisation)


# --- roles and removal ---------------------------------------------------------------------------------------------


def test_admin_changes_an_issuer_role(member) -> None:
    admin = member(Role.ADMIN)
    issuer = member(Role.ISSUER, org=admin.organisation)
    membership = services.change_role(actor=admin, membership_id=_membership(issuer).pk, role=Role.VIEWER)
    assert membership.role == Role.VIEWER
    event = AuditEvent.objects.get(verb="member.role_changed")
    assert event.data == {"email": issuer.user.email, "from": "issuer", "to": "viewer"}


def test_admin_cannot_change_an_owner_or_make_one(member) -> None:
    owner = member(Role.OWNER)
    admin = member(Role.ADMIN, org=owner.organisation)
    issuer = member(Role.ISSUER, org=owner.organisation)
    with pytest.raises(PermissionDenied):
        services.change_role(actor=admin, membership_id=_membership(owner).pk, role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        services.change_role(actor=admin, membership_id=_membership(issuer).pk, role=Role.OWNER)
    with pytest.raises(PermissionDenied):
        services.remove_member(actor=admin, membership_id=_membership(owner).pk)
    assert _membership(owner).role == Role.OWNER
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("role", [Role.ISSUER, Role.VIEWER])
def test_issuers_and_viewers_cannot_change_roles_or_remove(member, role) -> None:
    actor = member(role)
    other = member(Role.VIEWER, org=actor.organisation)
    with pytest.raises(PermissionDenied):
        services.change_role(actor=actor, membership_id=_membership(other).pk, role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        services.remove_member(actor=actor, membership_id=_membership(other).pk)


def test_the_last_owner_cannot_be_demoted_or_removed(member) -> None:
    owner = member(Role.OWNER)
    with pytest.raises(Conflict) as info:
        services.change_role(actor=owner, membership_id=_membership(owner).pk, role=Role.ADMIN)
    assert info.value.code == "last_owner"
    with pytest.raises(Conflict):
        services.remove_member(actor=owner, membership_id=_membership(owner).pk)
    assert _membership(owner).role == Role.OWNER


def test_an_owner_hands_over_then_steps_down(member) -> None:
    owner = member(Role.OWNER)
    admin = member(Role.ADMIN, org=owner.organisation)
    services.change_role(actor=owner, membership_id=_membership(admin).pk, role=Role.OWNER)
    services.change_role(actor=owner, membership_id=_membership(owner).pk, role=Role.ADMIN)
    assert _membership(owner).role == Role.ADMIN
    assert _membership(admin).role == Role.OWNER


def test_owner_removes_another_owner_and_admin_removes_an_issuer(member) -> None:
    owner = member(Role.OWNER)
    second = member(Role.OWNER, org=owner.organisation)
    admin = member(Role.ADMIN, org=owner.organisation)
    issuer = member(Role.ISSUER, org=owner.organisation)
    services.remove_member(actor=owner, membership_id=_membership(second).pk)
    services.remove_member(actor=admin, membership_id=_membership(issuer).pk)
    assert set(Membership.objects.values_list("role", flat=True)) == {Role.OWNER, Role.ADMIN}
    assert _verbs(owner.organisation).count("member.removed") == 2


def test_members_of_another_organisation_are_not_found(member) -> None:
    owner_a = member(Role.OWNER)
    owner_b = member(Role.OWNER)
    victim = member(Role.VIEWER, org=owner_b.organisation)
    with pytest.raises(NotFound):
        services.change_role(actor=owner_a, membership_id=_membership(victim).pk, role=Role.ADMIN)
    with pytest.raises(NotFound):
        services.remove_member(actor=owner_a, membership_id=_membership(victim).pk)
    invitation = Invitation.objects.create(organisation=owner_b.organisation, email="z@example.org",
                                           token_hash="0" * 64, expires_at=timezone.now() + timedelta(days=1))
    with pytest.raises(NotFound):
        services.cancel_invitation(actor=owner_a, invitation_id=invitation.pk)
