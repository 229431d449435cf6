"""Signing in worker processes (``insignia.credentials.parallel``): the same bytes, in order, or a clear fallback.

Real worker processes (spawned interpreters running the kernel): the pool's output must equal signing in this
process credential for credential, errors must surface as ``CredentialError`` in order, and a process that may
not start workers (a daemonic one, as in a prefork task runner) must still sign everything itself.
"""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from insignia.credentials.errors import CredentialError
from insignia.credentials.issue import sign_credential
from insignia.credentials.keys import Ed25519Signer
from insignia.credentials.parallel import SigningPool, sign_in_parts
from tests.credentials.test_fastpath import SEED, platform_credential

METHOD = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
OPTIONS: dict[str, Any] = {"verification_method": METHOD, "created": "2026-01-15T09:30:00Z"}


@pytest.fixture(scope="module")
def pool() -> Any:
    pool = SigningPool(1)
    yield pool
    pool.shutdown()


def signer() -> Ed25519Signer:
    return Ed25519Signer.from_seed(SEED, key_id=METHOD)


def expected(documents: list[dict]) -> list[dict]:
    return [sign_credential(document, signer(), **OPTIONS) for document in documents]


def test_the_pool_signs_the_same_bytes_in_order(pool: SigningPool) -> None:
    documents = [platform_credential(n) for n in range(23)]
    parts = list(sign_in_parts(documents, signer(), pool=pool, part_size=5, **OPTIONS))
    assert [len(part) for part in parts] == [5, 5, 5, 5, 3]
    assert [document for part in parts for document in part] == expected(documents)
    assert not pool.broken  # the workers really ran (a broken pool would have signed here, too)


def test_json_texts_are_the_signed_documents_json_whoever_signed_them(pool: SigningPool) -> None:
    """Workers send back the proof and the JSON text; the caller's documents and texts are what signing here
    and ``json.dumps`` would give, for the parts a worker signed and the ones signed here alike."""
    import json

    documents = [platform_credential(n) for n in range(9)]
    documents[4] = {**documents[4], "proof": {"type": "DataIntegrityProof", "cryptosuite": "other"}}  # a proof set
    parts = list(sign_in_parts(documents, signer(), pool=pool, part_size=3, json_texts=True, **OPTIONS))
    signed = [document for part in parts for document in part]
    assert signed == expected(documents)
    assert [list(document) for document in signed] == [list(document) for document in expected(documents)]
    assert [text for part in parts for text in part.json_texts()] == [json.dumps(d) for d in expected(documents)]
    assert parts[0].texts is None or parts[0].texts == [json.dumps(d) for d in signed[:3]]  # signed here
    assert any(part.texts is not None for part in parts[1:])  # made by the worker (parts it started)
    assert not pool.broken


def test_without_a_pool_or_with_one_part_the_caller_signs(pool: SigningPool) -> None:
    documents = [platform_credential(n) for n in range(4)]
    assert [d for part in sign_in_parts(documents, signer(), pool=None, part_size=3, **OPTIONS) for d in part] \
        == expected(documents)
    assert list(sign_in_parts(documents, signer(), pool=pool, part_size=10, **OPTIONS)) == [expected(documents)]
    assert list(sign_in_parts([], signer(), pool=pool, **OPTIONS)) == []


def test_a_refused_credential_in_a_workers_part_raises_in_order(pool: SigningPool) -> None:
    documents = [platform_credential(n) for n in range(12)]
    documents[7] = {**documents[7], "undefinedTerm": "dropped silently by JSON-LD"}  # safe mode refuses it
    parts = sign_in_parts(documents, signer(), pool=pool, part_size=3, **OPTIONS)
    assert next(parts) == expected(documents[:3])
    assert next(parts) == expected(documents[3:6])
    with pytest.raises(CredentialError) as raised:
        next(parts)  # documents 6–8, signed by the worker: the error comes back and is raised here
    assert "undefinedTerm" in raised.value.message
    assert raised.value.code == "undefined_term"


def _sign_in_a_daemonic_process(queue: Any) -> None:
    pool = SigningPool(1)
    documents = [platform_credential(n) for n in range(6)]
    signed = [d for part in sign_in_parts(documents, signer(), pool=pool, part_size=2, **OPTIONS) for d in part]
    queue.put((pool.broken, signed))


def test_a_process_that_may_not_start_workers_signs_everything_itself() -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_sign_in_a_daemonic_process, args=(queue,), daemon=True)
    child.start()
    broken, signed = queue.get(timeout=120)
    child.join(timeout=30)
    assert broken  # "daemonic processes are not allowed to have children": the pool gave up …
    assert signed == expected([platform_credential(n) for n in range(6)])  # … and nothing was lost


def test_a_pool_of_no_processes_is_off() -> None:
    off = SigningPool(0)
    assert off.broken
    assert off.submit(b"\0" * 32, None, {}, []) is None


KILLED_OWNER = """
import sys, time
from insignia.credentials.parallel import SigningPool, sign_in_parts
from tests.credentials.test_parallel import OPTIONS, signer
from tests.credentials.test_fastpath import platform_credential
pool = SigningPool(2)
list(sign_in_parts([platform_credential(n) for n in range(8)], signer(), pool=pool, part_size=2, **OPTIONS))
print(" ".join(map(str, pool.worker_pids())), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_when_the_process_that_started_them_is_killed() -> None:
    owner = subprocess.Popen([sys.executable, "-c", KILLED_OWNER], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    try:
        pids = [int(pid) for pid in owner.stdout.readline().split()]  # type: ignore[union-attr]
        assert len(pids) == 2
        assert all(_alive(pid) for pid in pids)
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids), "orphaned signing workers"
