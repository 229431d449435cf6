"""Badge class services: validation, life cycle, tenancy, audit, documents and the designer."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

import pytest
from PIL import Image

from insignia.badges import documents, services
from insignia.badges.designer import ICONS, SHAPES, Design, design_png, design_svg, parse_design
from insignia.badges.models import BadgeClass, BadgeStatus
from insignia.core.errors import NotFound, PermissionDenied, ServiceError
from insignia.core.markdown import render_markdown
from insignia.core.models import AuditEvent, Role
from insignia.credentials.baking.svg import check_svg_safe
from insignia.credentials.model import ob3, validate_ob2_badgeclass, validate_ob3_credential
from insignia.credentials.model.identity import make_identity_object
from insignia.issuers.services import create_issuer

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BASE_URL = "https://badges.example.org"


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


@pytest.fixture
def issuer(owner):
    return create_issuer(actor=owner, name="Acme Academy", url="https://acme.example.org",
                         email="badges@acme.example.org")


def _badge(actor, issuer, **overrides):
    fields = {
        "name": "Data Steward", "description": "Looks after data with care.",
        "criteria_narrative": "Complete the *data* course.", "now": NOW,
    } | overrides
    return services.create_badge(actor=actor, issuer=issuer, **fields)


# == create and validate =========================================================================


def test_create_badge_makes_a_draft_with_a_default_designed_image(owner, issuer) -> None:
    badge = _badge(owner, issuer)
    assert badge.status == BadgeStatus.DRAFT
    assert badge.organisation == owner.organisation
    assert badge.image_type == "image/svg+xml"
    assert badge.design["initials"] == "DS"
    svg = badge.image.read()
    check_svg_safe(svg)
    assert b"<title" in svg
    assert b"Data Steward" in svg
    with Image.open(badge.image_png) as png:
        assert png.size == (512, 512)
    event = AuditEvent.objects.get(verb="badge.created")
    assert event.object_id == badge.public_id
    assert event.organisation == owner.organisation


def test_create_badge_with_every_field(owner, issuer) -> None:
    badge = _badge(
        owner, issuer, criteria_url="https://acme.example.org/criteria", achievement_type="certification",
        level="Gold", alignments=[{"framework": "ESCO", "code": "S1.2", "name": "Manage data",
                                   "url": "https://esco.example.org/s1.2", "description": "Data things"}],
        tags=["data", " data ", "care"], expiry_policy="duration", expiry_days=365, evidence_required=True,
        design={"shape": "shield", "primary": "#0A0", "secondary": "#ffffff", "icon": "book", "ribbon": "2026"},
    )
    assert badge.achievement_type == "Certification"
    assert badge.tags == ["data", "care"]
    assert badge.alignments[0]["code"] == "S1.2"
    assert badge.design == {"shape": "shield", "primary": "#00aa00", "secondary": "#ffffff", "icon": "book",
                            "initials": "", "ribbon": "2026"}
    assert badge.expiry_days == 365
    assert badge.expiry_date is None


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": "  "}, "name"),
    ({"description": ""}, "description"),
    ({"achievement_type": "Trophy"}, "achievement_type"),
    ({"criteria_url": "/relative"}, "criteria_url"),
    ({"alignments": [{"name": "Skill", "url": "esco/skill"}]}, "alignments.0.url"),
    ({"alignments": [{"url": "https://esco.example.org/x"}]}, "alignments.0.name"),
    ({"expiry_policy": "fixed_date"}, "expiry_date"),
    ({"expiry_policy": "fixed_date", "expiry_date": date(2020, 1, 1)}, "expiry_date"),
    ({"expiry_policy": "duration", "expiry_days": 0}, "expiry_days"),
    ({"expiry_policy": "sometimes"}, "expiry_policy"),
    ({"tags": ["x" * 65]}, "tags"),
    ({"design": {"shape": "blob"}}, "shape"),
    ({"design": {"primary": "red"}}, "primary"),
    ({"design": {"initials": "ABCD"}}, "initials"),
    ({"design": {"ribbon": "x" * 25}}, "ribbon"),
])
def test_invalid_fields_are_refused_with_the_field_named(owner, issuer, overrides, field) -> None:
    with pytest.raises(ServiceError) as caught:
        _badge(owner, issuer, **overrides)
    fields = [f for f, _ in getattr(caught.value, "errors", [(caught.value.field, "")])]
    assert field in fields
    assert not BadgeClass.objects.exists()


def test_every_problem_is_reported_at_once(owner, issuer) -> None:
    with pytest.raises(services.BadgeInvalid) as caught:
        _badge(owner, issuer, name="", description="", criteria_url="nope")
    assert {f for f, _ in caught.value.errors} == {"name", "description", "criteria_url"}


def test_extension_achievement_types_are_accepted(owner, issuer) -> None:
    assert _badge(owner, issuer, achievement_type="ext:MicroBadge").achievement_type == "ext:MicroBadge"


def test_fixed_expiry_date_is_the_end_of_that_day(owner, issuer) -> None:
    badge = _badge(owner, issuer, expiry_policy="fixed_date", expiry_date=date(2027, 6, 30))
    assert badge.expiry_date == datetime(2027, 6, 30, 23, 59, 59, tzinfo=UTC)
    assert services.expiry_for(badge, NOW) == badge.expiry_date


def test_expiry_for_each_policy(owner, issuer) -> None:
    assert services.expiry_for(_badge(owner, issuer), NOW) is None
    badge = _badge(owner, issuer, expiry_policy="duration", expiry_days=30)
    assert services.expiry_for(badge, NOW) == NOW + timedelta(days=30)


# == tenancy and permissions =====================================================================


def test_an_issuer_of_another_organisation_is_not_found(member, issuer) -> None:
    stranger = member(Role.OWNER)
    with pytest.raises(NotFound):
        _badge(stranger, issuer)
    with pytest.raises(NotFound):
        _badge(stranger, issuer.public_id)


def test_a_badge_of_another_organisation_is_not_found(member, owner, issuer) -> None:
    badge = _badge(owner, issuer)
    stranger = member(Role.OWNER)
    for operation in (services.publish_badge, services.archive_badge):
        with pytest.raises(NotFound):
            operation(actor=stranger, badge=badge)
    with pytest.raises(NotFound):
        services.update_badge(actor=stranger, badge=badge, name="Mine now")
    with pytest.raises(NotFound):
        services.set_badge_image(actor=stranger, badge=badge.public_id, design={"icon": "heart"})
    badge.refresh_from_db()
    assert badge.name == "Data Steward"


def test_viewers_cannot_design_badges(member, owner, issuer) -> None:
    viewer = member(Role.VIEWER, org=owner.organisation)
    with pytest.raises(PermissionDenied):
        _badge(viewer, issuer)
    badge = _badge(owner, issuer)
    with pytest.raises(PermissionDenied):
        services.update_badge(actor=viewer, badge=badge, name="Changed")
    with pytest.raises(PermissionDenied):
        services.publish_badge(actor=viewer, badge=badge)


def test_issuers_can_design_badges(member, owner, issuer) -> None:
    role_issuer = member(Role.ISSUER, org=owner.organisation)
    badge = _badge(role_issuer, issuer)
    assert services.publish_badge(actor=role_issuer, badge=badge).status == BadgeStatus.PUBLISHED


# == life cycle ==================================================================================


def test_publishing_needs_criteria(owner, issuer) -> None:
    badge = _badge(owner, issuer, criteria_narrative="")
    with pytest.raises(services.BadgeInvalid, match="how the badge is earned"):
        services.publish_badge(actor=owner, badge=badge)
    services.update_badge(actor=owner, badge=badge, criteria_url="https://acme.example.org/c")
    published = services.publish_badge(actor=owner, badge=badge, now=NOW)
    assert published.status == BadgeStatus.PUBLISHED
    assert published.published_at == NOW
    with pytest.raises(services.BadgeInvalid):
        services.update_badge(actor=owner, badge=badge, criteria_url="")
    assert AuditEvent.objects.filter(verb="badge.published").count() == 1


def test_archive_and_publish_again(owner, issuer) -> None:
    badge = _badge(owner, issuer)
    with pytest.raises(ServiceError, match="Only published"):
        services.archive_badge(actor=owner, badge=badge)
    services.publish_badge(actor=owner, badge=badge)
    archived = services.archive_badge(actor=owner, badge=badge)
    assert archived.status == BadgeStatus.ARCHIVED
    with pytest.raises(ServiceError, match="archived"):
        services.update_badge(actor=owner, badge=badge, name="New name")
    with pytest.raises(ServiceError, match="archived"):
        services.require_awardable(archived, awarded_at=NOW)
    assert services.publish_badge(actor=owner, badge=badge).status == BadgeStatus.PUBLISHED


def test_require_awardable(owner, issuer) -> None:
    badge = _badge(owner, issuer, expiry_policy="fixed_date", expiry_date=date(2026, 6, 30))
    with pytest.raises(ServiceError, match="draft"):
        services.require_awardable(badge, awarded_at=NOW)
    services.publish_badge(actor=owner, badge=badge, now=NOW)
    services.require_awardable(badge, awarded_at=NOW)
    with pytest.raises(ServiceError, match="expire"):
        services.require_awardable(badge, awarded_at=datetime(2026, 7, 1, tzinfo=UTC))


def test_update_badge_records_changed_fields_and_redraws_a_designed_image(owner, issuer) -> None:
    badge = _badge(owner, issuer, design={"icon": "star"})
    old_image = badge.image.name
    updated = services.update_badge(actor=owner, badge=badge, name="Data Guardian", level="2")
    assert updated.name == "Data Guardian"
    assert updated.level == "2"
    assert updated.image.name != old_image
    assert b"Data Guardian" in updated.image.read()
    event = AuditEvent.objects.get(verb="badge.updated")
    assert event.data["fields"] == ["image", "level", "name"]


def test_update_badge_refuses_unknown_fields(owner, issuer) -> None:
    badge = _badge(owner, issuer)
    with pytest.raises(TypeError):
        services.update_badge(actor=owner, badge=badge, status="published")


def test_the_issuer_of_a_published_badge_cannot_change(owner, issuer) -> None:
    other = create_issuer(actor=owner, name="Other", url="https://other.example.org", email="o@other.example.org")
    badge = _badge(owner, issuer)
    assert services.update_badge(actor=owner, badge=badge, issuer=other).issuer == other
    services.publish_badge(actor=owner, badge=badge)
    with pytest.raises(ServiceError, match="issuer"):
        services.update_badge(actor=owner, badge=badge, issuer=issuer)


# == documents ===================================================================================


def _full_badge(owner, issuer):
    badge = _badge(
        owner, issuer, criteria_url="https://acme.example.org/criteria", achievement_type="Certificate",
        alignments=[{"framework": "ESCO", "code": "S1", "name": "Manage data", "url": "https://esco.example.org/s1",
                     "description": "Keep data tidy"}],
        tags=["data"],
    )
    return services.publish_badge(actor=owner, badge=badge)


def test_achievement_document(owner, issuer) -> None:
    badge = _full_badge(owner, issuer)
    doc = documents.achievement_document(badge)
    base = f"https://badges.example.org/a/{badge.public_id}"
    assert doc["@context"][1].startswith("https://purl.imsglobal.org/spec/ob/v3p0/context")
    assert doc["id"] == base
    assert doc["type"] == ["Achievement"]
    assert doc["criteria"] == {"id": "https://acme.example.org/criteria", "narrative": "Complete the *data* course."}
    assert doc["image"] == {"id": f"{base}/image", "type": "Image", "caption": "Data Steward"}
    assert doc["achievementType"] == "Certificate"
    assert doc["alignment"] == [{"type": ["Alignment"], "targetName": "Manage data",
                                 "targetUrl": "https://esco.example.org/s1", "targetCode": "S1",
                                 "targetDescription": "Keep data tidy", "targetFramework": "ESCO"}]
    assert doc["tag"] == ["data"]
    assert doc["creator"]["id"].startswith("did:web:badges.example.org:i:")
    assert doc["creator"]["name"] == "Acme Academy"


def test_the_achievement_passes_the_kernel_checks_inside_a_credential(owner, issuer) -> None:
    badge = _full_badge(owner, issuer)
    credential = ob3.OpenBadgeCredential(
        id="urn:uuid:6c9a3a56-0c52-4f3e-9a1f-1a4b5c6d7e8f",
        issuer=ob3.Profile(id=documents.achievement_for_credential(badge).creator.id, name="Acme Academy"),
        valid_from=NOW,
        name=badge.name,
        credential_subject=ob3.AchievementSubject(
            achievement=documents.achievement_for_credential(badge),
            identifier=[make_identity_object("emailAddress", "ada@example.org", salt="pepper")],
        ),
    ).to_json()
    report = validate_ob3_credential(credential, strict=True)
    assert not report.errors


def test_the_ob2_badgeclass_validates(owner, issuer) -> None:
    badge = _full_badge(owner, issuer)
    doc = documents.ob2_badgeclass_document(badge)
    validate_ob2_badgeclass(doc)
    assert doc["id"] == f"https://badges.example.org/a/{badge.public_id}/ob2"
    assert doc["issuer"].endswith(f"/i/{issuer.public_id}/ob2")
    assert doc["criteria"]["narrative"] == "Complete the *data* course."
    assert doc["image"] == f"https://badges.example.org/a/{badge.public_id}/image"
    assert doc["alignment"][0]["targetUrl"] == "https://esco.example.org/s1"
    assert doc["tags"] == ["data"]


# == designer ====================================================================================


@pytest.mark.parametrize("shape", SHAPES)
def test_designer_shapes_make_valid_accessible_svg_and_png(shape) -> None:
    design = parse_design({"shape": shape, "primary": "#123456", "secondary": "#abcdef", "icon": "trophy",
                           "ribbon": "Level 3"})
    svg = design_svg(design, title="Fish & <Chips>")
    root = ElementTree.fromstring(svg)
    assert root.get("role") == "img"
    assert root.find("{http://www.w3.org/2000/svg}title").text == "Fish & <Chips>"
    check_svg_safe(svg)
    png = design_png(design, title="Fish & <Chips>")
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.size == (512, 512)
        assert image.convert("RGBA").getpixel((256, 256))[3] == 255  # the middle is drawn


@pytest.mark.parametrize("icon", sorted(ICONS))
def test_every_icon_draws(icon) -> None:
    design = Design(icon=icon)
    assert design_svg(design, title="x").count("<path") == 3
    assert design_png(design, title="x").startswith(b"\x89PNG")


def test_designer_output_is_deterministic_and_initials_win() -> None:
    params = {"shape": "hexagon", "primary": "#FDE68A", "secondary": "#000", "icon": "star", "initials": "ab"}
    first, second = design_svg(parse_design(params), title="B"), design_svg(parse_design(params), title="B")
    assert first == second
    assert ">AB</text>" in first
    assert "scale(" in first
    assert design_png(parse_design(params), title="B") == design_png(parse_design(params), title="B")
    # Dark text on a light badge, for contrast.
    assert 'fill="#111827">AB' in first


def test_designer_needs_a_mark() -> None:
    with pytest.raises(ServiceError, match="icon or type initials"):
        parse_design({"icon": "", "initials": ""})


# == markdown ====================================================================================


def test_markdown_is_rendered_safely() -> None:
    html = render_markdown("# Title\n\n**Do** <script>alert(1)</script> [x](javascript:alert(1)) "
                           "[ok](https://example.org) ![img](https://tracker.example/p.png)\n\n"
                           "<img src=x onerror=alert(1)>", heading_offset=2)
    assert "<h3>Title</h3>" in html
    assert "<strong>Do</strong>" in html
    assert "<script" not in html
    assert 'href="javascript' not in html
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text, never as a tag
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">ok</a>' in html
