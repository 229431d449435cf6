"""A credential the platform issues verifies in Digital Bazaar's independent stack (jsonld.js, vc, eddsa-rdfc-2022)."""

from __future__ import annotations

import json
import shutil

import pytest
from django.test import Client

from insignia.awards.services import issue_award
from insignia.core.models import Role
from insignia.issuers.identity import active_key, issuer_did, key_id
from tests.interop.conftest import JS_DIR, NodeTool
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def node() -> NodeTool:
    """The interop bridge; missing Node.js or node_modules is a failure, not a skip (as in tests/interop)."""
    if shutil.which("node") is None or not (JS_DIR / "node_modules").is_dir():
        pytest.fail("Interop tests need Node.js and `npm ci` in tests/interop/js (scripts/test does this).")
    return NodeTool()


@pytest.mark.interop
def test_digital_bazaar_verifies_a_platform_credential_given_the_did_document(member, node: NodeTool) -> None:
    owner = member(Role.OWNER)
    issuer = make_issuer(owner)
    award = issue_award(actor=owner, badge=make_badge(owner, issuer), recipient="ada@example.org")
    client = Client()
    credential = json.loads(client.get(f"/c/{award.public_id}/credential.json").content)
    did = issuer_did(issuer)
    did_document = json.loads(client.get(f"/i/{issuer.public_id}/did.json").content)
    assert did_document["id"] == did
    method_id = key_id(active_key(issuer, "EdDSA"))
    assert credential["proof"]["verificationMethod"] == method_id
    (method,) = [m for m in did_document["verificationMethod"] if m["id"] == method_id]
    documents = {did: did_document, method_id: {"@context": did_document["@context"], **method}}

    answer = node({"op": "verify", "credential": credential, "documents": documents})
    assert answer["verified"], answer["errors"]

    tampered = dict(credential, name="Something else")
    assert not node({"op": "verify", "credential": tampered, "documents": documents})["verified"]
