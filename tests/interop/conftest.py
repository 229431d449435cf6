"""Bridge to independent implementations (Digital Bazaar's jsonld.js stack, run with Node.js)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import spec_path

JS_DIR = Path(__file__).resolve().parent / "js"


class NodeTool:
    """Runs tool.mjs with one JSON request; the official contexts bundle is its only context source."""

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        payload = {"contextsManifest": str(spec_path("contexts", "manifest.json")), **request}
        result = subprocess.run(
            ["node", str(JS_DIR / "tool.mjs")],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        assert "error" not in answer, answer.get("error")
        return answer


@pytest.fixture(scope="session")
def node_tool() -> NodeTool:
    if shutil.which("node") is None or not (JS_DIR / "node_modules").is_dir():
        pytest.fail("Interop tests need Node.js and `npm ci` in tests/interop/js (scripts/test does this).")
    return NodeTool()
