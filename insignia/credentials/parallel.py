"""Signing many credentials on more than one core: worker processes that run this kernel only.

Issuing a large batch spends about half its time in the proofs (checks, canonicalisation, Ed25519), which
are pure functions of the credential and the key: they can run beside the caller's own work (its database
writes) in another process. ``SigningPool`` keeps worker processes started with the *spawn* method — a
fresh interpreter that imports this kernel, not the caller's framework, threads or open connections — once,
for the life of the process.

``sign_in_parts`` hands a batch out in parts and gives the signed parts back **in order**. The caller signs
the first part itself while the workers start on the next ones, and takes back ("steals") any part no
worker has started by the time it gets there, so a busy pool never keeps an idle caller waiting and a pool
that cannot start (a daemonic process, a sandbox without ``fork``/``exec``) costs nothing: everything is
signed in the caller's process, as it would be without a pool.

The signer's 32-byte seed travels to the worker over the pool's pipe with each part, and is kept there
only while the process lives (in a small cache); the worker signs exactly as ``issue.sign_credential`` does.
A worker sends back only each credential's new ``proof`` value (the caller already holds the rest) and,
when asked, the signed document's JSON text (``json.dumps``), which the caller would otherwise have to make
itself before storing it.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import wait
from typing import Any

from insignia.credentials.errors import CredentialError
from insignia.credentials.issue import sign_credential
from insignia.credentials.keys import Ed25519Signer

log = logging.getLogger(__name__)

#: (seed, key id) → signer, in a worker process; bounded, since an issuer's keys rotate rarely.
_SIGNERS: dict[tuple[bytes, str | None], Ed25519Signer] = {}
_MAX_SIGNERS = 16

#: What a worker sends back for each credential: the signed document's ``proof`` value and its JSON text (when
#: asked), or the error's (message, code).
_Outcome = tuple[Any, str | None, tuple[str, str] | None]


class SignedPart(list[dict[str, Any]]):
    """The signed documents of one part, in order, with their JSON text when a worker made it."""

    texts: list[str] | None = None

    def json_texts(self) -> list[str]:
        """``json.dumps`` of each document (made by the worker that signed the part, or here)."""
        if self.texts is None:
            self.texts = [json.dumps(document) for document in self]
        return self.texts


def _exit_with_parent() -> None:
    """Run in each worker: exit when the process that started the pool dies, however it died.

    A worker blocks reading its task queue, whose write end it also holds (a queue travels whole to a spawned
    child), so the parent's death alone would never wake it: without this a killed issuer leaves orphans.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _worker_signer(seed: bytes, key_id: str | None) -> Ed25519Signer:
    signer = _SIGNERS.get((seed, key_id))
    if signer is None:
        if len(_SIGNERS) >= _MAX_SIGNERS:
            _SIGNERS.clear()
        signer = _SIGNERS[(seed, key_id)] = Ed25519Signer.from_seed(seed, key_id=key_id)
    return signer


def _sign_part(seed: bytes, key_id: str | None, options: dict[str, Any],
               credentials: list[dict[str, Any]], texts: bool = False) -> list[_Outcome]:
    """Run in a worker: ``sign_credential`` on each credential; an error is returned, not raised."""
    signer = _worker_signer(seed, key_id)
    outcomes: list[_Outcome] = []
    for credential in credentials:
        try:
            signed = sign_credential(credential, signer, **options)
        except CredentialError as exc:
            outcomes.append((None, None, (exc.message, exc.code)))
        else:
            outcomes.append((signed["proof"], json.dumps(signed) if texts else None, None))
    return outcomes


def _unwrap(credentials: list[dict[str, Any]], outcomes: list[_Outcome]) -> SignedPart:
    """The signed documents, as ``sign_document`` makes them: a copy of each credential with its ``proof``."""
    signed = SignedPart()
    texts: list[str] = []
    for credential, (proof, text, error) in zip(credentials, outcomes, strict=True):
        if error is not None:
            raise CredentialError(error[0], code=error[1])
        document = dict(credential)
        document["proof"] = proof
        signed.append(document)
        if text is not None:
            texts.append(text)
    if len(texts) == len(signed):
        signed.texts = texts
    return signed


def _sign_here(credentials: list[dict[str, Any]], signer: Ed25519Signer, options: dict[str, Any]) -> SignedPart:
    return SignedPart(sign_credential(credential, signer, **options) for credential in credentials)


class SigningPool:
    """Up to ``processes`` worker processes for ``sign_in_parts``, started on first use and then kept."""

    def __init__(self, processes: int) -> None:
        self.processes = max(0, int(processes))
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.broken = self.processes == 0

    def submit(self, seed: bytes, key_id: str | None, options: dict[str, Any],
               credentials: list[dict[str, Any]], texts: bool = False) -> Future[list[_Outcome]] | None:
        """Queue one part; None when the pool cannot take it (then the caller signs it)."""
        if self.broken:
            return None
        try:
            with self._lock:
                if self._executor is None:
                    self._executor = ProcessPoolExecutor(self.processes,
                                                         mp_context=multiprocessing.get_context("spawn"),
                                                         initializer=_exit_with_parent)
                executor = self._executor
            return executor.submit(_sign_part, seed, key_id, options, credentials, texts)
        except Exception as exc:  # e.g. a daemonic process may not have children
            self._give_up(exc)
            return None

    def _give_up(self, exc: BaseException) -> None:
        if not self.broken:
            log.warning("signing in worker processes is off (%s); signing in this process instead", exc)
        self.broken = True
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def worker_pids(self) -> list[int]:
        """The process ids of the running workers (none before the first part is submitted)."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return sorted(pid for pid, process in list(processes.items()) if process.is_alive())

    def shutdown(self) -> None:
        """Stop the workers (they also stop when the process exits)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def result(self, future: Future[list[_Outcome]]) -> list[_Outcome] | None:
        """A part's outcomes, or None when the pool broke under it (then the caller signs it)."""
        try:
            return future.result()
        except BrokenProcessPool as exc:
            self._give_up(exc)
            return None


def sign_in_parts(
    credentials: Sequence[dict[str, Any]],
    signer: Ed25519Signer,
    *,
    pool: SigningPool | None,
    part_size: int = 100,
    json_texts: bool = False,
    **options: Any,
) -> Iterator[SignedPart]:
    """``sign_credential(c, signer, **options)`` for each credential, yielded part by part in order.

    With a pool, parts after the first go to its workers while the caller signs the first one and does
    whatever it does with each yielded part; a part still waiting for a worker when its turn comes is signed
    by the caller. Raises ``CredentialError`` (the first one, in order) like ``sign_credential``.
    ``json_texts``: workers also make each signed document's JSON text (``SignedPart.json_texts``).
    """
    parts = [list(credentials[start:start + part_size]) for start in range(0, len(credentials), part_size)]
    if pool is None or pool.broken or len(parts) < 2:
        for part in parts:
            yield _sign_here(part, signer, options)
        return
    seed = signer.seed()
    futures = [pool.submit(seed, signer.key_id, options, part, json_texts) for part in parts[1:]]
    try:
        yield _sign_here(parts[0], signer, options)
        for part, future in zip(parts[1:], futures, strict=True):
            outcomes = None if future is None or future.cancel() else pool.result(future)
            if outcomes is None:
                yield _sign_here(part, signer, options)
            else:
                yield _unwrap(part, outcomes)
    finally:
        for future in futures:  # the caller stopped early (an error): nothing more to sign
            if future is not None:
                future.cancel()
