"""The canonicalisation fast path: what it serves, every reason it hands a document to the reference path,
and its bounded cache. Each test compares against ``reference_canonize`` (pyld + our RDFC-1.0)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from insignia.credentials.errors import CredentialError, MalformedInputError, ResourceLimitError, UndefinedTermError
from insignia.credentials.jsonld import canonize as reference_module
from insignia.credentials.jsonld import fastpath
from insignia.credentials.jsonld.canonize import canonical_digest, canonize, reference_canonize
from insignia.credentials.jsonld.limits import DEFAULT_LIMITS, Limits
from insignia.credentials.jsonld.loader import ContextLoader
from insignia.credentials.keys import Ed25519Signer
from insignia.credentials.proofs.data_integrity import create_proof, proof_configuration, verify_document

CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


def credential(n: int = 0, **changes: object) -> dict:
    """A small OB 3.0 credential of one badge class; ``changes`` replace top-level members."""
    document: dict = {
        "@context": list(CONTEXT),
        "id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://issuer.example.org/profile", "type": ["Profile"], "name": "Example Issuer"},
        "validFrom": "2026-01-15T09:30:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "hashed": True,
                    "identityHash": f"sha256${n:064x}",
                    "identityType": "emailAddress",
                    "salt": f"salt-{n}",
                }
            ],
            "achievement": {
                "id": "https://issuer.example.org/achievements/1",
                "type": ["Achievement"],
                "name": "Example Achievement",
                "criteria": {"narrative": "Do the thing."},
                "tag": ["one", "two"],
                "alignment": [
                    {"type": ["Alignment"], "targetName": "A", "targetUrl": "https://frameworks.example.org/a"},
                    {"type": ["Alignment"], "targetName": "B", "targetUrl": "https://frameworks.example.org/b"},
                ],
            },
        },
        "evidence": [{"id": f"https://issuer.example.org/evidence/{n}", "type": ["Evidence"], "name": "Work"}],
    }
    document.update(changes)
    return document


@pytest.fixture
def loader() -> ContextLoader:
    """A fresh loader: its own, empty cache of shapes."""
    return ContextLoader(use_environment=False)


def shapes(loader: ContextLoader) -> fastpath.ShapeCache:
    return reference_module._state(loader).shapes


def fast(document: dict, loader: ContextLoader, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """The fast path's answer, or None when it hands the document to the reference path."""
    result = fastpath.canonical(document, reference_module._state(loader), limits, eager=True)
    return None if result is None else result[0]


def outcome(function: Callable[[], str]) -> tuple[str, str]:
    """("ok", text) or ("error", type and code): what canonicalisation did."""
    try:
        return "ok", function()
    except CredentialError as exc:
        return "error", f"{type(exc).__name__}:{exc.code}:{exc}"


def same_as_reference(document: dict, loader: ContextLoader, limits: Limits | None = None) -> tuple[str, str]:
    """canonize (with its fast path) gives what the reference path gives, value or error; returns it."""
    ours = outcome(lambda: canonize(copy.deepcopy(document), loader=loader, limits=limits))
    theirs = outcome(lambda: reference_canonize(copy.deepcopy(document), loader=loader, limits=limits))
    assert ours == theirs
    return ours


def set_at(document: dict, path: tuple, value: object) -> dict:
    out = copy.deepcopy(document)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return out


# --- what the fast path serves ---------------------------------------------------------------------


def test_one_badge_class_is_served_by_one_template(loader: ContextLoader) -> None:
    cache = shapes(loader)
    for n in range(6):
        document = credential(n)
        assert fast(document, loader) == reference_canonize(document, loader=loader)
    assert len(cache) == 1
    assert cache.fallbacks == 0
    assert isinstance(next(iter(cache._data.values()))[0], fastpath.Template)


def test_a_shape_is_compiled_on_its_second_sight(loader: ContextLoader) -> None:
    cache = shapes(loader)
    state = reference_module._state(loader)
    assert fastpath.canonical(credential(1), state, DEFAULT_LIMITS) is None  # first sight: the reference path
    assert cache.first_sights == 1
    assert isinstance(cache.get(fastpath.shape_of(credential(1))[0]), fastpath._Seen)
    second = fastpath.canonical(credential(2), state, DEFAULT_LIMITS)
    assert second is not None
    assert second[0] == reference_canonize(credential(2), loader=loader)
    assert isinstance(cache.get(fastpath.shape_of(credential(1))[0]), fastpath.Template)
    assert cache.fallbacks == 0


def test_a_document_built_to_fail_is_compiled_at_most_once(loader: ContextLoader, monkeypatch) -> None:
    compiles = []
    original = fastpath.compile_shape
    monkeypatch.setattr(fastpath, "compile_shape", lambda *a, **k: compiles.append(1) or original(*a, **k))
    document = credential(1, undefinedThing="x")
    for _ in range(4):
        with pytest.raises(UndefinedTermError):
            canonize(document, loader=loader)
    assert len(compiles) == 1


def test_digest_and_canonize_agree(loader: ContextLoader) -> None:
    import hashlib

    document = credential(3)
    text = reference_canonize(document, loader=loader)
    assert canonize(document, loader=loader) == text
    assert canonical_digest(document, loader=loader) == hashlib.sha256(text.encode("utf-8")).digest()


def test_document_is_not_modified(loader: ContextLoader) -> None:
    document = credential(1, name='a "quoted"\nname')
    before = copy.deepcopy(document)
    canonize(document, loader=loader)
    canonize(document, loader=loader)
    assert document == before


def test_awkward_literals_are_escaped_like_the_reference(loader: ContextLoader) -> None:
    awkward = ['"', "\\", "\x00\x01\x07\b\t\n\x0b\f\r\x0e\x1b\x1f\x7f", "\x85\u2028\u2029\ufeff", "日本語 ß İ 😀",
               " .\n_:x <urn:p> \"", "_:b0", "<urn:x>", "c14n0", "@en", "", "e\u0301"]
    for index, text in enumerate(awkward):
        document = credential(index, name=text)
        document["credentialSubject"]["achievement"]["criteria"]["narrative"] = text
        assert fast(document, loader) == reference_canonize(document, loader=loader)


def test_literals_that_look_like_iris_or_blank_nodes_stay_literals(loader: ContextLoader) -> None:
    for text in ["https://example.org/x", "_:b0", "urn:uuid:1", "relative/path", "@id"]:
        document = credential(7, name=text)
        assert fast(document, loader) == reference_canonize(document, loader=loader)


def test_numbers_and_booleans_are_part_of_the_shape(loader: ContextLoader) -> None:
    true = credential(1)
    false = set_at(true, ("credentialSubject", "identifier", 0, "hashed"), False)
    assert fastpath.shape_of(true)[0] != fastpath.shape_of(false)[0]
    one = set_at(true, ("credentialSubject", "identifier", 0, "hashed"), 1)
    assert fastpath.shape_of(one)[0] != fastpath.shape_of(true)[0]  # True == 1 in Python, not in JSON-LD
    for document in (true, false):
        assert fast(document, loader) == reference_canonize(document, loader=loader)


def test_type_and_context_values_are_part_of_the_shape() -> None:
    base = credential(1)
    other = credential(1, type=["VerifiableCredential", "AchievementCredential"])
    assert fastpath.shape_of(base)[0] != fastpath.shape_of(other)[0]
    assert fastpath.shape_of(base)[1] == fastpath.shape_of(other)[1]


def test_language_maps_and_lists_are_templated(loader: ContextLoader) -> None:
    extra = {
        "ex": "https://example.org/ns#",
        "label": {"@id": "ex:label", "@container": "@language"},
        "steps": {"@id": "ex:steps", "@container": "@list"},
        "size": {"@id": "ex:size", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
    }
    for n in range(3):
        document = credential(n)
        document["@context"] = [*CONTEXT, extra]
        document["credentialSubject"]["achievement"]["label"] = {"en": f"Label {n}", "fr-CA": f"Étiquette {n}"}
        document["credentialSubject"]["achievement"]["steps"] = [f"first {n}", f"second {n}", "third"]
        document["credentialSubject"]["achievement"]["size"] = str(n)
        assert fast(document, loader) == reference_canonize(document, loader=loader)
    assert shapes(loader).fallbacks == 0


def test_blank_nodes_alike_at_first_degree_run_the_full_rdfc(loader: ContextLoader) -> None:
    document = credential(2)
    item = {"type": ["Evidence"], "name": "Same"}
    document["evidence"] = [copy.deepcopy(item), copy.deepcopy(item), {"type": ["Evidence"], "name": "Other"}]
    expected = reference_canonize(document, loader=loader)
    assert fast(document, loader) == expected
    # same shape, now the first two differ: no tie, the first-degree labelling alone
    document["evidence"][1]["name"] = "Different"
    assert fast(document, loader) == reference_canonize(document, loader=loader)


def test_proof_configuration_vocab_slot_compiles_per_purpose(loader: ContextLoader) -> None:
    document = credential(0)
    cache = shapes(loader)
    for purpose in ("assertionMethod", "authentication", "assertionMethod"):
        config = proof_configuration(
            document,
            {
                "type": "DataIntegrityProof",
                "created": "2026-01-15T09:30:00Z",
                "verificationMethod": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6Mk",
                "cryptosuite": "eddsa-rdfc-2022",
                "proofPurpose": purpose,
            },
        )
        assert fast(config, loader) == reference_canonize(config, loader=loader)
    entries = [entry for entry, _size in cache._data.values()]
    assert sum(isinstance(entry, fastpath.Shape) for entry in entries) == 1
    assert sum(isinstance(entry, fastpath.Template) for entry in entries) == 2


# --- fallback triggers: each one hands the document to the reference path --------------------------


def test_fallback_relative_id(loader: ContextLoader) -> None:
    canonize(credential(0), loader=loader)
    document = credential(1, id="credentials/1")
    assert fast(document, loader) is None
    kind, detail = same_as_reference(document, loader)
    assert kind == "error"
    assert "UndefinedTermError" in detail


def test_fallback_blank_node_id(loader: ContextLoader) -> None:
    canonize(credential(0), loader=loader)
    document = credential(1, id="_:b0")
    assert fast(document, loader) is None
    assert same_as_reference(document, loader)[0] == "ok"


@pytest.mark.parametrize("bad", ["https://example.org/a b", "https://example.org/\u00a0", "urn:x:<y>", "urn:x:\"y\"",
                                 "https://example.org/{x}", "1urn:x", "", ":x", "@keywordlike", "urn:x:\n"])
def test_fallback_ids_that_are_not_plain_absolute_iris(loader: ContextLoader, bad: str) -> None:
    canonize(credential(0), loader=loader)
    document = credential(1)
    document["evidence"][0]["id"] = bad
    assert fast(document, loader) is None
    same_as_reference(document, loader)


def test_fallback_compact_iri_of_a_defined_prefix(loader: ContextLoader) -> None:
    def with_prefix(n: int, evidence_id: str) -> dict:
        document = credential(n)
        document["@context"] = [*CONTEXT, {"ex": "https://example.org/ns#"}]
        document["evidence"][0]["id"] = evidence_id
        return document

    assert fast(with_prefix(0, "https://example.org/e/0"), loader) is not None
    document = with_prefix(1, "ex:thing")
    assert fast(document, loader) is None
    kind, text = same_as_reference(document, loader)
    assert kind == "ok"
    assert "<https://example.org/ns#thing>" in text
    # a scheme:// IRI is never a compact IRI, even when its scheme is a term
    slashes = with_prefix(2, "ex://host/x")
    assert fast(slashes, loader) == reference_canonize(slashes, loader=loader)


def served(document: dict, loader: ContextLoader, limits: Limits = DEFAULT_LIMITS) -> str:
    """The fast path serves ``document`` (no fallback counted) with the reference path's bytes."""
    cache = shapes(loader)
    fallbacks = cache.fallbacks
    text = fast(document, loader, limits)
    assert text is not None
    assert cache.fallbacks == fallbacks
    assert text == reference_canonize(copy.deepcopy(document), loader=loader, limits=limits)
    return text


def platform_credential(n: int, **creator_changes: object) -> dict:
    """How the platform issues: the issuer profile again as the achievement's creator (one ``@id``, two nodes)."""
    document = credential(n)
    document["issuer"]["url"] = "https://issuer.example.org/"
    document["credentialSubject"]["achievement"]["description"] = "What it takes."
    document["credentialSubject"]["achievement"]["creator"] = {**copy.deepcopy(document["issuer"]), **creator_changes}
    return document


def test_platform_credential_issuer_repeated_as_creator_is_served(loader: ContextLoader) -> None:
    cache = shapes(loader)
    for n in range(2):  # seen, then compiled
        assert canonize(platform_credential(n), loader=loader) == reference_canonize(platform_credential(n),
                                                                                     loader=loader)
    fallbacks, hits = cache.fallbacks, cache.hits
    for n in range(2, 8):
        document = platform_credential(n)
        assert canonize(document, loader=loader) == reference_canonize(document, loader=loader)
        assert canonical_digest(document, loader=loader) == canonical_digest(document, loader=loader, safe=False)
    assert cache.fallbacks == fallbacks  # every one rendered by the template, none handed over
    assert cache.hits >= hits + 12
    # the merged node's quads appear once: issuer and creator give the same lines
    text = served(platform_credential(9), loader)
    assert text.count("<https://issuer.example.org/profile> <https://schema.org/name>") == 1
    assert len(set(text.splitlines())) == len(text.splitlines())


def test_platform_credential_signing_is_served_by_the_fast_path(loader: ContextLoader, monkeypatch) -> None:
    from insignia.credentials.issue import sign_credential

    signer = Ed25519Signer.from_seed(SEED)
    method = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"

    def sign(n: int) -> str:
        signed = sign_credential(platform_credential(n), signer, verification_method=method,
                                 created="2026-01-15T09:30:00Z", loader=loader)
        return str(signed["proof"]["proofValue"])

    warm = [sign(n) for n in range(2)]
    cache = shapes(loader)
    fallbacks = cache.fallbacks
    values = [sign(n) for n in range(2, 6)]
    assert cache.fallbacks == fallbacks
    monkeypatch.setattr(fastpath, "ENABLED", False)
    assert [sign(n) for n in range(6)] == warm + values  # the reference path signs the same bytes


def test_sign_credential_reuses_its_checks_digest_for_the_same_proof(loader: ContextLoader) -> None:
    """The safe-mode check's digest is what the proof signs: same proof as signing without the check."""
    from insignia.credentials.issue import check_credential, sign_credential

    signer = Ed25519Signer.from_seed(SEED)
    method = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    for n in range(4):
        document = platform_credential(n)
        assert check_credential(document, loader=loader) == canonical_digest(document, loader=loader, safe=False)
        checked = sign_credential(document, signer, verification_method=method, created="2026-01-15T09:30:00Z",
                                  loader=loader)
        unchecked = sign_credential(document, signer, verification_method=method, created="2026-01-15T09:30:00Z",
                                    loader=loader, check=False)
        assert checked == unchecked
        # an existing proof is left out of the digest: the second proof signs the same document bytes
        twice = sign_credential(checked, signer, verification_method=method, created="2026-01-15T09:30:00Z",
                                loader=loader)
        assert twice["proof"][1] == checked["proof"]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"name": "Another name"},  # one @id, different literals: both names on the merged node
        {"type": ["Profile", "https://schema.org/Organization"]},  # @type values union
        {"url": "https://issuer.example.org/other"},
        {"name": "Example Issuer", "email": "info@issuer.example.org"},
    ],
    ids=["same", "other-name", "more-types", "other-url", "extra-member"],
)
def test_issuer_repeated_as_creator_with_other_members(loader: ContextLoader, changes: dict) -> None:
    for n in range(2):
        canonize(platform_credential(n, **changes), loader=loader)
    served(platform_credential(2, **changes), loader)
    served(platform_credential(3, **changes), loader)


def test_two_nodes_with_one_id_are_merged_like_the_reference(loader: ContextLoader) -> None:
    canonize(credential(0), loader=loader)
    document = credential(1)
    document["evidence"][0]["id"] = document["issuer"]["id"]  # JSON-LD merges the two nodes
    served(document, loader)
    document = credential(2)
    document["evidence"][0]["id"] = document["credentialSubject"]["achievement"]["id"]
    served(document, loader)


def test_values_that_make_two_quads_equal_are_deduplicated(loader: ContextLoader) -> None:
    canonize(credential(0), loader=loader)
    document = credential(1)
    document["credentialSubject"]["achievement"]["tag"] = ["same", "same"]  # a dataset is a set
    assert served(document, loader).count('"same"') == 1


def test_repeated_quads_of_a_blank_node_are_hashed_once(loader: ContextLoader) -> None:
    """A blank node (the subject) with one quad twice: its first-degree hash must count it once."""

    def doubled(n: int, second: str) -> dict:
        document = credential(n)
        subject = document["credentialSubject"]
        subject["achievement"] = [subject["achievement"], {**copy.deepcopy(subject["achievement"]), "id": second}]
        subject["identifier"].append({**copy.deepcopy(subject["identifier"][0]), "salt": f"other-{n}"})
        return document

    for n in range(2):
        canonize(doubled(n, f"https://issuer.example.org/achievements/{n + 7}"), loader=loader)
    served(doubled(2, "https://issuer.example.org/achievements/1"), loader)  # the same achievement twice
    document = doubled(3, "https://issuer.example.org/achievements/1")
    document["credentialSubject"]["identifier"][1]["salt"] = "salt-3"  # two look-alike blank nodes too
    served(document, loader)


def test_fallback_index_on_merged_nodes(loader: ContextLoader) -> None:
    """pyld refuses ``@index`` on node objects it merges (even equal ones): the reference path says so."""

    def indexed(n: int, creator_index: str) -> dict:
        document = platform_credential(n)
        document["issuer"]["@index"] = "a"
        document["credentialSubject"]["achievement"]["creator"]["@index"] = creator_index
        return document

    def apart(n: int) -> dict:
        document = indexed(n, "b")
        document["credentialSubject"]["achievement"]["creator"]["id"] = "https://issuer.example.org/creator"
        return document

    canonize(apart(0), loader=loader)
    served(apart(1), loader)  # no merge: the template serves it
    for index in ("b", "a"):
        document = indexed(2, index)
        assert fast(document, loader) is None
        result = same_as_reference(document, loader)
        assert result[0] == "error"
        assert "jsonld_invalid" in result[1]


def test_fallback_merged_nodes_past_the_work_limit(loader: ContextLoader) -> None:
    """Merged nodes count their values together in the node-map work check: near the limit, the reference judges."""
    served(platform_credential(0), loader)  # compiled at once (eager)
    template = shapes(loader).get(fastpath.shape_of(platform_credential(0))[0])
    assert isinstance(template, fastpath.Template)
    tight = Limits(max_value_comparisons=template.stats.work)  # fits unmerged, not the merged bound
    assert template.merge_work > tight.max_value_comparisons
    apart = platform_credential(1)
    apart["credentialSubject"]["achievement"]["creator"]["id"] = "https://issuer.example.org/creator"
    served(apart, loader, tight)
    assert fast(platform_credential(2), loader, tight) is None
    same_as_reference(platform_credential(2), loader, tight)


def test_fallback_lone_surrogate(loader: ContextLoader) -> None:
    canonize(credential(0), loader=loader)
    document = credential(1, name="broken \ud800")
    document["credentialSubject"]["type"] = ["AchievementSubject"]
    with_name = credential(2, name="fine")
    canonize(with_name, loader=loader)  # compile the shape that has a name
    assert fast(document, loader) is None
    kind, detail = same_as_reference(document, loader)
    assert kind == "error"
    assert "MalformedInputError" in detail


def test_fallback_limits(loader: ContextLoader) -> None:
    document = credential(1)
    canonize(document, loader=loader)
    for limits in (Limits(max_quads=10), Limits(max_blank_nodes=2), Limits(max_depth=3), Limits(max_values=20),
                   Limits(max_string_chars=100)):
        assert fast(document, loader, limits) is None
        kind, detail = same_as_reference(document, loader, limits)
        assert kind == "error"
        assert "ResourceLimitError" in detail


def test_fallback_not_plain_json(loader: ContextLoader) -> None:
    for odd in (float("nan"), (1, 2), {1, 2}, b"bytes"):
        document = credential(1, name=odd)
        assert fast(document, loader) is None
        with pytest.raises(MalformedInputError):
            canonize(document, loader=loader)
    deep: dict = {"name": "x"}
    for _ in range(80):
        deep = {"credentialSubject": deep}
    deep["@context"] = list(CONTEXT)
    assert fast(deep, loader) is None
    with pytest.raises(ResourceLimitError):
        canonize(deep, loader=loader)


def test_refused_json_literal_shape(loader: ContextLoader) -> None:
    document = credential(1)
    document["@context"] = [*CONTEXT, {"payload": {"@id": "https://example.org/ns#payload", "@type": "@json"}}]
    document["payload"] = {"a": "b", "n": ["c"]}
    assert fast(document, loader) is None
    entry = shapes(loader).get(fastpath.shape_of(document)[0])
    assert isinstance(entry, fastpath._Refused)
    same_as_reference(document, loader)
    assert fast(document, loader) is None  # the refusal is remembered: no second compile


def test_refused_value_that_does_not_reach_the_rdf(loader: ContextLoader) -> None:
    document = credential(1)
    document["@context"] = [*CONTEXT, {"lang": "@language"}]  # a string that becomes a language tag
    document["credentialSubject"]["achievement"]["description"] = {"@value": "Hello", "lang": "en"}
    assert fast(document, loader) is None
    assert isinstance(shapes(loader).get(fastpath.shape_of(document)[0]), fastpath._Refused)
    same_as_reference(document, loader)


def test_refused_sentinel_collision(loader: ContextLoader) -> None:
    document = credential(1, name="contains zqfeedfacecafebeef1s0e here")
    _key, values = fastpath.shape_of(document)
    entry = fastpath.compile_shape(document, values, reference_module._state(loader), DEFAULT_LIMITS,
                                   nonce="feedfacecafebeef1")
    assert isinstance(entry, fastpath._Refused)
    assert "nonce" in entry.reason
    entry = fastpath.compile_shape(document, values, reference_module._state(loader), DEFAULT_LIMITS)
    assert isinstance(entry, fastpath.Template)  # a fresh random nonce compiles it


def test_refused_undefined_term_raises_like_the_reference(loader: ContextLoader) -> None:
    document = credential(1, undefinedThing="x")
    assert fast(document, loader) is None
    kind, detail = same_as_reference(document, loader)
    assert kind == "error"
    assert "UndefinedTermError" in detail
    with pytest.raises(UndefinedTermError):
        canonize(document, loader=loader)


def test_unsafe_mode_and_non_objects_skip_the_fast_path(loader: ContextLoader) -> None:
    document = credential(1)
    assert canonize(document, loader=loader, safe=False) == reference_canonize(document, loader=loader, safe=False)
    assert len(shapes(loader)) == 0
    with pytest.raises(MalformedInputError):
        canonize([document], loader=loader)  # type: ignore[arg-type]


def test_substitute_inverts_shape_of() -> None:
    document = credential(4, name="x")
    key, values = fastpath.shape_of(document)
    assert fastpath.substitute(document, values) == document
    other = fastpath.substitute(document, [f"v{i}" for i in range(len(values))])
    assert fastpath.shape_of(other) == (key, [f"v{i}" for i in range(len(values))])


# --- the cache ---------------------------------------------------------------------------------------


def test_cache_is_an_lru_bounded_by_entries(loader: ContextLoader) -> None:
    cache = shapes(loader)
    cache.max_entries = 3
    documents = []
    for extra in range(5):
        document = credential(1)
        document["evidence"] = [copy.deepcopy(document["evidence"][0]) for _ in range(extra + 1)]
        for index, item in enumerate(document["evidence"]):
            item["id"] = f"https://issuer.example.org/evidence/{index}"
        documents.append(document)
        assert fast(document, loader) == reference_canonize(document, loader=loader)
        if extra == 2:
            assert cache.get(fastpath.shape_of(documents[0])[0]) is not None  # use the oldest: now the newest
    assert len(cache) == 3
    keys = [fastpath.shape_of(document)[0] for document in documents]
    assert cache.get(keys[0]) is not None  # kept: it was used recently
    assert cache.get(keys[1]) is None
    assert cache.get(keys[2]) is None
    assert cache.get(keys[3]) is not None
    assert cache.get(keys[4]) is not None


def test_cache_is_bounded_by_bytes(loader: ContextLoader) -> None:
    cache = shapes(loader)
    canonize(credential(1), loader=loader)
    one = cache.bytes
    assert one > 0
    cache.clear()
    cache.max_bytes = int(one * 2.5)
    for extra in range(4):
        document = credential(1, name="n" * (extra + 1))
        document["description"] = "d"
        document["credentialSubject"]["achievement"]["tag"] = ["t"] * (extra + 1) if extra % 2 else ["x", "y"]
        canonize(document, loader=loader)
        assert cache.bytes <= cache.max_bytes
    assert 1 <= len(cache) <= 2
    cache.max_bytes = 100  # smaller than any template: nothing is stored, the fast path still answers
    cache.clear()
    assert fast(credential(5), loader) == reference_canonize(credential(5), loader=loader)
    assert len(cache) == 0
    assert cache.bytes == 0


def test_each_loader_has_its_own_templates() -> None:
    first, second = ContextLoader(use_environment=False), ContextLoader(use_environment=False)
    canonize(credential(1), loader=first)
    assert len(shapes(first)) == 1
    assert len(shapes(second)) == 0


# --- proofs: sign and verify through the fast path -------------------------------------------------


SEED = bytes(range(32))


def test_sign_and_verify_use_the_fast_path_and_tampering_fails(loader: ContextLoader, monkeypatch) -> None:
    from insignia.credentials.dids.key import did_key_from_public_key
    from insignia.credentials.dids.resolver import VerificationMethod

    signer = Ed25519Signer.from_seed(SEED)
    controller = did_key_from_public_key(signer.public_key())
    method_id = f"{controller}#{controller.removeprefix('did:key:')}"
    method = VerificationMethod(id=method_id, type="Multikey", controller=controller,
                                public_key=signer.public_key(), purposes=frozenset({"assertionMethod"}))
    created = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)

    def sign(document: dict) -> dict:
        return {**document, "proof": create_proof(document, signer, verification_method=method_id, created=created,
                                                  loader=loader)}

    def verify(document: dict) -> list[tuple[bool, str]]:
        outcomes = verify_document(document, resolve_method=lambda _id: method, loader=loader)
        return [(outcome.verified, outcome.code) for outcome in outcomes]

    signed = [sign(credential(n)) for n in range(4)]
    cache = shapes(loader)
    hits = cache.hits
    fast_results = [verify(document) for document in signed]
    assert cache.hits > hits
    assert cache.fallbacks == 0
    assert fast_results == [[(True, "proof_valid")]] * 4
    tampered = copy.deepcopy(signed[1])
    tampered["credentialSubject"]["identifier"][0]["salt"] = "salt-2"
    moved = copy.deepcopy(signed[2])
    moved["evidence"][0]["id"] = "https://issuer.example.org/evidence/3"
    escaped = copy.deepcopy(signed[3])
    escaped["credentialSubject"]["achievement"]["name"] = "Example Achievement\n"
    fast_bad = [verify(document) for document in (tampered, moved, escaped)]
    assert fast_bad == [[(False, "signature_invalid")]] * 3

    monkeypatch.setattr(fastpath, "ENABLED", False)
    assert [verify(document) for document in signed] == fast_results
    assert [verify(document) for document in (tampered, moved, escaped)] == fast_bad
    assert [sign(credential(n))["proof"]["proofValue"] for n in range(4)] == [
        document["proof"]["proofValue"] for document in signed
    ]


def test_many_values_of_one_property_use_the_whole_set_check(loader: ContextLoader) -> None:
    def tagged(n: int, tags: list[str]) -> dict:
        document = credential(n)
        document["credentialSubject"]["achievement"]["tag"] = tags
        return document

    tags = [f"tag {index}" for index in range(60)]
    assert fast(tagged(0, tags), loader) == reference_canonize(tagged(0, tags), loader=loader)
    template = shapes(loader).get(fastpath.shape_of(tagged(0, tags))[0])
    assert isinstance(template, fastpath.Template)
    assert template.dup_pairs is None  # 1,770 candidate pairs: one set() instead
    repeated = [*tags[:59], "tag 3"]
    assert served(tagged(1, repeated), loader).count('"tag 3"') == 1


def test_threads_rendering_a_new_template_agree(loader: ContextLoader) -> None:
    import threading

    documents = [credential(n, name=f"name {n}") for n in range(40)]
    expected = [reference_canonize(document, loader=loader) for document in documents]
    results: dict[int, str] = {}

    def work(offset: int) -> None:
        for index in range(offset, len(documents), 4):
            results[index] = canonize(documents[index], loader=loader)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[index] for index in range(len(documents))] == expected


def test_huge_documents_are_not_templated(loader: ContextLoader) -> None:
    document = credential(1)
    document["credentialSubject"]["achievement"]["tag"] = ["x"] * 20_000
    assert fast(document, loader) is None
    assert len(shapes(loader)) == 0  # not walked to the end, not compiled: the reference path judges it


def test_deeply_nested_structural_value_goes_to_the_reference(loader: ContextLoader) -> None:
    deep: list = ["Profile"]
    for _ in range(3_000):
        deep = [deep]
    document = credential(1)
    document["issuer"]["type"] = [deep, "Profile"]
    assert fast(document, loader) is None
    with pytest.raises(ResourceLimitError):
        canonize(document, loader=loader)
