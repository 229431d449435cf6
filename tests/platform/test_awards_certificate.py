"""The PDF certificate and the share image: rendered for real, then read back (pypdf, zxing-cpp, Pillow)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import zxingcpp
from django.conf import settings
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image
from pypdf import PdfReader

from insignia.awards import share_image
from insignia.awards.models import Award, EngagementCount
from insignia.awards.services import issue_award, revoke_award
from insignia.badges.models import ExpiryPolicy
from insignia.cli import main as cli_main
from insignia.core.models import Role
from tests.platform.awards_share_support import Visibility, set_earner_choice
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db
A4 = (841.89, 595.28)
LETTER = (792.0, 612.0)


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


@pytest.fixture
def award(owner) -> Award:
    issuer = make_issuer(owner, name="Académie Zoë")
    badge = make_badge(owner, issuer, name="Data Stewardship", expiry_policy=ExpiryPolicy.FIXED_DATE,
                       expiry_date=datetime(2032, 5, 31, tzinfo=UTC),
                       criteria_narrative="Pass the **final** assessment with a score of 80% or more.")
    return issue_award(actor=owner, badge=badge, recipient="ada@example.org", recipient_name="Ada Lövelace",
                       issued_on=datetime(2025, 3, 9, 12, 0, tzinfo=UTC))


def page_url(award: Award) -> str:
    return f"{settings.BASE_URL}/c/{award.public_id}"


def read_pdf(content: bytes) -> tuple[tuple[float, float], str, list[str]]:
    """(page size in points, the text, the texts of every QR code in its images)."""
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    first = reader.pages[0]
    size = (round(float(first.mediabox.width), 2), round(float(first.mediabox.height), 2))
    text = " ".join(first.extract_text().split())
    codes = []
    for image in first.images:
        codes += [code.text for code in zxingcpp.read_barcodes(image.image.convert("L"))]
    return size, text, codes


@pytest.mark.parametrize(("size", "points"), [("a4", A4), ("letter", LETTER)])
def test_certificate_page_size_text_and_qr(client: Client, award, size, points) -> None:
    set_earner_choice(award, show_name=True)
    response = client.get(f"/c/{award.public_id}/certificate.pdf", {"size": size})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="certificate-{award.public_id}-{size}.pdf"' in response["Content-Disposition"]
    page_size, text, codes = read_pdf(response.content)
    assert page_size == points  # landscape: wider than tall
    for expected in ("Ada Lövelace", "Data Stewardship", "Académie Zoë", "9 March 2025", "31 May 2032",
                     page_url(award), "Pass the final assessment with a score of 80% or more.",
                     "Acme Academy"):  # the organisation's name heads the page
        assert expected in text, (expected, text)
    assert codes == [page_url(award)]
    assert "REVOKED" not in text


def test_certificate_name_follows_the_earners_choice(client: Client, award, make_user) -> None:
    _, text, _ = read_pdf(client.get(f"/c/{award.public_id}/certificate.pdf").content)
    assert "Ada Lövelace" not in text
    assert "the holder of this credential" in text
    earner = make_user("ada@example.org")
    set_earner_choice(award, earner=earner, show_name=False, visibility=Visibility.HIDDEN)
    assert client.get(f"/c/{award.public_id}/certificate.pdf").status_code == 404  # hidden: not for the public
    client.force_login(earner)
    mine = client.get(f"/c/{award.public_id}/certificate.pdf")
    assert mine.status_code == 200
    assert mine["Cache-Control"] == "private, no-store"
    assert "Ada Lövelace" in read_pdf(mine.content)[1]  # the earner always gets their own name


def test_revoked_certificate_says_so(client: Client, owner, award) -> None:
    revoke_award(actor=owner, award=award, reason="Issued by mistake")
    _, text, codes = read_pdf(client.get(f"/c/{award.public_id}/certificate.pdf").content)
    assert "REVOKED" in text
    assert "no longer valid" in text
    assert codes == [page_url(award)]


def test_certificate_refuses_unknown_sizes_and_counts_downloads(client: Client, award) -> None:
    assert client.get(f"/c/{award.public_id}/certificate.pdf", {"size": "a3"}).status_code == 400
    client.get(f"/c/{award.public_id}/certificate.pdf")
    client.head(f"/c/{award.public_id}/certificate.pdf")
    rows = EngagementCount.objects.filter(award=award, kind="download", channel="pdf")
    assert [row.count for row in rows] == [1]


def test_cli_exports_the_pdf(award, tmp_path, capsys) -> None:
    target = tmp_path / "certificate.pdf"
    assert cli_main(["export", award.public_id, "--format", "pdf", "--size", "letter", "-o", str(target)]) == 0
    assert "Wrote pdf" in capsys.readouterr().out
    size, text, codes = read_pdf(target.read_bytes())
    assert size == LETTER
    assert "Ada Lövelace" in text  # the operator holds the issuer's records
    assert codes == [page_url(award)]
    assert cli_main(["export", award.public_id, "--format", "pdf", "-o", str(target)]) == 0
    assert read_pdf(target.read_bytes())[0] == A4


# -- the share image ---------------------------------------------------------------------------------------------


def test_share_image_is_a_1200_by_630_png_stored_once(client: Client, owner, award) -> None:
    response = client.get(f"/c/{award.public_id}/share.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", (1200, 630))
    name = share_image.storage_name(award)
    assert default_storage.exists(name)
    assert client.get(f"/c/{award.public_id}/share.png").content == response.content
    revoke_award(actor=owner, award=award, reason="Mistake")
    award.refresh_from_db()
    redrawn = client.get(f"/c/{award.public_id}/share.png").content
    assert redrawn != response.content
    assert default_storage.exists(share_image.storage_name(award))
    assert not default_storage.exists(name)  # the old version is removed


def test_share_image_shows_the_name_only_when_allowed(award) -> None:
    hidden_name = share_image.render(award)
    set_earner_choice(award, show_name=True)
    assert share_image.fingerprint(award) != share_image.fingerprint(set_earner_choice(award, show_name=False))
    shown = share_image.render(set_earner_choice(award, show_name=True))
    assert shown != hidden_name


def test_hidden_awards_get_one_generic_image(client: Client, owner, award) -> None:
    other = issue_award(actor=owner, badge=make_badge(owner, award.issuer, name="Another"),
                        recipient="b@example.org", recipient_name="Bob")
    set_earner_choice(award, visibility=Visibility.HIDDEN, show_name=True)
    set_earner_choice(other, visibility=Visibility.HIDDEN, show_name=True)
    first = client.get(f"/c/{award.public_id}/share.png")
    second = client.get(f"/c/{other.public_id}/share.png")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content  # nothing about the award or its earner is in it
    assert Image.open(io.BytesIO(first.content)).size == (1200, 630)
