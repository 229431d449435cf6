"""Badge pages and public endpoints: content negotiation, caching headers, image safety headers,
drafts private, tenancy (404 for other organisations) and roles (viewers cannot write)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from django.test import Client
from PIL import Image

from insignia.badges import services
from insignia.badges.images import ImageUpload
from insignia.badges.models import BadgeClass, BadgeStatus
from insignia.core.models import Role
from insignia.credentials.model import validate_ob2_badgeclass
from insignia.issuers.identity import issuer_url
from insignia.issuers.services import create_issuer

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


@pytest.fixture
def issuer(owner):
    return create_issuer(actor=owner, name="Acme Academy", url="https://acme.example.org",
                         email="badges@acme.example.org")


@pytest.fixture
def draft(owner, issuer):
    return services.create_badge(
        actor=owner, issuer=issuer, name="Data Steward", description="Looks after data.",
        criteria_narrative="## Steps\n\n1. Take the **course**\n2. <script>alert(1)</script>",
        level="Gold", alignments=[{"name": "Manage data", "url": "https://esco.example.org/s1", "code": "S1"}],
        tags=["data"], expiry_policy="duration", expiry_days=365, now=NOW,
    )


@pytest.fixture
def published(owner, draft):
    return services.publish_badge(actor=owner, badge=draft)


def logged_in(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def org_url(actor, rest: str = "") -> str:
    return f"/orgs/{actor.organisation.public_id}/badges/{rest}"


# == public endpoints ============================================================================


def test_achievement_json_for_json_clients(client, published) -> None:
    response = client.get(f"/a/{published.public_id}", HTTP_ACCEPT="application/ld+json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Accept" in response["Vary"]
    doc = json.loads(response.content)
    assert doc["type"] == ["Achievement"]
    assert doc["name"] == "Data Steward"
    again = client.get(f"/a/{published.public_id}", HTTP_ACCEPT="application/json",
                       HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_achievement_page_for_people(client, published) -> None:
    response = client.get(f"/a/{published.public_id}", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Data Steward</h1>" in html
    assert "<h4>Steps</h4>" in html
    assert "<strong>course</strong>" in html
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html
    assert f'href="{issuer_url(published.issuer)}"' in html
    assert "Manage data" in html
    assert "Gold" in html
    assert "365 days after" in html
    assert f'src="/a/{published.public_id}/image"' in html
    assert f'content="{published_image_url(published)}.png"' in html  # og:image, absolute
    assert client.get(f"/a/{published.public_id}?format=json")["Content-Type"].startswith("application/ld+json")


def published_image_url(badge) -> str:
    from insignia.badges.documents import image_url

    return image_url(badge)


def test_ob2_badgeclass(client, published) -> None:
    response = client.get(f"/a/{published.public_id}/ob2")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("public")
    assert response["ETag"]
    validate_ob2_badgeclass(json.loads(response.content))


def test_svg_image_is_served_so_it_cannot_run_script(client, published) -> None:
    response = client.get(f"/a/{published.public_id}/image")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("default-src 'none'; style-src 'unsafe-inline'")
    assert b"<svg" in response.content
    png = client.get(f"/a/{published.public_id}/image.png")
    assert png["Content-Type"] == "image/png"
    assert png["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(png.content)) as image:
        assert image.size == (512, 512)


def test_png_badge_image(client, owner, issuer) -> None:
    out = io.BytesIO()
    Image.new("RGBA", (64, 64), (10, 20, 30, 255)).save(out, format="PNG")
    badge = services.create_badge(actor=owner, issuer=issuer, name="P", description="d", criteria_narrative="c",
                                  image_upload=ImageUpload(out.getvalue()))
    services.publish_badge(actor=owner, badge=badge)
    response = client.get(f"/a/{badge.public_id}/image")
    assert response["Content-Type"] == "image/png"
    assert "Content-Security-Policy" not in response or "default-src 'none'" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("suffix", ["", "/ob2", "/image", "/image.png"])
def test_drafts_are_not_public(client, draft, suffix) -> None:
    assert client.get(f"/a/{draft.public_id}{suffix}").status_code == 404
    assert client.get(f"/a/{'0' * 32}{suffix}").status_code == 404


@pytest.mark.parametrize("suffix", ["", "/ob2", "/image", "/image.png"])
def test_archived_badges_stay_public(client, owner, published, suffix) -> None:
    services.archive_badge(actor=owner, badge=published)
    assert client.get(f"/a/{published.public_id}{suffix}").status_code == 200


# == management pages ============================================================================


def test_login_is_required(client, owner) -> None:
    response = client.get(org_url(owner))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_list_with_empty_state_and_filter(owner, issuer) -> None:
    client = logged_in(owner)
    html = client.get(org_url(owner)).content.decode()
    assert "Create your first badge" in html
    badge = services.create_badge(actor=owner, issuer=issuer, name="Alpha", description="A.", criteria_narrative="x")
    services.create_badge(actor=owner, issuer=issuer, name="Beta", description="B.", criteria_narrative="x")
    services.publish_badge(actor=owner, badge=badge)
    html = client.get(org_url(owner)).content.decode()
    assert "Alpha" in html
    assert "Beta" in html
    published_only = client.get(org_url(owner) + "?status=published").content.decode()
    assert "Alpha" in published_only
    assert "Beta" not in published_only
    assert "No badges with this status" in client.get(org_url(owner) + "?status=archived").content.decode()


def _form(issuer, **overrides):
    data = {
        "issuer": issuer.public_id, "name": "Form Badge", "description": "Made in the form.",
        "criteria_narrative": "Do the thing.", "criteria_url": "", "achievement_type": "Badge", "level": "",
        "tags": "one, two", "expiry_policy": "none", "image_source": "design", "shape": "shield",
        "primary": "#1d4ed8", "secondary": "#f59e0b", "icon": "check", "initials": "", "ribbon": "Pro",
        "alignment-0-name": "Skill", "alignment-0-url": "https://skills.example.org/1",
    }
    data.update(overrides)
    return data


def test_create_badge_through_the_form(owner, issuer) -> None:
    client = logged_in(owner)
    page = client.get(org_url(owner, "new"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "preview.svg?" in html
    assert "badge-designer.js" in html
    response = client.post(org_url(owner, "new"), _form(issuer))
    assert response.status_code == 302
    badge = BadgeClass.objects.get(name="Form Badge")
    assert response["Location"] == org_url(owner, f"{badge.public_id}/")
    assert badge.tags == ["one", "two"]
    assert badge.design["shape"] == "shield"
    assert badge.alignments == [{"framework": "", "code": "", "name": "Skill", "url": "https://skills.example.org/1",
                                 "description": ""}]
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert "Publish" in detail.content.decode()


def test_form_errors_are_shown_on_their_fields(owner, issuer) -> None:
    client = logged_in(owner)
    response = client.post(org_url(owner, "new"), _form(
        issuer, criteria_url="not a url", **{"alignment-0-url": "relative/path"}, ribbon="x" * 24, initials="AB1"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "The criteria URL must be an absolute http(s) URL" in html
    assert "Skill 1: the URL must be absolute" in html
    assert not BadgeClass.objects.exists()


def test_uploading_a_hostile_svg_through_the_form_is_refused(owner, issuer) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = logged_in(owner)
    upload = SimpleUploadedFile("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                                content_type="image/svg+xml")
    response = client.post(org_url(owner, "new"), _form(issuer, image_source="upload", image=upload))
    assert response.status_code == 400
    assert "The SVG contains a script; remove it and upload again." in response.content.decode()
    assert not BadgeClass.objects.exists()


def test_edit_publish_and_archive(owner, issuer, draft) -> None:
    client = logged_in(owner)
    edit_url = org_url(owner, f"{draft.public_id}/edit")
    assert client.get(edit_url).status_code == 200
    response = client.post(edit_url, _form(issuer, name="Renamed", image_source="keep"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.name == "Renamed"
    client.post(org_url(owner, f"{draft.public_id}/publish"))
    draft.refresh_from_db()
    assert draft.status == BadgeStatus.PUBLISHED
    client.post(org_url(owner, f"{draft.public_id}/archive"))
    draft.refresh_from_db()
    assert draft.status == BadgeStatus.ARCHIVED


def test_publishing_without_criteria_says_why(owner, issuer) -> None:
    badge = services.create_badge(actor=owner, issuer=issuer, name="No criteria", description="d")
    client = logged_in(owner)
    response = client.post(org_url(owner, f"{badge.public_id}/publish"), follow=True)
    assert "Say how the badge is earned" in response.content.decode()
    badge.refresh_from_db()
    assert badge.status == BadgeStatus.DRAFT


def test_preview_svg(owner) -> None:
    client = logged_in(owner)
    response = client.get(org_url(owner, "preview.svg?shape=hexagon&primary=%23ff0000&icon=heart&name=Hi"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert b"<title id=\"badge-title\">Hi</title>" in response.content
    bad = client.get(org_url(owner, "preview.svg?shape=blob"))
    assert bad.status_code == 400


def test_members_see_draft_images(owner, draft) -> None:
    response = logged_in(owner).get(org_url(owner, f"{draft.public_id}/image"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"].startswith("private")


# == tenancy and roles ===========================================================================


def _pages(actor, badge) -> list[tuple[str, str]]:
    bid = badge.public_id
    return [
        ("get", org_url(actor)), ("get", org_url(actor, "new")), ("get", org_url(actor, "preview.svg")),
        ("get", org_url(actor, f"{bid}/")), ("get", org_url(actor, f"{bid}/edit")),
        ("post", org_url(actor, f"{bid}/edit")), ("post", org_url(actor, f"{bid}/publish")),
        ("post", org_url(actor, f"{bid}/archive")), ("get", org_url(actor, f"{bid}/image")),
        ("get", org_url(actor, f"{bid}/image.png")), ("post", org_url(actor, "new")),
    ]


def test_another_organisations_member_gets_404_everywhere(member, owner, draft) -> None:
    stranger = member(Role.OWNER)
    client = logged_in(stranger)
    for method, url in _pages(owner, draft):
        assert getattr(client, method)(url).status_code == 404, url
    # Their own organisation's URL with our badge id: still not found.
    for path in (f"{draft.public_id}/", f"{draft.public_id}/edit", f"{draft.public_id}/image"):
        assert client.get(org_url(stranger, path)).status_code == 404
    assert client.post(org_url(stranger, f"{draft.public_id}/publish")).status_code == 404
    draft.refresh_from_db()
    assert draft.status == BadgeStatus.DRAFT


def test_viewers_can_look_but_not_write(member, owner, issuer, draft) -> None:
    viewer = member(Role.VIEWER, org=owner.organisation)
    client = logged_in(viewer)
    assert client.get(org_url(owner)).status_code == 200
    detail = client.get(org_url(owner, f"{draft.public_id}/"))
    assert detail.status_code == 200
    assert "/publish" not in detail.content.decode()
    assert client.get(org_url(owner, f"{draft.public_id}/image")).status_code == 200
    assert client.get(org_url(owner, "new")).status_code == 403
    assert client.post(org_url(owner, "new"), _form(issuer)).status_code == 403
    assert client.get(org_url(owner, f"{draft.public_id}/edit")).status_code == 403
    assert client.post(org_url(owner, f"{draft.public_id}/edit"), _form(issuer)).status_code == 403
    assert client.post(org_url(owner, f"{draft.public_id}/publish")).status_code == 403
    draft.refresh_from_db()
    assert draft.status == BadgeStatus.DRAFT
    assert draft.name == "Data Steward"
    assert BadgeClass.objects.count() == 1
