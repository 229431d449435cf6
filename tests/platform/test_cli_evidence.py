"""``insignia award --evidence-file PATH`` (repeatable): the files are checked like the web form's, stored,
and linked with their SHA-256 from the signed credential; a refused file issues nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from insignia import cli as insignia_cli
from insignia.awards.models import Award, EvidenceFile
from insignia.core.models import Role
from tests.platform.test_awards_evidence import PDF
from tests.platform.test_awards_support import ClientFetch, make_badge, make_issuer
from tests.platform.test_cli_platform import Cli, cli, database_url  # noqa: F401 (fixtures)


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path / "media"


@pytest.fixture
def badge(db, member, media):
    owner = member(Role.OWNER)
    return make_badge(owner, make_issuer(owner))


def run(capsys: Any, *args: str) -> tuple[int, dict[str, Any], str]:
    """The command in this process (on the test database): exit status, its one JSON object, standard error."""
    status = insignia_cli.main([*args, "--json"])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) == 1, captured.out
    return status, json.loads(lines[0]), captured.err


def test_two_evidence_files_are_signed_into_the_credential(badge, tmp_path, capsys) -> None:
    (tmp_path / "report.pdf").write_bytes(PDF)
    (tmp_path / "notes.txt").write_text("Ran the workshop twice.\n", encoding="utf-8")
    status, data, _ = run(capsys, "award", "--badge", badge.public_id, "--recipient", "ada@example.org",
                          "--evidence", "https://example.org/work", "--evidence-file", str(tmp_path / "report.pdf"),
                          "--evidence-file", str(tmp_path / "notes.txt"))
    assert status == 0
    award = Award.objects.get(public_id=data["id"])
    assert data["credential_url"].endswith(f"/c/{award.public_id}/credential.json")
    rows = list(award.evidence_files.order_by("id"))
    assert [(r.filename, r.content_type) for r in rows] == [("report.pdf", "application/pdf"),
                                                            ("notes.txt", "text/plain")]
    evidence = award.credential["evidence"]
    assert [e.get("name") for e in evidence] == [None, "report.pdf", "notes.txt"]
    assert evidence[1]["description"] == f"sha256:{hashlib.sha256(PDF).hexdigest()}"
    assert evidence[2]["id"].endswith(f"/evidence/{rows[1].public_id}")
    report = ClientFetch().verifier().verify(award.credential)
    assert report.verdict.value == "valid", report.to_json()


@pytest.mark.parametrize(("content", "code", "words"), [
    pytest.param(b"<html><script>alert(1)</script></html>", "evidence_file_html", "PDF, PNG, JPEG", id="html"),
    pytest.param(b"", "evidence_file_empty", "empty", id="empty"),
])
def test_a_refused_file_issues_nothing(badge, tmp_path, capsys, media, content, code, words) -> None:
    (tmp_path / "ok.pdf").write_bytes(PDF)
    (tmp_path / "bad.pdf").write_bytes(content)
    status, data, err = run(capsys, "award", "--badge", badge.public_id, "--recipient", "ada@example.org",
                            "--evidence-file", str(tmp_path / "ok.pdf"), "--evidence-file", str(tmp_path / "bad.pdf"))
    assert status == 1
    assert data["code"] == code
    assert words in data["error"]
    assert err.startswith("insignia award: ")
    assert not Award.objects.exists()
    assert not EvidenceFile.objects.exists()
    assert not (media / "evidence").exists() or not any((media / "evidence").iterdir())


def test_a_file_over_the_limit_is_refused_before_reading(badge, tmp_path, capsys, settings) -> None:
    settings.MAX_UPLOAD_BYTES = 100
    (tmp_path / "big.txt").write_text("x" * 500, encoding="utf-8")
    status, data, _ = run(capsys, "award", "--badge", badge.public_id, "--recipient", "ada@example.org",
                          "--evidence-file", str(tmp_path / "big.txt"))
    assert (status, data["code"]) == (1, "evidence_file_too_large")
    assert "500 bytes" in data["error"]
    assert not Award.objects.exists()


def test_missing_file_and_csv_combination_are_refused(badge, tmp_path, capsys) -> None:
    status, data, _ = run(capsys, "award", "--badge", badge.public_id, "--recipient", "ada@example.org",
                          "--evidence-file", str(tmp_path / "absent.pdf"))
    assert (status, data["code"]) == (1, "io")
    assert "absent.pdf is not a file" in data["error"]
    (tmp_path / "rows.csv").write_text("recipient\nada@example.org\n", encoding="utf-8")
    (tmp_path / "e.pdf").write_bytes(PDF)
    status, data, _ = run(capsys, "award", "--badge", badge.public_id, "--csv", str(tmp_path / "rows.csv"),
                          "--evidence-file", str(tmp_path / "e.pdf"))
    assert (status, data["code"]) == (1, "usage")
    assert not Award.objects.exists()


def test_the_installed_command_attaches_a_file(cli: Cli, tmp_path: Path) -> None:  # noqa: F811
    """End to end through the console script, on its own fresh database (SQLite or PostgreSQL)."""
    issuer = cli.json("issuer", "create", "--name", "Acme Academy", "--url", "https://acme.example.org",
                      "--email", "badges@acme.example.org")
    badge_id = cli.json("badge", "create", "--issuer", issuer["id"], "--name", "Shell Skills", "--description",
                        "Uses the command line.", "--criteria", "Pass the shell test.", "--evidence-required")["id"]
    refused = cli.run("award", "--badge", badge_id, "--recipient", "ada@example.org", check=False)
    assert refused.returncode == 1
    assert "requires evidence" in refused.stderr
    (tmp_path / "proof.pdf").write_bytes(PDF)
    award = cli.json("award", "--badge", badge_id, "--recipient", "ada@example.org",
                     "--evidence-file", str(tmp_path / "proof.pdf"))
    ob3 = json.loads(cli.run("export", award["id"], "--format", "ob3").stdout)
    assert ob3["evidence"] == [{"id": ob3["evidence"][0]["id"], "type": ["Evidence"], "name": "proof.pdf",
                                "description": f"sha256:{hashlib.sha256(PDF).hexdigest()}"}]
    assert ob3["evidence"][0]["id"].startswith(f"https://badges.example.org/c/{award['id']}/evidence/")
