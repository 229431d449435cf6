"""The JSON-LD contexts the kernel knows without a network.

``load_builtin(url)`` returns a fresh copy of a context document, or ``None``.
Contexts that ``pyld`` bundles are taken from it; the others are produced by the
modules of this package from the vocabulary the specifications define.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from pyld.documentloader.frozen import BUNDLED_CONTEXTS as _PYLD_BUNDLED

_PYLD_URLS = (
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/2018/credentials/v1",
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/v1",
    "https://w3id.org/security/v2",
    "https://w3id.org/security/suites/ed25519-2020/v1",
)


def _from_pyld(url: str) -> Callable[[], dict]:
    def load() -> dict:
        path: Path = _PYLD_BUNDLED[url]
        return json.loads(path.read_text(encoding="utf-8"))

    return load


_PRODUCERS: dict[str, Callable[[], dict]] = {url: _from_pyld(url) for url in _PYLD_URLS}


def register(url: str, producer: Callable[[], dict]) -> None:
    """Make a produced context available under ``url`` (used by this package's modules)."""
    _PRODUCERS[url] = producer


@cache
def _cached(url: str) -> dict:
    return _PRODUCERS[url]()


def load_builtin(url: str) -> dict | None:
    """A fresh copy of the built-in context document for ``url``, or None."""
    if url not in _PRODUCERS:
        return None
    return copy.deepcopy(_cached(url))


def builtin_urls() -> frozenset[str]:
    """Every URL ``load_builtin`` answers."""
    return frozenset(_PRODUCERS)


def pyld_urls() -> frozenset[str]:
    """The built-in URLs served from pyld's bundled copies (the rest are produced here)."""
    return frozenset(_PYLD_URLS)


def _register_produced() -> None:
    from insignia.credentials.jsonld.contexts import (
        clr_v2p0,
        credentials,
        ob_v2p0,
        ob_v3p0,
        ob_v3p0_beta,
        security,
        status,
    )

    for module in (ob_v3p0, ob_v3p0_beta, security, status, ob_v2p0, clr_v2p0, credentials):
        for url, producer in module.PRODUCERS.items():
            if url in _PRODUCERS:
                raise RuntimeError(f"Two producers for the context {url}")
            register(url, producer)


_register_produced()
