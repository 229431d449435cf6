"""Issuers, badges, awards and the audit log over the API: tenancy (404), scopes (403), behaviour."""

from __future__ import annotations

import pytest

from insignia.awards.models import Award
from insignia.core.models import AuditEvent, Role
from insignia.issuers.models import Issuer
from tests.platform.api_support import (
    ApiClient,
    assert_problem,
    client_for,
    make_award,
    make_badge,
    make_issuer,
    token_for,
)

pytestmark = pytest.mark.django_db

ISSUER = {"name": "Acme Academy", "url": "https://acme.example.org", "email": "Badges@Acme.example.org"}


@pytest.fixture
def two_orgs(member):
    """Organisation A (with a token of every scope, and a read-only one) and organisation B with objects."""
    a = member(Role.OWNER)
    b = member(Role.OWNER)
    badge_b = make_badge(b)
    award_b = make_award(b, badge_b)
    return {
        "a": a, "b": b,
        "api": client_for(a),
        "read": client_for(a, ["read"]),
        "issuer_b": badge_b.issuer, "badge_b": badge_b, "award_b": award_b,
    }


# -- tenancy and scopes, endpoint by endpoint -------------------------------------------------------


def _object_paths(ctx) -> list[tuple[str, str, dict | None]]:
    issuer, badge, award = ctx["issuer_b"].public_id, ctx["badge_b"].public_id, ctx["award_b"].public_id
    return [
        ("GET", f"/issuers/{issuer}", None),
        ("PATCH", f"/issuers/{issuer}", {"name": "Hijacked"}),
        ("POST", f"/issuers/{issuer}/rotate-keys", None),
        ("GET", f"/badges/{badge}", None),
        ("PATCH", f"/badges/{badge}", {"name": "Hijacked"}),
        ("POST", f"/badges/{badge}/publish", None),
        ("POST", f"/badges/{badge}/archive", None),
        ("GET", f"/awards/{award}", None),
        ("POST", f"/awards/{award}/revoke", {"reason": "because"}),
        ("POST", f"/awards/{award}/suspend", {"reason": "because"}),
        ("POST", f"/awards/{award}/unsuspend", None),
    ]


def test_another_organisations_objects_are_not_found(two_orgs) -> None:
    api = two_orgs["api"]
    for method, path, body in _object_paths(two_orgs):
        response = api.get(path) if method == "GET" else api.send(method, path, body)
        assert_problem(response, 404, "not_found")
    # nothing of B changed
    award = Award.objects.get(pk=two_orgs["award_b"].pk)
    assert award.status == "active"
    assert Issuer.objects.get(pk=two_orgs["issuer_b"].pk).name == "Acme Academy"
    two_orgs["badge_b"].refresh_from_db()
    assert (two_orgs["badge_b"].name, two_orgs["badge_b"].status) == ("Python Basics", "published")
    assert_problem(api.post("/badges", {"issuer": two_orgs["issuer_b"].public_id, "name": "X", "description": "Y"}),
                   404)
    assert two_orgs["issuer_b"].keys.filter(retired_at__isnull=False).count() == 0
    # B's objects never show up in A's lists, nor can A issue B's badge
    for path in ("/issuers", "/badges", "/awards"):
        assert api.get(path).json()["count"] == 0, path
    b_ids = {two_orgs["issuer_b"].public_id, two_orgs["badge_b"].public_id, two_orgs["award_b"].public_id}
    assert not b_ids & {e["object_id"] for e in api.get("/audit").json()["items"]}
    assert_problem(api.post("/awards", {"badge": two_orgs["badge_b"].public_id, "recipient": "x@example.org"}), 404)


def test_a_read_only_token_cannot_write(two_orgs) -> None:
    a = two_orgs["a"]
    badge = make_badge(a)
    award = make_award(a, badge)
    read = two_orgs["read"]
    writes = [
        ("POST", "/issuers", ISSUER),
        ("PATCH", f"/issuers/{badge.issuer.public_id}", {"name": "Renamed"}),
        ("POST", f"/issuers/{badge.issuer.public_id}/rotate-keys", None),
        ("POST", "/badges", {"issuer": badge.issuer.public_id, "name": "B", "description": "D"}),
        ("PATCH", f"/badges/{badge.public_id}", {"name": "Renamed"}),
        ("POST", f"/badges/{badge.public_id}/publish", None),
        ("POST", f"/badges/{badge.public_id}/archive", None),
        ("POST", "/awards", {"badge": badge.public_id, "recipient": "grace@example.org"}),
        ("POST", f"/awards/{award.public_id}/revoke", {"reason": "x"}),
        ("POST", f"/awards/{award.public_id}/suspend", {"reason": "x"}),
        ("POST", f"/awards/{award.public_id}/unsuspend", None),
    ]
    for method, path, body in writes:
        assert_problem(read.send(method, path, body), 403, "insufficient_scope")
    assert Award.objects.filter(organisation=a.organisation).count() == 1
    for path in (f"/issuers/{badge.issuer.public_id}", f"/badges/{badge.public_id}", f"/awards/{award.public_id}",
                 "/issuers", "/badges", "/awards"):
        assert read.get(path).status_code == 200, path


# -- issuers ---------------------------------------------------------------------------------------


def test_issuer_lifecycle(member, settings) -> None:
    api = client_for(member(Role.OWNER))
    created = api.post("/issuers", ISSUER)
    assert created.status_code == 201, created.content
    issuer = created.json()
    assert issuer["email"] == "badges@acme.example.org"
    assert issuer["profile_url"] == f"{settings.BASE_URL}/i/{issuer['id']}"
    assert issuer["did"].startswith("did:web:")
    assert sorted(k["algorithm"] for k in issuer["keys"]) == ["EdDSA", "RS256"]
    assert api.get(f"/issuers/{issuer['id']}").json() == issuer

    patched = api.patch(f"/issuers/{issuer['id']}", {"description": "We teach."}).json()
    assert patched["description"] == "We teach."
    assert patched["name"] == "Acme Academy"
    assert_problem(api.patch(f"/issuers/{issuer['id']}", {"email": "nope"}), 400)

    rotated = api.post(f"/issuers/{issuer['id']}/rotate-keys").json()
    assert len(rotated["keys"]) == 4
    assert sum(k["active"] for k in rotated["keys"]) == 2
    assert {k["id"] for k in issuer["keys"]} <= {k["id"] for k in rotated["keys"] if not k["active"]}

    listed = api.get("/issuers").json()
    assert [i["id"] for i in listed["items"]] == [issuer["id"]]


# -- badges ----------------------------------------------------------------------------------------


def test_badges_list_and_read(member, settings) -> None:
    owner = member(Role.OWNER)
    published = make_badge(owner, name="Alpha")
    make_badge(owner, published.issuer, name="Beta", status="draft")
    api = client_for(owner, ["read"])
    listed = api.get("/badges").json()
    assert sorted(b["name"] for b in listed["items"]) == ["Alpha", "Beta"]
    assert [b["name"] for b in api.get("/badges", {"status": "draft"}).json()["items"]] == ["Beta"]
    assert api.get("/badges", {"issuer": "nope"}).json()["count"] == 0
    one = api.get(f"/badges/{published.public_id}").json()
    assert one["issuer"] == published.issuer.public_id
    assert one["achievement_url"] == f"{settings.BASE_URL}/a/{published.public_id}"
    assert_problem(api.get("/badges/does-not-exist"), 404)


def test_badge_lifecycle(member) -> None:
    owner = member(Role.OWNER)
    issuer = make_issuer(owner)
    api = client_for(owner, ["design"])
    created = api.post("/badges", {"issuer": issuer.public_id, "name": "Data Wrangler",
                                   "description": "Cleans data.", "criteria_narrative": "Clean **one** dataset.",
                                   "tags": ["data"], "alignments": [{"framework": "ESCO", "code": "S1.2",
                                                                     "name": "Data cleaning",
                                                                     "url": "https://esco.example/s1.2"}],
                                   "expiry_policy": "duration", "expiry_days": 365})
    assert created.status_code == 201, created.content
    badge = created.json()
    assert (badge["status"], badge["issuer"], badge["expiry_days"]) == ("draft", issuer.public_id, 365)
    assert badge["image_url"]  # a default design was made
    patched = api.patch(f"/badges/{badge['id']}", {"level": "Intermediate"}).json()
    assert (patched["level"], patched["name"]) == ("Intermediate", "Data Wrangler")
    assert_problem(api.post(f"/badges/{badge['id']}/archive"), 400, "draft")
    published = api.post(f"/badges/{badge['id']}/publish").json()
    assert published["status"] == "published"
    assert published["published_at"]
    assert api.post(f"/badges/{badge['id']}/archive").json()["status"] == "archived"
    assert_problem(api.patch(f"/badges/{badge['id']}", {"name": "Again"}), 400, "archived")
    assert api.get("/badges", {"status": "archived"}).json()["count"] == 1


def test_badge_refusals_are_problems(member) -> None:
    owner = member(Role.OWNER)
    issuer = make_issuer(owner)
    api = client_for(owner, ["design"])
    body = assert_problem(api.post("/badges", {"issuer": issuer.public_id, "name": " ", "description": "",
                                               "criteria_url": "javascript:alert(1)"}), 400)
    assert body["errors"]
    assert all("message" in e for e in body["errors"])
    assert_problem(api.post("/badges", {"issuer": issuer.public_id, "name": "Img", "description": "D",
                                        "image_base64": "%%%not base64"}), 400, "image_invalid")
    hostile = "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciPjxzY3JpcHQ+YWxlcnQoMSk8L3NjcmlwdD48L3N2Zz4="
    assert_problem(api.post("/badges", {"issuer": issuer.public_id, "name": "Img", "description": "D",
                                        "image_base64": hostile, "image_filename": "x.svg"}), 400)
    assert api.get("/badges").json()["count"] == 0


# -- awards ----------------------------------------------------------------------------------------


def test_issuing_returns_every_public_url(member, settings) -> None:
    owner = member(Role.OWNER)
    badge = make_badge(owner)
    api = client_for(owner, ["issue"])
    response = api.post("/awards", {"badge": badge.public_id, "recipient": "Ada@Example.org", "recipient_name": "Ada",
                                    "evidence": [{"url": "https://example.org/work", "name": "Work"}],
                                    "narrative": "Did it."})
    assert response.status_code == 201, response.content
    award = response.json()
    base = f"{settings.BASE_URL}/c/{award['id']}"
    assert award["public_url"] == base
    assert award["credential_url"] == f"{base}/credential.json"
    assert award["jwt_url"] == f"{base}/credential.jwt"
    assert award["assertion_url"] == f"{base}/assertion"
    assert award["baked_png_url"] == f"{base}/badge.png"
    assert award["baked_svg_url"] == f"{base}/badge.svg"
    assert award["recipient"] == {"kind": "email", "identity": "ada@example.org", "name": "Ada"}
    assert award["state"] == "valid"
    assert award["evidence"][0]["url"] == "https://example.org/work"
    assert api.get(f"/awards/{award['id']}").json() == award
    stored = Award.objects.get(public_id=award["id"])
    assert stored.created_by is None
    assert AuditEvent.objects.get(verb="award.issued", object_id=award["id"]).actor_label == "token:test"


def test_idempotent_issuing(member) -> None:
    owner = member(Role.OWNER)
    badge = make_badge(owner)
    api = client_for(owner, ["issue"])
    body = {"badge": badge.public_id, "recipient": "ada@example.org"}
    first = api.post("/awards", body, headers={"Idempotency-Key": "order-42"})
    assert first.status_code == 201
    again = api.post("/awards", body, headers={"Idempotency-Key": "order-42"})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Award.objects.filter(organisation=owner.organisation).count() == 1
    assert_problem(api.post("/awards", {**body, "recipient": "grace@example.org"},
                            headers={"Idempotency-Key": "order-42"}), 409, "idempotency_key_reused")
    # without a key, or with another key, a new award is made
    assert api.post("/awards", body).status_code == 201
    assert api.post("/awards", body, headers={"Idempotency-Key": "order-43"}).status_code == 201
    assert Award.objects.filter(organisation=owner.organisation).count() == 3
    assert_problem(api.post("/awards", body, headers={"Idempotency-Key": "k" * 201}), 400, "idempotency_key_invalid")
    # keys are per organisation: another organisation may use the same key
    other = member(Role.OWNER)
    other_badge = make_badge(other)
    response = client_for(other, ["issue"]).post("/awards", {"badge": other_badge.public_id,
                                                             "recipient": "ada@example.org"},
                                                 headers={"Idempotency-Key": "order-42"})
    assert response.status_code == 201


def test_issuing_refusals_are_problems(member) -> None:
    owner = member(Role.OWNER)
    badge = make_badge(owner)
    draft = make_badge(owner, badge.issuer, name="Draft", status="draft")
    api = client_for(owner, ["issue"])
    assert_problem(api.post("/awards", {"badge": draft.public_id, "recipient": "a@example.org"}), 400,
                   "badge_not_published")
    body = assert_problem(api.post("/awards", {"badge": badge.public_id, "recipient": "not an email"}), 400,
                          "recipient_invalid")
    assert body["field"] == "recipient"
    assert_problem(api.post("/awards", {"badge": badge.public_id, "recipient": "a@example.org",
                                        "recipient_kind": "fax"}), 422)
    assert_problem(api.post("/awards", {"badge": badge.public_id}), 422)
    assert_problem(api.post("/awards", raw='{"badge": '), 400, "malformed_body")
    assert Award.objects.count() == 0


def test_award_filters_and_status_changes(member) -> None:
    owner = member(Role.OWNER)
    badge = make_badge(owner)
    other_badge = make_badge(owner, badge.issuer, name="Other")
    ada = make_award(owner, badge, "ada@example.org")
    make_award(owner, badge, "grace@example.org")
    make_award(owner, other_badge, "ada@example.org")
    api = client_for(owner, ["issue"])
    assert api.get("/awards").json()["count"] == 3
    assert api.get("/awards", {"badge": badge.public_id}).json()["count"] == 2
    assert api.get("/awards", {"recipient": "ADA@example.org"}).json()["count"] == 2

    suspended = api.post(f"/awards/{ada.public_id}/suspend", {"reason": "Checking"}).json()
    assert (suspended["status"], suspended["state"], suspended["status_reason"]) == ("suspended", "suspended",
                                                                                     "Checking")
    assert [a["id"] for a in api.get("/awards", {"status": "suspended"}).json()["items"]] == [ada.public_id]
    assert api.get("/awards", {"status": "active"}).json()["count"] == 2
    assert api.post(f"/awards/{ada.public_id}/unsuspend").json()["status"] == "active"
    assert_problem(api.post(f"/awards/{ada.public_id}/unsuspend"), 400, "not_suspended")
    assert_problem(api.post(f"/awards/{ada.public_id}/revoke", {"reason": "  "}), 400, "reason_required")
    assert_problem(api.post(f"/awards/{ada.public_id}/revoke", {}), 422)
    revoked = api.post(f"/awards/{ada.public_id}/revoke", {"reason": "Cheated"}).json()
    assert revoked["status"] == "revoked"
    assert_problem(api.post(f"/awards/{ada.public_id}/revoke", {"reason": "again"}), 400, "already_revoked")
    assert api.get("/awards", {"status": "revoked", "badge": badge.public_id}).json()["count"] == 1


# -- audit -----------------------------------------------------------------------------------------


def test_the_audit_log_is_per_organisation_and_needs_manage(member) -> None:
    owner = member(Role.OWNER)
    other = member(Role.OWNER)
    make_issuer(other, "Other Org Issuer")
    api = ApiClient(token_for(owner, ["manage"], name="auditor"))
    api.post("/issuers", ISSUER)
    log = api.get("/audit").json()
    verbs = [e["verb"] for e in log["items"]]
    assert verbs[0] == "issuer.created"
    assert "api_token.created" in verbs
    assert all(e["data"].get("name") != "Other Org Issuer" for e in log["items"])
    assert log["items"][0]["actor"] == "token:auditor"
    only = api.get("/audit", {"verb": "issuer.created"}).json()
    assert [e["verb"] for e in only["items"]] == ["issuer.created"]
    assert_problem(client_for(owner, ["read", "issue", "design"]).get("/audit"), 403)
