"""Differential test of the canonicalisation fast path against the reference path (pyld + our RDFC-1.0).

2,400 generated credentials from a seeded generator: one badge class to many recipients (the fast
path's home ground) and arbitrary shapes (optional members present or absent, many alignments and
evidence items, members in varied order), with awkward unicode and control characters in every
string. For each: the canonical N-Quads, their SHA-256 and the eddsa-rdfc-2022 proofValue must be
the same bytes by both paths, or both paths must refuse the document with the same error. Then every
JSON-LD credential in ``../shared/spec``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from insignia.credentials.encoding import multibase_encode
from insignia.credentials.errors import CredentialError
from insignia.credentials.jsonld import canonize as canonize_module
from insignia.credentials.jsonld import fastpath
from insignia.credentials.jsonld.canonize import canonical_digest, canonize, reference_canonize
from insignia.credentials.jsonld.loader import ContextLoader
from insignia.credentials.keys import Ed25519Signer
from insignia.credentials.proofs.data_integrity import create_proof, proof_configuration
from tests.conftest import spec_json, spec_path

CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
SIGNER = Ed25519Signer.from_seed(hashlib.sha256(b"fast path differential").digest())
METHOD = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
CREATED = "2026-01-15T09:30:00Z"

TRICKY = [
    '"', "\\", "\\u0000", "\\n", "'", "\x00", "\x01", "\x07", "\b", "\t", "\n", "\x0b", "\f", "\r", "\x0e",
    "\x1b", "\x1f", "\x7f", "\x80", "\x85", "\xa0", "\u0301", "e\u0301", "\u200b", "\u2028", "\u2029", "\ufeff",
    "\ufffd", "\U0001f600", "\U0001f3f3\ufe0f\u200d\U0001f308", "\U000e0001", "\U0010fffd", "日本語", "ß", "İ",
    "@en", "_:b0", "<urn:x>", ' .\n_:x <urn:p> "', "c14n0", "{}", "{0}", "{c[0]}", "%s", "https://example.org/x",
]


class Generator:
    """Seeded random credentials; ``awkward`` strings mix plain text, tricky pieces and random code points."""

    def __init__(self, seed: int, odd: float = 0.07) -> None:
        self.random = random.Random(seed)
        self.odd = odd  # how often an id is one the fast path must hand over

    def chance(self, p: float = 0.5) -> bool:
        return self.random.random() < p

    def text(self) -> str:
        r = self.random
        parts = []
        for _ in range(r.randint(0, 6)):
            roll = r.random()
            if roll < 0.45:
                parts.append(r.choice(["Data", "stewardship", "Ünïcödé", "plain words", "a", "Z", " "]))
            elif roll < 0.8:
                parts.append(r.choice(TRICKY))
            else:
                code = r.choice([r.randint(0, 0x7F), r.randint(0x80, 0xFFFF), r.randint(0x10000, 0x10FFFF)])
                if not 0xD800 <= code <= 0xDFFF:
                    parts.append(chr(code))
        return "".join(parts)

    def short(self) -> str:
        return self.random.choice(["same", "Same", "", "x", "\x00", "é", "e\u0301"])

    def iri(self) -> str:
        r = self.random
        segment = "".join(r.choice("abcXYZ019-._~é日") for _ in range(r.randint(1, 8)))
        return r.choice(
            [
                f"https://example.org/{segment}",
                f"urn:uuid:{r.getrandbits(128):032x}",
                f"did:example:{segment}",
                f"did:key:z6Mk{r.getrandbits(64):x}#key-{r.randint(1, 3)}",
                "https://example.org/same",
                "urn:x:1",
            ]
        )

    def odd_iri(self) -> str:
        """Mostly good; now and then one the fast path must hand over (relative, blank node, whitespace)."""
        if self.odd == 0 or self.chance(1 - self.odd):
            return self.iri()
        return self.random.choice(["relative/path", "_:b7", "https://example.org/a b", "urn:x:\u3000", ""])

    def date(self) -> str:
        return self.random.choice(["2010-01-01T00:00:00Z", "2024-02-29T23:59:59.999+05:30", "not a date \x00", ""])

    def maybe(self, data: dict, key: str, make, p: float = 0.5) -> None:
        if self.chance(p):
            data[key] = make()

    def shuffled(self, data: dict) -> dict:
        if self.chance(0.3):
            items = list(data.items())
            self.random.shuffle(items)
            return dict(items)
        return data

    def alignment(self) -> dict:
        item: dict = {"type": ["Alignment"], "targetName": self.text(), "targetUrl": self.iri()}
        for key in ("targetDescription", "targetCode", "targetFramework"):
            self.maybe(item, key, self.text)
        self.maybe(item, "targetType", lambda: self.random.choice(["ceasn:Competency", "CFItem", "ext:Custom"]))
        return self.shuffled(item)

    def evidence(self) -> dict:
        item: dict = {"type": ["Evidence"]}
        self.maybe(item, "id", self.odd_iri, 0.7)
        for key in ("name", "description", "narrative", "genre", "audience"):
            self.maybe(item, key, self.text)
        return self.shuffled(item)

    def profile(self) -> dict:
        item: dict = {"id": self.odd_iri(), "type": ["Profile"]}
        self.maybe(item, "name", self.text)
        self.maybe(item, "url", self.iri)
        self.maybe(item, "email", self.text)
        if self.chance(0.3):
            item["image"] = {"id": self.iri(), "type": "Image", "caption": self.text()}
        return self.shuffled(item)

    def result(self) -> dict:
        item: dict = {"type": ["Result"]}
        self.maybe(item, "value", self.text)
        self.maybe(item, "resultDescription", self.iri)
        self.maybe(item, "status", lambda: self.random.choice(["Completed", "Enrolled", "Failed"]))
        return item

    def achievement(self) -> dict:
        r = self.random
        achievement: dict = {"id": self.iri(), "type": ["Achievement"], "name": self.text(),
                             "criteria": {"narrative": self.text()}}
        self.maybe(achievement, "description", self.text)
        self.maybe(achievement, "tag", lambda: [r.choice([self.short(), self.text()]) for _ in range(r.randint(0, 4))])
        self.maybe(achievement, "achievementType", lambda: r.choice(["Badge", "Certificate", "ext:Other"]))
        self.maybe(achievement, "humanCode", self.text)
        self.maybe(achievement, "inLanguage", lambda: r.choice(["en", "fr-CA", "x"]))
        if self.chance(0.3):
            achievement["creator"] = self.profile()
        if self.chance(0.2):
            achievement["criteria"]["id"] = self.iri()
        alignments = [self.alignment() for _ in range(r.choice([0, 1, 2, 3, 5, 8, 12]))]
        if alignments and self.chance(0.15):
            alignments += [copy.deepcopy(alignments[0])] * r.randint(1, 2)  # look-alike blank nodes
        if alignments:
            achievement["alignment"] = alignments
        return self.shuffled(achievement)

    def identifier(self) -> dict:
        return {"type": "IdentityObject", "hashed": self.chance(0.8), "identityHash": self.text(),
                "identityType": "emailAddress", "salt": self.short() if self.chance(0.3) else self.text()}

    def arbitrary(self) -> dict:
        """A credential of its own shape."""
        r = self.random
        subject: dict = {"type": ["AchievementSubject"], "achievement": self.achievement()}
        self.maybe(subject, "id", self.odd_iri, 0.4)
        self.maybe(subject, "activityStartDate", self.date, 0.2)
        self.maybe(subject, "role", self.text, 0.2)
        if self.chance(0.6):
            subject["identifier"] = [self.identifier()]
        results = [self.result() for _ in range(r.choice([0, 0, 1, 3]))]
        if results:
            subject["result"] = results
        document: dict = {
            "@context": list(CONTEXT),
            "type": ["VerifiableCredential", r.choice(["OpenBadgeCredential", "AchievementCredential"])],
            "issuer": self.profile(),
            "validFrom": self.date(),
            "credentialSubject": self.shuffled(subject),
        }
        self.maybe(document, "id", self.odd_iri, 0.8)
        self.maybe(document, "name", self.text)
        self.maybe(document, "description", self.text, 0.3)
        self.maybe(document, "validUntil", self.date, 0.2)
        if self.chance(0.5):
            document["credentialStatus"] = {"id": self.iri(), "type": "BitstringStatusListEntry",
                                            "statusPurpose": "revocation", "statusListIndex": str(r.randint(0, 9999)),
                                            "statusListCredential": self.iri()}
        items = [self.evidence() for _ in range(r.choice([0, 1, 2, 4, 7]))]
        if items and self.chance(0.2):
            items.append(copy.deepcopy(items[-1]))
        if items:
            document["evidence"] = items
        if self.chance(0.3):
            self.repeat_ids(document)
        return self.shuffled(document)

    def creator_like_issuer(self, issuer: dict) -> dict:
        """The issuer again as a creator, as the platform issues it: same ``@id``, members the same or not."""
        r = self.random
        creator = copy.deepcopy(issuer)
        roll = r.random()
        if roll < 0.4:
            return creator  # exactly the same node object
        if roll < 0.7:
            creator["name"] = r.choice([self.text(), issuer.get("name", "x")])
            self.maybe(creator, "url", self.iri)
            if self.chance(0.3):
                creator["type"] = ["Profile", "https://schema.org/Organization"]
            return self.shuffled(creator)
        return {"id": issuer["id"], "type": ["Profile"]} if self.chance() else {"id": issuer["id"]}

    def repeat_ids(self, document: dict) -> dict:
        """One ``@id`` on several node objects or references (JSON-LD merges them), and repeated values."""
        r = self.random
        issuer = document["issuer"]
        subject = document["credentialSubject"]
        achievement = subject["achievement"]
        if self.chance(0.7):
            achievement["creator"] = self.creator_like_issuer(issuer)
        if self.chance(0.2):
            subject["id"] = r.choice([issuer["id"], achievement["id"]])  # a node referenced in two places
        evidence = document.get("evidence", [])
        if evidence and self.chance(0.3):
            item = r.choice(evidence)
            item["id"] = r.choice([issuer["id"], achievement["id"], document.get("id", issuer["id"])])
        if evidence and self.chance(0.3):
            evidence.append(copy.deepcopy(r.choice(evidence)))  # an entry repeated exactly
        alignments = achievement.get("alignment", [])
        if alignments and self.chance(0.3):
            alignments.append(copy.deepcopy(r.choice(alignments)))
        if self.chance(0.2):
            achievement["tag"] = [r.choice(["same", "Same", "same"]) for _ in range(r.randint(2, 4))]
        if self.chance(0.15):
            achievement["criteria"]["id"] = achievement["id"]
        return document

    def recipient(self, badge_class: dict, n: int) -> dict:
        """``badge_class`` issued to recipient ``n``: new ids, identity, dates, evidence text."""
        document = copy.deepcopy(badge_class)
        document["id"] = f"urn:uuid:{self.random.getrandbits(128):032x}" if self.chance(0.97) else self.odd_iri()
        document["validFrom"] = self.date()
        identifier = document["credentialSubject"]["identifier"][0]
        identifier["identityHash"] = "sha256$" + hashlib.sha256(f"{n}".encode()).hexdigest()
        identifier["salt"] = self.text() if self.chance(0.5) else f"salt-{n}"
        document["credentialStatus"]["id"] = f"https://status.example.org/1#{n}"
        document["credentialStatus"]["statusListIndex"] = str(n)
        for item in document.get("evidence", []):
            if "id" in item:
                item["id"] = f"https://example.org/evidence/{n}/{self.random.getrandbits(32)}"
            item["name"] = self.text()
        if self.chance(0.05):
            document["name"] = "broken \ud800 surrogate"  # both paths must refuse it
        return document

    def badge_class(self) -> dict:
        document = self.arbitrary()
        document["id"] = "urn:uuid:0"
        document["credentialSubject"]["identifier"] = [self.identifier()]
        document["credentialStatus"] = {"id": "https://status.example.org/1#0", "type": "BitstringStatusListEntry",
                                        "statusPurpose": "revocation", "statusListIndex": "0",
                                        "statusListCredential": "https://status.example.org/1"}
        document["issuer"]["id"] = self.iri()
        if self.chance(0.5):
            self.repeat_ids(document)
        return document


def corpus() -> Iterator[dict]:
    generator = Generator(20260115)
    for _ in range(8):  # eight badge classes, 150 recipients each
        badge_class = generator.badge_class()
        for n in range(150):
            yield generator.recipient(badge_class, n)
    for _ in range(1200):
        yield generator.arbitrary()


def repeated_ids_corpus() -> Iterator[dict]:
    """Credentials shaped like the platform's (the issuer again as the achievement's creator) and other
    repeated ids and values, in streams of one shape each, so the templates serve most of them."""
    generator = Generator(20261124, odd=0)
    for _ in range(12):
        badge_class = generator.badge_class()
        generator.repeat_ids(badge_class)
        issuer = badge_class["issuer"]
        if generator.chance(0.3):
            issuer["id"] = generator.iri()  # a good IRI: the stream must be served, not handed over
        badge_class["credentialSubject"]["achievement"]["creator"] = generator.creator_like_issuer(issuer)
        for n in range(25):
            document = generator.recipient(badge_class, n)
            document.pop("name", None)  # no lone surrogates here: every document is canonicalised
            yield document


def reference_proof_value(document: dict, nquads: str, loader: ContextLoader, config_hashes: dict[str, bytes]) -> str:
    """The proofValue the reference path alone gives (``nquads``: its canonical form of ``document``)."""
    options = {"type": "DataIntegrityProof", "created": CREATED, "verificationMethod": METHOD,
               "cryptosuite": "eddsa-rdfc-2022", "proofPurpose": "assertionMethod"}
    config = proof_configuration(document, options)
    key = json.dumps(config, sort_keys=True)
    if key not in config_hashes:
        config_hashes[key] = hashlib.sha256(reference_canonize(config, loader=loader).encode("utf-8")).digest()
    document_hash = hashlib.sha256(nquads.encode("utf-8")).digest()
    return multibase_encode(SIGNER.sign(config_hashes[key] + document_hash), "z")


def outcome(function) -> tuple[str, object]:
    try:
        return "ok", function()
    except CredentialError as exc:
        return "error", (type(exc).__name__, exc.code, str(exc))


def test_generated_corpus_same_bytes_fast_and_reference() -> None:
    loader = ContextLoader(use_environment=False)
    cache = canonize_module._state(loader).shapes
    config_hashes: dict[str, bytes] = {}
    counted = served = refused = 0
    for document in corpus():
        counted += 1
        before = copy.deepcopy(document)
        reference = outcome(lambda d=document: reference_canonize(d, loader=loader))
        ours = outcome(lambda d=document: canonize(d, loader=loader))  # a new shape: seen, then compiled below
        assert ours == reference, json.dumps(document, ensure_ascii=True)[:400]
        template = outcome(lambda d=document: fastpath.canonical(d, canonize_module._state(loader), loader_limits()))
        assert document == before
        if template[0] == "ok" and template[1] is not None:
            served += 1
            text, data = template[1]  # type: ignore[misc]
            assert reference[0] == "ok"
            assert text == reference[1]
            assert data == text.encode("utf-8")
        if reference[0] == "error":
            refused += 1
            continue
        nquads = str(reference[1])
        assert canonical_digest(document, loader=loader) == hashlib.sha256(nquads.encode("utf-8")).digest()
        proof = create_proof(document, SIGNER, verification_method=METHOD, created=CREATED, loader=loader)
        assert proof["proofValue"] == reference_proof_value(document, nquads, loader, config_hashes)
    assert counted >= 2_000
    # the fast path really served the corpus, and the generator really made documents it must hand over
    assert served >= counted * 0.6, (served, counted)
    assert refused >= 20
    assert cache.fallbacks > 0
    print(f"{counted} credentials: {served} served by a template, {refused} refused by both paths, "
          f"{len(cache)} cache entries, {cache.fallbacks} handed to the reference path")


def test_repeated_ids_same_bytes_fast_and_reference() -> None:
    """Merged nodes and repeated quads: the templates serve them (no fallback), byte for byte the reference."""
    loader = ContextLoader(use_environment=False)
    state = canonize_module._state(loader)
    cache = state.shapes
    config_hashes: dict[str, bytes] = {}
    counted = served = merged = 0
    for document in repeated_ids_corpus():
        counted += 1
        issuer_id = document["issuer"]["id"]
        creator = document["credentialSubject"]["achievement"].get("creator", {})
        merged += creator.get("id") == issuer_id
        reference = outcome(lambda d=document: reference_canonize(d, loader=loader))
        assert reference[0] == "ok", reference
        nquads = str(reference[1])
        fallbacks = cache.fallbacks
        template = fastpath.canonical(document, state, loader_limits(), eager=True)
        if template is not None:
            served += 1
            assert template[0] == nquads, json.dumps(document, ensure_ascii=True)[:400]
            assert template[1] == nquads.encode("utf-8")
        else:
            assert cache.fallbacks == fallbacks + 1
        assert canonize(document, loader=loader) == nquads
        assert canonical_digest(document, loader=loader) == hashlib.sha256(nquads.encode("utf-8")).digest()
        proof = create_proof(document, SIGNER, verification_method=METHOD, created=CREATED, loader=loader)
        assert proof["proofValue"] == reference_proof_value(document, nquads, loader, config_hashes)
    assert counted == 300
    assert merged >= 250  # the platform's shape dominates
    assert served == counted, (served, counted)  # no merged node, repeated entry or value is handed over


def loader_limits():
    from insignia.credentials.jsonld.limits import DEFAULT_LIMITS

    return DEFAULT_LIMITS


# --- every JSON-LD credential in the shared spec folder -------------------------------------------


def spec_loader() -> ContextLoader:
    official = spec_json("contexts", "manifest.json")["contexts"]
    return ContextLoader(extra={url: spec_json("contexts", name) for url, name in official.items()},
                         use_environment=False)


def spec_documents() -> list[Path]:
    root = spec_path()
    found = []
    for path in sorted(root.rglob("*.json")):
        if "contexts" in path.parts or "schemas" in path.parts or "rdf-canon" in path.parts:
            continue
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(document, dict) and "@context" in document:
            found.append(path)
    return found


SPEC_DOCUMENTS = spec_documents()


def test_spec_corpus_is_found() -> None:
    names = {path.name for path in SPEC_DOCUMENTS}
    assert {"credential.unsigned.json", "credential.signed.json", "fullOpenBadge.json", "signedDataInt.json"} <= names
    assert len(SPEC_DOCUMENTS) >= 25


@pytest.mark.parametrize("path", SPEC_DOCUMENTS, ids=lambda path: str(path.relative_to(spec_path())))
def test_spec_credentials_same_bytes_fast_and_reference(path: Path) -> None:
    loader = spec_loader()
    document = json.loads(path.read_text(encoding="utf-8"))
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    for candidate in (document, unsecured):
        reference = outcome(lambda c=candidate: reference_canonize(c, loader=loader))
        for _ in range(3):  # seen, compiled, rendered from the cache
            assert outcome(lambda c=candidate: canonize(c, loader=loader)) == reference
    proofs = document.get("proof")
    for proof in proofs if isinstance(proofs, list) else [proofs] if isinstance(proofs, dict) else []:
        config = proof_configuration(unsecured, {k: v for k, v in proof.items() if k not in ("proofValue", "@context")})
        reference = outcome(lambda c=config: reference_canonize(c, loader=loader))
        for _ in range(3):
            assert outcome(lambda c=config: canonize(c, loader=loader)) == reference
