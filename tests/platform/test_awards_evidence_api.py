"""Evidence files over the API: ``POST /api/v1/awards/with-files`` (multipart: a JSON ``payload`` part and
``evidence_files`` parts), with the web form's checks, 413/415 problems, and ``Idempotency-Key`` honoured."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from openapi_spec_validator import validate

from insignia.awards.models import Award, EvidenceFile
from insignia.core.models import AuditEvent, Role
from tests.platform.api_support import API, assert_problem, token_for
from tests.platform.test_awards_evidence import PDF, png_bytes
from tests.platform.test_awards_support import ClientFetch, make_badge, make_issuer

pytestmark = pytest.mark.django_db

URL = f"{API}/awards/with-files"


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


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


def post(actor: Any, payload: Any, files: list[Any], *, scopes: list[str] | None = None,
         headers: dict[str, str] | None = None, token: str | None = None) -> Any:
    token = token or token_for(actor, scopes or ["read", "issue"])
    data: dict[str, Any] = {"payload": payload if isinstance(payload, str) else json.dumps(payload)}
    if files:
        data["evidence_files"] = files
    return Client().post(URL, data, headers={"Authorization": f"Bearer {token}", **(headers or {})})


def stored_files(media: Path) -> list[Path]:
    return list((media / "evidence").glob("*")) if (media / "evidence").exists() else []


def test_issuing_with_two_files_signs_their_urls_and_digests(owner, badge, media) -> None:
    pdf, png = PDF, png_bytes()
    response = post(owner, {"badge": badge.public_id, "recipient": "ada@example.org", "recipient_name": "Ada",
                            "evidence": [{"url": "https://example.org/work", "name": "Portfolio"}]},
                    [upload("Report (final).pdf", pdf, "application/pdf"), upload("../../shot.png", png)])
    assert response.status_code == 201, response.content
    body = response.json()
    award = Award.objects.get(public_id=body["id"])
    files = list(award.evidence_files.order_by("id"))
    assert [(f.filename, f.content_type, f.size) for f in files] == [
        ("Report (final).pdf", "application/pdf", len(pdf)), ("shot.png", "image/png", len(png))]
    evidence = award.credential["evidence"]
    assert len(evidence) == 3
    assert evidence[0]["id"] == "https://example.org/work"
    for item, row, content in zip(evidence[1:], files, (pdf, png), strict=True):
        assert item["id"].endswith(f"/c/{award.public_id}/evidence/{row.public_id}")
        assert item["description"] == f"sha256:{hashlib.sha256(content).hexdigest()}"
        served = Client().get(urlsplit(item["id"]).path)
        assert served.status_code == 200
        assert (b"".join(served.streaming_content) if served.streaming else served.content) == content
        assert "attachment" in served["Content-Disposition"]
    assert [e["name"] for e in body["evidence"]] == ["Portfolio", "Report (final).pdf", "shot.png"]
    assert len(stored_files(media)) == 2
    # the signed credential (carrying the file links) verifies with the kernel
    report = ClientFetch().verifier().verify(award.credential)
    assert report.verdict.value == "valid", report.to_json()
    event = AuditEvent.objects.get(verb="award.issued")
    assert event.data["evidence_files"] == [f.public_id for f in files]


def test_payload_without_files_issues_like_the_json_endpoint(owner, badge) -> None:
    response = post(owner, {"badge": badge.public_id, "recipient": "grace@example.org"}, [])
    assert response.status_code == 201, response.content
    assert Award.objects.get().evidence == []


def test_a_file_over_the_limit_is_a_413_problem_and_stores_nothing(owner, badge, media, settings) -> None:
    settings.MAX_UPLOAD_BYTES = 1024
    big = b"%PDF-1.4\n" + b"x" * 2048 + b"\n%%EOF\n"
    response = post(owner, {"badge": badge.public_id, "recipient": "ada@example.org"},
                    [upload("ok.pdf", PDF), upload("big.pdf", big)])
    problem = assert_problem(response, 413, "evidence_file_too_large")
    assert "1 KB" in problem["detail"]
    assert problem["field"] == "evidence_file"
    assert not Award.objects.exists()
    assert not EvidenceFile.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize(("content", "name", "code"), [
    pytest.param(b"<!DOCTYPE html><html><script>alert(1)</script></html>", "report.pdf", "evidence_file_html",
                 id="html"),
    pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.png",
                 "evidence_file_svg", id="svg"),
    pytest.param(b"PK\x03\x04" + b"\x00" * 40, "archive.pdf", "evidence_file_type", id="zip"),
])
def test_a_refused_kind_of_file_is_a_415_problem(owner, badge, media, content, name, code) -> None:
    response = post(owner, {"badge": badge.public_id, "recipient": "ada@example.org"},
                    [upload("fine.txt", b"Plain notes.\n"), upload(name, content)])
    problem = assert_problem(response, 415, code)
    assert "PDF, PNG, JPEG" in problem["detail"]
    assert not Award.objects.exists()
    assert stored_files(media) == []


def test_other_refusals_are_problems(owner, badge) -> None:
    assert_problem(post(owner, {"badge": badge.public_id, "recipient": "a@example.org"}, [upload("e.pdf", b"")]),
                   400, "evidence_file_empty")
    too_many = [upload(f"n{i}.txt", f"note {i}\n".encode()) for i in range(21)]
    assert_problem(post(owner, {"badge": badge.public_id, "recipient": "a@example.org"}, too_many), 400,
                   "evidence_invalid")
    assert_problem(post(owner, '{"badge": ', [upload("e.pdf", PDF)]), 400, "malformed_body")
    assert_problem(post(owner, {"recipient": "a@example.org"}, [upload("e.pdf", PDF)]), 422, "validation_failed")
    assert_problem(post(owner, {"badge": badge.public_id, "recipient": "not an email"}, [upload("e.pdf", PDF)]),
                   400, "recipient_invalid")
    assert not Award.objects.exists()


def test_evidence_required_is_met_by_a_file(owner) -> None:
    badge = make_badge(owner, make_issuer(owner), evidence_required=True)
    assert_problem(post(owner, {"badge": badge.public_id, "recipient": "a@example.org"}, []), 400,
                   "evidence_required")
    assert post(owner, {"badge": badge.public_id, "recipient": "a@example.org"},
                [upload("proof.pdf", PDF)]).status_code == 201


def test_idempotency_key_covers_the_files(owner, badge, media) -> None:
    token = token_for(owner, ["issue"])
    body = {"badge": badge.public_id, "recipient": "ada@example.org"}
    key = {"Idempotency-Key": "upload-7"}
    first = post(owner, body, [upload("a.pdf", PDF)], headers=key, token=token)
    assert first.status_code == 201
    again = post(owner, body, [upload("a.pdf", PDF)], headers=key, token=token)
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Award.objects.count() == 1
    assert EvidenceFile.objects.count() == 1
    assert len(stored_files(media)) == 1  # the replay stored no second copy
    other_file = post(owner, body, [upload("a.pdf", PDF + b"\n")], headers=key, token=token)
    assert_problem(other_file, 409, "idempotency_key_reused")
    # the same key through the JSON endpoint, without the file, is a different request too
    response = Client().post(f"{API}/awards", json.dumps(body), content_type="application/json",
                             headers={"Authorization": f"Bearer {token}", **key})
    assert_problem(response, 409, "idempotency_key_reused")
    assert Award.objects.count() == 1


def test_tenancy_and_scopes(owner, badge, member) -> None:
    other = member(Role.OWNER)
    response = post(other, {"badge": badge.public_id, "recipient": "a@example.org"}, [upload("e.pdf", PDF)])
    assert_problem(response, 404)
    assert_problem(post(owner, {"badge": badge.public_id, "recipient": "a@example.org"}, [upload("e.pdf", PDF)],
                        scopes=["read"]), 403)  # a read-only token (what a viewer's would be) cannot write
    assert_problem(Client().post(URL, {"payload": "{}"}), 401)
    assert not Award.objects.exists()


def test_openapi_document_describes_the_multipart_endpoint_and_stays_valid(client) -> None:
    document = client.get(f"{API}/openapi.json").json()
    validate(document)
    operation = document["paths"][URL]["post"]
    content = operation["requestBody"]["content"]["multipart/form-data"]
    assert content["schema"]["properties"]["payload"] == {"$ref": "#/components/schemas/AwardIn"}
    assert content["schema"]["properties"]["evidence_files"]["items"] == {"format": "binary", "type": "string"}
    assert content["schema"]["properties"]["evidence_files"]["maxItems"] == 20
    assert content["encoding"]["payload"]["contentType"] == "application/json"
    assert {"200", "201", "413", "415"} <= set(operation["responses"])
    assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}
