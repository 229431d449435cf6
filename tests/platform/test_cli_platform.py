"""The platform commands end to end: the installed ``insignia`` script in subprocesses, on a fresh database.

Each test gets its own data directory (SQLite) or, when ``DATABASE_URL`` names PostgreSQL, its own
freshly created database on that server, and runs ``insignia migrate`` first.
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from PIL import Image

_SCRIPT = Path(sys.executable).with_name("insignia")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "insignia.cli"]


class Cli:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*COMMAND, *args], env=self.env, cwd=self.cwd, capture_output=True, text=True,
                                timeout=300, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"insignia {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def json(self, *args: str) -> dict[str, Any]:
        result = self.run(*args, "--json")
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 1, result.stdout  # exactly one JSON object
        return json.loads(lines[0])

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", code], env=self.env, cwd=self.cwd, capture_output=True,
                              text=True, timeout=300, check=True)


@pytest.fixture
def database_url() -> Iterator[str | None]:
    """None for SQLite (in the data directory); for PostgreSQL a new database, dropped afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield None
        return
    import psycopg

    name = f"insignia_cli_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def cli(tmp_path: Path, database_url: str | None) -> Cli:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSIGNIA_") and k != "DATABASE_URL"}
    env |= {"INSIGNIA_DATA_DIR": str(tmp_path / "data"), "PYTHONIOENCODING": "utf-8",
            "INSIGNIA_BASE_URL": "https://badges.example.org", "DJANGO_SETTINGS_MODULE": "insignia.site.settings"}
    if database_url:
        env["DATABASE_URL"] = database_url
    runner = Cli(env, tmp_path)
    runner.run("migrate", "--quiet")
    return runner


@pytest.fixture
def badge_id(cli: Cli) -> str:
    issuer = cli.json("issuer", "create", "--name", "Acme Academy", "--url", "https://acme.example.org",
                      "--email", "badges@acme.example.org")
    return cli.json("badge", "create", "--issuer", issuer["id"], "--name", "Shell Skills",
                    "--description", "Uses the command line.", "--criteria", "Pass the shell test.")["id"]


def png_file(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 64), (29, 78, 216, 255)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_issuer_badge_award_export(cli: Cli, tmp_path: Path) -> None:
    issuer = cli.json("issuer", "create", "--name", "Acme Academy", "--url", "https://acme.example.org",
                      "--email", "badges@acme.example.org")
    assert set(issuer) >= {"id", "did", "profile_url"}
    assert issuer["organisation"] == "default"
    assert issuer["did"].startswith("did:web:badges.example.org:i:")
    assert issuer["profile_url"] == f"https://badges.example.org/i/{issuer['id']}"

    badge = cli.json("badge", "create", "--issuer", issuer["id"], "--name", "Shell Skills", "--description",
                     "Uses the command line.", "--criteria", "Pass the **shell** test.",
                     "--image", str(png_file(tmp_path / "badge.png")))
    assert badge == {"id": badge["id"], "url": f"https://badges.example.org/a/{badge['id']}"}

    award = cli.json("award", "--badge", badge["id"], "--recipient", "Ada@Example.org", "--name", "Ada Lovelace",
                     "--evidence", "https://example.org/work")
    base = f"https://badges.example.org/c/{award['id']}"
    assert award == {"id": award["id"], "credential_url": f"{base}/credential.json",
                     "jwt_url": f"{base}/credential.jwt", "assertion_url": f"{base}/assertion",
                     "public_url": base, "baked_png_url": f"{base}/badge.png"}

    ob3 = json.loads(cli.run("export", award["id"], "--format", "ob3").stdout)
    assert ob3["id"] == base
    assert ob3["proof"]
    assert ob3["credentialSubject"]["achievement"]["name"] == "Shell Skills"
    assert ob3["evidence"][0]["id"] == "https://example.org/work"
    jwt = cli.run("export", award["id"], "--format", "jwt").stdout.strip()
    assert jwt.count(".") == 2
    ob2 = json.loads(cli.run("export", award["id"], "--format", "ob2").stdout)
    assert ob2["id"] == f"{base}/assertion"
    assert cli.run("export", award["id"], "--format", "ob2-signed").stdout.strip().count(".") == 2
    written = cli.json("export", award["id"], "--format", "png", "-o", str(tmp_path / "baked.png"))
    assert written["path"] == str(tmp_path / "baked.png")
    assert (tmp_path / "baked.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    png_json = cli.json("export", award["id"], "--format", "png")
    assert base64.b64decode(png_json["content_base64"]).startswith(b"\x89PNG")
    no_svg = cli.run("export", award["id"], "--format", "svg", check=False)  # the badge image is a PNG
    assert no_svg.returncode == 1
    assert "no SVG image" in no_svg.stderr
    assert "--format png" in no_svg.stderr
    # the baked image carries the credential: the kernel's verify reads it back (offline: no did:web fetch)
    verified = subprocess.run([*COMMAND, "verify", str(tmp_path / "baked.png"), "--offline", "--json"],
                              capture_output=True, text=True, timeout=120, check=False, env=cli.env)
    assert json.loads(verified.stdout)["credential"]["name"] == "Shell Skills"


def test_revoke_suspend_unsuspend(cli: Cli, badge_id: str) -> None:
    award = cli.json("award", "--badge", badge_id, "--recipient", "grace@example.org")
    svg = cli.run("export", award["id"], "--format", "svg").stdout  # a designed badge is an SVG
    assert "<svg" in svg
    assert "openbadges" in svg
    suspended = cli.json("suspend", award["id"])
    assert suspended["status"] == "suspended"
    assert suspended["reason"]
    assert cli.json("unsuspend", award["id"]) == {"id": award["id"], "status": "active", "reason": ""}
    revoked = cli.run("revoke", award["id"], "--reason", "Issued by mistake")
    assert "revoked" in revoked.stdout
    assert "Issued by mistake" in revoked.stdout
    again = cli.run("revoke", award["id"], "--reason", "twice", "--json", check=False)
    assert again.returncode == 1
    assert json.loads(again.stdout) == {"error": "This award is already revoked.", "code": "already_revoked"}
    assert "already revoked" in again.stderr
    unsuspend = cli.run("unsuspend", award["id"], check=False)
    assert unsuspend.returncode == 1
    assert "revoked" in unsuspend.stderr


def test_errors_exit_1_with_a_clear_message(cli: Cli, badge_id: str) -> None:
    missing = cli.run("award", "--badge", "nope", "--recipient", "a@example.org", check=False)
    assert missing.returncode == 1
    assert "No badge with id 'nope'" in missing.stderr
    bad_email = cli.run("award", "--badge", badge_id, "--recipient", "not-an-email", "--json", check=False)
    assert bad_email.returncode == 1
    assert "not a valid email address" in json.loads(bad_email.stdout)["error"]
    bad_url = cli.run("issuer", "create", "--name", "X", "--url", "ftp://x", "--email", "x@example.org",
                      check=False)
    assert bad_url.returncode == 1
    assert "URL" in bad_url.stderr
    no_org = cli.run("issuer", "create", "--name", "X", "--url", "https://x.example", "--email", "x@example.org",
                     "--org", "elsewhere", check=False)
    assert no_org.returncode == 1
    assert "No organisation" in no_org.stderr
    no_file = cli.run("award", "--badge", badge_id, "--csv", "/nonexistent.csv", check=False)
    assert no_file.returncode == 1
    assert "nonexistent.csv" in no_file.stderr
    assert "Traceback" not in missing.stderr + bad_email.stderr + bad_url.stderr + no_org.stderr + no_file.stderr


def test_bulk_dry_run_lists_problems_and_issues_nothing(cli: Cli, badge_id: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("recipient,name\nada@example.org,Ada\nnope,Bob\nada@example.org,Ada again\n", encoding="utf-8")
    result = cli.run("award", "--badge", badge_id, "--csv", str(bad), "--dry-run", "--json", check=False)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["rows"] == 3
    assert [(p["row"], p["column"]) for p in report["problems"]] == [(3, "recipient"), (4, "recipient")]
    human = cli.run("award", "--badge", badge_id, "--csv", str(bad), "--dry-run", check=False)
    assert "row 3, recipient: 'nope' — This is not a valid email address." in human.stdout
    latin = tmp_path / "latin.csv"
    latin.write_bytes("recipient,name\nzoe@example.org,Zoë\n".encode("latin-1"))
    wrong = cli.run("award", "--badge", badge_id, "--csv", str(latin), "--dry-run", check=False)
    assert wrong.returncode == 1
    assert "CSV UTF-8" in wrong.stderr
    good = tmp_path / "good.csv"
    good.write_text("recipient,name\nada@example.org,Ada\n", encoding="utf-8-sig")
    ok = cli.json("award", "--badge", badge_id, "--csv", str(good), "--dry-run")
    assert ok == {"job": None, "dry_run": True, "ok": True, "rows": 1, "to_issue": 1, "skipped": 0, "problems": []}
    counts = cli.python("from insignia.cli import setup_django; setup_django()\n"
                        "from insignia.awards.models import Award; from insignia.bulk.models import BulkIssueJob\n"
                        "print(Award.objects.count(), BulkIssueJob.objects.count())")
    assert counts.stdout.split() == ["0", "0"]


def test_bulk_issue_in_the_foreground(cli: Cli, badge_id: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "cohort.csv"
    csv_file.write_text("recipient;name;award_date\n"
                        "ada@example.org;=HYPERLINK(\"x\");2024-01-02\n"
                        "grace@example.org;Grace;\n"
                        "alan@example.org;Alan;\n", encoding="utf-8")
    result = cli.run("award", "--badge", badge_id, "--csv", str(csv_file), "--result", str(tmp_path / "r.csv"),
                     "--json")
    report = json.loads(result.stdout)
    assert (report["status"], report["total"], report["issued"], report["failed"]) == ("done", 3, 3, 0)
    assert "Issued 3 of 3 (100%)" in result.stderr  # the progress line
    lines = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,recipient,name,state,award_id,award_url,error"
    assert lines[1].startswith("2,ada@example.org,\"'=HYPERLINK(\"\"x\"\")\",issued,")
    # the same file again: everyone already holds the badge, nothing is issued twice
    second = cli.json("award", "--badge", badge_id, "--csv", str(csv_file))
    assert (second["issued"], second["skipped"]) == (0, 3)


def test_a_killed_bulk_run_resumes_without_issuing_twice(cli: Cli, badge_id: str, tmp_path: Path) -> None:
    """SIGKILL the foreground run mid-way, then let the job runner resume it: every row issued exactly once."""
    rows = 8_000  # chunks of up to 1,000 rows: several chunks, still going at the first probes (~2,000 rows/s)
    csv_file = tmp_path / "many.csv"
    csv_file.write_text("recipient\n" + "".join(f"p{i}@example.org\n" for i in range(rows)), encoding="utf-8")
    process = subprocess.Popen([*COMMAND, "award", "--badge", badge_id, "--csv", str(csv_file)], env=cli.env,
                               cwd=cli.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probe = ("from insignia.cli import setup_django; setup_django()\n"
             "from insignia.awards.models import Award; print(Award.objects.count())")
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            issued = int(cli.python(probe).stdout)
            if issued >= 3 or process.poll() is not None:
                break
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    before = int(cli.python(probe).stdout)
    assert before < rows, "the run finished before it could be killed; make the file bigger"
    resumed = cli.python(
        "from insignia.cli import setup_django; setup_django()\n"
        "from insignia.bulk import services; from insignia.site import jobs\n"
        "pending = services.unfinished_jobs(); assert len(pending) == 1, pending\n"
        "jobs.run_now(*pending[0])\n"
        "from insignia.awards.models import Award; from insignia.bulk.models import BulkIssueJob\n"
        "job = BulkIssueJob.objects.get()\n"
        "keys = list(Award.objects.values_list('idempotency_key', flat=True))\n"
        "print(job.status, job.issued, len(keys), len(set(keys)),"
        " len(set(Award.objects.values_list('recipient_identity', flat=True))))")
    assert resumed.stdout.split() == ["done", str(rows), str(rows), str(rows), str(rows)]


def test_verify_stays_framework_free() -> None:
    code = ("import sys, insignia.cli as c; c.build_parser().parse_args(['verify', 'x']);"
            "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
