"""OpenID Connect single sign-on, configured from the environment, against a real (minimal) provider.

The provider runs in the test on 127.0.0.1: discovery document, ``/authorize`` (redirects back with a
code), ``/token`` (checks client authentication, the redirect URI and PKCE; returns an RS256-signed
``id_token``), ``/userinfo`` and ``/jwks``. Django's test client drives Insignia's side of the flow.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from insignia.accounts.sso import claim_is_true, oidc_apps, socialaccount_providers

pytestmark = pytest.mark.django_db

CLIENT_ID = "insignia-test"
CLIENT_SECRET = "s3cret-for-tests"
KID = "test-key-1"


@dataclass
class FakeIdP:
    """State of the in-test OpenID provider: who signs in next, issued codes and tokens, what it was asked."""

    url: str = ""
    key: Any = None
    user: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
        }

    def jwks(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}

    def id_token(self, claims: dict[str, Any]) -> str:
        now = int(time.time())
        payload = {"iss": self.url, "aud": CLIENT_ID, "iat": now, "exp": now + 300, **claims}
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": KID})


class _Handler(BaseHTTPRequestHandler):
    idp: FakeIdP

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        idp = self.idp
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        idp.log.append((f"GET {parts.path}", {**query, "authorization": self.headers.get("Authorization", "")}))
        if parts.path == "/.well-known/openid-configuration":
            self._send(200, idp.discovery())
        elif parts.path == "/jwks":
            self._send(200, idp.jwks())
        elif parts.path == "/authorize":
            if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                self._send(400, {"error": "invalid_request"})
                return
            code = secrets.token_urlsafe(16)
            idp.codes[code] = {"redirect_uri": query["redirect_uri"], "challenge": query.get("code_challenge", ""),
                               "method": query.get("code_challenge_method", ""), "scope": query.get("scope", "")}
            target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
            self._send(302, headers={"Location": target})
        elif parts.path == "/userinfo":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in idp.tokens:
                self._send(401, {"error": "invalid_token"})
                return
            self._send(200, idp.tokens[token])
        else:
            self._send(404, {"error": "not_found"})

    def do_POST(self) -> None:
        idp = self.idp
        length = int(self.headers.get("Content-Length") or 0)
        form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
        idp.log.append((f"POST {self.path}", form))
        if self.path != "/token":
            self._send(404, {"error": "not_found"})
            return
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = self.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            self._send(401, {"error": "invalid_client"})
            return
        grant = idp.codes.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or grant is None:
            self._send(400, {"error": "invalid_grant"})
            return
        if form.get("redirect_uri") != grant["redirect_uri"]:
            self._send(400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
            return
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant["method"] != "S256" or digest != grant["challenge"]:
            self._send(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
            return
        access = secrets.token_urlsafe(24)
        idp.tokens[access] = dict(idp.user)
        self._send(200, {"access_token": access, "token_type": "Bearer", "expires_in": 300,
                         "id_token": idp.id_token(dict(idp.user))})


@pytest.fixture
def idp(monkeypatch) -> Iterator[FakeIdP]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    state = FakeIdP(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    handler = type("Handler", (_Handler,), {"idp": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    state.user = {"sub": "user-42", "email": "grace@idp.example", "email_verified": True, "name": "Grace Hopper"}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def sso(settings, idp: FakeIdP) -> FakeIdP:
    """Configure Insignia the way an operator would: from INSIGNIA_OIDC_* variables."""
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(oidc_apps({
        "INSIGNIA_OIDC_NAME": "Acme ID",
        "INSIGNIA_OIDC_SERVER_URL": idp.url,
        "INSIGNIA_OIDC_CLIENT_ID": CLIENT_ID,
        "INSIGNIA_OIDC_CLIENT_SECRET": CLIENT_SECRET,
    }))
    return idp


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _browser_visits(url: str) -> str:
    """GET ``url`` on the provider as a browser would; return the Location it redirects to."""
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(url, timeout=10)
    assert redirect.value.code == 302, redirect.value.read()
    return redirect.value.headers["Location"]


def _start(client: Client) -> str:
    """Open the login page, press "Sign in with Acme ID"; return the provider's /authorize URL."""
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Sign in with Acme ID" in text
    action = html.unescape(re.search(r'<form method="post" action="(/accounts/oidc/[^"]+)"', text).group(1))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)
    response = client.post(action, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.content.decode()[:1000]
    return response["Location"]


def _sign_in(client: Client, idp: FakeIdP):
    authorize = _start(client)
    assert authorize.startswith(f"{idp.url}/authorize?")
    callback = _browser_visits(authorize)
    parts = urlsplit(callback)
    assert f"{parts.scheme}://{parts.netloc}" == "http://testserver"
    return client.get(f"{parts.path}?{parts.query}")


def _signed_in_user(client: Client):
    from django.contrib.auth import get_user_model

    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id) if user_id else None


# -- the flow ----------------------------------------------------------------------------------------------------


def test_no_button_when_sso_is_not_configured(settings) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(oidc_apps({}))
    page = Client().get("/accounts/login/").content.decode()
    assert "Sign in with" not in page
    assert "/accounts/oidc/" not in page


def test_sign_in_with_the_idp_creates_a_verified_user_and_signs_them_in(sso: FakeIdP) -> None:
    from allauth.account.models import EmailAddress

    client = Client(enforce_csrf_checks=True)
    response = _sign_in(client, sso)
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    user = _signed_in_user(client)
    assert user is not None
    assert user.email == "grace@idp.example"
    address = EmailAddress.objects.get(user=user)
    assert address.verified
    assert address.primary
    assert "/accounts/login/" not in client.get("/dashboard/").get("Location", "")  # a newcomer goes to /orgs/new
    assert client.get("/orgs/new").status_code == 200

    # What the provider saw: discovery, the code exchanged once with client auth and PKCE, userinfo with
    # the access token.
    token_request = next(data for what, data in sso.log if what == "POST /token")
    assert token_request["grant_type"] == "authorization_code"
    assert token_request["redirect_uri"] == "http://testserver/accounts/oidc/sso/login/callback/"
    assert token_request["code_verifier"]
    assert any(what == "GET /userinfo" and data["authorization"].startswith("Bearer ") for what, data in sso.log)
    assert not sso.codes  # the code was used

    # Signing in again finds the same user through the linked social account.
    again = Client()
    assert _sign_in(again, sso).status_code == 302
    assert _signed_in_user(again) == user


@pytest.mark.parametrize("claim", [False, "false", None, "yes"])
def test_an_email_the_idp_does_not_call_verified_is_not_trusted(sso: FakeIdP, claim: Any) -> None:
    from allauth.account.models import EmailAddress

    sso.user = {"sub": "user-7", "email": "mallory@idp.example", "name": "Mallory"}
    if claim is not None:
        sso.user["email_verified"] = claim
    client = Client()
    response = _sign_in(client, sso)
    assert response.status_code == 302
    assert "confirm-email" in response["Location"]  # Insignia sends its own verification email instead
    assert _signed_in_user(client) is None
    assert not EmailAddress.objects.filter(email="mallory@idp.example", verified=True).exists()


def test_the_idp_cannot_take_over_an_existing_local_account(sso: FakeIdP, make_user) -> None:
    local = make_user("grace@idp.example")
    client = Client()
    _sign_in(client, sso)
    assert _signed_in_user(client) != local


def test_a_forged_state_is_refused(sso: FakeIdP) -> None:
    client = Client()
    authorize = _start(client)
    callback = urlsplit(_browser_visits(authorize))
    query = {key: values[0] for key, values in parse_qs(callback.query).items()}
    response = client.get(callback.path, {"code": query["code"], "state": "forged"})
    assert _signed_in_user(client) is None
    assert response.status_code in (400, 401)
    assert not any(what == "POST /token" for what, _ in sso.log)


def test_the_id_token_is_signed_with_the_published_key(sso: FakeIdP) -> None:
    token = sso.id_token({"sub": "x"})
    key = jwt.PyJWKSet.from_dict(sso.jwks())[KID]
    assert jwt.decode(token, key.key, algorithms=["RS256"], audience=CLIENT_ID)["sub"] == "x"


# -- configuration -----------------------------------------------------------------------------------------------


def test_single_provider_variables() -> None:
    apps = oidc_apps({"INSIGNIA_OIDC_SERVER_URL": "https://id.example.org/realms/staff/",
                      "INSIGNIA_OIDC_CLIENT_ID": "badges", "INSIGNIA_OIDC_CLIENT_SECRET": "x"})
    assert apps == [{"provider_id": "sso", "name": "single sign-on", "client_id": "badges", "secret": "x",
                     "settings": {"server_url": "https://id.example.org/realms/staff", "verified_email": False}}]
    providers = socialaccount_providers(apps)["openid_connect"]
    assert providers["VERIFIED_EMAIL"] is False
    assert providers["OAUTH_PKCE_ENABLED"] is True


def test_a_list_of_providers() -> None:
    apps = oidc_apps({"INSIGNIA_OIDC_PROVIDERS": json.dumps([
        {"id": "staff", "name": "Staff login", "server_url": "https://a.example", "client_id": "1", "secret": "s"},
        {"id": "students", "name": "Student login", "server_url": "https://b.example", "client_id": "2"},
    ])}, production=True)
    assert [(app["provider_id"], app["name"]) for app in apps] == [("staff", "Staff login"),
                                                                    ("students", "Student login")]


@pytest.mark.parametrize(("environ", "message"), [
    ({"INSIGNIA_OIDC_PROVIDERS": "[{"}, "not valid JSON"),
    ({"INSIGNIA_OIDC_PROVIDERS": '{"id": "x"}'}, "JSON list"),
    ({"INSIGNIA_OIDC_PROVIDERS": '[{"id": "a", "server_url": "https://a.example", "client_id": "1"},'
                                 ' {"id": "a", "server_url": "https://b.example", "client_id": "2"}]'},
     "different id"),
    ({"INSIGNIA_OIDC_PROVIDERS": '[{"id": "a", "server_url": "https://a.example", "client_id": "1", "scope": 1}]'},
     "unknown keys"),
    ({"INSIGNIA_OIDC_SERVER_URL": "https://a.example"}, "client_id is required"),
    ({"INSIGNIA_OIDC_SERVER_URL": "id.example.org", "INSIGNIA_OIDC_CLIENT_ID": "1"}, "absolute https URL"),
    ({"INSIGNIA_OIDC_SERVER_URL": "https://a.example", "INSIGNIA_OIDC_CLIENT_ID": "1", "INSIGNIA_OIDC_ID": "A B"},
     "lower-case"),
    ({"INSIGNIA_OIDC_SERVER_URL": "https://a.example", "INSIGNIA_OIDC_CLIENT_ID": "1",
      "INSIGNIA_OIDC_PROVIDERS": "[]"}, "not both"),
])
def test_bad_configuration_is_refused_with_a_clear_message(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        oidc_apps(environ)


def test_production_needs_https_except_on_loopback() -> None:
    environ = {"INSIGNIA_OIDC_SERVER_URL": "http://id.example.org", "INSIGNIA_OIDC_CLIENT_ID": "1"}
    assert oidc_apps(environ)  # development: allowed
    with pytest.raises(ImproperlyConfigured, match="must use https"):
        oidc_apps(environ, production=True)
    assert oidc_apps({**environ, "INSIGNIA_OIDC_SERVER_URL": "http://127.0.0.1:8080"}, production=True)


def test_only_a_true_claim_is_true() -> None:
    assert claim_is_true(True)
    assert claim_is_true("true")
    assert not claim_is_true("false")
    assert not claim_is_true(1)
    assert not claim_is_true(None)
