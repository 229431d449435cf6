"""An organisation page reads the user's memberships once: the Actor and the navigation (the organisation
switcher) share them. They are the signed-in user's own, read afresh on every request: nobody's navigation ever
names an organisation they are not (or no longer) a member of."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from insignia.core.models import Membership, Organisation, Role

pytestmark = pytest.mark.django_db


def _client(actor: Any) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def _membership_queries(client: Client, path: str) -> tuple[int, str]:
    client.get(path)  # once first: once-a-minute writes are not what is counted
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    read = [q["sql"] for q in captured.captured_queries if 'FROM "core_membership"' in q["sql"]]
    return len(read), response.content.decode()


@pytest.mark.parametrize("suffix", ["", "awards/", "badges/", "issuers/", "settings/"])
def test_an_organisation_page_reads_the_memberships_once(member, suffix) -> None:
    owner = member(Role.OWNER)
    second = Organisation.objects.create(name="Second Org", slug="second")
    Membership.objects.create(organisation=second, user=owner.user, role=Role.VIEWER)
    reads, html = _membership_queries(_client(owner), f"/orgs/{owner.organisation.public_id}/{suffix}")
    assert reads == 1
    assert f'href="/orgs/{second.public_id}/"' in html  # the switcher still lists every organisation
    assert f'href="/orgs/{owner.organisation.public_id}/" aria-current="true"' in html


def test_pages_outside_an_organisation_still_show_the_switcher(member) -> None:
    owner = member(Role.OWNER)
    second = Organisation.objects.create(name="Second Org", slug="second")
    Membership.objects.create(organisation=second, user=owner.user, role=Role.VIEWER)
    reads, html = _membership_queries(_client(owner), "/styleguide/")
    assert reads == 1
    assert f'href="/orgs/{second.public_id}/"' in html


def test_nobody_sees_another_organisation_in_their_navigation(member) -> None:
    mine, theirs = member(Role.OWNER), member(Role.OWNER)
    Organisation.objects.filter(pk=theirs.organisation.pk).update(name="Their Secret Org")
    client = _client(mine)
    for path in (f"/orgs/{theirs.organisation.public_id}/", f"/orgs/{theirs.organisation.public_id}/awards/"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Their Secret Org" not in response.content.decode()
        assert theirs.organisation.public_id not in response.content.decode().replace(path, "")
    html = client.get(f"/orgs/{mine.organisation.public_id}/").content.decode()
    assert "Their Secret Org" not in html
    assert theirs.organisation.public_id not in html


def test_a_removed_member_loses_the_organisation_at_once(member) -> None:
    owner = member(Role.OWNER)
    second = Organisation.objects.create(name="Second Org", slug="second")
    joined = Membership.objects.create(organisation=second, user=owner.user, role=Role.ADMIN)
    client = _client(owner)
    assert "Second Org" in client.get(f"/orgs/{second.public_id}/").content.decode()
    joined.delete()
    assert client.get(f"/orgs/{second.public_id}/").status_code == 404
    assert "Second Org" not in client.get(f"/orgs/{owner.organisation.public_id}/").content.decode()
