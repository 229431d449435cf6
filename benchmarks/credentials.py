"""OB 3.0 credentials for benchmarks: one badge class to many recipients (about 2.2 KB compact JSON, 51 quads,
5 blank nodes), and a stream of credentials of arbitrary shape."""

from __future__ import annotations

import hashlib
import random
import uuid

ISSUER_DID = "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"


def realistic_credential(n: int = 0) -> dict:
    """One badge class, varied recipients: credential ``n`` of a batch."""
    email = f"learner{n}@example.org"
    salt = hashlib.sha256(f"salt-{n}".encode()).hexdigest()[:32]
    identity = "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest()
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": f"urn:uuid:{uuid.UUID(int=n + 1)}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Data Stewardship Foundations",
        "issuer": {
            "id": ISSUER_DID,
            "type": ["Profile"],
            "name": "Northwind Institute of Technology",
            "url": "https://northwind.example.edu",
            "email": "badges@northwind.example.edu",
        },
        "validFrom": "2026-01-15T09:30:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "hashed": True,
                    "identityHash": identity,
                    "identityType": "emailAddress",
                    "salt": salt,
                }
            ],
            "achievement": {
                "id": "https://northwind.example.edu/achievements/2f0d6a3c-data-stewardship",
                "type": ["Achievement"],
                "name": "Data Stewardship Foundations",
                "description": "Awarded for demonstrating sound practice in curating, documenting and protecting "
                "research data across its life cycle.",
                "achievementType": "Competency",
                "criteria": {
                    "narrative": "Completed the six-week course, passed the final assessment with at least 80%, "
                    "and published a data management plan reviewed by two peers."
                },
                "image": {
                    "id": "https://northwind.example.edu/achievements/2f0d6a3c/image.png",
                    "type": "Image",
                    "caption": "Data Stewardship Foundations badge",
                },
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetName": "Manage research data",
                        "targetUrl": "https://frameworks.example.org/rdm/manage",
                        "targetFramework": "Research Data Competencies",
                        "targetCode": "RDM-2.1",
                    },
                    {
                        "type": ["Alignment"],
                        "targetName": "Protect personal data",
                        "targetUrl": "https://frameworks.example.org/rdm/protect",
                        "targetFramework": "Research Data Competencies",
                        "targetCode": "RDM-3.4",
                    },
                ],
                "tag": ["data", "research", "stewardship"],
            },
        },
        "credentialStatus": {
            "id": f"https://northwind.example.edu/status/1#{1000 + n}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(1000 + n),
            "statusListCredential": "https://northwind.example.edu/status/1",
        },
        "evidence": [
            {
                "id": f"https://northwind.example.edu/evidence/{n}",
                "type": ["Evidence"],
                "name": "Data management plan",
                "narrative": "Peer-reviewed plan for a longitudinal survey dataset.",
            }
        ],
    }


def arbitrary_credential(n: int) -> dict:
    """Credential ``n`` of a stream where each has its own shape: optional members present or absent, 0-8
    alignments, 0-5 evidence items, varied tags, results and member order (seeded by ``n``)."""
    chooser = random.Random(n)
    document = realistic_credential(n)
    achievement = document["credentialSubject"]["achievement"]
    achievement["alignment"] = [
        {
            "type": ["Alignment"],
            "targetName": f"Target {n}.{index}",
            "targetUrl": f"https://frameworks.example.org/{n}/{index}",
            **({"targetCode": f"C-{index}"} if chooser.random() < 0.5 else {}),
            **({"targetFramework": "Framework"} if chooser.random() < 0.5 else {}),
        }
        for index in range(chooser.randint(0, 8))
    ]
    achievement["tag"] = [f"tag-{index}" for index in range(chooser.randint(0, 5))]
    document["evidence"] = [
        {
            "id": f"https://northwind.example.edu/evidence/{n}/{index}",
            "type": ["Evidence"],
            "name": f"Evidence {index}",
            **({"narrative": "Narrative."} if chooser.random() < 0.5 else {}),
        }
        for index in range(chooser.randint(0, 5))
    ]
    for key in ("credentialStatus", "name"):
        if chooser.random() < 0.3:
            del document[key]
    if chooser.random() < 0.5:
        document["description"] = f"Credential {n}"
    if chooser.random() < 0.4:
        document["credentialSubject"]["result"] = [{"type": ["Result"], "value": str(chooser.randint(0, 100))}]
    if chooser.random() < 0.3:
        achievement["description"] += f" ({chooser.randint(0, 9)})"
    if chooser.random() < 0.3:
        members = list(document.items())
        chooser.shuffle(members)
        document = dict(members)
    return document
