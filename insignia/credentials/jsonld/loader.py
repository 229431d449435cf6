"""An offline JSON-LD document loader with an allow-list.

Every context the kernel signs over is built in (see ``contexts``). A deployment
may add more with ``INSIGNIA_CONTEXTS_DIR`` — a directory holding a ``manifest.json``
that maps URL → file, as in the official spec bundle. Anything else is refused
unless the caller passes a fetcher *and* a pinned SHA-256 for that URL: a context
that changed under us would change every signature made over it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from insignia.credentials.errors import ContextError, FetchError
from insignia.credentials.jsonld.contexts import builtin_urls, load_builtin

#: A fetcher takes a URL and returns the response body. It is the only network access.
Fetcher = Callable[[str], bytes]

CONTEXTS_DIR_ENV = "INSIGNIA_CONTEXTS_DIR"


def _read_manifest(directory: Path) -> dict[str, Path]:
    manifest_path = directory / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContextError(
            f"Cannot read the context manifest {manifest_path}: {exc}. "
            f"Point {CONTEXTS_DIR_ENV} at a directory holding a manifest.json.",
            code="context_manifest_invalid",
        ) from exc
    entries = manifest.get("contexts", manifest) if isinstance(manifest, dict) else None
    if not isinstance(entries, dict):
        raise ContextError(
            f"{manifest_path} must map context URLs to file names.", code="context_manifest_invalid"
        )
    return {
        url: directory / name
        for url, name in entries.items()
        if isinstance(url, str) and isinstance(name, str)
    }


class ContextLoader:
    """Resolves context URLs to documents: built-in, then the manifest directory, then (if allowed) a pinned fetch.

    An instance is a ``pyld`` document loader (it is callable with ``(url, options)``).
    Parsed documents are cached per instance; callers get copies.
    """

    def __init__(
        self,
        *,
        extra: Mapping[str, dict] | None = None,
        contexts_dir: str | os.PathLike[str] | None = None,
        fetcher: Fetcher | None = None,
        pins: Mapping[str, str] | None = None,
        use_environment: bool = True,
    ) -> None:
        self._extra = dict(extra or {})
        directory = contexts_dir
        if directory is None and use_environment:
            directory = os.environ.get(CONTEXTS_DIR_ENV) or None
        self._files = _read_manifest(Path(directory)) if directory else {}
        self._fetcher = fetcher
        self._pins = {url: digest.lower() for url, digest in (pins or {}).items()}
        self._cache: dict[str, dict] = {}

    def knows(self, url: str) -> bool:
        """True if ``url`` resolves without any network access."""
        return url in self._extra or url in builtin_urls() or url in self._files or url in self._cache

    def load(self, url: str) -> dict:
        """The context document for ``url`` (a private copy)."""
        return copy.deepcopy(self._load_shared(url))

    def _load_shared(self, url: str) -> dict:
        cached = self._cache.get(url)
        if cached is not None:
            return cached
        document = self._resolve(url)
        if not isinstance(document, dict):
            raise ContextError(f"The context at {url} is not a JSON object.", code="context_invalid")
        self._cache[url] = document
        return document

    def _resolve(self, url: str) -> Any:
        if url in self._extra:
            return copy.deepcopy(self._extra[url])
        builtin = load_builtin(url)
        if builtin is not None:
            return builtin
        if url in self._files:
            path = self._files[url]
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ContextError(
                    f"The context file {path} for {url} cannot be read: {exc}.",
                    code="context_invalid",
                ) from exc
        return self._fetch(url)

    def _fetch(self, url: str) -> Any:
        if self._fetcher is None:
            raise ContextError(
                f"The JSON-LD context {url} is not known to this verifier and fetching "
                f"contexts is not allowed. Add it with {CONTEXTS_DIR_ENV}.",
                code="context_unknown",
            )
        pin = self._pins.get(url)
        if pin is None:
            raise ContextError(
                f"The JSON-LD context {url} may only be fetched with a pinned SHA-256; none is configured.",
                code="context_unpinned",
            )
        try:
            body = self._fetcher(url)
        except FetchError:
            raise
        except Exception as exc:  # the fetcher is foreign code: report, do not crash
            raise ContextError(f"Fetching the context {url} failed: {exc}", code="context_fetch_failed") from exc
        digest = hashlib.sha256(body).hexdigest()
        if digest != pin:
            raise ContextError(
                f"The context fetched from {url} has SHA-256 {digest}, not the pinned {pin}; refusing it.",
                code="context_pin_mismatch",
            )
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ContextError(f"The context at {url} is not valid JSON.", code="context_invalid") from exc

    def __call__(self, url: str, options: Any = None) -> dict:
        """The ``pyld`` document-loader protocol. pyld never mutates documents it loads."""
        return {"contextUrl": None, "documentUrl": url, "document": self._load_shared(url)}


_default: ContextLoader | None = None


def default_loader() -> ContextLoader:
    """A process-wide offline loader (built-ins plus ``INSIGNIA_CONTEXTS_DIR``)."""
    global _default
    if _default is None:
        _default = ContextLoader()
    return _default
