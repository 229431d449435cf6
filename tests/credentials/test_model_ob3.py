"""OB 3.0 builders and shape checks: what we emit, what we accept, and every MUST we refuse."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insignia.credentials.errors import ValidationError
from insignia.credentials.model.identity import make_identity_object
from insignia.credentials.model.ob3 import (
    ACHIEVEMENT_CREDENTIAL_SCHEMA,
    Achievement,
    AchievementSubject,
    Address,
    Alignment,
    CredentialSchema,
    Criteria,
    EndorsementCredential,
    EndorsementSubject,
    Evidence,
    GeoCoordinates,
    IdentifierEntry,
    Image,
    OpenBadgeCredential,
    Profile,
    RefreshService,
    Related,
    Result,
    ResultDescription,
    RubricCriterionLevel,
    TermsOfUse,
    inspect_ob3_credential,
    profile_document,
    validate_endorsement_credential,
    validate_ob3_credential,
    validate_profile,
)
from insignia.credentials.model.vc import OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT, VC_V1_CONTEXT, VC_V2_CONTEXT
from tests.conftest import spec_json, spec_path

ISSUED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
EXAMPLES = sorted(p.name for p in spec_path("examples", "ob_v3p0").glob("*.json"))
DUMMY_PROOF = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-rdfc-2022",
    "created": "2024-05-01T12:00:00Z",
    "verificationMethod": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
                          "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "proofPurpose": "assertionMethod",
    "proofValue": "z3MvGcVxzRzXBBmJMx8J4DPEfn8d5o1nMPBvFGj4X8D9S9N4D6Y1jW7tVh5a3JvS6bx2xKPjXmAnoTqn5Y4XhZ9mG",
}


def issuer(**extra: Any) -> Profile:
    return Profile(id="https://badges.example.edu/issuers/1", name="Example University", **extra)


def endorsement_credential(**extra: Any) -> EndorsementCredential:
    fields: dict[str, Any] = {
        "id": "urn:uuid:6b5bd8c2-1d8a-4e0a-9b8f-0f6f3c3f2d10",
        "name": "Accreditation",
        "issuer": Profile(id="https://accreditor.example.org", name="Accreditor"),
        "valid_from": ISSUED,
        "credential_subject": EndorsementSubject(id="https://badges.example.edu/issuers/1",
                                                 endorsement_comment="In good standing."),
    }
    fields.update(extra)
    return EndorsementCredential(**fields)


def signed_endorsement() -> dict[str, Any]:
    """An EndorsementCredential dict as another party would embed it (with a proof)."""
    document = endorsement_credential(credential_schema=[CredentialSchema.for_endorsement()]).to_json()
    document["proof"] = [dict(DUMMY_PROOF, verificationMethod="https://accreditor.example.org#key-1")]
    return document


def minimal_credential() -> OpenBadgeCredential:
    return OpenBadgeCredential(
        id="urn:uuid:2f1f3c3e-6c55-4b0e-9a53-08e6f0b7b4a1",
        name="Teamwork",
        issuer=issuer(),
        valid_from=ISSUED,
        credential_subject=AchievementSubject(
            id="did:example:ebfeb1f712ebc6f1c276e12ec21",
            achievement=Achievement(
                id="https://badges.example.edu/achievements/teamwork",
                name="Teamwork",
                description="Works well in a team.",
                criteria=Criteria(narrative="Nominated by peers."),
            ),
        ),
    )


def rich_credential() -> OpenBadgeCredential:
    """Every optional field we support, several of each list."""
    alignments = [
        Alignment(target_name=f"Skill {n}", target_url=f"https://case.example.org/uri/{n}", target_code=f"S{n}",
                  target_description="A skill.", target_framework="Example framework", target_type=kind)
        for n, kind in enumerate(["CFItem", "CTDL", "ceasn:Competency", "ext:LocalSkill"])
    ]
    level = RubricCriterionLevel(id="urn:uuid:9b1d1f2e-1111-4b0e-9a53-08e6f0b7b4a1", name="Exemplary",
                                 description="Above and beyond.", level="4", points="10", alignment=alignments[:1])
    grade = ResultDescription(id="urn:uuid:a70ddc6a-4c4a-4bd8-8277-cb97c79f40c5", name="Final grade",
                              result_type="LetterGrade", allowed_value=["D", "C", "B", "A"], required_value="C",
                              alignment=alignments[1:2])
    rubric = ResultDescription(id="urn:uuid:b2c1e2d3-2222-4b0e-9a53-08e6f0b7b4a1", name="Project rubric",
                               result_type="RubricCriterionLevel", rubric_criterion_level=[level],
                               required_level=level.id, value_min="0", value_max="10")
    creator = Profile(
        id="https://badges.example.edu/departments/cs", name="Computer Science", url="https://cs.example.edu",
        email="cs@example.edu", phone="+1 222 333 4444", description="The department.",
        image=Image(id="https://cs.example.edu/logo.png", caption="Logo"),
        address=Address(address_country="Netherlands", address_country_code="NL", address_locality="Utrecht",
                        street_address="Princetonplein 5", postal_code="3584 CC",
                        geo=GeoCoordinates(latitude=52.08, longitude=5.17)),
        other_identifier=[IdentifierEntry(identifier="12345", identifier_type="sourcedId")],
        parent_org=Profile(id="did:web:example.edu", name="Example University"),
        official="Dean of Faculty",
        endorsement=[signed_endorsement()],
    )
    achievement = Achievement(
        id="https://badges.example.edu/achievements/research",
        name="Research Methods",
        description="Designs and reports a research project.",
        criteria=Criteria(id="https://badges.example.edu/achievements/research/criteria",
                          narrative="# Requirements\nComplete the project."),
        image=Image(id="data:image/png;base64,iVBORw0KGgo=", caption="Badge image"),
        achievement_type="Certificate",
        alignment=alignments,
        creator=creator,
        credits_available=5.0,
        field_of_study="Computer Science",
        human_code="CS-RM",
        in_language="en",
        specialization="Empirical methods",
        version="2.1",
        tag=["research", "methods"],
        result_description=[grade, rubric],
        related=[Related(id="https://badges.example.edu/achievements/research-nl", in_language="nl",
                         version="2.1")],
        other_identifier=[IdentifierEntry(identifier="RM-01", identifier_type="ext:CourseCode")],
        endorsement=[signed_endorsement()],
        endorsement_jwt=["eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"],
    )
    subject = AchievementSubject(
        id="did:example:learner",
        identifier=[
            make_identity_object("email", "Learner@Example.com", salt="s" * 32),
            make_identity_object("url", "https://learner.example.net/", salt="t" * 32),
            make_identity_object("phone", "+31 6 1234 5678", hashed=False),
            make_identity_object("sisSourcedId", "S-1234", hashed=False),
        ],
        achievement=achievement,
        result=[
            Result(result_description=grade.id, value="A", alignment=alignments[:1]),
            Result(result_description=rubric.id, achieved_level=level.id, status="Completed"),
        ],
        narrative="Completed with distinction.",
        activity_start_date=ISSUED - timedelta(days=90),
        activity_end_date=ISSUED - timedelta(days=1),
        credits_earned=5.0,
        license_number="L-42",
        role="Lead researcher",
        term="Spring 2024",
        source=Profile(id="https://badges.example.edu/faculties/science", name="Faculty of Science"),
        image=Image(id="https://badges.example.edu/learners/1/photo.png"),
    )
    return OpenBadgeCredential(
        id="https://badges.example.edu/credentials/5f0c",
        name="Research Methods — Example Learner",
        description="Awarded for the 2024 research project.",
        image=Image(id="https://badges.example.edu/credentials/5f0c/image.png", caption="Badge"),
        issuer=issuer(url="https://example.edu", email="badges@example.edu", description="A university.",
                      image=Image(id="https://example.edu/logo.svg"), phone="+1 555 0100",
                      endorsement=[signed_endorsement()]),
        valid_from=ISSUED,
        valid_until=ISSUED + timedelta(days=365 * 5),
        awarded_date=ISSUED - timedelta(hours=2),
        credential_subject=subject,
        evidence=[
            Evidence(id="https://badges.example.edu/evidence/1", name="Report", description="Final report.",
                     narrative="The report.", genre="Research", audience="Department"),
            Evidence(narrative="Presented at the symposium."),
            Evidence(id="https://github.com/learner/project", name="Code"),
        ],
        credential_status={
            "id": "https://badges.example.edu/status/1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://badges.example.edu/status/1",
        },
        credential_schema=[CredentialSchema()],
        refresh_service=RefreshService(id="https://badges.example.edu/credentials/5f0c/refresh"),
        terms_of_use=[TermsOfUse(type="ext:Policy", id="https://badges.example.edu/terms")],
        endorsement=[signed_endorsement()],
        endorsement_jwt=["eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"],
        also_achievement_credential=True,
    )


def find_nulls_or_empties(node: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if value is None or value == [] or value == {}:
                found.append(f"{path}.{key}")
            found += find_nulls_or_empties(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += find_nulls_or_empties(value, f"{path}[{index}]")
    return found


def errors_of(document: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        validate_ob3_credential(document, **kwargs)
    return info.value.errors


# -- builders ---------------------------------------------------------------------------------


def test_minimal_credential_shape() -> None:
    document = minimal_credential().to_json()
    assert document["@context"] == [VC_V2_CONTEXT, OB3_CONTEXT]
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["validFrom"] == "2024-05-01T12:00:00Z"
    assert document["issuer"] == {"id": "https://badges.example.edu/issuers/1", "type": ["Profile"],
                                  "name": "Example University"}
    achievement = document["credentialSubject"]["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["criteria"] == {"narrative": "Nominated by peers."}
    assert find_nulls_or_empties(document) == []
    report = validate_ob3_credential(document, strict=True)
    assert report.data_model == "VC 2.0"
    assert report.warnings == []


def test_rich_credential_shape() -> None:
    document = rich_credential().to_json()
    assert document["@context"] == [VC_V2_CONTEXT, OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT]
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential", "AchievementCredential"]
    assert document["credentialSchema"] == [{"id": ACHIEVEMENT_CREDENTIAL_SCHEMA,
                                             "type": "1EdTechJsonSchemaValidator2019"}]
    assert document["refreshService"]["type"] == "1EdTechCredentialRefresh"
    assert document["termsOfUse"] == [{"id": "https://badges.example.edu/terms", "type": "ext:Policy"}]
    assert document["image"] == {"id": "https://badges.example.edu/credentials/5f0c/image.png", "type": "Image",
                                 "caption": "Badge"}
    subject = document["credentialSubject"]
    assert subject["activityStartDate"] == "2024-02-01T12:00:00Z"
    assert [i["identityType"] for i in subject["identifier"]] == ["emailAddress", "identifier", "ext:telephone",
                                                                  "sisSourcedId"]
    assert subject["identifier"][2] == {"type": "IdentityObject", "identityHash": "+31612345678",
                                        "identityType": "ext:telephone", "hashed": False}
    achievement = subject["achievement"]
    assert len(achievement["alignment"]) == 4
    assert achievement["creator"]["address"]["geo"] == {"type": "GeoCoordinates", "latitude": 52.08,
                                                        "longitude": 5.17}
    assert achievement["resultDescription"][1]["rubricCriterionLevel"][0]["type"] == ["RubricCriterionLevel"]
    assert achievement["otherIdentifier"] == [{"type": "IdentifierEntry", "identifier": "RM-01",
                                               "identifierType": "ext:CourseCode"}]
    assert document["evidence"][1] == {"type": ["Evidence"], "narrative": "Presented at the symposium."}
    assert document["credentialStatus"]["statusListIndex"] == "94567"
    assert find_nulls_or_empties(document) == []
    report = validate_ob3_credential(document, strict=True)
    assert report.warnings == []
    json.dumps(document)  # plain JSON all the way down


def test_embedded_endorsements_are_copied_verbatim() -> None:
    endorsement = signed_endorsement()
    document = rich_credential().to_json()
    assert document["endorsement"] == [endorsement]
    assert document["endorsement"][0]["@context"] == [VC_V2_CONTEXT, OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT]


def test_extensions_context_only_when_an_extension_type_is_used() -> None:
    plain = minimal_credential()
    assert OB3_EXTENSIONS_CONTEXT not in plain.to_json()["@context"]
    for extra in (
        {"credential_schema": [CredentialSchema()]},
        {"refresh_service": RefreshService(id="https://example.edu/refresh")},
        {"credential_status": {"id": "https://example.edu/revocations", "type": "1EdTechRevocationList"}},
    ):
        document = OpenBadgeCredential(**{**_fields(plain), **extra}).to_json()
        assert document["@context"] == [VC_V2_CONTEXT, OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT], extra
    bitstring = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "1",
                 "statusListCredential": "https://example.edu/status/1"}
    document = OpenBadgeCredential(**{**_fields(plain), "credential_status": bitstring}).to_json()
    assert document["@context"] == [VC_V2_CONTEXT, OB3_CONTEXT]


def _fields(node: Any) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(node, f.name) for f in dataclasses.fields(node)}


def test_datetimes_are_utc_z_and_naive_ones_are_refused() -> None:
    plus_two = timezone(timedelta(hours=2))
    credential = OpenBadgeCredential(**{**_fields(minimal_credential()),
                                        "valid_from": datetime(2024, 5, 1, 14, 0, 0, 123456, tzinfo=plus_two)})
    assert credential.to_json()["validFrom"] == "2024-05-01T12:00:00Z"
    with pytest.raises(ValidationError, match="time zone") as info:
        OpenBadgeCredential(**{**_fields(minimal_credential()), "valid_from": datetime(2024, 5, 1)})
    assert info.value.code == "datetime_naive"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Image(id="not a uri"), "Image.id"),
        (lambda: Criteria(), "Criteria"),
        (lambda: Alignment(target_name="x", target_url="https://x", target_type="Nope"), "targetType"),
        (lambda: Achievement(id="https://a", name="A", description="d", criteria=Criteria(narrative="n"),
                             achievement_type="Trophy"), "achievementType"),
        (lambda: AchievementSubject(achievement=minimal_credential().credential_subject.achievement),
         "identifier"),
        (lambda: Result(status="Passed"), "Result.status"),
        (lambda: Profile(id="https://x", email="nobody"), "email"),
        (lambda: ResultDescription(id="urn:x:1", name="n", result_type="Grade"), "resultType"),
        (lambda: OpenBadgeCredential(**{**_fields(minimal_credential()),
                                        "valid_until": ISSUED - timedelta(days=1)}), "validUntil"),
        (lambda: OpenBadgeCredential(**{**_fields(minimal_credential()),
                                        "credential_status": {"id": "https://x"}}), "credentialStatus"),
        (lambda: OpenBadgeCredential(**{**_fields(minimal_credential()),
                                        "endorsement": [{"id": "https://not-an-endorsement"}]}), "endorsement"),
        (lambda: EndorsementCredential(**{**_fields(endorsement_credential()), "name": None}), "name"),
    ],
)
def test_builders_refuse_what_cannot_conform(build: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        build()


def test_builders_freeze_lists() -> None:
    tags = ["a"]
    achievement = Achievement(id="https://a", name="A", description="d", criteria=Criteria(narrative="n"), tag=tags)
    tags.append("b")
    assert achievement.tag == ("a",)


def test_endorsement_credential_and_profile_document() -> None:
    document = endorsement_credential(credential_schema=[CredentialSchema.for_endorsement()]).to_json()
    assert document["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert document["@context"][-1] == OB3_EXTENSIONS_CONTEXT
    assert validate_endorsement_credential(document, strict=True).ok
    profile = profile_document(issuer(url="https://example.edu", email="badges@example.edu",
                                      date_of_birth=None, image=Image(id="https://example.edu/logo.png")))
    assert profile["@context"] == [VC_V2_CONTEXT, OB3_CONTEXT]
    assert profile["type"] == ["Profile"]
    assert validate_profile(profile, strict=True).ok
    person = Profile(id="did:example:p", given_name="Ada", family_name="Lovelace", date_of_birth=date(1815, 12, 10))
    assert person.to_json()["dateOfBirth"] == "1815-12-10"
    assert validate_profile(person.to_json()).ok


# -- validators: the official examples, other issuers' forms ----------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_official_example_passes_our_validator(name: str) -> None:
    document = spec_json("examples", "ob_v3p0", name)
    if "EndorsementCredential" in document["type"]:
        report = validate_endorsement_credential(document)
    else:
        report = validate_ob3_credential(document)
    assert report.data_model == "VC 2.0"


def test_full_example_warns_about_endorsements_without_extensions_context() -> None:
    # The spec's own complete example embeds endorsements that use 1EdTechRevocationList etc. without
    # listing extensions.json: accepted (it is someone else's signed document) with a warning.
    report = validate_ob3_credential(spec_json("examples", "ob_v3p0", "fullOpenBadge.json"))
    assert report.warnings
    assert all("extensions.json" in w for w in report.warnings)
    assert any(w.startswith("endorsement[0].@context") for w in report.warnings)


def test_compacted_single_values_are_accepted_on_input_only() -> None:
    document = minimal_credential().to_json()
    document["type"] = "OpenBadgeCredential"  # fails: VerifiableCredential missing
    assert any("type" in e and "VerifiableCredential" in e for e in errors_of(document))
    document = minimal_credential().to_json()
    document["proof"] = DUMMY_PROOF
    document["termsOfUse"] = {"type": "ext:Policy"}
    document["credentialSchema"] = {"id": ACHIEVEMENT_CREDENTIAL_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}
    document["@context"].append(OB3_EXTENSIONS_CONTEXT)
    document["credentialSubject"]["type"] = "AchievementSubject"
    assert validate_ob3_credential(document).ok
    strict_errors = errors_of(document, strict=True)
    for key in ("proof", "termsOfUse", "credentialSchema", "credentialSubject.type"):
        assert any(e.startswith(key + ":") for e in strict_errors), key


def test_non_compactable_single_values_are_refused() -> None:
    document = rich_credential().to_json()
    document["evidence"] = document["evidence"][0]
    document["credentialSubject"]["achievement"]["alignment"] = document["credentialSubject"]["achievement"][
        "alignment"][0]
    errors = errors_of(document)
    assert any(e.startswith("evidence: must be an array") for e in errors)
    assert any(e.startswith("credentialSubject.achievement.alignment: must be an array") for e in errors)


def test_vc_1_1_credentials_are_read_and_reported() -> None:
    document = minimal_credential().to_json()
    document["@context"][0] = VC_V1_CONTEXT
    document["issuanceDate"] = document.pop("validFrom")
    document["expirationDate"] = "2030-01-01T00:00:00Z"
    report = validate_ob3_credential(document)
    assert report.data_model == "VC 1.1"
    assert any("VC 1.1" in e for e in errors_of(document, allow_vc1=False))
    assert errors_of(document, strict=True)
    document["expirationDate"] = "2020-01-01T00:00:00Z"
    assert any(e.startswith("expirationDate: must be after") for e in errors_of(document))


def test_vc_1_1_names_in_a_vc_2_0_credential() -> None:
    document = minimal_credential().to_json()
    document["issuanceDate"] = document.pop("validFrom")
    errors = errors_of(document)
    assert any(e.startswith("validFrom: is required") and "issuanceDate" in e for e in errors)


def test_issuer_as_uri_is_accepted_with_a_warning() -> None:
    document = minimal_credential().to_json()
    document["issuer"] = "https://badges.example.edu/issuers/1"
    report = validate_ob3_credential(document)
    assert any(w.startswith("issuer:") for w in report.warnings)
    assert errors_of(document, strict=True)


def test_all_problems_are_reported_at_once() -> None:
    document = minimal_credential().to_json()
    del document["id"]
    del document["validFrom"]
    del document["credentialSubject"]["achievement"]["criteria"]
    errors = errors_of(document)
    assert len(errors) == 3
    report = inspect_ob3_credential(document)
    assert report.errors == errors
    assert not report.ok


# -- one test per MUST ---------------------------------------------------------------------------


def _break(mutate: Any) -> dict[str, Any]:
    document = rich_credential().to_json()
    mutate(document)
    return document


def _subject(d: dict[str, Any]) -> dict[str, Any]:
    return d["credentialSubject"]


def _achievement(d: dict[str, Any]) -> dict[str, Any]:
    return d["credentialSubject"]["achievement"]


MUST_CASES: list[tuple[str, Any, str]] = [
    ("context missing", lambda d: d.pop("@context"), "@context: is required"),
    ("context order", lambda d: d.__setitem__("@context", [OB3_CONTEXT, VC_V2_CONTEXT, OB3_EXTENSIONS_CONTEXT]),
     "@context[0]: must be"),
    ("OB context not second", lambda d: d.__setitem__("@context", [VC_V2_CONTEXT, OB3_EXTENSIONS_CONTEXT,
                                                                    OB3_CONTEXT]), "@context[1]: must be the Open"),
    ("OB context missing", lambda d: d.__setitem__("@context", [VC_V2_CONTEXT]), "@context[1]: must be"),
    ("id missing", lambda d: d.pop("id"), "id: is required"),
    ("id not a URI", lambda d: d.__setitem__("id", "credential 42"), "id: must be an absolute URI"),
    ("type missing VerifiableCredential", lambda d: d.__setitem__("type", ["OpenBadgeCredential"]),
     "type: must include 'VerifiableCredential'"),
    ("type missing OpenBadgeCredential", lambda d: d.__setitem__("type", ["VerifiableCredential"]),
     "type: must include 'OpenBadgeCredential' or 'AchievementCredential'"),
    ("issuer missing", lambda d: d.pop("issuer"), "issuer: is required"),
    ("issuer without id", lambda d: d["issuer"].pop("id"), "issuer.id: is required"),
    ("issuer type", lambda d: d["issuer"].__setitem__("type", ["Organization"]), "issuer.type: must include"),
    ("issuer url", lambda d: d["issuer"].__setitem__("url", "example.edu"), "issuer.url: must be an absolute URI"),
    ("validFrom missing", lambda d: d.pop("validFrom"), "validFrom: is required"),
    ("validFrom without zone", lambda d: d.__setitem__("validFrom", "2024-05-01T12:00:00"),
     "validFrom: must be a date-time with a time zone"),
    ("validFrom date only", lambda d: d.__setitem__("validFrom", "2024-05-01"), "validFrom: must be a date-time"),
    ("validUntil before validFrom", lambda d: d.__setitem__("validUntil", "2000-01-01T00:00:00Z"),
     "validUntil: must be after validFrom"),
    ("awardedDate without zone", lambda d: d.__setitem__("awardedDate", "2024-05-01T10:00"), "awardedDate: must be"),
    ("null value", lambda d: d.__setitem__("description", None), "description: is null"),
    ("null in array", lambda d: d["evidence"].append(None), "evidence[3]: is null"),
    ("image as string", lambda d: d.__setitem__("image", "https://x/img.png"), "image: must be an Image object"),
    ("image type", lambda d: d["image"].__setitem__("type", "Picture"), "image.type: must be the string 'Image'"),
    ("image without id", lambda d: d["image"].pop("id"), "image.id: is required"),
    ("subject missing", lambda d: d.pop("credentialSubject"), "credentialSubject: is required"),
    ("subject as array", lambda d: d.__setitem__("credentialSubject", [d["credentialSubject"]]),
     "credentialSubject: must be one AchievementSubject"),
    ("subject type", lambda d: _subject(d).__setitem__("type", ["Person"]),
     "credentialSubject.type: must include 'AchievementSubject'"),
    ("subject names nobody", lambda d: (_subject(d).pop("id"), _subject(d).pop("identifier")),
     "credentialSubject: names no recipient"),
    ("subject id not a URI", lambda d: _subject(d).__setitem__("id", "learner 1"), "credentialSubject.id: must be"),
    ("activity dates reversed", lambda d: _subject(d).__setitem__("activityEndDate", "2000-01-01T00:00:00Z"),
     "credentialSubject.activityEndDate: is before"),
    ("creditsEarned as string", lambda d: _subject(d).__setitem__("creditsEarned", "5"),
     "credentialSubject.creditsEarned: must be a JSON number"),
    ("identity type", lambda d: _subject(d)["identifier"][0].__setitem__("type", "Identity"),
     "credentialSubject.identifier[0].type: must be the string 'IdentityObject'"),
    ("identity hashed missing", lambda d: _subject(d)["identifier"][0].pop("hashed"),
     "credentialSubject.identifier[0].hashed: is required"),
    ("identity hash format", lambda d: _subject(d)["identifier"][0].__setitem__("identityHash", "sha256$xyz"),
     "credentialSubject.identifier[0].identityHash: is hashed but"),
    ("identityType unknown", lambda d: _subject(d)["identifier"][0].__setitem__("identityType", "email"),
     "credentialSubject.identifier[0].identityType: must be one of"),
    ("identity extra property", lambda d: _subject(d)["identifier"][0].__setitem__("note", "x"),
     "credentialSubject.identifier[0].note: is not an IdentityObject property"),
    ("achievement missing", lambda d: _subject(d).pop("achievement"), "credentialSubject.achievement: is required"),
    ("achievement as URI", lambda d: _subject(d).__setitem__("achievement", "https://x/a"),
     "credentialSubject.achievement: must be an object"),
    ("achievement id", lambda d: _achievement(d).pop("id"), "credentialSubject.achievement.id: is required"),
    ("achievement type", lambda d: _achievement(d).__setitem__("type", ["BadgeClass"]),
     "credentialSubject.achievement.type: must include 'Achievement'"),
    ("achievement name", lambda d: _achievement(d).pop("name"), "credentialSubject.achievement.name: is required"),
    ("achievement description", lambda d: _achievement(d).pop("description"),
     "credentialSubject.achievement.description: is required"),
    ("criteria missing", lambda d: _achievement(d).pop("criteria"),
     "credentialSubject.achievement.criteria: is required"),
    ("criteria as URL", lambda d: _achievement(d).__setitem__("criteria", "https://x/criteria"),
     "credentialSubject.achievement.criteria: must be an object"),
    ("achievementType", lambda d: _achievement(d).__setitem__("achievementType", "Trophy"),
     "credentialSubject.achievement.achievementType: must be one of"),
    ("alignment targetUrl", lambda d: _achievement(d)["alignment"][2].pop("targetUrl"),
     "credentialSubject.achievement.alignment[2].targetUrl: is required"),
    ("alignment targetName", lambda d: _achievement(d)["alignment"][0].pop("targetName"),
     "credentialSubject.achievement.alignment[0].targetName: is required"),
    ("alignment type", lambda d: _achievement(d)["alignment"][1].__setitem__("type", ["Align"]),
     "credentialSubject.achievement.alignment[1].type: must include 'Alignment'"),
    ("tag not a string", lambda d: _achievement(d)["tag"].append(3), "credentialSubject.achievement.tag[2]: must be"),
    ("resultDescription resultType", lambda d: _achievement(d)["resultDescription"][0].pop("resultType"),
     "credentialSubject.achievement.resultDescription[0].resultType: is required"),
    ("rubric level name", lambda d: _achievement(d)["resultDescription"][1]["rubricCriterionLevel"][0].pop("name"),
     "credentialSubject.achievement.resultDescription[1].rubricCriterionLevel[0].name: is required"),
    ("result status", lambda d: _subject(d)["result"][1].__setitem__("status", "Passed"),
     "credentialSubject.result[1].status: must be one of"),
    ("result type", lambda d: _subject(d)["result"][0].pop("type"), "credentialSubject.result[0].type: is required"),
    ("creator profile", lambda d: _achievement(d)["creator"].pop("id"),
     "credentialSubject.achievement.creator.id: is required"),
    ("otherIdentifier", lambda d: _achievement(d)["otherIdentifier"][0].pop("identifierType"),
     "credentialSubject.achievement.otherIdentifier[0].identifierType: is required"),
    ("evidence type", lambda d: d["evidence"][0].pop("type"), "evidence[0].type: is required"),
    ("evidence id", lambda d: d["evidence"][2].__setitem__("id", "not a url"), "evidence[2].id: must be"),
    ("status without type", lambda d: d["credentialStatus"].pop("type"), "credentialStatus.type: is required"),
    ("status index not a string", lambda d: d["credentialStatus"].__setitem__("statusListIndex", 94567),
     "credentialStatus.statusListIndex: must be a string"),
    ("status index not decimal", lambda d: d["credentialStatus"].__setitem__("statusListIndex", "0x10"),
     "credentialStatus.statusListIndex: must be a non-negative integer"),
    ("status id is the list", lambda d: d["credentialStatus"].__setitem__(
        "id", d["credentialStatus"]["statusListCredential"]), "credentialStatus.id: must not be the URL"),
    ("status list URL", lambda d: d["credentialStatus"].pop("statusListCredential"),
     "credentialStatus.statusListCredential: is required"),
    ("schema without id", lambda d: d["credentialSchema"][0].pop("id"), "credentialSchema[0].id: is required"),
    ("refresh without id", lambda d: d["refreshService"].pop("id"), "refreshService.id: is required"),
    ("endorsementJwt", lambda d: d["endorsementJwt"].append("not-a-jws"), "endorsementJwt[1]: must be a compact JWS"),
    ("embedded endorsement", lambda d: d["endorsement"][0].pop("name"), "endorsement[0].name: is required"),
    ("endorsement subject", lambda d: d["endorsement"][0]["credentialSubject"].pop("id"),
     "endorsement[0].credentialSubject.id: is required"),
    ("proof without type", lambda d: d.__setitem__("proof", [{"proofValue": "z1"}]), "proof[0].type: is required"),
    ("language map keys", lambda d: d.__setitem__("name", {"english": "x"}), "name: must be a string or a language"),
]


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _, m, e in MUST_CASES],
                         ids=[name for name, _, _ in MUST_CASES])
def test_each_must_violation_is_named(mutate: Any, expected: str) -> None:
    document = _break(mutate)
    errors = errors_of(document)
    assert any(e.startswith(expected) for e in errors), errors


def test_the_rich_credential_itself_is_clean_before_breaking() -> None:
    assert validate_ob3_credential(rich_credential().to_json()).ok


def test_strict_mode_rules() -> None:
    document = rich_credential().to_json()
    document["@context"].remove(OB3_EXTENSIONS_CONTEXT)
    assert validate_ob3_credential(document).warnings  # others' documents: a warning
    assert any("extensions.json" in e for e in errors_of(document, strict=True))
    document = rich_credential().to_json()
    document["evidence"] = []
    assert any(w.startswith("evidence: is an empty array") for w in validate_ob3_credential(document).warnings)
    assert any(e.startswith("evidence: is an empty array") for e in errors_of(document, strict=True))


def test_language_maps_are_accepted_on_input() -> None:
    document = minimal_credential().to_json()
    document["name"] = {"en": "Teamwork", "nl": "Samenwerken"}
    document["credentialSubject"]["achievement"]["description"] = {"en-GB": "Works well in a team."}
    assert validate_ob3_credential(document).ok


def test_endorsement_validator_negative_cases() -> None:
    document = spec_json("examples", "ob_v3p0", "endorsement.json")
    broken = copy.deepcopy(document)
    broken["type"] = ["VerifiableCredential", "OpenBadgeCredential"]
    del broken["name"]
    with pytest.raises(ValidationError) as info:
        validate_endorsement_credential(broken)
    assert any(e.startswith("type: must include 'EndorsementCredential'") for e in info.value.errors)
    assert any(e.startswith("name: is required") for e in info.value.errors)


def test_profile_validator_negative_cases() -> None:
    with pytest.raises(ValidationError) as info:
        validate_profile({"@context": [OB3_CONTEXT], "id": "nope", "type": "Organization", "email": "x",
                          "image": "https://x/logo.png", "dateOfBirth": "10-12-1815"})
    errors = info.value.errors
    for expected in ("@context[0]", "id: must be", "type: must include 'Profile'", "email:", "image: must be an "
                     "Image object", "dateOfBirth: must be a date"):
        assert any(e.startswith(expected) for e in errors), (expected, errors)


def test_error_message_says_what_to_do() -> None:
    document = minimal_credential().to_json()
    del document["credentialSubject"]["achievement"]["criteria"]
    with pytest.raises(ValidationError) as info:
        validate_ob3_credential(document)
    assert info.value.code == "ob3_shape_invalid"
    assert "narrative" in info.value.errors[0]
    assert "credentialSubject.achievement.criteria" in str(info.value)


# -- property: builders never emit null/empty and always pass our own validator ------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20).filter(
    lambda s: s.strip() != "")
_slug = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
_url = _slug.map(lambda s: f"https://example.org/{s}")
_aware = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1),
                      timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                                 timezone(timedelta(hours=-8))]))
_opt = st.one_of(st.none(), _text)


@st.composite
def credentials(draw: st.DrawFn) -> OpenBadgeCredential:
    alignments = draw(st.lists(st.builds(
        Alignment, target_name=_text, target_url=_url, target_code=_opt, target_description=_opt,
        target_framework=_opt, target_type=st.one_of(st.none(), st.sampled_from(["CFItem", "CTDL", "ext:X"])),
    ), max_size=3))
    achievement = Achievement(
        id=draw(_url), name=draw(_text), description=draw(_text),
        criteria=draw(st.one_of(st.builds(Criteria, id=_url, narrative=_opt), st.builds(Criteria, narrative=_text))),
        image=draw(st.one_of(st.none(), st.builds(Image, id=_url, caption=_opt))),
        achievement_type=draw(st.one_of(st.none(), st.sampled_from(["Badge", "Course", "ext:Thing"]))),
        alignment=alignments, tag=draw(st.lists(_text, max_size=3)),
        credits_available=draw(st.one_of(st.none(), st.floats(0, 100))),
        creator=draw(st.one_of(st.none(), st.builds(Profile, id=_url, name=_opt))),
    )
    identifiers = draw(st.lists(st.sampled_from(["email", "url", "phone"]), max_size=2))
    values = {"email": "Someone@Example.org", "url": "https://someone.example.org", "phone": "+44 20 7946 0000"}
    subject_id = draw(st.one_of(st.none(), _url)) if identifiers else draw(_url)
    start = draw(_aware)
    subject = AchievementSubject(
        id=subject_id,
        identifier=[make_identity_object(kind, values[kind], hashed=draw(st.booleans())) for kind in identifiers],
        achievement=achievement, narrative=draw(_opt),
        result=draw(st.lists(st.builds(Result, value=_opt, status=st.one_of(st.none(), st.just("Completed"))),
                             max_size=2)),
        activity_start_date=start, activity_end_date=start + draw(st.timedeltas(timedelta(0), timedelta(days=400))),
    )
    valid_from = draw(_aware)
    return OpenBadgeCredential(
        id=draw(st.one_of(_url, st.uuids().map(lambda u: f"urn:uuid:{u}"))),
        name=draw(_text), description=draw(_opt),
        issuer=Profile(id=draw(_url), name=draw(_text), url=draw(st.one_of(st.none(), _url)),
                       email=draw(st.one_of(st.none(), st.just("badges@example.org")))),
        valid_from=valid_from,
        valid_until=draw(st.one_of(st.none(), st.timedeltas(timedelta(seconds=1), timedelta(days=3000)).map(
            lambda delta: valid_from + delta))),
        credential_subject=subject,
        evidence=draw(st.lists(st.builds(Evidence, id=st.one_of(st.none(), _url), narrative=_opt, name=_opt),
                               max_size=3)),
        credential_schema=draw(st.lists(st.just(CredentialSchema()), max_size=1)),
        refresh_service=draw(st.one_of(st.none(), st.builds(RefreshService, id=_url))),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credentials())
def test_builder_output_is_always_clean_and_valid(credential: OpenBadgeCredential) -> None:
    document = credential.to_json(check=False)
    assert find_nulls_or_empties(document) == []
    report = validate_ob3_credential(document, strict=True)
    assert report.ok
    assert document["@context"][:2] == [VC_V2_CONTEXT, OB3_CONTEXT]
    assert (OB3_EXTENSIONS_CONTEXT in document["@context"]) == bool(
        "credentialSchema" in document or "refreshService" in document)
