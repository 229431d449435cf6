"""The public badge page and sharing: visibility rules, preview tags, oEmbed, LinkedIn, share links, embeds."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from django.conf import settings
from django.test import Client
from PIL import Image

from insignia.awards.evidence import EvidenceUpload
from insignia.awards.models import Award, EngagementCount
from insignia.awards.services import issue_award, revoke_award, suspend_award
from insignia.awards.sharing import linkedin_add_to_profile_url
from insignia.badges.models import ExpiryPolicy
from insignia.core.models import Role
from tests.platform.awards_share_support import AcceptanceState, HeadTags, Visibility, set_earner_choice
from tests.platform.test_awards_support import ClientFetch, make_badge, make_issuer

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


@pytest.fixture
def issuer(owner):
    return make_issuer(owner)


@pytest.fixture
def award(owner, issuer) -> Award:
    badge = make_badge(owner, issuer, image="svg", criteria_narrative="**Pass** the test.\n\n<script>alert(1)</script>",
                       alignments=[{"name": "Data curation", "url": "https://skills.example/curation",
                                    "framework": "ESCO", "code": "DC-1"}])
    return issue_award(actor=owner, badge=badge, recipient="ada@example.org", recipient_name="Ada Lovelace",
                       narrative="Curated the *archive*.",
                       evidence=[{"url": "https://ada.example/work", "name": "Her archive"},
                                 {"narrative": "Mentored **three** colleagues."}],
                       evidence_file=EvidenceUpload(content=b"Report text.\n", filename="report.txt"))


@pytest.fixture
def client() -> Client:
    return Client()


def page(client: Client, award: Award, suffix: str = "", **extra: str):
    return client.get(f"/c/{award.public_id}{suffix}", **extra)


def page_url(award: Award) -> str:
    return f"{settings.BASE_URL}/c/{award.public_id}"


# -- visibility ----------------------------------------------------------------------------------------------


def test_unlisted_page_opens_by_link_and_is_noindex(client, award) -> None:
    response = page(client, award)
    assert response.status_code == 200
    assert award.visibility == Visibility.UNLISTED
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert HeadTags(response.content.decode()).meta["robots"] == "noindex, nofollow"


def test_public_page_is_indexable(client, award) -> None:
    set_earner_choice(award, visibility=Visibility.PUBLIC)
    response = page(client, award)
    assert response.status_code == 200
    assert "X-Robots-Tag" not in response
    assert "robots" not in HeadTags(response.content.decode()).meta


@pytest.mark.parametrize(("acceptance", "show_name", "shown"), [
    (AcceptanceState.PENDING, True, False),
    (AcceptanceState.ACCEPTED, False, False),
    (AcceptanceState.ACCEPTED, True, True),
])
def test_recipient_name_only_once_accepted_and_allowed(client, award, acceptance, show_name, shown) -> None:
    set_earner_choice(award, acceptance=acceptance, show_name=show_name)
    html = page(client, award).content.decode()
    assert ("Ada Lovelace" in html) is shown
    assert "ada@example.org" not in html
    tags = HeadTags(html)
    assert ("Ada Lovelace" in tags.meta["og:description"]) is shown


def test_hidden_page_says_only_that_a_valid_credential_exists(client, award) -> None:
    set_earner_choice(award, visibility=Visibility.HIDDEN, show_name=True)
    response = page(client, award)
    html = response.content.decode()
    assert response.status_code == 200
    assert "A valid credential exists at this address" in html
    assert "Valid" in html
    for secret in ("Ada Lovelace", "Data Stewardship", "Acme Academy", "Curates, documents", award.badge.public_id,
                   award.issuer.public_id, "og:", "twitter:", "json+oembed", "brand.css", "Evidence", "report.txt"):
        assert secret not in html, secret
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    # The credential itself still serves and verifies: it is the issuer's record.
    document = page(client, award, "/credential.json")
    assert document.status_code == 200
    assert ClientFetch(client).verifier().verify(json.loads(document.content)).verdict == "valid"
    # Nothing to share, embed or preview.
    for suffix in ("/embed", "/qr.svg", "/qr.png", "/share/x", "/certificate.pdf"):
        assert page(client, award, suffix).status_code == 404, suffix
    assert client.get("/oembed", {"url": page_url(award)}).status_code == 404


def test_hidden_revoked_award_says_it_is_not_valid(client, owner, award) -> None:
    set_earner_choice(award, visibility=Visibility.HIDDEN)
    revoke_award(actor=owner, award=award, reason="Cheating")
    html = page(client, award).content.decode()
    assert "A valid credential exists" not in html
    assert "Not valid" in html
    assert "Cheating" not in html


def test_declined_award_has_no_page_but_its_credential_still_serves(client, award) -> None:
    set_earner_choice(award, acceptance=AcceptanceState.DECLINED)
    assert page(client, award).status_code == 404
    for suffix in ("/embed", "/share.png", "/status.svg", "/qr.svg", "/share/linkedin", "/certificate.pdf"):
        assert page(client, award, suffix).status_code == 404, suffix
    assert client.get("/oembed", {"url": page_url(award)}).status_code == 404
    for suffix in ("/credential.json", "/credential.jwt", "/assertion", "/badge.png"):
        assert page(client, award, suffix).status_code == 200, suffix
    assert json.loads(page(client, award, HTTP_ACCEPT="application/json").content) == award.credential


# -- the page's content -----------------------------------------------------------------------------------------


def test_page_spells_out_the_live_verification(client, award) -> None:
    html = page(client, award).content.decode()
    assert "Verified: valid" in html
    for title in ("Signature", "Signing key belongs to the issuer", "Issue and expiry dates",
                  "Revocation and suspension"):
        assert title in html, title
    assert html.count('class="check check-passed"') >= 4
    verify_link = f"/verify?url={page_url(award).replace(':', '%3A').replace('/', '%2F')}%2Fcredential.json"
    assert verify_link in html
    assert "Verify independently" in html


def test_page_shows_criteria_evidence_skills_and_issuer_link(client, award) -> None:
    html = page(client, award).content.decode()
    assert "<strong>Pass</strong> the test." in html
    assert "<script>alert(1)" not in html  # criteria Markdown is sanitised
    assert "<em>archive</em>" in html  # the award's narrative
    assert 'href="https://ada.example/work"' in html
    assert "Her archive" in html
    assert "Mentored <strong>three</strong> colleagues." in html
    uploaded = award.evidence_files.get()
    assert f'href="/c/{award.public_id}/evidence/{uploaded.public_id}"' in html
    assert "report.txt" in html
    assert page(client, award, f"/evidence/{uploaded.public_id}").content == b"Report text.\n"
    assert 'href="https://skills.example/curation"' in html
    assert "Data curation" in html
    assert "DC-1" in html
    assert f'href="/i/{award.issuer.public_id}"' in html
    assert f"{award.issued_on:%-d %B %Y}" in html


@pytest.mark.parametrize(("action", "word"), [("revoke", "Revoked"), ("suspend", "Suspended")])
def test_revoked_and_suspended_are_unmistakable(client, owner, award, action, word) -> None:
    (revoke_award if action == "revoke" else suspend_award)(actor=owner, award=award, reason="Under review")
    html = page(client, award).content.decode()
    assert f'class="award-banner award-banner-{word.lower()}" role="alert"' in html
    assert f'<p class="award-banner-word">{word}</p>' in html  # a word, not colour alone
    assert "Under review" in html
    assert "Not valid" in html
    assert 'class="check check-failed"' in html


def test_expired_is_unmistakable(client, owner, issuer) -> None:
    badge = make_badge(owner, issuer, name="Yearly", expiry_policy=ExpiryPolicy.FIXED_DATE,
                       expiry_date=datetime(2021, 6, 30, tzinfo=UTC))
    award = issue_award(actor=owner, badge=badge, recipient="a@example.org",
                        issued_on=datetime(2020, 1, 15, tzinfo=UTC))
    html = page(client, award).content.decode()
    assert '<p class="award-banner-word">Expired</p>' in html
    assert "valid until 30 June 2021" in html


# -- link previews ----------------------------------------------------------------------------------------------


def test_open_graph_and_twitter_tags_field_by_field(client, award) -> None:
    set_earner_choice(award, show_name=True)
    tags = HeadTags(page(client, award).content.decode())
    meta = tags.meta
    assert meta["og:type"] == "website"
    assert meta["og:title"] == "Data Stewardship — Acme Academy"
    assert meta["og:description"].startswith(
        f"Data Stewardship, issued by Acme Academy to Ada Lovelace on {award.issued_on:%-d %B %Y}.")
    assert meta["og:url"] == page_url(award)
    image = urlsplit(meta["og:image"])
    assert f"{image.scheme}://{image.netloc}" == settings.BASE_URL  # absolute
    assert image.path == f"/c/{award.public_id}/share.png"
    assert parse_qs(image.query)["v"]
    assert meta["og:image:width"] == "1200"
    assert meta["og:image:height"] == "630"
    assert meta["og:image:type"] == "image/png"
    assert meta["og:image:alt"] == "Data Stewardship, issued by Acme Academy"
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["twitter:title"] == meta["og:title"]
    assert meta["twitter:image"] == meta["og:image"]
    served = client.get(image.path + "?" + image.query)
    assert served["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).size == (1200, 630)
    oembed = tags.link("alternate", "application/json+oembed")
    assert oembed is not None
    assert oembed["title"] == meta["og:title"]
    assert parse_qs(urlsplit(oembed["href"]).query) == {"url": [page_url(award)], "format": ["json"]}
    assert any(link.get("rel") == "canonical" and link["href"] == page_url(award) for link in tags.links)


def test_share_image_changes_when_the_status_does(client, owner, award) -> None:
    before = HeadTags(page(client, award).content.decode()).meta["og:image"]
    revoke_award(actor=owner, award=award, reason="Mistake")
    after = HeadTags(page(client, award).content.decode()).meta["og:image"]
    assert before != after


# -- oEmbed -----------------------------------------------------------------------------------------------------


def test_oembed_field_by_field(client, award) -> None:
    response = client.get("/oembed", {"url": page_url(award), "format": "json"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    data = json.loads(response.content)
    assert data["version"] == "1.0"
    assert data["type"] == "rich"
    assert data["title"] == "Data Stewardship — Acme Academy"
    assert data["author_name"] == "Acme Academy"
    assert data["author_url"] == f"{settings.BASE_URL}/i/{award.issuer.public_id}"
    assert data["provider_name"] == "Insignia"
    assert data["provider_url"] == f"{settings.BASE_URL}/"
    assert (data["width"], data["height"]) == (360, 240)
    assert data["html"].startswith(f'<iframe src="{page_url(award)}/embed" width="360" height="240" ')
    assert data["thumbnail_url"] == HeadTags(page(client, award).content.decode()).meta["og:image"]
    assert (data["thumbnail_width"], data["thumbnail_height"]) == (1200, 630)
    assert isinstance(data["cache_age"], int)


def test_oembed_respects_maxwidth_and_refuses_what_it_cannot_do(client, award) -> None:
    narrow = json.loads(client.get("/oembed", {"url": page_url(award), "maxwidth": "300", "maxheight": "150"}).content)
    assert (narrow["width"], narrow["height"]) == (300, 150)
    assert 'width="300" height="150"' in narrow["html"]
    assert client.get("/oembed", {"url": page_url(award), "format": "xml"}).status_code == 501
    assert client.get("/oembed", {"url": f"{settings.BASE_URL}/c/unknown"}).status_code == 404
    assert client.get("/oembed", {"url": f"https://elsewhere.example/c/{award.public_id}"}).status_code == 404
    assert client.get("/oembed", {"url": f"{settings.BASE_URL}/a/{award.badge.public_id}"}).status_code == 404
    assert client.get("/oembed").status_code == 404
    assert client.get("/oembed", {"url": page_url(award), "maxwidth": "wide"}).status_code == 404


# -- LinkedIn and share links -----------------------------------------------------------------------------------


def _linkedin_fields(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    fields = parse_qs(parts.query, strict_parsing=True)
    assert all(len(values) == 1 for values in fields.values())
    return {key: values[0] for key, values in fields.items()}


def test_linkedin_add_to_profile_url_field_by_field_with_non_ascii_names(owner) -> None:
    issuer = make_issuer(owner, name="Académie Zoë & Søn")
    badge = make_badge(owner, issuer, name="Données + société: niveau 2 — 数据", expiry_policy=ExpiryPolicy.FIXED_DATE,
                       expiry_date=datetime(2031, 11, 30, tzinfo=UTC))
    award = issue_award(actor=owner, badge=badge, recipient="z@example.org",
                        issued_on=datetime(2025, 3, 9, 12, 0, tzinfo=UTC))
    url = linkedin_add_to_profile_url(award)
    assert " " not in url
    assert "数" not in url
    assert _linkedin_fields(url) == {
        "startTask": "CERTIFICATION_NAME",
        "name": "Données + société: niveau 2 — 数据",
        "organizationName": "Académie Zoë & Søn",
        "issueYear": "2025",
        "issueMonth": "3",
        "expirationYear": "2031",
        "expirationMonth": "11",
        "certUrl": page_url(award),
        "certId": award.public_id,
    }


def test_linkedin_url_leaves_out_expiry_when_there_is_none(award) -> None:
    fields = _linkedin_fields(linkedin_add_to_profile_url(award))
    assert "expirationYear" not in fields
    assert "expirationMonth" not in fields
    assert fields["issueYear"] == str(award.issued_on.year)


def _shares(award: Award) -> dict[str, int]:
    return {row.channel: row.count for row in EngagementCount.objects.filter(award=award, kind="share")}


def test_share_links_count_and_redirect(client, award) -> None:
    expected = {
        "linkedin-profile": "https://www.linkedin.com/profile/add?",
        "linkedin": "https://www.linkedin.com/sharing/share-offsite/?",
        "x": "https://x.com/intent/tweet?",
        "facebook": "https://www.facebook.com/sharer/sharer.php?",
        "email": "mailto:?",
    }
    for channel, prefix in expected.items():
        response = page(client, award, f"/share/{channel}")
        assert response.status_code == 302, channel
        assert response["Location"].startswith(prefix), response["Location"]
        assert not response.cookies
    assert page(client, award, "/share/linkedin-profile")["Location"] == linkedin_add_to_profile_url(award)
    assert parse_qs(urlsplit(page(client, award, "/share/facebook")["Location"]).query)["u"] == [page_url(award)]
    assert _shares(award) == {"linkedin-profile": 2, "linkedin": 1, "x": 1, "facebook": 2, "email": 1}
    client.head(f"/c/{award.public_id}/share/x")
    assert _shares(award)["x"] == 1  # HEAD does not count
    assert page(client, award, "/share/myspace").status_code == 404
    assert page(client, award, "/share/..").status_code == 404
    assert "myspace" not in _shares(award)


def test_page_links_share_through_the_counter_and_offers_snippets(client, award, make_user) -> None:
    html = page(client, award).content.decode()
    for channel in ("linkedin", "x", "facebook", "email"):
        assert f'href="/c/{award.public_id}/share/{channel}"' in html
    assert "Add to LinkedIn profile" not in html  # only for the earner
    assert f"&lt;iframe src=&quot;{page_url(award)}/embed&quot;" in html
    assert f"{page_url(award)}/status.svg" in html
    assert f'src="/c/{award.public_id}/qr.svg"' in html
    assert f'value="{page_url(award)}"' in html  # the copy-link field
    earner = make_user("ada@example.org")
    set_earner_choice(award, earner=earner)
    client.force_login(earner)
    mine = page(client, award)
    assert f'href="/c/{award.public_id}/share/linkedin-profile"' in mine.content.decode()
    assert mine["Cache-Control"].startswith("private")


def test_qr_codes_decode_to_the_page_url(client, award) -> None:
    png = page(client, award, "/qr.png")
    assert png["Content-Type"] == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert [code.text for code in found] == [page_url(award)]
    svg = page(client, award, "/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg.content.lstrip().startswith(b"<?xml")


# -- embed and status image -------------------------------------------------------------------------------------


def test_embed_is_frameable_by_any_site_and_the_page_is_not(client, award) -> None:
    embed = page(client, award, "/embed")
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed
    csp = embed["Content-Security-Policy"]
    assert "frame-ancestors *" in csp
    assert "frame-ancestors 'none'" not in csp
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    html = embed.content.decode()
    assert "Data Stewardship" in html
    assert "Acme Academy" in html
    assert "status-pill status-valid" in html
    assert f'href="{page_url(award)}"' in html
    assert embed["X-Robots-Tag"] == "noindex"
    full = page(client, award)
    assert full["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in full["Content-Security-Policy"]


def test_embed_and_status_image_follow_revocation(client, owner, award) -> None:
    before = page(client, award, "/status.svg")
    assert before["Content-Type"] == "image/svg+xml"
    assert before["Cache-Control"] == "public, max-age=60"
    assert b">Valid<" in before.content
    revoke_award(actor=owner, award=award, reason="Mistake")
    after = page(client, award, "/status.svg")
    assert b">Revoked<" in after.content
    assert b">Valid<" not in after.content
    assert after["ETag"] != before["ETag"]
    assert page(client, award, "/status.svg", HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200
    assert "status-pill status-revoked" in page(client, award, "/embed").content.decode()


def test_hidden_status_image_shows_no_details(client, award) -> None:
    set_earner_choice(award, visibility=Visibility.HIDDEN)
    body = page(client, award, "/status.svg").content
    assert b"Data Stewardship" not in body
    assert b"Acme Academy" not in body
    assert b">Valid<" in body
