"""Webhooks: a real local receiver gets signed deliveries; failures are retried with back-off and logged."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from insignia.core.errors import ServiceError
from insignia.core.models import Role
from insignia.integrations import delivery
from insignia.integrations.models import DeliveryState, Webhook, WebhookDelivery
from insignia.integrations.services import create_webhook, delete_webhook, emit
from tests.platform.api_support import assert_problem, client_for, make_award

pytestmark = pytest.mark.django_db


class Receiver:
    """An HTTP server on 127.0.0.1 in a thread, answering ``status`` and recording every request."""

    def __init__(self, status: int = 200, body: bytes = b"thanks") -> None:
        self.status = status
        self.body = body
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                          "body": self.rfile.read(length)})
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/insignia"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback(settings):
    settings.INSIGNIA_WEBHOOKS_ALLOW_LOOPBACK = True
    return settings


@pytest.fixture
def scheduled(monkeypatch) -> list[tuple[str, Any]]:
    """Retries the delivery code schedules (instead of real timers)."""
    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(delivery, "scheduler", lambda delivery_id, at: calls.append((delivery_id, at)))
    return calls


def _emit(award: Any, event: str, django_capture_on_commit_callbacks) -> list[WebhookDelivery]:
    """Emit inside a transaction and check that sending waits for the commit."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        items = emit(event, award)
    assert len(callbacks) == len(items)
    return items


def test_a_real_receiver_gets_a_signed_delivery(member, loopback, scheduled, django_capture_on_commit_callbacks
                                                 ) -> None:
    owner = member(Role.OWNER)
    award = make_award(owner)
    with Receiver(200) as receiver:
        webhook, secret = create_webhook(actor=owner, url=receiver.url, events=["award.issued", "award.revoked"])
        assert secret.startswith("whsec_")
        assert secret not in webhook.secret  # stored encrypted
        [item] = _emit(award, "award.issued", django_capture_on_commit_callbacks)
        assert item.state == DeliveryState.PENDING
        delivery.run_delivery_job(item.public_id)  # what the job runner does after commit
    [request] = receiver.requests
    assert request["path"] == "/hooks/insignia"
    headers = request["headers"]
    assert headers["Insignia-Event"] == "award.issued"
    assert headers["Insignia-Delivery"] == item.public_id
    assert headers["Content-Type"] == "application/json"
    signature = headers["Insignia-Signature"]
    assert delivery.verify_signature(secret, signature, request["body"])
    # the receiver's own check, written out: HMAC-SHA256 of "t.body"
    import hashlib
    import hmac
    t, v1 = (part.split("=", 1)[1] for part in signature.split(","))
    expected = hmac.new(secret.encode(), f"{t}.".encode() + request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(v1, expected)
    assert not delivery.verify_signature("whsec_wrong", signature, request["body"])
    assert not delivery.verify_signature(secret, signature, request["body"] + b" ")
    payload = json.loads(request["body"])
    assert payload["type"] == "award.issued"
    assert payload["id"] == item.public_id
    assert payload["data"]["award"]["id"] == award.public_id
    assert payload["data"]["award"]["credential_url"].endswith(f"/c/{award.public_id}/credential.json")
    item.refresh_from_db()
    assert (item.state, item.attempt, item.status_code, item.response_excerpt) == ("delivered", 1, 200, "thanks")
    assert item.delivered_at is not None
    assert item.next_attempt_at is None
    assert scheduled == []
    # delivering again is a no-op
    delivery.deliver(item.public_id)
    assert len(receiver.requests) == 1


def test_a_failing_receiver_is_retried_with_back_off(member, loopback, scheduled, django_capture_on_commit_callbacks
                                                      ) -> None:
    owner = member(Role.OWNER)
    award = make_award(owner)
    with Receiver(500, b"database is down") as receiver:
        webhook, _ = create_webhook(actor=owner, url=receiver.url, events=["award.issued"])
        [item] = _emit(award, "award.issued", django_capture_on_commit_callbacks)
        now = timezone.now()
        delivery.deliver(item.public_id, now=now)
        item.refresh_from_db()
        assert (item.state, item.attempt, item.status_code) == ("pending", 1, 500)
        assert item.response_excerpt == "database is down"
        assert "500" in item.error
        assert item.next_attempt_at == now + timedelta(minutes=1)
        assert scheduled == [(item.public_id, now + timedelta(minutes=1))]

        # not due yet: no attempt, the retry is (re)scheduled
        delivery.deliver(item.public_id, now=now + timedelta(seconds=30))
        assert len(receiver.requests) == 1

        # the delivery log over the API shows it
        log = client_for(owner, ["manage"]).get(f"/webhooks/{webhook.public_id}/deliveries").json()
        [entry] = log["items"]
        assert (entry["state"], entry["attempt"], entry["status_code"]) == ("pending", 1, 500)
        assert entry["next_attempt_at"] is not None
        assert entry["attempts"][0]["status_code"] == 500

        waits = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                 timedelta(hours=12)]
        at = now
        for attempt, wait in enumerate(waits, start=1):
            item.refresh_from_db()
            assert item.attempt == attempt
            assert item.next_attempt_at == at + wait
            at = at + wait
            delivery.deliver(item.public_id, now=at)
        item.refresh_from_db()
    assert len(receiver.requests) == delivery.MAX_ATTEMPTS == 6
    assert [r["headers"]["Insignia-Attempt"] for r in receiver.requests] == [str(n) for n in range(1, 7)]
    assert (item.state, item.attempt, item.next_attempt_at) == ("failed", 6, None)
    assert len(item.attempts_log) == 6


def test_a_receiver_that_recovers_gets_the_retry(member, loopback, scheduled, django_capture_on_commit_callbacks
                                                  ) -> None:
    owner = member(Role.OWNER)
    award = make_award(owner)
    with Receiver(503) as receiver:
        _, secret = create_webhook(actor=owner, url=receiver.url, events=["award.issued"])
        [item] = _emit(award, "award.issued", django_capture_on_commit_callbacks)
        now = timezone.now()
        delivery.deliver(item.public_id, now=now)
        receiver.status = 204
        assert delivery.deliver_due(now=now + timedelta(minutes=1)) == 1
    item.refresh_from_db()
    assert (item.state, item.attempt, item.status_code, item.error) == ("delivered", 2, 204, "")
    first, second = receiver.requests
    assert first["body"] == second["body"]  # the same event, re-signed for each attempt
    assert all(delivery.verify_signature(secret, r["headers"]["Insignia-Signature"], r["body"], now=r_now)
               for r, r_now in ((first, now.timestamp()), (second, (now + timedelta(minutes=1)).timestamp())))


def test_an_unreachable_receiver_is_recorded(member, loopback, scheduled, django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    award = make_award(owner)
    with Receiver() as receiver:
        url = receiver.url
    create_webhook(actor=owner, url=url, events=["award.issued"])  # the server is gone now
    [item] = _emit(award, "award.issued", django_capture_on_commit_callbacks)
    delivery.deliver(item.public_id)
    item.refresh_from_db()
    assert item.state == "pending"
    assert item.status_code is None
    assert "could not connect" in item.error
    assert len(scheduled) == 1


def test_private_addresses_are_refused_at_delivery(member, settings, scheduled,
                                                   django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    award = make_award(owner)
    create_webhook(actor=owner, url="https://10.20.30.40/hook", events=["award.issued"])
    [item] = _emit(award, "award.issued", django_capture_on_commit_callbacks)
    delivery.deliver(item.public_id)
    item.refresh_from_db()
    assert "private or local address" in item.error


def test_events_only_reach_subscribed_active_webhooks_of_the_organisation(member, loopback,
                                                                          django_capture_on_commit_callbacks) -> None:
    owner = member(Role.OWNER)
    other = member(Role.OWNER)
    award = make_award(owner)
    assert emit("award.issued", award) == []
    create_webhook(actor=owner, url="https://hooks.example.org/revoked", events=["award.revoked"])
    inactive, _ = create_webhook(actor=owner, url="https://hooks.example.org/off", events=["award.issued"])
    Webhook.objects.filter(pk=inactive.pk).update(active=False)
    create_webhook(actor=other, url="https://hooks.example.org/other", events=["award.issued"])
    assert _emit(award, "award.issued", django_capture_on_commit_callbacks) == []
    [item] = _emit(award, "award.revoked", django_capture_on_commit_callbacks)
    assert item.webhook.url == "https://hooks.example.org/revoked"
    with pytest.raises(ValueError, match="unknown webhook event"):
        emit("award.exploded", award)


@pytest.mark.parametrize("url", [
    "http://hooks.example.org/in",
    "ftp://hooks.example.org/in",
    "https://user:pass@hooks.example.org/in",
    "hooks.example.org/in",
    "https://",
    "http://127.0.0.1:8000/hook",
    "https://127.0.0.1/hook",
    "https://hooks.example.org:99999/in",
])
def test_webhook_urls_must_be_public_https(member, url) -> None:
    with pytest.raises(ServiceError) as info:
        create_webhook(actor=member(Role.OWNER), url=url, events=["award.issued"])
    assert info.value.field == "url"


def test_loopback_http_is_allowed_only_when_enabled(member, loopback) -> None:
    owner = member(Role.OWNER)
    webhook, _ = create_webhook(actor=owner, url="http://127.0.0.1:9/hook", events=["award.issued"])
    assert webhook.url == "http://127.0.0.1:9/hook"
    with pytest.raises(ServiceError):
        create_webhook(actor=owner, url="http://192.168.1.2/hook", events=["award.issued"])


def test_webhook_management_over_the_api(member) -> None:
    owner = member(Role.OWNER)
    api = client_for(owner, ["manage"])
    created = api.post("/webhooks", {"url": "https://hooks.example.org/in", "events": ["award.issued",
                                                                                     "award.suspended"]})
    assert created.status_code == 201
    hook = created.json()
    assert hook["secret"].startswith("whsec_")
    got = api.get(f"/webhooks/{hook['id']}").json()
    assert "secret" not in got
    assert got["events"] == ["award.issued", "award.suspended"]
    assert [w["id"] for w in api.get("/webhooks").json()["items"]] == [hook["id"]]
    assert api.get(f"/webhooks/{hook['id']}/deliveries").json()["count"] == 0
    assert_problem(api.post("/webhooks", {"url": "http://hooks.example.org/in", "events": ["award.issued"]}), 400,
                   "https_required")
    assert_problem(api.post("/webhooks", {"url": "https://hooks.example.org/in", "events": ["award.exploded"]}),
                   422)
    assert_problem(api.post("/webhooks", {"url": "https://hooks.example.org/in", "events": []}), 422)

    # another organisation's webhook is not found, by any endpoint
    other = member(Role.OWNER)
    theirs, _ = create_webhook(actor=other, url="https://hooks.example.org/theirs", events=["award.issued"])
    for method, path in (("GET", f"/webhooks/{theirs.public_id}"), ("DELETE", f"/webhooks/{theirs.public_id}"),
                         ("GET", f"/webhooks/{theirs.public_id}/deliveries")):
        assert_problem(api.get(path) if method == "GET" else api.delete(path), 404)
    assert Webhook.objects.filter(pk=theirs.pk).exists()
    # and a read-only token cannot see or change webhooks
    read = client_for(owner, ["read"])
    assert_problem(read.get(f"/webhooks/{hook['id']}/deliveries"), 403)
    assert_problem(read.delete(f"/webhooks/{hook['id']}"), 403)

    assert api.delete(f"/webhooks/{hook['id']}").status_code == 204
    assert not Webhook.objects.filter(public_id=hook["id"]).exists()
    with pytest.raises(ServiceError):
        delete_webhook(actor=owner, webhook=theirs)


def test_another_organisations_token_is_not_found(member) -> None:
    owner = member(Role.OWNER)
    other = member(Role.OWNER)
    api = client_for(owner, ["manage"])
    theirs = client_for(other, ["manage"])
    their_id = theirs.get("/tokens").json()["items"][0]["id"]
    assert_problem(api.get(f"/tokens/{their_id}"), 404)
    assert_problem(api.post(f"/tokens/{their_id}/revoke"), 404)
    assert theirs.get("/tokens").status_code == 200
