"""Platform test fixtures: users, organisations, members with roles, actors. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from insignia.core.models import Membership, Organisation, Role
from insignia.core.tenancy import Actor


@pytest.fixture
def make_user(db: Any):
    from insignia.accounts.models import User

    def make(email: str = "owner@example.org", password: str = "correct horse battery staple") -> User:
        return User.objects.create_user(email=email, password=password)

    return make


@pytest.fixture
def make_org(db: Any):
    counter = {"n": 0}

    def make(name: str = "Acme Academy") -> Organisation:
        counter["n"] += 1
        return Organisation.objects.create(name=name, slug=f"{name.lower().replace(' ', '-')}-{counter['n']}")

    return make


@pytest.fixture
def member(make_user, make_org):
    """member(role, org=None, email=None) -> Actor for a new user with that role."""
    counter = {"n": 0}

    def make(role: str = Role.OWNER, org: Organisation | None = None, email: str | None = None) -> Actor:
        counter["n"] += 1
        organisation = org or make_org()
        user = make_user(email or f"{role}{counter['n']}@example.org")
        Membership.objects.create(organisation=organisation, user=user, role=role)
        return Actor(organisation=organisation, role=role, user=user)

    return make
