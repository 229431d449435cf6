"""Organisation pages: onboarding, dashboard checklist, settings, invitations, audit log, tenancy and roles."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.utils import timezone

from insignia.core import services
from insignia.core.models import AuditEvent, Invitation, Membership, Organisation, Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_for(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def org_path(org: Organisation, suffix: str = "") -> str:
    return f"/orgs/{org.public_id}/{suffix}"


def _membership(actor) -> Membership:
    return Membership.objects.get(organisation=actor.organisation, user=actor.user)


# --- landing and onboarding ----------------------------------------------------------------------------------------


def test_landing_explains_and_offers_sign_up(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<h1") == 1
    assert 'href="/accounts/signup/"' in body
    assert 'href="/accounts/login/"' in body


def test_signed_in_landing_goes_to_onboarding_then_dashboard(make_user) -> None:
    client = Client()
    client.force_login(make_user())
    assert client.get("/").url == "/dashboard/"
    assert client.get("/dashboard/").url == "/orgs/new"
    response = client.post("/orgs/new", {"name": "Acme Academy"})
    org = Organisation.objects.get()
    assert response.url == org_path(org)
    assert client.get("/dashboard/").url == org_path(org)


def test_create_organisation_form_shows_the_error(make_user) -> None:
    client = Client()
    client.force_login(make_user())
    response = client.post("/orgs/new", {"name": "   "})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Organisation.objects.exists()


def test_dashboard_checklist_ticks_off_from_the_database(member) -> None:
    from insignia.badges.models import BadgeClass
    from insignia.issuers.models import Issuer

    owner = member(Role.OWNER)
    client = client_for(owner)
    body = client.get(org_path(owner.organisation)).content.decode()
    assert "Get started" in body
    assert body.count("is-done") == 1  # only "create your organisation"
    assert f'href="{org_path(owner.organisation, "issuers/new")}"' in body

    issuer = Issuer.objects.create(organisation=owner.organisation, name="Acme", url="https://acme.example",
                                   email="badges@acme.example")
    body = client.get(org_path(owner.organisation)).content.decode()
    assert body.count("is-done") == 2
    BadgeClass.objects.create(organisation=owner.organisation, issuer=issuer, name="Python", description="d")
    body = client.get(org_path(owner.organisation)).content.decode()
    assert body.count("is-done") == 3
    assert f'href="{org_path(owner.organisation, "awards/new")}"' in body


# --- tenancy: every page of another organisation is 404 -------------------------------------------------------------


def _org_b_urls(org_b: Organisation, membership_id: int, invitation_id: int) -> list[tuple[str, str]]:
    return [
        ("get", org_path(org_b)),
        ("get", org_path(org_b, "settings/")),
        ("post", org_path(org_b, "settings/")),
        ("get", org_path(org_b, "settings/members/")),
        ("post", org_path(org_b, f"settings/members/{membership_id}/role")),
        ("post", org_path(org_b, f"settings/members/{membership_id}/remove")),
        ("get", org_path(org_b, "settings/invitations/")),
        ("post", org_path(org_b, "settings/invitations/")),
        ("post", org_path(org_b, f"settings/invitations/{invitation_id}/cancel")),
        ("get", org_path(org_b, "audit/")),
    ]


def test_a_member_of_org_a_gets_404_on_every_org_b_page(member) -> None:
    owner_a = member(Role.OWNER)
    owner_b = member(Role.OWNER)
    invitation = Invitation.objects.create(organisation=owner_b.organisation, email="z@example.org",
                                           token_hash="1" * 64, expires_at=timezone.now() + timedelta(days=1))
    client = client_for(owner_a)
    for method, url in _org_b_urls(owner_b.organisation, _membership(owner_b).pk, invitation.pk):
        response = getattr(client, method)(url, {"name": "x", "role": "owner", "email": "e@example.org"})
        assert response.status_code == 404, (method, url, response.status_code)
        assert "We could not find that page" in response.content.decode()
    assert Membership.objects.filter(organisation=owner_b.organisation).count() == 1
    assert Invitation.objects.filter(organisation=owner_b.organisation).count() == 1
    assert Organisation.objects.get(pk=owner_b.organisation.pk).name == owner_b.organisation.name


def test_anonymous_visitors_are_sent_to_sign_in(member) -> None:
    owner = member(Role.OWNER)
    response = Client().get(org_path(owner.organisation, "settings/"))
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ISSUER])
def test_viewers_and_issuers_get_403_on_writes(member, role) -> None:
    owner = member(Role.OWNER)
    actor = member(role, org=owner.organisation)
    invitation = Invitation.objects.create(organisation=owner.organisation, email="z@example.org",
                                           token_hash="2" * 64, expires_at=timezone.now() + timedelta(days=1))
    client = client_for(actor)
    owner_membership = _membership(owner).pk
    writes = [
        (org_path(owner.organisation, "settings/"), {"name": "Hijacked", "brand_colour": "#000000"}),
        (org_path(owner.organisation, "settings/invitations/"), {"email": "x@example.org", "role": "viewer"}),
        (org_path(owner.organisation, f"settings/members/{owner_membership}/role"), {"role": "viewer"}),
        (org_path(owner.organisation, f"settings/members/{owner_membership}/remove"), {}),
        (org_path(owner.organisation, f"settings/invitations/{invitation.pk}/cancel"), {}),
    ]
    for url, data in writes:
        response = client.post(url, data)
        assert response.status_code == 403, (url, response.status_code)
        assert "Your role does not allow this" in response.content.decode()
    assert client.get(org_path(owner.organisation, "audit/")).status_code == 403
    for page in ("", "settings/", "settings/members/", "settings/invitations/"):
        assert client.get(org_path(owner.organisation, page)).status_code == 200
    assert Organisation.objects.get(pk=owner.organisation.pk).name == "Acme Academy"
    assert not AuditEvent.objects.exists()
    assert Invitation.objects.count() == 1


# --- settings ------------------------------------------------------------------------------------------------------


def test_general_settings_update_brand_colour_and_audit(member) -> None:
    admin = member(Role.ADMIN)
    client = client_for(admin)
    response = client.post(org_path(admin.organisation, "settings/"), {"name": "Acme Institute",
                                                                        "brand_colour": "#0f766e"})
    assert response.status_code == 302
    org = Organisation.objects.get(pk=admin.organisation.pk)
    assert (org.name, org.brand_colour) == ("Acme Institute", "#0f766e")
    assert AuditEvent.objects.filter(organisation=org, verb="organisation.updated").count() == 1
    page = client.get(org_path(org)).content.decode()
    assert f"/brand/{org.public_id}.css" in page
    css = client.get(f"/brand/{org.public_id}.css")
    assert css["Content-Type"].startswith("text/css")
    assert b"--brand:#0f766e" in css.content
    assert b"--brand-ink:#ffffff" in css.content


def test_invalid_brand_colour_is_named_on_the_field(member) -> None:
    owner = member(Role.OWNER)
    response = client_for(owner).post(org_path(owner.organisation, "settings/"),
                                      {"name": "Acme", "brand_colour": "red"})
    assert response.status_code == 200
    assert "hex code" in response.content.decode()
    assert Organisation.objects.get(pk=owner.organisation.pk).brand_colour == "#1d4ed8"


def test_brand_ink_keeps_contrast_on_light_brands() -> None:
    from insignia.core.views import brand_ink

    assert brand_ink("#1d4ed8") == "#ffffff"
    assert brand_ink("#fde047") == "#111827"


def test_members_page_protects_the_last_owner(member) -> None:
    owner = member(Role.OWNER)
    issuer = member(Role.ISSUER, org=owner.organisation)
    body = client_for(owner).get(org_path(owner.organisation, "settings/members/")).content.decode()
    assert "(last owner)" in body
    assert f"/settings/members/{_membership(owner).pk}/remove" not in body
    assert f"/settings/members/{_membership(issuer).pk}/remove" in body


def test_change_role_and_remove_through_the_page(member) -> None:
    owner = member(Role.OWNER)
    issuer = member(Role.ISSUER, org=owner.organisation)
    client = client_for(owner)
    url = org_path(owner.organisation, f"settings/members/{_membership(issuer).pk}/role")
    assert client.post(url, {"role": "admin"}).status_code == 302
    assert _membership(issuer).role == Role.ADMIN
    response = client.post(org_path(owner.organisation, f"settings/members/{_membership(owner).pk}/role"),
                           {"role": "viewer"}, follow=True)
    assert "last owner" in response.content.decode()
    assert _membership(owner).role == Role.OWNER
    client.post(org_path(owner.organisation, f"settings/members/{_membership(issuer).pk}/remove"))
    assert not Membership.objects.filter(user=issuer.user).exists()
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"member.role_changed", "member.removed"} <= verbs


def test_admin_cannot_touch_an_owner_through_the_page(member) -> None:
    owner = member(Role.OWNER)
    admin = member(Role.ADMIN, org=owner.organisation)
    client = client_for(admin)
    url = org_path(owner.organisation, f"settings/members/{_membership(owner).pk}/role")
    assert client.post(url, {"role": "viewer"}).status_code == 403
    assert client.post(org_path(owner.organisation, f"settings/members/{_membership(owner).pk}/remove")
                       ).status_code == 403
    assert _membership(owner).role == Role.OWNER


# --- invitations end to end ----------------------------------------------------------------------------------------


def _invite_through_page(owner, email: str, role: str, capture) -> str:
    with capture(execute=True):
        response = client_for(owner).post(org_path(owner.organisation, "settings/invitations/"),
                                          {"email": email, "role": role})
    assert response.status_code == 302
    message = mail.outbox[-1]
    assert message.to == [email]
    assert message.alternatives
    assert message.alternatives[0][1] == "text/html"
    return re.search(r"(/invitations/[A-Za-z0-9_\-]+)", message.body).group(1)


def test_invitation_accepted_with_the_right_email(member, make_user, django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    link = _invite_through_page(owner, "joiner@example.org", "issuer", django_capture_on_commit_callbacks)
    anonymous = Client().get(link)
    assert anonymous.status_code == 200
    assert "Join Acme Academy" in anonymous.content.decode()
    joiner = make_user("joiner@example.org")
    EmailAddress.objects.create(user=joiner, email=joiner.email, verified=True, primary=True)
    client = Client()
    client.force_login(joiner)
    assert "Accept and join" in client.get(link).content.decode()
    response = client.post(link)
    assert response.url == org_path(owner.organisation)
    assert Membership.objects.get(user=joiner).role == Role.ISSUER
    assert client.get(org_path(owner.organisation)).status_code == 200
    used = client.get(link)
    assert used.status_code == 410
    assert "already been used" in used.content.decode()


def test_invitation_refused_for_another_email(member, make_user, django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    link = _invite_through_page(owner, "joiner@example.org", "issuer", django_capture_on_commit_callbacks)
    client = Client()
    client.force_login(make_user("someone-else@example.org"))
    assert "different address" in client.get(link).content.decode()
    response = client.post(link)
    assert response.status_code == 403
    assert "Sign out" in response.content.decode()
    assert Membership.objects.filter(organisation=owner.organisation).count() == 1


def test_invitation_expired_or_unknown(member, make_user, django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    link = _invite_through_page(owner, "joiner@example.org", "viewer", django_capture_on_commit_callbacks)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    client = Client()
    client.force_login(make_user("joiner@example.org"))
    response = client.get(link)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert client.post(link).status_code == 410
    assert Membership.objects.filter(organisation=owner.organisation).count() == 1
    assert client.get("/invitations/not-a-real-token").status_code == 404


def test_signing_in_after_opening_an_invitation_returns_to_it(member, make_user,
                                                                django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    link = _invite_through_page(owner, "joiner@example.org", "viewer", django_capture_on_commit_callbacks)
    client = Client()
    client.get(link)
    client.force_login(make_user("joiner@example.org"))
    assert client.get("/dashboard/").url == link


def test_pending_invitations_listed_and_cancelled(member, django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    link = _invite_through_page(owner, "joiner@example.org", "viewer", django_capture_on_commit_callbacks)
    client = client_for(owner)
    body = client.get(org_path(owner.organisation, "settings/invitations/")).content.decode()
    assert "joiner@example.org" in body
    assert "status-pending" in body
    invitation = Invitation.objects.get()
    client.post(org_path(owner.organisation, f"settings/invitations/{invitation.pk}/cancel"))
    assert Client().get(link).status_code == 404


# --- audit log -----------------------------------------------------------------------------------------------------


def test_audit_log_lists_writes_with_pagination(member) -> None:
    owner = member(Role.OWNER)
    for n in range(30):
        services.update_organisation(actor=owner, name=f"Acme {n}")
    client = client_for(owner)
    first = client.get(org_path(owner.organisation, "audit/")).content.decode()
    assert first.count("organisation.updated") == 25
    assert "Page 1 of 2" in first
    assert owner.user.email in first
    second = client.get(org_path(owner.organisation, "audit/") + "?page=2").content.decode()
    assert second.count("organisation.updated") == 5


def test_admin_sees_the_audit_log(member) -> None:
    admin = member(Role.ADMIN)
    assert client_for(admin).get(org_path(admin.organisation, "audit/")).status_code == 200


# --- chrome and error pages ----------------------------------------------------------------------------------------


def test_navigation_and_org_switcher(member) -> None:
    owner = member(Role.OWNER)
    second = Organisation.objects.create(name="Second Org", slug="second")
    Membership.objects.create(organisation=second, user=owner.user, role=Role.VIEWER)
    body = client_for(owner).get(org_path(owner.organisation)).content.decode()
    for label, suffix in [("Dashboard", ""), ("Badges", "badges/"), ("Awards", "awards/"), ("Issuers", "issuers/"),
                          ("Settings", "settings/")]:
        assert f'href="{org_path(owner.organisation, suffix)}"' in body, label
    assert f'href="/orgs/{second.public_id}/"' in body
    assert 'class="skip-link"' in body
    assert "Sign out" in body


def test_not_found_page_says_what_to_do(client) -> None:
    response = client.get("/orgs/0123456789abcdef0123456789abcdef/")
    assert response.status_code in (302, 404)
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Check the address" in response.content.decode()


def test_styleguide_renders_every_component(member) -> None:
    body = client_for(member(Role.VIEWER)).get("/styleguide/").content.decode()
    for cls in ("btn-primary", "btn-danger", "status-revoked", "badge-tile", "alert-error", "copy-field",
                "drop-zone", "tabs", "<progress", "<dialog", "empty-state", "data-toast"):
        assert cls in body, cls
