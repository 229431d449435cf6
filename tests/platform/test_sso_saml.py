"""SAML 2.0 single sign-on, configured from the environment, against a test identity provider built here.

The identity provider is this file: an RSA key and self-signed certificate made with ``cryptography``, and
SAML Responses built for the AuthnRequest Insignia sends and signed with python3-saml's own signing
(xmlsec). Django's test client plays the browser: it carries the AuthnRequest to the IdP's SSO URL (we read
it from the redirect) and POSTs the signed Response to Insignia's assertion consumer service.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import include, path
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from insignia.accounts.sso import SAML_APP, saml_apps, saml_attribute_is_true, socialaccount_providers

pytestmark = pytest.mark.django_db

IDP_ENTITY_ID = "https://idp.example.test/saml"
SSO_URL = "https://idp.example.test/saml/sso"
SP_BASE_URL = "https://badges.example.org"
SLUG = "acme"
SP_ENTITY_ID = f"{SP_BASE_URL}/accounts/saml/{SLUG}/metadata/"
HOST = "badges.example.org"  # python3-saml refuses single-label hosts such as "testserver"
ACS_URL = f"http://{HOST}/accounts/saml/{SLUG}/acs/"
UID = "urn:oasis:names:tc:SAML:attribute:subject-id"
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
VERIFIED = "https://idp.example.test/attributes/email_verified"
NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "md": "urn:oasis:names:tc:SAML:2.0:metadata", "ds": "http://www.w3.org/2000/09/xmldsig#"}

# Insignia's URLs with the SAML provider's views mounted, as allauth.urls does when INSIGNIA_SAML_* is set at start.
urlpatterns = [
    path("accounts/", include("allauth.socialaccount.providers.saml.urls")),
    path("", include("insignia.site.urls")),
]


@dataclass
class KeyPair:
    """An IdP signing key and its self-signed certificate, in PEM."""

    key_pem: str
    cert_pem: str

    @classmethod
    def make(cls, name: str) -> KeyPair:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=365)).sign(key, hashes.SHA256()))
        return cls(
            key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode(),
            cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        )


IDP_KEYS = KeyPair.make("Test IdP")
OTHER_KEYS = KeyPair.make("Somebody else")


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def saml_response(request_id: str, *, attributes: dict[str, str], name_id: str = "nameid-42",
                  audience: str = SP_ENTITY_ID, recipient: str = ACS_URL, keys: KeyPair = IDP_KEYS,
                  age: dt.timedelta = dt.timedelta(0)) -> str:
    """A signed SAML Response from the test IdP answering ``request_id``, issued ``age`` ago, valid 5 minutes."""
    issued = dt.datetime.now(dt.UTC) - age
    expires = _instant(issued + dt.timedelta(minutes=5))
    answers = f' InResponseTo="{request_id}"' if request_id else ""  # empty: an IdP-initiated response
    values = "".join(
        f'<saml:Attribute Name="{html.escape(name)}"><saml:AttributeValue>{html.escape(value)}</saml:AttributeValue>'
        "</saml:Attribute>" for name, value in attributes.items())
    xml = f"""<samlp:Response xmlns:samlp="{NS['samlp']}" xmlns:saml="{NS['saml']}" ID="_r{secrets.token_hex(16)}"
 Version="2.0" IssueInstant="{_instant(issued)}" Destination="{recipient}"{answers}>
 <saml:Issuer>{IDP_ENTITY_ID}</saml:Issuer>
 <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
 <saml:Assertion ID="_a{secrets.token_hex(16)}" Version="2.0" IssueInstant="{_instant(issued)}">
  <saml:Issuer>{IDP_ENTITY_ID}</saml:Issuer>
  <saml:Subject>
   <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{name_id}</saml:NameID>
   <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
    <saml:SubjectConfirmationData NotOnOrAfter="{expires}" Recipient="{recipient}"{answers}/>
   </saml:SubjectConfirmation>
  </saml:Subject>
  <saml:Conditions NotBefore="{_instant(issued - dt.timedelta(minutes=1))}" NotOnOrAfter="{expires}">
   <saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>
  </saml:Conditions>
  <saml:AuthnStatement AuthnInstant="{_instant(issued)}" SessionIndex="_s{secrets.token_hex(8)}">
   <saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport\
</saml:AuthnContextClassRef></saml:AuthnContext>
  </saml:AuthnStatement>
  <saml:AttributeStatement>{values}</saml:AttributeStatement>
 </saml:Assertion>
</samlp:Response>"""
    signed = OneLogin_Saml2_Utils.add_sign(xml, keys.key_pem, keys.cert_pem,
                                           sign_algorithm=OneLogin_Saml2_Constants.RSA_SHA256,
                                           digest_algorithm=OneLogin_Saml2_Constants.SHA256)
    return signed.decode() if isinstance(signed, bytes) else signed


def idp_metadata(sso_url: str) -> str:
    body = "".join(line for line in IDP_KEYS.cert_pem.splitlines() if not line.startswith("-----"))
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="{NS['md']}" xmlns:ds="{NS['ds']}" entityID="{IDP_ENTITY_ID}">
 <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{body}</ds:X509Certificate>
  </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
  <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso_url}"/>
 </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


# -- fixtures ----------------------------------------------------------------------------------------------------

ENVIRON = {
    "INSIGNIA_SAML_ID": SLUG,
    "INSIGNIA_SAML_NAME": "Acme SAML",
    "INSIGNIA_SAML_ENTITY_ID": IDP_ENTITY_ID,
    "INSIGNIA_SAML_UID_ATTRIBUTE": UID,
    "INSIGNIA_SAML_EMAIL_ATTRIBUTE": MAIL,
    "INSIGNIA_SAML_EMAIL_VERIFIED_ATTRIBUTE": VERIFIED,
}


@pytest.fixture
def metadata_server(monkeypatch) -> Iterator[str]:
    """The IdP's metadata document served over HTTP on 127.0.0.1; yields its URL."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    document = idp_metadata(SSO_URL).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/metadata.xml" else 404)
            self.send_header("Content-Type", "application/samlmetadata+xml")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/metadata.xml"
    server.shutdown()
    server.server_close()


def _configure(settings, environ: dict[str, str]) -> None:
    """What settings.py does at start-up with INSIGNIA_SAML_* set: the SAML app installed, its URLs, the apps."""
    from allauth.socialaccount import providers
    from allauth.socialaccount.providers.saml.provider import SAMLProvider

    if SAML_APP not in settings.INSTALLED_APPS:
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, SAML_APP]
    providers.registry.load()
    providers.registry.register(SAMLProvider)
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers([], saml=saml_apps(environ, base_url=SP_BASE_URL))


@pytest.fixture(params=["inline", "metadata_url"])
def sso(request, settings) -> Iterator[str]:
    """Insignia configured the way an operator would, from INSIGNIA_SAML_* (IdP given inline or by metadata)."""
    from allauth.socialaccount import providers

    registered = "saml" in providers.registry.provider_map
    if request.param == "inline":
        environ = {**ENVIRON, "INSIGNIA_SAML_SSO_URL": SSO_URL, "INSIGNIA_SAML_X509_CERT": IDP_KEYS.cert_pem}
    else:
        environ = {**ENVIRON, "INSIGNIA_SAML_METADATA_URL": request.getfixturevalue("metadata_server")}
    _configure(settings, environ)
    yield request.param
    if not registered:
        providers.registry.provider_map.pop("saml", None)


def _start(client: Client) -> dict[str, str]:
    """Press "Sign in with Acme SAML" on the login page; return the AuthnRequest's facts from the redirect."""
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Sign in with Acme SAML" in text
    action = html.unescape(re.search(r'<form method="post" action="(/accounts/saml/[^"]+)"', text).group(1))
    assert action.startswith(f"/accounts/saml/{SLUG}/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)
    response = client.post(action, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.content.decode()[:1000]
    location = response["Location"]
    assert location.startswith(f"{SSO_URL}?")
    query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    request = etree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"]), -15))
    assert request.tag == f"{{{NS['samlp']}}}AuthnRequest"
    assert request.get("Destination") == SSO_URL
    assert request.get("AssertionConsumerServiceURL") == ACS_URL
    assert request.findtext("saml:Issuer", namespaces=NS) == SP_ENTITY_ID
    return {"id": request.get("ID"), "relay_state": query.get("RelayState", "")}


def _post_to_acs(client: Client, xml: str, relay_state: str = ""):
    """The browser's auto-submitted form to the ACS, then the redirect allauth answers with."""
    posted = client.post(f"/accounts/saml/{SLUG}/acs/",
                         {"SAMLResponse": base64.b64encode(xml.encode()).decode(), "RelayState": relay_state})
    assert posted.status_code == 302
    return client.get(posted["Location"])


def browser(**kwargs: Any) -> Client:
    """A test client talking to Insignia under its public host name."""
    return Client(HTTP_HOST=HOST, **kwargs)


def _signed_in_user(client: Client):
    from django.contrib.auth import get_user_model

    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id) if user_id else None


GRACE = {UID: "grace-42", MAIL: "Grace@idp.example", VERIFIED: "true"}


# -- the flow ----------------------------------------------------------------------------------------------------


def test_sp_metadata_names_our_assertion_consumer_service(sso: str) -> None:
    response = browser().get(f"/accounts/saml/{SLUG}/metadata/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    document = response.content.decode()
    validated = OneLogin_Saml2_XML.validate_xml(document, "saml-schema-metadata-2.0.xsd")
    assert not isinstance(validated, str), validated  # an error message; else the document, schema-valid
    root = etree.fromstring(response.content)
    assert root.get("entityID") == SP_ENTITY_ID
    acs = root.find("md:SPSSODescriptor/md:AssertionConsumerService", NS)
    assert acs.get("Location") == ACS_URL
    assert acs.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    assert browser().get("/accounts/saml/nobody/metadata/").status_code == 404


def test_sign_in_creates_a_verified_user_and_signs_them_in(sso: str) -> None:
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount

    client = browser(enforce_csrf_checks=True)
    request = _start(client)
    response = _post_to_acs(client, saml_response(request["id"], attributes=GRACE), request["relay_state"])
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    user = _signed_in_user(client)
    assert user is not None
    assert user.email == "grace@idp.example"
    address = EmailAddress.objects.get(user=user)
    assert address.verified
    assert address.primary
    account = SocialAccount.objects.get(user=user)
    assert (account.provider, account.uid) == (IDP_ENTITY_ID, "grace-42")  # the uid attribute, not the NameID

    # The same response cannot be replayed: its request was answered once.
    replay = browser()
    _post_to_acs(replay, saml_response(request["id"], attributes=GRACE))
    assert _signed_in_user(replay) is None

    # Signing in again finds the same user through the linked account.
    again = browser()
    second = _start(again)
    assert _post_to_acs(again, saml_response(second["id"], attributes=GRACE)).status_code == 302
    assert _signed_in_user(again) == user


@pytest.mark.parametrize("flag", ["false", "0", "yes-ish", None])
def test_an_email_the_idp_does_not_call_verified_is_not_trusted(sso: str, flag: str | None) -> None:
    from allauth.account.models import EmailAddress

    attributes = {UID: "mallory-7", MAIL: "mallory@idp.example"}
    if flag is not None:
        attributes[VERIFIED] = flag
    client = browser()
    request = _start(client)
    response = _post_to_acs(client, saml_response(request["id"], attributes=attributes))
    assert response.status_code == 302
    assert "confirm-email" in response["Location"]  # Insignia sends its own verification email instead
    assert _signed_in_user(client) is None
    assert EmailAddress.objects.filter(email="mallory@idp.example", verified=False).exists()
    assert not EmailAddress.objects.filter(email="mallory@idp.example", verified=True).exists()


@pytest.mark.parametrize("local_verified", [True, False])
def test_the_idp_cannot_take_over_an_existing_local_account(sso: str, make_user, local_verified: bool) -> None:
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount
    from django.contrib.auth import get_user_model

    local = make_user("grace@idp.example")
    if local_verified:
        EmailAddress.objects.create(user=local, email="grace@idp.example", verified=True, primary=True)
    client = browser()
    request = _start(client)
    response = _post_to_acs(client, saml_response(request["id"], attributes=GRACE))  # verified by the IdP
    assert response.get("Location") != "/dashboard/"
    assert _signed_in_user(client) is None
    assert not SocialAccount.objects.filter(user=local).exists()
    assert list(get_user_model().objects.filter(email__iexact="grace@idp.example")) == [local]


@pytest.mark.parametrize(("fault", "reason"), [
    ("wrong key", "Signature validation failed"),
    ("expired", "expired"),
    ("other audience", "not a valid audience"),
    ("other recipient", "instead of"),
    ("tampered", "Signature validation failed"),
    ("unsolicited", None),  # no AuthnRequest of ours was answered: allauth finds no stashed state
    ("idp-initiated", "IdP initiated SSO rejected"),  # no InResponseTo at all
])
def test_a_bad_response_is_refused(sso: str, fault: str, reason: str | None, caplog) -> None:
    from django.contrib.auth import get_user_model

    client = browser()
    request = _start(client)
    options: dict[str, Any] = {
        "wrong key": {"keys": OTHER_KEYS},
        "expired": {"age": dt.timedelta(hours=1)},
        "other audience": {"audience": "https://elsewhere.example/sp"},
        "other recipient": {"recipient": "https://elsewhere.example/acs/"},
    }.get(fault, {})
    request_id = {"unsolicited": "_unsolicited", "idp-initiated": ""}.get(fault, request["id"])
    xml = saml_response(request_id, attributes=GRACE, **options)
    if fault == "tampered":  # a signed response whose email was changed afterwards
        xml = xml.replace("Grace@idp.example", "admin@idp.example")
    response = _post_to_acs(client, xml)
    assert response.status_code == (403 if reason is None else 401)
    if reason:
        assert reason in caplog.text
    assert response.get("Location") != "/dashboard/"
    assert _signed_in_user(client) is None
    assert not get_user_model().objects.filter(email__in=["grace@idp.example", "admin@idp.example"]).exists()

    # The genuine response still works afterwards (for the faults that did not consume the request).
    if fault in ("unsolicited", "idp-initiated"):
        assert _post_to_acs(client, saml_response(request["id"], attributes=GRACE)).status_code == 302
        assert _signed_in_user(client) is not None


# -- configuration -----------------------------------------------------------------------------------------------


def test_single_identity_provider_variables() -> None:
    [app] = saml_apps({**ENVIRON, "INSIGNIA_SAML_SSO_URL": SSO_URL,
                       "INSIGNIA_SAML_X509_CERT": IDP_KEYS.cert_pem.replace("\n", "\\n")},
                      production=True, base_url=SP_BASE_URL + "/")
    body = "".join(line for line in IDP_KEYS.cert_pem.splitlines() if not line.startswith("-----"))
    assert app["provider_id"] == IDP_ENTITY_ID
    assert (app["client_id"], app["name"]) == (SLUG, "Acme SAML")
    assert app["settings"]["idp"] == {"entity_id": IDP_ENTITY_ID, "sso_url": SSO_URL, "x509cert": body}
    assert app["settings"]["attribute_mapping"] == {"uid": [UID], "email": [MAIL], "email_verified": [VERIFIED]}
    assert app["settings"]["sp"] == {"entity_id": SP_ENTITY_ID}
    assert app["settings"]["advanced"]["reject_idp_initiated_sso"] is True
    providers = socialaccount_providers([], saml=[app])["saml"]
    assert providers["EMAIL_AUTHENTICATION"] is False
    assert providers["VERIFIED_EMAIL"] is False


def test_defaults_map_no_verified_flag() -> None:
    [app] = saml_apps({"INSIGNIA_SAML_ENTITY_ID": IDP_ENTITY_ID,
                       "INSIGNIA_SAML_METADATA_URL": "https://idp.example.test/metadata"})
    assert app["client_id"] == "sso"
    assert app["name"] == "single sign-on"
    assert app["settings"]["idp"] == {"entity_id": IDP_ENTITY_ID, "metadata_url": "https://idp.example.test/metadata"}
    assert set(app["settings"]["attribute_mapping"]) == {"email"}  # uid falls back to the NameID
    assert saml_apps({}) == []


def test_a_list_of_identity_providers() -> None:
    apps = saml_apps({"INSIGNIA_SAML_PROVIDERS": json.dumps([
        {"id": "staff", "name": "Staff", "entity_id": "urn:staff", "metadata_url": "https://a.example/md"},
        {"id": "students", "entity_id": "urn:students", "sso_url": "https://b.example/sso",
         "x509cert": IDP_KEYS.cert_pem, "attributes": {"email": ["mail", "email"], "email_verified": "verified"}},
    ])}, production=True)
    assert [(app["client_id"], app["provider_id"]) for app in apps] == [("staff", "urn:staff"),
                                                                      ("students", "urn:students")]
    assert apps[1]["settings"]["attribute_mapping"] == {"email": ["mail", "email"], "email_verified": ["verified"]}


CERT = IDP_KEYS.cert_pem


@pytest.mark.parametrize(("environ", "message"), [
    ({"INSIGNIA_SAML_PROVIDERS": "[{"}, "not valid JSON"),
    ({"INSIGNIA_SAML_PROVIDERS": '{"id": "x"}'}, "JSON list"),
    ({"INSIGNIA_SAML_PROVIDERS": '[{"entity_id": "urn:a", "metadata_url": "https://a.example", "acs": 1}]'},
     "unknown keys"),
    ({"INSIGNIA_SAML_PROVIDERS": '[{"id": "a", "entity_id": "urn:a", "metadata_url": "https://a.example"},'
                                 ' {"id": "a", "entity_id": "urn:b", "metadata_url": "https://b.example"}]'},
     "different id"),
    ({"INSIGNIA_SAML_PROVIDERS": '[{"id": "a", "entity_id": "urn:a", "metadata_url": "https://a.example"},'
                                 ' {"id": "b", "entity_id": "urn:a", "metadata_url": "https://b.example"}]'},
     "different entity_id"),
    ({"INSIGNIA_SAML_METADATA_URL": "https://a.example/md"}, "entity_id"),
    ({"INSIGNIA_SAML_ENTITY_ID": "urn:a"}, "exactly one of metadata_url"),
    ({"INSIGNIA_SAML_ENTITY_ID": "urn:a", "INSIGNIA_SAML_METADATA_URL": "https://a.example/md",
      "INSIGNIA_SAML_SSO_URL": "https://a.example/sso"}, "exactly one of metadata_url"),
    ({"INSIGNIA_SAML_ENTITY_ID": "urn:a", "INSIGNIA_SAML_SSO_URL": "https://a.example/sso"}, "x509cert"),
    ({"INSIGNIA_SAML_ENTITY_ID": "urn:a", "INSIGNIA_SAML_SSO_URL": "https://a.example/sso",
      "INSIGNIA_SAML_X509_CERT": "not a certificate"}, "signing certificate"),
    ({"INSIGNIA_SAML_ENTITY_ID": "urn:a", "INSIGNIA_SAML_METADATA_URL": "idp.example/md"}, "absolute https URL"),
    ({"INSIGNIA_SAML_ENTITY_ID": "urn:a", "INSIGNIA_SAML_METADATA_URL": "https://a.example",
      "INSIGNIA_SAML_ID": "Acme Corp"}, "lower-case"),
    ({"INSIGNIA_SAML_ENTITY_ID": "urn:a", "INSIGNIA_SAML_METADATA_URL": "https://a.example",
      "INSIGNIA_SAML_PROVIDERS": "[]"}, "not both"),
    ({"INSIGNIA_SAML_PROVIDERS": '[{"entity_id": "urn:a", "metadata_url": "https://a.example",'
                                 ' "attributes": {"groups": "g"}}]'}, "attributes must be"),
])
def test_bad_configuration_is_refused_with_a_clear_message(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        saml_apps(environ)


def test_production_needs_https_except_on_loopback() -> None:
    environ = {"INSIGNIA_SAML_ENTITY_ID": "urn:a", "INSIGNIA_SAML_SSO_URL": "http://idp.example/sso",
               "INSIGNIA_SAML_X509_CERT": CERT}
    assert saml_apps(environ)  # development: allowed
    with pytest.raises(ImproperlyConfigured, match="must use https"):
        saml_apps(environ, production=True)
    assert saml_apps({**environ, "INSIGNIA_SAML_SSO_URL": "http://127.0.0.1:9000/sso"}, production=True)


def test_an_entity_id_may_not_reuse_an_oidc_provider_id() -> None:
    oidc = [{"provider_id": "urn:a", "name": "x", "client_id": "1", "secret": "", "settings": {}}]
    saml = saml_apps({"INSIGNIA_SAML_ENTITY_ID": "urn:a", "INSIGNIA_SAML_METADATA_URL": "https://a.example"})
    with pytest.raises(ImproperlyConfigured, match="OpenID Connect provider id"):
        socialaccount_providers(oidc, saml=saml)


def test_only_true_or_1_is_true() -> None:
    assert saml_attribute_is_true(["true"])
    assert saml_attribute_is_true(["1"])
    assert saml_attribute_is_true(" TRUE ")
    assert not saml_attribute_is_true(["false"])
    assert not saml_attribute_is_true(["yes"])
    assert not saml_attribute_is_true([])
    assert not saml_attribute_is_true(None)


# -- start-up ----------------------------------------------------------------------------------------------------

_STARTUP = """
import sys
if sys.argv[1] == "without-xmlsec":
    sys.modules["xmlsec"] = None  # as if the saml extra were not installed
import django
from django.conf import settings
django.setup()
from django.urls import reverse
print("saml app:", "allauth.socialaccount.providers.saml" in settings.INSTALLED_APPS)
print("apps:", [app["client_id"] for app in settings.SOCIALACCOUNT_PROVIDERS.get("saml", {}).get("APPS", [])])
print("metadata:", reverse("saml_metadata", args=["acme"]))
"""


def _start_insignia(tmp_path: Path, mode: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("INSIGNIA_SAML_", "INSIGNIA_OIDC_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "insignia.site.settings", "INSIGNIA_DATA_DIR": str(tmp_path), **environ})
    return subprocess.run([sys.executable, "-c", _STARTUP, mode], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_settings_install_the_saml_provider_when_configured(tmp_path: Path) -> None:
    environ = {**ENVIRON, "INSIGNIA_SAML_METADATA_URL": "https://idp.example.test/metadata"}
    started = _start_insignia(tmp_path, "normal", environ)
    assert started.returncode == 0, started.stderr
    assert "saml app: True" in started.stdout
    assert "apps: ['acme']" in started.stdout
    assert "metadata: /accounts/saml/acme/metadata/" in started.stdout

    plain = _start_insignia(tmp_path, "normal", {})
    assert "saml app: False" in plain.stdout  # nothing configured: the provider is not installed
    assert "NoReverseMatch" in plain.stderr


def test_saml_configured_without_the_extra_refuses_to_start(tmp_path: Path) -> None:
    environ = {**ENVIRON, "INSIGNIA_SAML_METADATA_URL": "https://idp.example.test/metadata"}
    started = _start_insignia(tmp_path, "without-xmlsec", environ)
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert "pip install 'insignia[saml]'" in started.stderr
    assert _start_insignia(tmp_path, "without-xmlsec", {}).stdout.startswith("saml app: False")
