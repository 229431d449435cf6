"""Kernel benchmarks: the timing method, the shared inputs, and one function per group of figures.

Every figure is an operation timed over pre-built inputs: a warm-up, then ``repeats`` runs of ``n``
operations, reporting the median rate and the spread. The repeats go round-robin over all figures,
so load from elsewhere on the machine hits every figure alike. Inputs are built before any clock starts, and
the sign/verify inputs are distinct credentials of one badge class (``realistic_credential(n)``), so
a cache keyed on whole documents cannot flatter the numbers.
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import importlib.util
import json
import random
import re
import statistics
import struct
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld
from pyld.canon import URDNA2015

from benchmarks.credentials import arbitrary_credential, realistic_credential
from insignia.credentials.encoding import multibase_decode, multibase_encode
from insignia.credentials.jsonld.loader import default_loader

#: The proof creation time used for every signature (fixed per batch, as an issuer would).
CREATED = "2026-01-15T09:30:00Z"
#: A 32-byte seed, so the issuer DID and every proofValue are the same from run to run.
SEED = hashlib.sha256(b"insignia benchmark issuer").digest()

SIGN_TARGET = "issue 6: ≥10,000/s"
VERIFY_TARGET = "issue 6: ≥8,000/s"
ARBITRARY_TARGET = "issue 6: ≥ baseline"

# --- method ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How long and how often to measure, and how many distinct inputs to build."""

    repeats: int = 7
    repeat_seconds: float = 0.5
    warmup_seconds: float = 0.25
    min_ops: int = 5
    max_ops: int = 2_000_000
    sign_pool: int = 1000
    verify_pool: int = 200
    quads_pool: int = 64
    arbitrary_pool: int = 600
    quick: bool = False

    @classmethod
    def for_quick(cls) -> Settings:
        """One short repeat of a few operations per figure: a smoke test, not a measurement."""
        return cls(
            repeats=1,
            repeat_seconds=0.02,
            warmup_seconds=0.0,
            min_ops=2,
            max_ops=200,
            sign_pool=4,
            verify_pool=4,
            quads_pool=4,
            arbitrary_pool=4,
            quick=True,
        )


@dataclass(frozen=True)
class Timing:
    """Rates of the repeats, in operations per second."""

    median: float
    low: float
    high: float
    ops: int
    repeats: int


@dataclass
class Row:
    """One line of the table: a measured figure, or a figure that could not be measured and why."""

    key: str
    group: str
    figure: str
    target: str = ""
    baseline: str | None = None
    timing: Timing | None = None
    note: str = ""

    @property
    def measured(self) -> bool:
        """True when the figure has a rate."""
        return self.timing is not None

    def as_dict(self) -> dict[str, Any]:
        """The row for the JSON report."""
        data: dict[str, Any] = {
            "key": self.key,
            "group": self.group,
            "figure": self.figure,
            "target": self.target,
            "baseline": self.baseline,
            "note": self.note,
        }
        if self.timing is not None:
            data.update(
                ops_per_s=self.timing.median,
                ops_per_s_min=self.timing.low,
                ops_per_s_max=self.timing.high,
                us_per_op=1e6 / self.timing.median,
                ops_per_repeat=self.timing.ops,
                repeats=self.timing.repeats,
            )
        return data


@dataclass
class Job:
    """A row to measure: ``op`` applied to ``inputs`` in turn. A row with no ``op`` is reported, not timed."""

    row: Row
    op: Callable[[Any], object] | None = None
    inputs: Sequence[Any] = ()


def _size(job: Job, settings: Settings) -> list[Any]:
    """Warm ``job`` up, and return the batch of inputs one repeat runs (about ``repeat_seconds`` of work)."""
    assert job.op is not None
    inputs = job.inputs
    if not inputs:
        raise ValueError(f"{job.row.key}: no inputs to measure")
    count = len(inputs)
    done = 0
    start = time.perf_counter()
    while True:
        job.op(inputs[done % count])
        done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= settings.warmup_seconds:
            break
    rate = done / max(elapsed, 1e-9)
    n = max(settings.min_ops, min(settings.max_ops, round(rate * settings.repeat_seconds)))
    return [inputs[i % count] for i in range(n)]


def measure_jobs(jobs: Sequence[Job], settings: Settings) -> None:
    """Time every job, filling in ``row.timing``.

    Each job is warmed up and sized first; then the repeats go round-robin over the jobs (repeat 1 of
    every job, then repeat 2, ...), so a burst of load from elsewhere on the machine hits every figure
    alike and the ratios between rows stay sound.
    """
    timed = [job for job in jobs if job.op is not None]
    batches = [_size(job, settings) for job in timed]
    rates: list[list[float]] = [[] for _ in timed]
    for _ in range(settings.repeats):
        for index, (job, batch) in enumerate(zip(timed, batches, strict=True)):
            op = job.op
            assert op is not None
            gc.collect()
            start = time.perf_counter()
            for item in batch:
                op(item)
            rates[index].append(len(batch) / (time.perf_counter() - start))
    for job, batch, observed in zip(timed, batches, rates, strict=True):
        job.row.timing = Timing(statistics.median(observed), min(observed), max(observed), len(batch), settings.repeats)


def measure(op: Callable[[Any], object], inputs: Sequence[Any], settings: Settings) -> Timing:
    """Warm up, size ``n`` to about ``repeat_seconds``, then time ``repeats`` runs of ``op`` over ``inputs``."""
    job = Job(Row("measure", "", ""), op, inputs)
    measure_jobs([job], settings)
    assert job.row.timing is not None
    return job.row.timing


def _missing(modules: Sequence[str], attributes: Sequence[tuple[str, str]] = ()) -> str | None:
    """A note when a module or a name in it is absent from the tree; None when all are there."""
    for name in modules:
        try:
            if importlib.util.find_spec(name) is None:
                return f"not built yet ({name} is absent)"
        except ModuleNotFoundError:
            return f"not built yet ({name} is absent)"
    for module, attribute in attributes:
        try:
            imported = importlib.import_module(module)
        except ImportError as exc:
            return f"not built yet ({module}: {exc})"
        if not hasattr(imported, attribute):
            return f"not built yet ({module}.{attribute} is absent)"
    return None


def _failed(row: Row, exc: Exception) -> Job:
    row.note = f"failed: {type(exc).__name__}: {exc}"[:160]
    return Job(row)


# --- inputs ----------------------------------------------------------------------------------------


class _PyldLoader:
    """A caching in-memory pyld document loader serving the built-in contexts through ``default_loader()``."""

    def __init__(self) -> None:
        self._loader = default_loader()
        self._cache: dict[str, dict] = {}

    def __call__(self, url: str, options: Any = None) -> dict:
        cached = self._cache.get(url)
        if cached is None:
            cached = self._cache[url] = self._loader(url, options)
        return cached


@dataclass
class _Method:
    """A dereferenced verification method, used when ``insignia.credentials.dids`` is not in the tree."""

    id: str
    controller: str
    public_key: Any
    purposes: frozenset[str] = field(default_factory=lambda: frozenset({"assertionMethod"}))


class _CryptographyKey:
    """``.verify(data, signature) -> bool`` over a cryptography Ed25519 public key (fallback for ``PublicKey``)."""

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


def compact_json(document: object) -> str:
    """The compact JSON form (what a baked badge or an API response carries)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def tiny_png(width: int = 96, height: int = 96) -> bytes:
    """A small valid RGBA PNG (a gradient), built here so the benchmark needs no image file."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 160, 255)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


class Fixture:
    """Keys, credentials and pre-built inputs shared by the figures; each is built on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pyld_loader = _PyldLoader()

    def pyld_options(self) -> dict[str, Any]:
        """Fresh options for ``jsonld.normalize`` (pyld may add defaults to the dict it is given)."""
        return {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": self.pyld_loader}

    @cached_property
    def private_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(SEED)

    @cached_property
    def signer(self) -> Any:
        """``insignia.credentials.keys.Ed25519Signer`` when it exists, else the cryptography key itself."""
        try:
            from insignia.credentials.keys import Ed25519Signer
        except ImportError:
            return self.private_key
        return Ed25519Signer.from_seed(SEED)

    @cached_property
    def public_key(self) -> Any:
        """A key with ``.verify(data, signature) -> bool``."""
        try:
            from insignia.credentials.keys import PublicKey
        except ImportError:
            return _CryptographyKey(self.private_key.public_key())
        return PublicKey(self.private_key.public_key())

    @cached_property
    def controller(self) -> str:
        """The issuer: a did:key of the benchmark key (or a fixed DID if did:key is not built)."""
        try:
            from insignia.credentials.dids.key import did_key_from_public_key
        except ImportError:
            return "did:example:insignia-benchmark-issuer"
        return did_key_from_public_key(self.public_key)

    @cached_property
    def method_id(self) -> str:
        fragment = self.controller.removeprefix("did:key:") if self.controller.startswith("did:key:") else "key-1"
        return f"{self.controller}#{fragment}"

    @cached_property
    def method(self) -> Any:
        try:
            from insignia.credentials.dids.resolver import VerificationMethod
        except ImportError:
            return _Method(self.method_id, self.controller, self.public_key)
        return VerificationMethod(
            id=self.method_id,
            type="Multikey",
            controller=self.controller,
            public_key=self.public_key,
            purposes=frozenset({"assertionMethod"}),
        )

    def resolve_method(self, method_id: str) -> Any:
        """The injected key lookup: this one key, already dereferenced."""
        if method_id != self.method_id:
            raise LookupError(method_id)
        return self.method

    def credential(self, n: int) -> dict:
        """Credential ``n`` of the batch, issued by the benchmark key's controller."""
        document = realistic_credential(n)
        document["issuer"]["id"] = self.controller
        return document

    @cached_property
    def credentials(self) -> list[dict]:
        """Distinct unsigned credentials (varied recipients) for the sign and canonicalise figures."""
        return [self.credential(n) for n in range(self.settings.sign_pool)]

    @cached_property
    def signed(self) -> list[dict]:
        """Distinct credentials signed with our ``create_proof``, for the verify figures."""
        from insignia.credentials.proofs.data_integrity import create_proof

        out = []
        for document in self.credentials[: self.settings.verify_pool]:
            proof = create_proof(document, self.signer, verification_method=self.method_id, created=CREATED)
            out.append({**document, "proof": proof})
        return out

    @cached_property
    def arbitrary(self) -> list[dict]:
        """Unsigned credentials of arbitrary shape (each its own shape), for the cold sign figures."""
        out = []
        for n in range(self.settings.arbitrary_pool):
            document = arbitrary_credential(100_000 + n)
            document["issuer"]["id"] = self.controller
            out.append(document)
        return out

    @cached_property
    def arbitrary_signed(self) -> list[dict]:
        """Signed credentials of arbitrary shape (other shapes than ``arbitrary``), their shapes forgotten."""
        from insignia.credentials.proofs.data_integrity import create_proof

        out = []
        for n in range(self.settings.arbitrary_pool):
            document = arbitrary_credential(200_000 + n)
            document["issuer"]["id"] = self.controller
            proof = create_proof(document, self.signer, verification_method=self.method_id, created=CREATED)
            out.append({**document, "proof": proof})
            forget_shape(document)
        return out

    def proof_options(self) -> dict[str, Any]:
        """The proof options of every signature in the batch (without ``proofValue``)."""
        return {
            "type": "DataIntegrityProof",
            "created": CREATED,
            "verificationMethod": self.method_id,
            "cryptosuite": "eddsa-rdfc-2022",
            "proofPurpose": "assertionMethod",
        }

    @cached_property
    def canonical(self) -> list[bytes]:
        """Canonical N-Quads (UTF-8) of a few credentials, from pyld."""
        return [
            jsonld.normalize(document, self.pyld_options()).encode("utf-8")
            for document in self.credentials[: min(16, len(self.credentials))]
        ]

    # The pyld-only path: what a Python issuer gets from pyld and cryptography with no kernel in between.

    def pyld_sign(self, document: dict) -> dict:
        """eddsa-rdfc-2022 with pyld: canonicalise the proof config and the document, hash both, sign."""
        options = self.proof_options()
        config = {**options, "@context": document["@context"]}
        proof_hash = hashlib.sha256(jsonld.normalize(config, self.pyld_options()).encode("utf-8")).digest()
        document_hash = hashlib.sha256(jsonld.normalize(document, self.pyld_options()).encode("utf-8")).digest()
        options["proofValue"] = multibase_encode(self.private_key.sign(proof_hash + document_hash), "z")
        return options

    def pyld_verify(self, signed: dict) -> bool:
        """The same work as ``pyld_sign`` plus an Ed25519 verify; raises InvalidSignature on a bad proof."""
        proof = signed["proof"]
        unsecured = {key: value for key, value in signed.items() if key != "proof"}
        config = {key: value for key, value in proof.items() if key != "proofValue"}
        config["@context"] = unsecured["@context"]
        signature = multibase_decode(proof["proofValue"])
        proof_hash = hashlib.sha256(jsonld.normalize(config, self.pyld_options()).encode("utf-8")).digest()
        document_hash = hashlib.sha256(jsonld.normalize(unsecured, self.pyld_options()).encode("utf-8")).digest()
        self.private_key.public_key().verify(signature, proof_hash + document_hash)
        return True


def forget_shape(document: dict) -> None:
    """Drop ``document``'s compiled shape from the default loader's cache, so its next use compiles it again."""
    from insignia.credentials.jsonld import canonize, fastpath

    unsecured = {key: value for key, value in document.items() if key != "proof"}
    canonize._state(default_loader()).shapes.discard(fastpath.shape_of(unsecured)[0])


def fast_path_stats() -> dict[str, int]:
    """Hits, misses, fallbacks and size of the default loader's cache of compiled shapes."""
    from insignia.credentials.jsonld import canonize

    cache = canonize._state(default_loader()).shapes
    return {"entries": len(cache), "bytes": cache.bytes, "hits": cache.hits, "misses": cache.misses,
            "fallbacks": cache.fallbacks}


def describe_input(fixture: Fixture) -> dict[str, Any]:
    """Size of the benchmark credential: compact JSON bytes, quads, blank nodes, canonical N-Quads bytes."""
    document = fixture.credential(0)
    nquads = jsonld.normalize(document, fixture.pyld_options())
    return {
        "credential_bytes": len(compact_json(document).encode("utf-8")),
        "quads": len(nquads.splitlines()),
        "blank_nodes": len(set(re.findall(r"_:c14n\d+", nquads))),
        "nquads_bytes": len(nquads.encode("utf-8")),
        "distinct_sign_inputs": fixture.settings.sign_pool,
        "distinct_verify_inputs": fixture.settings.verify_pool,
    }


def cross_check(fixture: Fixture) -> dict[str, Any]:
    """Agreement between our path and the pyld-only path on credential 0 (the benchmark assumes it)."""
    result: dict[str, Any] = {}
    document = fixture.credentials[0]
    try:
        from insignia.credentials.jsonld.canonize import canonize

        result["same_nquads"] = canonize(document) == jsonld.normalize(document, fixture.pyld_options())
    except Exception as exc:  # report, do not stop the run
        result["same_nquads"] = f"failed: {exc}"
    try:
        from insignia.credentials.jsonld.canonize import reference_canonize

        result["fast_equals_reference"] = all(
            canonize(document) == reference_canonize(document)
            for document in [*fixture.credentials[:4], *fixture.arbitrary[:4]]
        )
    except Exception as exc:  # report, do not stop the run
        result["fast_equals_reference"] = f"failed: {exc}"
    try:
        ours = fixture.signed[0]["proof"]["proofValue"]
        result["same_proof_value"] = ours == fixture.pyld_sign(document)["proofValue"]
    except Exception as exc:  # report, do not stop the run
        result["same_proof_value"] = f"failed: {exc}"
    return result


# --- figures ---------------------------------------------------------------------------------------
#
# Each group builds its inputs and returns Jobs; nothing is timed until ``run_figures`` measures them all.


def floor_figures(fixture: Fixture, settings: Settings) -> list[Job]:
    """1. The floor: the cryptography and hashing that any implementation must do."""
    key = fixture.private_key
    messages = [hashlib.sha512(i.to_bytes(4, "big")).digest() for i in range(64)]
    pairs = [(message, key.sign(message)) for message in messages]
    public = key.public_key()

    def verify(pair: tuple[bytes, bytes]) -> None:
        public.verify(pair[1], pair[0])

    def sha256(data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    nquads_bytes = len(fixture.canonical[0])
    return [
        Job(Row("ed25519_sign", "1 floor", "Ed25519 sign, 64 B (cryptography)"), key.sign, messages),
        Job(Row("ed25519_verify", "1 floor", "Ed25519 verify, 64 B (cryptography)"), verify, pairs),
        Job(
            Row("sha256_nquads", "1 floor", f"SHA-256 of the canonical N-Quads ({nquads_bytes:,} B)"),
            sha256,
            fixture.canonical,
        ),
    ]


def baseline_figures(fixture: Fixture, settings: Settings) -> list[Job]:
    """2. The baseline: eddsa-rdfc-2022 on pyld 3.3.0 alone (normalize ×2, SHA-256 ×2, Ed25519)."""
    assert fixture.pyld_verify(fixture.signed[0]), "the pyld-only path must accept our signature"
    assert fixture.pyld_verify(fixture.arbitrary_signed[0]), "the pyld-only path must accept our signature"
    return [
        Job(
            Row("pyld_sign", "2 baseline", "eddsa-rdfc-2022 sign, pyld-only path"),
            fixture.pyld_sign,
            fixture.credentials,
        ),
        Job(
            Row("pyld_verify", "2 baseline", "eddsa-rdfc-2022 verify, pyld-only path"),
            fixture.pyld_verify,
            fixture.signed,
        ),
        Job(
            Row("pyld_sign_arbitrary", "2 baseline", "eddsa-rdfc-2022 sign, pyld-only path, arbitrary shapes"),
            fixture.pyld_sign,
            fixture.arbitrary,
        ),
        Job(
            Row("pyld_verify_arbitrary", "2 baseline", "eddsa-rdfc-2022 verify, pyld-only path, arbitrary shapes"),
            fixture.pyld_verify,
            fixture.arbitrary_signed,
        ),
    ]


def ours_figures(fixture: Fixture, settings: Settings) -> list[Job]:
    """3. Ours: ``create_proof`` and ``verify_document`` from the kernel, with the issuer binding checked."""
    from insignia.credentials.proofs.data_integrity import create_proof, verify_document

    controller = fixture.controller
    outcomes = verify_document(fixture.signed[0], resolve_method=fixture.resolve_method, expected_controller=controller)
    assert outcomes, "verify_document returned no outcome"
    assert all(outcome.verified for outcome in outcomes), f"verify must succeed before it is timed: {outcomes}"

    def sign(document: dict) -> dict:
        return create_proof(document, fixture.signer, verification_method=fixture.method_id, created=CREATED)

    def verify(document: dict) -> None:
        for outcome in verify_document(document, resolve_method=fixture.resolve_method, expected_controller=controller):
            if not outcome.verified:
                raise AssertionError(outcome.message)

    def reference(operation: Callable[[dict], object]) -> Callable[[dict], object]:
        def run(document: dict) -> object:
            fastpath.ENABLED = False
            try:
                return operation(document)
            finally:
                fastpath.ENABLED = True

        return run

    def cold(operation: Callable[[dict], object]) -> Callable[[dict], object]:
        def run(document: dict) -> object:
            try:
                return operation(document)
            finally:
                forget_shape(document)  # the next use of this input is a shape never seen before again

        return run

    from insignia.credentials.jsonld import fastpath

    sign_row = Row("ours_sign", "3 ours", "eddsa-rdfc-2022 sign, create_proof", SIGN_TARGET, baseline="pyld_sign")
    verify_row = Row(
        "ours_verify", "3 ours", "eddsa-rdfc-2022 verify, verify_document", VERIFY_TARGET, baseline="pyld_verify"
    )
    return [
        Job(sign_row, sign, fixture.credentials),
        Job(verify_row, verify, fixture.signed),
        Job(
            Row("ours_sign_arbitrary", "3 ours", "sign, create_proof, arbitrary shapes (each shape new: compiled)",
                ARBITRARY_TARGET, baseline="pyld_sign_arbitrary"),
            cold(sign),
            fixture.arbitrary,
        ),
        Job(
            Row("ours_verify_arbitrary", "3 ours", "verify, verify_document, arbitrary shapes (each shape new)",
                ARBITRARY_TARGET, baseline="pyld_verify_arbitrary"),
            cold(verify),
            fixture.arbitrary_signed,
        ),
        Job(
            Row("ours_sign_reference", "3 ours", "sign, create_proof, reference path only (fast path off)",
                baseline="pyld_sign"),
            reference(sign),
            fixture.credentials,
        ),
        Job(
            Row("ours_verify_reference", "3 ours", "verify, verify_document, reference path only (fast path off)",
                baseline="pyld_verify"),
            reference(verify),
            fixture.signed,
        ),
    ]


def canonize_figures(fixture: Fixture, settings: Settings) -> list[Job]:
    """4. Canonicalisation alone: the whole document, then JSON-LD → RDF, then RDFC-1.0 on prebuilt quads."""
    from insignia.credentials.jsonld import canonize as module

    documents = fixture.credentials
    few = documents[: settings.quads_pool]

    def normalize(document: dict) -> str:
        return jsonld.normalize(document, fixture.pyld_options())

    def to_rdf(document: dict) -> Any:
        return jsonld.to_rdf(document, {"documentLoader": fixture.pyld_loader})

    def urdna2015(dataset: dict) -> str:
        return URDNA2015().main(dataset, {"format": "application/n-quads"})

    datasets = [to_rdf(document) for document in few]
    expected = normalize(few[0])
    assert urdna2015(datasets[0]) == urdna2015(datasets[0]) == expected, "pyld's URDNA2015 must not alter its input"

    to_quads_row = Row(
        "ours_to_quads", "4 canonize", "to_quads(document), ours: JSON-LD → RDF, safe mode", baseline="pyld_to_rdf"
    )
    rdfc_row = Row(
        "ours_rdfc", "4 canonize", "canonize_quads on prebuilt quads, ours: RDFC-1.0", baseline="pyld_urdna2015"
    )
    note = _missing(
        (),
        [
            ("insignia.credentials.jsonld.canonize", "to_quads"),
            ("insignia.credentials.jsonld.canonize", "canonize_quads"),
        ],
    )
    if note is None:
        quads = [module.to_quads(document) for document in few]
        assert module.canonize_quads(quads[0]) == expected, "our RDFC-1.0 output differs from pyld's"
        to_quads_job = Job(to_quads_row, module.to_quads, few)
        rdfc_job = Job(rdfc_row, module.canonize_quads, quads)
    else:
        to_quads_row.note = rdfc_row.note = note
        to_quads_job, rdfc_job = Job(to_quads_row), Job(rdfc_row)
    return [
        Job(
            Row("ours_canonize", "4 canonize", "canonize(document), ours (fast path)", baseline="pyld_normalize"),
            module.canonize,
            documents,
        ),
        Job(
            Row("ours_reference_canonize", "4 canonize", "reference_canonize(document), ours (pyld + RDFC-1.0)",
                baseline="pyld_normalize"),
            module.reference_canonize,
            documents,
        ),
        Job(Row("pyld_normalize", "4 canonize", "jsonld.normalize(document), pyld"), normalize, documents),
        to_quads_job,
        Job(Row("pyld_to_rdf", "4 canonize", "jsonld.to_rdf(document), pyld"), to_rdf, few),
        rdfc_job,
        Job(Row("pyld_urdna2015", "4 canonize", "URDNA2015 on a prebuilt dataset, pyld"), urdna2015, datasets),
    ]


def jwt_figures(fixture: Fixture, settings: Settings) -> list[Job]:
    """5a. VC-JWT (RS256): a JWS over the credential JSON, no canonicalisation."""
    sign_row = Row("jwt_rs256_sign", "5 other", "VC-JWT RS256 sign, encode_vc_jwt")
    verify_row = Row("jwt_rs256_verify", "5 other", "VC-JWT RS256 verify, verify_vc_jwt")
    note = _missing(
        ("insignia.credentials.proofs.jose",),
        [
            ("insignia.credentials.proofs.jose", "encode_vc_jwt"),
            ("insignia.credentials.proofs.jose", "verify_vc_jwt"),
            ("insignia.credentials.keys", "RsaSigner"),
        ],
    )
    if note is not None:
        sign_row.note = verify_row.note = note
        return [Job(sign_row), Job(verify_row)]
    from insignia.credentials.keys import RsaSigner
    from insignia.credentials.proofs import jose

    try:
        signer = RsaSigner.generate(2048, key_id=f"{fixture.controller}#rsa-1")
        public = signer.public_key()
        documents = fixture.credentials
        tokens = [jose.encode_vc_jwt(document, signer) for document in documents[: settings.verify_pool]]
        jose.verify_vc_jwt(tokens[0], public)
    except Exception as exc:  # a module under construction must not stop the run
        return [_failed(sign_row, exc), _failed(verify_row, exc)]
    return [
        Job(sign_row, lambda document: jose.encode_vc_jwt(document, signer), documents),
        Job(verify_row, lambda token: jose.verify_vc_jwt(token, public), tokens),
    ]


def baking_figures(fixture: Fixture, settings: Settings) -> list[Job]:
    """5b. PNG baking: the signed credential's JSON into an iTXt chunk, and back."""
    image = tiny_png()
    bake_row = Row("png_bake", "5 other", f"PNG bake, signed credential into a {len(image):,} B PNG")
    unbake_row = Row("png_unbake", "5 other", "PNG unbake")
    note = _missing(
        ("insignia.credentials.baking",),
        [("insignia.credentials.baking", "bake"), ("insignia.credentials.baking", "unbake")],
    )
    if note is not None:
        bake_row.note = unbake_row.note = note
        return [Job(bake_row), Job(unbake_row)]
    from insignia.credentials import baking

    try:
        payloads = [compact_json(document) for document in fixture.signed]
        baked = [baking.bake(image, payload) for payload in payloads]
        assert baking.unbake(baked[0]).text == payloads[0], "unbake must return what was baked"
    except Exception as exc:  # a module under construction must not stop the run
        return [_failed(bake_row, exc), _failed(unbake_row, exc)]
    return [
        Job(bake_row, lambda payload: baking.bake(image, payload), payloads),
        Job(unbake_row, baking.unbake, baked),
    ]


def status_figures(fixture: Fixture, settings: Settings) -> list[Job]:
    """5c. Bitstring Status List: encode (GZIP + base64url) and decode a list of 131,072 entries."""
    size = 131_072
    encode_row = Row("status_encode", "5 other", f"Bitstring status list encode, {size:,} entries, ~1% set")
    decode_row = Row("status_decode", "5 other", f"Bitstring status list decode, {size:,} entries")
    note = _missing(
        ("insignia.credentials.status.bitstring",), [("insignia.credentials.status.bitstring", "Bitstring")]
    )
    if note is not None:
        encode_row.note = decode_row.note = note
        return [Job(encode_row), Job(decode_row)]
    from insignia.credentials.status.bitstring import Bitstring

    try:
        chooser = random.Random(6)  # a fixed seed: the same lists every run
        lists = []
        for _ in range(4):
            bits = Bitstring(size)
            for index in chooser.sample(range(size), size // 100):
                bits.set(index)
            lists.append(bits)
        encoded = [bits.encode() for bits in lists]
        assert Bitstring.decode(encoded[0]) == lists[0], "decode must invert encode"
    except Exception as exc:  # a module under construction must not stop the run
        return [_failed(encode_row, exc), _failed(decode_row, exc)]
    return [
        Job(encode_row, lambda bits: bits.encode(), lists),
        Job(decode_row, Bitstring.decode, encoded),
    ]


#: The groups in the order they appear; ``--only`` picks among these names.
FIGURES: dict[str, Callable[[Fixture, Settings], list[Job]]] = {
    "floor": floor_figures,
    "baseline": baseline_figures,
    "ours": ours_figures,
    "canonize": canonize_figures,
    "jwt": jwt_figures,
    "baking": baking_figures,
    "status": status_figures,
}


def run_figures(names: Sequence[str], settings: Settings, fixture: Fixture | None = None) -> list[Row]:
    """Build the named groups' inputs with one shared fixture, then measure them all together."""
    fixture = fixture or Fixture(settings)
    jobs: list[Job] = []
    for name in names:
        jobs.extend(FIGURES[name](fixture, settings))
    measure_jobs(jobs, settings)
    return [job.row for job in jobs]
