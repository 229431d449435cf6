"""``insignia verify`` run for real, as a user would: the installed console script in a subprocess.

The credentials are issued by a did:key, so they verify with no network at all. The command uses the
real clock, so they are dated relative to now.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from insignia import __version__
from insignia.credentials.baking import bake
from tests.credentials.world import RECIPIENT, did_key_credential, did_key_signer, plain_png

_SCRIPT = Path(sys.executable).with_name("insignia")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "insignia.cli"]


def insignia(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [*COMMAND, *args], input=stdin, capture_output=True, timeout=120, env=env, check=False,
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    )


@pytest.fixture(scope="module")
def credential() -> dict[str, Any]:
    return did_key_credential(did_key_signer(), now=datetime.now(UTC))


@pytest.fixture
def credential_file(tmp_path: Path, credential: dict[str, Any]) -> Path:
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(credential), encoding="utf-8")
    return path


def _json_report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    report = json.loads(lines[0])
    assert isinstance(report, dict)
    return report


def _check(report: dict[str, Any], check_id: str) -> tuple[str, str]:
    check = next(c for c in report["checks"] if c["id"] == check_id)
    return check["status"], check["code"]


def test_valid_credential_exits_0_with_the_verdict_line(credential_file: Path) -> None:
    result = insignia("verify", str(credential_file))  # did:key and no status list: needs no network
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "VALID — this credential is authentic, unaltered and current."
    assert "  Badge:   Data Stewardship" in lines
    assert any(line.startswith("  Issuer:  Key Academy <did:key:z6Mk") for line in lines)
    assert any("✓ Signature:" in line and "[signature_valid]" in line for line in lines)
    assert result.stderr == ""


def test_json_output_is_one_object(credential_file: Path) -> None:
    result = insignia("verify", "--json", "--offline", str(credential_file))
    assert result.returncode == 0, result.stdout + result.stderr
    report = _json_report(result)
    assert set(report) == {"verdict", "checks", "credential"}
    assert report["verdict"] == "valid"
    assert [c["id"] for c in report["checks"]] == [
        "format", "schema", "proof", "issuer_key", "validity", "status", "recipient", "endorsements"
    ]
    assert all(set(c) == {"id", "status", "code", "message"} for c in report["checks"])
    assert report["credential"]["name"] == "Data Stewardship"
    assert report["credential"]["issuer_id"].startswith("did:key:z6Mk")


def test_tampered_credential_exits_1(tmp_path: Path, credential: dict[str, Any]) -> None:
    tampered = {**credential, "name": "Brain Surgery"}
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(tampered), encoding="utf-8")
    result = insignia("verify", "--offline", str(path))
    assert result.returncode == 1
    assert result.stdout.startswith("INVALID — do not trust this credential.")
    assert "[signature_invalid]" in result.stdout
    report = _json_report(insignia("verify", "--offline", "--json", str(path)))
    assert report["verdict"] == "invalid"
    assert _check(report, "proof") == ("failed", "signature_invalid")


def test_status_list_while_offline_exits_2(tmp_path: Path) -> None:
    credential = did_key_credential(did_key_signer(), list_url="https://key-academy.example/status/1",
                                    now=datetime.now(UTC))
    path = tmp_path / "with-status.json"
    path.write_text(json.dumps(credential), encoding="utf-8")
    result = insignia("verify", "--offline", str(path))
    assert result.returncode == 2, result.stdout
    assert result.stdout.startswith("COULD NOT FULLY CHECK")
    report = _json_report(insignia("verify", "--offline", "--json", str(path)))
    assert report["verdict"] == "indeterminate"
    assert _check(report, "status") == ("not_checked", "network_disabled")
    assert _check(report, "proof") == ("passed", "signature_valid")


def test_recipient_match_and_mismatch(credential_file: Path) -> None:
    match = insignia("verify", "--offline", "--json", "--recipient", RECIPIENT.upper(), str(credential_file))
    assert match.returncode == 0
    assert _check(_json_report(match), "recipient") == ("passed", "recipient_match")
    mismatch = insignia("verify", "--offline", "--json", "--recipient", "eve@example.org", str(credential_file))
    assert mismatch.returncode == 1
    assert _check(_json_report(mismatch), "recipient") == ("failed", "recipient_mismatch")


def test_reads_standard_input(credential: dict[str, Any]) -> None:
    result = insignia("verify", "--offline", "--json", "-", stdin=json.dumps(credential).encode())
    assert result.returncode == 0, result.stdout + result.stderr
    assert _json_report(result)["verdict"] == "valid"
    garbage = insignia("verify", "--offline", "-", stdin=b"\x00\x01 not a badge")
    assert garbage.returncode == 1
    assert "[not_a_credential]" in garbage.stdout


def test_baked_png(tmp_path: Path, credential: dict[str, Any]) -> None:
    path = tmp_path / "badge.png"
    path.write_bytes(bake(plain_png(), json.dumps(credential)))
    result = insignia("verify", "--offline", "--json", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    report = _json_report(result)
    assert report["verdict"] == "valid"
    assert report["credential"]["format"] == "png"


def test_missing_file_fails_with_a_clear_message(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-badge.json"
    result = insignia("verify", str(missing))
    assert result.returncode == 3  # distinct from the verdict codes 0, 1, 2
    assert str(missing) in result.stderr
    assert "neither a file nor an http(s) URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_error_prints_usage() -> None:
    result = insignia("verify")
    assert result.returncode == 3
    assert "usage: insignia verify" in result.stderr
    assert result.stdout == ""


def test_version() -> None:
    result = insignia("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"insignia {__version__}"


def test_hostile_values_do_not_crash_the_human_output(tmp_path: Path) -> None:
    # An OB 2.0 assertion whose embedded issuer has a number for an id and a list for a name.
    hostile = {
        "@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": "https://issuer.example/a/1",
        "recipient": {"type": "email", "hashed": False, "identity": "ada@example.org"},
        "badge": {"id": "https://issuer.example/b", "type": "BadgeClass", "name": ["x"], "image": [],
                  "issuer": {"id": 5, "name": {"en": 1}, "type": "Issuer"}},
        "verification": {"type": "hosted"}, "issuedOn": 1700000000,
    }
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(hostile), encoding="utf-8")
    result = insignia("verify", "--offline", str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("INVALID")
    assert "Traceback" not in result.stderr
