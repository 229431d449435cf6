"""Evidence file uploads: sniffed, stored under a random name, served as a sandboxed download and linked
(with its SHA-256) from the signed credential and the OB 2.0 assertion; refused uploads store nothing."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from insignia.awards import credentials as documents
from insignia.awards.evidence import EvidenceUpload, safe_filename, sniff
from insignia.awards.models import Award, EvidenceFile
from insignia.awards.services import issue_award
from insignia.core import audit
from insignia.core.errors import Conflict, ServiceError
from insignia.core.models import Role
from tests.platform.test_awards_support import ClientFetch, make_badge, make_issuer

pytestmark = pytest.mark.django_db

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 30), (10, 200, 10, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


HOSTILE = [
    pytest.param(b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "report.pdf", "HTML",
                 id="html-named-pdf"),
    pytest.param(b"  <html><body onload=alert(1)>hi</body></html>", "notes.txt", "HTML", id="html-named-txt"),
    pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image.png", "SVG",
                 id="svg-named-png"),
    pytest.param(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "drawing.svg", "SVG",
                 id="svg-with-prolog"),
    pytest.param("\ufeff<svg onload=alert(1)>".encode("utf-16"), "x.txt", "SVG", id="utf16-svg"),
    pytest.param(b"Dear reader,\n<script src=//evil.example/x.js></script>\n", "letter.txt", "HTML",
                 id="text-with-script"),
    pytest.param(b"click javascript:alert(1)", "link.txt", "HTML", id="javascript-url"),
    pytest.param(b'<?xml version="1.0"?><note/>', "data.xml", "XML", id="xml"),
]
NOT_ACCEPTED = [
    pytest.param(b"PK\x03\x04" + b"\x00" * 40, "archive.pdf", "not a PDF, PNG, JPEG", id="zip"),
    pytest.param(b"MZ\x90\x00\x03\x00\x00\x00", "setup.txt", "not a PDF, PNG, JPEG", id="exe"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "broken.png", "PNG image is damaged", id="broken-png"),
    pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 20, "broken.jpg", "JPEG image is damaged", id="broken-jpeg"),
    pytest.param(b"%PDF-1.4\n1 0 obj", "cut.pdf", "PDF is incomplete", id="truncated-pdf"),
    pytest.param(b"caf\xe9 latin-1", "latin1.txt", "not a PDF, PNG, JPEG", id="not-utf8"),
    pytest.param(b"", "empty.pdf", "empty", id="empty"),
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path / "media"


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


@pytest.fixture
def badge(owner):
    return make_badge(owner, make_issuer(owner))


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file() and "evidence" in path.parts]


def _path(url: str) -> str:
    assert url.startswith(settings.BASE_URL + "/")
    return urlsplit(url).path


def _client(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def _issue_url(actor, badge) -> str:
    return f"/orgs/{actor.organisation.public_id}/badges/{badge.public_id}/issue"


def _post(client: Client, actor, badge, content: bytes, filename: str, content_type: str = "application/pdf",
          **extra: str):
    return client.post(_issue_url(actor, badge), {
        "recipient_kind": "email", "recipient": "ada@example.org", "recipient_name": "Ada Lovelace",
        "evidence_file": SimpleUploadedFile(filename, content, content_type=content_type), **extra,
    })


# -- the happy path ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "filename", "content_type"), [
    (PDF, "Final report.pdf", "application/pdf"),
    (png_bytes(), "poster.PNG", "image/png"),
    (jpeg_bytes(), "photo.jpeg", "image/jpeg"),
    ("Résumé of the project — 3 < 4 and a > b.\n".encode(), "summary.txt", "text/plain"),
])
def test_uploaded_evidence_is_in_the_credential_and_served_as_the_same_bytes(
        owner, badge, media, content, filename, content_type) -> None:
    response = _post(_client(owner), owner, badge, content, filename, content_type,
                     evidence_url="https://ada.example/engine")
    assert response.status_code == 302, response.content.decode()[:2000]
    award = Award.objects.get()
    stored = EvidenceFile.objects.get()
    assert stored.award == award
    assert stored.organisation == owner.organisation
    assert stored.filename == filename
    assert stored.content_type == content_type
    assert stored.size == len(content)
    digest = hashlib.sha256(content).hexdigest()
    assert stored.sha256 == digest

    url = documents.evidence_file_url(award.public_id, stored.public_id)
    first, item = award.credential["evidence"]
    assert first["id"] == "https://ada.example/engine"
    assert item == {"id": url, "type": ["Evidence"], "name": filename, "description": f"sha256:{digest}"}

    served = Client().get(_path(item["id"]))
    assert served.status_code == 200
    assert served.content == content
    assert hashlib.sha256(served.content).hexdigest() == item["description"].removeprefix("sha256:")
    assert served["Content-Type"].split(";")[0] == content_type
    assert served["Content-Disposition"].startswith("attachment;")
    assert filename.split(".")[0] in served["Content-Disposition"]
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served["Content-Security-Policy"]
    assert "default-src 'none'" in served["Content-Security-Policy"]
    assert Client().get(_path(item["id"]), HTTP_IF_NONE_MATCH=served["ETag"]).status_code == 304

    # The credential (signed with the file's URL and digest in it) still verifies; OB 2.0 carries it too.
    assert ClientFetch().verifier().verify(award.credential, recipient="ada@example.org").verdict == "valid"
    assertion = Client().get(f"/c/{award.public_id}/assertion").json()
    assert {"id": url, "name": filename, "description": f"sha256:{digest}"}.items() <= assertion["evidence"][1].items()

    # The issuer sees it on the award page.
    detail = _client(owner).get(f"/orgs/{owner.organisation.public_id}/awards/{award.public_id}/")
    assert url in detail.content.decode()


def test_the_file_is_stored_under_a_random_name(owner, badge, media) -> None:
    award = issue_award(actor=owner, badge=badge, recipient="ada@example.org",
                        evidence_file=EvidenceUpload(PDF, filename="../../etc/passwd.pdf"))
    stored = EvidenceFile.objects.get(award=award)
    files = stored_files(media)
    assert len(files) == 1
    assert "passwd" not in files[0].name
    assert stored.public_id not in files[0].name
    assert award.public_id not in files[0].name
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", files[0].name)
    assert stored.filename == "passwd.pdf"
    assert re.fullmatch(r"[0-9a-f]{32}", stored.public_id)


def test_a_file_satisfies_a_badge_that_requires_evidence(owner, member) -> None:
    required = make_badge(owner, make_issuer(owner), name="Evidence needed", evidence_required=True)
    with pytest.raises(ServiceError, match="requires evidence"):
        issue_award(actor=owner, badge=required, recipient="ada@example.org")
    award = issue_award(actor=owner, badge=required, recipient="ada@example.org",
                        evidence_file=EvidenceUpload(PDF, filename="proof.pdf"))
    assert award.credential["evidence"][0]["name"] == "proof.pdf"


def test_idempotent_retries_store_the_file_once(owner, badge, media) -> None:
    upload = EvidenceUpload(PDF, filename="report.pdf")
    first = issue_award(actor=owner, badge=badge, recipient="ada@example.org", evidence_file=upload,
                        idempotency_key="k1")
    again = issue_award(actor=owner, badge=badge, recipient="ada@example.org", evidence_file=upload,
                        idempotency_key="k1")
    assert again.pk == first.pk
    assert EvidenceFile.objects.count() == 1
    assert len(stored_files(media)) == 1
    with pytest.raises(Conflict):
        issue_award(actor=owner, badge=badge, recipient="ada@example.org", idempotency_key="k1",
                    evidence_file=EvidenceUpload(PDF.replace(b"1.4", b"1.5"), filename="report.pdf"))
    assert len(stored_files(media)) == 1


@pytest.mark.parametrize(("filename", "content_type", "expected"), [
    ("report.pdf", "application/pdf", "report.pdf"),
    ("../../etc/passwd.pdf", "application/pdf", "passwd.pdf"),
    ("C:\\Users\\ada\\Final.PDF", "application/pdf", "Final.PDF"),
    ("evil.html", "text/plain", "evil.html.txt"),
    ("photo.png", "image/jpeg", "photo.png.jpg"),
    ('a"b<c>|?*.txt', "text/plain", "a_b_c.txt"),
    ("\u202egnp.exe", "image/png", "gnp.exe.png"),
    ("", "application/pdf", "evidence.pdf"),
    ("...", "text/plain", "evidence.txt"),
    ("x" * 500 + ".pdf", "application/pdf", "x" * 196 + ".pdf"),
])
def test_filenames_are_sanitised_and_match_the_sniffed_type(filename, content_type, expected) -> None:
    assert safe_filename(filename, content_type) == expected


# -- refusals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "filename", "kind"), HOSTILE)
def test_html_svg_and_markup_are_refused_and_nothing_is_stored(owner, badge, media, content, filename, kind) -> None:
    response = _post(_client(owner), owner, badge, content, filename)
    assert response.status_code == 200
    page = response.content.decode()
    assert f"looks like an {kind} file" in page
    assert "can carry scripts" in page
    assert not Award.objects.exists()
    assert not EvidenceFile.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize(("content", "filename", "message"), NOT_ACCEPTED)
def test_other_kinds_and_damaged_files_are_refused(owner, badge, media, content, filename, message) -> None:
    with pytest.raises(ServiceError, match=message) as refused:
        issue_award(actor=owner, badge=badge, recipient="ada@example.org",
                    evidence_file=EvidenceUpload(content, filename=filename, content_type="application/pdf"))
    assert refused.value.field == "evidence_file"
    assert not Award.objects.exists()
    assert not EvidenceFile.objects.exists()
    assert stored_files(media) == []


def test_oversized_uploads_are_refused_before_anything_is_stored(owner, badge, media, settings) -> None:
    settings.MAX_UPLOAD_BYTES = 1024
    big = PDF[:-7] + b" " * 2048 + b"\n%%EOF\n"
    response = _post(_client(owner), owner, badge, big, "big.pdf")
    assert response.status_code == 200
    assert "the limit is 1 KB" in response.content.decode()
    with pytest.raises(ServiceError, match="the limit is 1 KB"):
        issue_award(actor=owner, badge=badge, recipient="ada@example.org", evidence_file=EvidenceUpload(big))
    assert not Award.objects.exists()
    assert not EvidenceFile.objects.exists()
    assert stored_files(media) == []


def test_a_failure_after_the_file_was_saved_leaves_nothing_behind(owner, badge, media, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("the audit log is down")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        issue_award(actor=owner, badge=badge, recipient="ada@example.org",
                    evidence_file=EvidenceUpload(PDF, filename="report.pdf"))
    assert not Award.objects.exists()
    assert not EvidenceFile.objects.exists()
    assert stored_files(media) == []


def test_sniffing_ignores_the_claimed_name_and_type() -> None:
    assert sniff(PDF) == "application/pdf"
    assert sniff(png_bytes()) == "image/png"
    assert sniff(jpeg_bytes()) == "image/jpeg"
    assert sniff(b"\xef\xbb\xbfplain text with a BOM\r\n") == "text/plain"


# -- tenancy and public URLs -------------------------------------------------------------------------------------


def test_other_organisations_cannot_reach_the_evidence_through_management_pages(owner, member, badge) -> None:
    award = issue_award(actor=owner, badge=badge, recipient="ada@example.org",
                        evidence_file=EvidenceUpload(PDF, filename="secret-plan.pdf"))
    outsider = member(Role.OWNER)
    client = _client(outsider)
    org = owner.organisation.public_id
    for path in (f"/orgs/{org}/awards/", f"/orgs/{org}/awards/{award.public_id}/", _issue_url(owner, badge)):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "secret-plan" not in response.content.decode()
    # Their own award list does not show it either, and they cannot issue our badge with a file.
    assert "secret-plan" not in client.get(f"/orgs/{outsider.organisation.public_id}/awards/").content.decode()
    assert _post(client, outsider, badge, PDF, "mine.pdf").status_code == 404
    assert EvidenceFile.objects.count() == 1
    viewer = member(Role.VIEWER, org=owner.organisation)
    assert _post(_client(viewer), viewer, badge, PDF, "mine.pdf").status_code == 403
    assert EvidenceFile.objects.count() == 1


def test_the_public_url_needs_both_random_ids(owner, badge) -> None:
    first = issue_award(actor=owner, badge=badge, recipient="ada@example.org",
                        evidence_file=EvidenceUpload(PDF, filename="a.pdf"))
    second = issue_award(actor=owner, badge=badge, recipient="bob@example.org",
                         evidence_file=EvidenceUpload(b"notes", filename="b.txt"))
    one, two = EvidenceFile.objects.get(award=first), EvidenceFile.objects.get(award=second)
    client = Client()
    assert client.get(f"/c/{first.public_id}/evidence/{one.public_id}").status_code == 200
    assert client.get(f"/c/{second.public_id}/evidence/{one.public_id}").status_code == 404
    assert client.get(f"/c/{first.public_id}/evidence/{two.public_id}").status_code == 404
    assert client.get(f"/c/{first.public_id}/evidence/{one.pk}").status_code == 404
    assert client.get(f"/c/{first.public_id}/evidence/{'0' * 32}").status_code == 404
    assert client.post(f"/c/{first.public_id}/evidence/{one.public_id}").status_code == 405
    assert len({one.public_id, two.public_id, first.public_id, second.public_id}) == 4
