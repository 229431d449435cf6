"""“Export everything”: one zip with every credential in every form we have, baked images and imports.

Layout::

    index.json                         what is in the zip, one entry per badge, with file names
    awards/<id>/credential.json        the signed OB 3.0 credential, exactly as issued
    awards/<id>/credential.jwt         the VC-JWT form
    awards/<id>/assertion.json         the OB 2.0 hosted assertion
    awards/<id>/assertion.jws          the OB 2.0 signed assertion
    awards/<id>/badge.png|badge.svg    the image with the OB 3.0 credential baked in
    awards/<id>/badge-ob2.png|.svg     the image with the OB 2.0 assertion baked in
    imported/<id>/document.json|.jwt   an imported badge exactly as imported, with summary.json and report.json

The producers are the ones the public download endpoints use, so every file verifies like a download.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone

from insignia.awards import credentials as documents
from insignia.backpack import queries
from insignia.backpack.models import Collection, ImportedBadge

log = logging.getLogger(__name__)

INDEX_VERSION = 1


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


def _award_files(award: Any) -> tuple[dict[str, bytes], dict[str, str]]:
    """The files of one award, and for each form we could not make, why."""
    producers: list[tuple[str, Callable[[], bytes]]] = [
        ("credential.json", lambda: _json(award.credential)),
        ("credential.jwt", lambda: documents.jwt_for(award).encode("ascii")),
        ("assertion.json", lambda: _json(documents.hosted_assertion(award))),
        ("assertion.jws", lambda: documents.signed_assertion(award).encode("ascii")),
        ("badge.png", lambda: documents.baked(award, "png", "ob3")),
        ("badge.svg", lambda: documents.baked(award, "svg", "ob3")),
        ("badge-ob2.png", lambda: documents.baked(award, "png", "ob2")),
        ("badge-ob2.svg", lambda: documents.baked(award, "svg", "ob2")),
    ]
    files: dict[str, bytes] = {}
    missing: dict[str, str] = {}
    for name, produce in producers:
        try:
            files[name] = produce()
        except documents.ImageMissing as exc:
            missing[name] = str(exc)
        except Exception as exc:  # one form failing must not lose the rest of the export
            log.warning("export: %s of award %s could not be made: %s", name, award.public_id, exc)
            missing[name] = "could not be made"
    return files, missing


def _imported_name(item: ImportedBadge) -> str:
    text = item.document.lstrip()
    return "document.json" if text.startswith(("{", "[")) else ("document.jwt" if item.format == "vc-jwt"
                                                                else "document.txt")


def build_export(user: Any) -> bytes:
    """The zip (bytes) of everything in ``user``'s wallet."""
    buffer = io.BytesIO()
    index: dict[str, Any] = {
        "version": INDEX_VERSION, "exported_at": timezone.now().isoformat(), "instance": settings.BASE_URL,
        "awards": [], "imported": [], "collections": [],
    }
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for award in queries.wallet_awards(user):
            files, missing = _award_files(award)
            folder = f"awards/{award.public_id}"
            for name, body in files.items():
                archive.writestr(f"{folder}/{name}", body)
            index["awards"].append({
                "id": award.public_id, "credential_id": award.credential_id, "badge": award.badge.name,
                "issuer": award.issuer.name, "issued_on": award.issued_on.isoformat(),
                "expires_on": award.expires_on.isoformat() if award.expires_on else None,
                "status": queries.award_state(award), "acceptance": award.acceptance,
                "visibility": award.visibility, "page": f"{settings.BASE_URL}/c/{award.public_id}",
                "files": {name: f"{folder}/{name}" for name in files}, "not_included": missing,
            })
        for item in ImportedBadge.objects.filter(user=user).order_by("created_at", "id"):
            folder = f"imported/{item.public_id}"
            name = _imported_name(item)
            archive.writestr(f"{folder}/{name}", item.document.encode("utf-8"))
            archive.writestr(f"{folder}/summary.json", _json(item.summary or {}))
            archive.writestr(f"{folder}/report.json", _json(item.report or {}))
            index["imported"].append({
                "id": item.public_id, "name": (item.summary or {}).get("name"), "origin": item.origin,
                "source_url": item.source_url or None, "format": item.format, "verdict": item.verdict,
                "verified_at": item.verified_at.isoformat() if item.verified_at else None,
                "files": {"document": f"{folder}/{name}", "summary": f"{folder}/summary.json",
                          "report": f"{folder}/report.json"},
            })
        for collection in Collection.objects.filter(user=user).order_by("position", "id"):
            items = queries.collection_items(collection, public=False)
            index["collections"].append({
                "name": collection.name, "description": collection.description, "visibility": collection.visibility,
                "badges": [{"kind": entry.kind, "id": entry.key} for _, entry in items],
            })
        archive.writestr("index.json", _json(index))
    return buffer.getvalue()


__all__ = ["INDEX_VERSION", "build_export"]
