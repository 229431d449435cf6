"""Serving set-up: persistent database connections (SQLite too), the worker hooks, content negotiation memo.

Each server thread keeps its database connection between requests (``INSIGNIA_DB_CONN_MAX_AGE``), on SQLite as
on PostgreSQL. What must hold: a kept connection sees what other connections committed since (no stale
snapshot between requests), it is replaced once it is older than the limit or left inside a transaction, and
SQLite's WAL settings are on it. Runs on SQLite and PostgreSQL; no timings.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import sys
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.test import Client, RequestFactory

from insignia.awards import views
from insignia.core.models import Organisation
from insignia.site import gunicorn_config

SQLITE = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"


def _request_cycle(work: Any) -> Any:
    """What Django does around every request: close obsolete connections before and after."""
    request_started.send(sender=None)
    try:
        return work()
    finally:
        request_finished.send(sender=None)


def _org_name(pk: int) -> str:
    return Organisation.objects.values_list("name", flat=True).get(pk=pk)


def test_connections_persist_between_requests_on_every_backend() -> None:
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_is_reused_and_sees_what_others_committed() -> None:
    organisation = Organisation.objects.create(name="Before", slug="before")
    connection.close()
    assert _request_cycle(lambda: _org_name(organisation.pk)) == "Before"
    kept = connection.connection
    assert kept is not None  # still open after the request

    def rename() -> None:  # another server thread, with its own connection, commits a change
        try:
            Organisation.objects.filter(pk=organisation.pk).update(name="After")
        finally:
            connection.close()

    writer = threading.Thread(target=rename)
    writer.start()
    writer.join()

    assert _request_cycle(lambda: _org_name(organisation.pk)) == "After"  # no stale snapshot
    assert connection.connection is kept  # and the same connection served it


@pytest.mark.django_db(transaction=True)
def test_an_old_connection_or_one_left_in_a_transaction_is_replaced() -> None:
    _request_cycle(lambda: Organisation.objects.count())
    first = connection.connection
    connection.close_at = time.monotonic() - 1  # older than INSIGNIA_DB_CONN_MAX_AGE
    _request_cycle(lambda: Organisation.objects.count())
    second = connection.connection
    assert second is not None
    assert second is not first

    def leave_a_transaction_open() -> int:
        transaction.set_autocommit(False)
        return Organisation.objects.count()

    _request_cycle(leave_a_transaction_open)  # the request ended without committing: the connection goes
    assert connection.connection is None
    transaction.set_autocommit(True)
    assert _request_cycle(lambda: Organisation.objects.count()) == 0


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_keeps_its_set_up() -> None:
    """SQLite: WAL with a busy timeout; PostgreSQL: the session time zone Django sets when it connects."""
    _request_cycle(lambda: Organisation.objects.count())
    if not SQLITE:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('TimeZone')")
            assert cursor.fetchone()[0] == "UTC"
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0].lower() == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 10_000


# == the gunicorn hooks =======================================================================================


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm here")
def test_the_worker_heartbeat_lives_in_memory() -> None:
    assert gunicorn_config.worker_tmp_dir == "/dev/shm"


def _server(bind: str) -> Any:
    from gunicorn.config import Config

    config = Config()
    config.set("bind", [bind])
    config.set("reuse_port", gunicorn_config.reuse_port)
    return SimpleNamespace(cfg=config, log=logging.getLogger("gunicorn.error"))


@pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT spreads connections on Linux only")
def test_each_worker_listens_on_its_own_socket_where_that_spreads_connections() -> None:
    assert gunicorn_config.reuse_port is True
    with socket.socket() as holder:  # a free port, released again
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
    server = _server(f"127.0.0.1:{port}")
    gunicorn_config.on_starting(server)
    assert server.cfg.reuse_port is True
    for bind in ("unix:/tmp/insignia-test.sock", "127.0.0.1:0"):
        server = _server(bind)
        gunicorn_config.on_starting(server)
        assert server.cfg.reuse_port is False, bind


@pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT spreads connections on Linux only")
def test_a_port_another_server_listens_on_is_refused_not_shared() -> None:
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as another gunicorn's worker would
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(SystemExit):
            gunicorn_config.on_starting(_server(f"127.0.0.1:{other.getsockname()[1]}"))


@pytest.mark.skipif(not hasattr(socket, "TCP_CORK"), reason="TCP_CORK is Linux's")
def test_a_response_is_held_until_complete_then_sent() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        served, _ = listener.accept()
        with client, served:
            request = SimpleNamespace(unreader=SimpleNamespace(sock=served))
            gunicorn_config.pre_request(SimpleNamespace(nr=1), request)
            assert served.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK) == 1
            served.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
            served.sendall(b"ok")
            gunicorn_config.post_request(SimpleNamespace(nr=1), request, {}, SimpleNamespace(sock=served))
            assert served.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK) == 0
            client.settimeout(5)
            received = b""
            while not received.endswith(b"ok"):
                received += client.recv(1024)
            assert received.endswith(b"\r\n\r\nok")
    # requests without a socket of their own (HTTP/2 streams) and closed sockets are left alone
    gunicorn_config.pre_request(SimpleNamespace(nr=1), SimpleNamespace())
    gunicorn_config.post_request(SimpleNamespace(nr=1), None, {}, SimpleNamespace(sock=served))


def test_a_worker_freezes_what_it_loaded_once_it_is_warm() -> None:
    gc.unfreeze()
    try:
        warm = SimpleNamespace(nr=gunicorn_config.FREEZE_AFTER_REQUESTS)
        gunicorn_config.post_request(SimpleNamespace(nr=gunicorn_config.FREEZE_AFTER_REQUESTS - 1), None, {}, None)
        assert gc.get_freeze_count() == 0
        gunicorn_config.post_request(warm, None, {}, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


# == content negotiation of the award page ====================================================================


@pytest.mark.parametrize("accept", [
    "text/html", "*/*", "", "application/ld+json", "application/vc+ld+json", "application/json",
    "application/json;q=0.9, text/html;q=0.1", "text/html;q=0, application/ld+json",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "image/png",
])
def test_the_remembered_negotiation_is_django_s(accept: str) -> None:
    views._preferred_by_accept.clear()
    factory = RequestFactory()
    expected = factory.get("/c/x", HTTP_ACCEPT=accept).get_preferred_type(list(views.PAGE_TYPES))
    assert views._preferred_page_type(factory.get("/c/x", HTTP_ACCEPT=accept)) == expected
    assert accept in views._preferred_by_accept
    assert views._preferred_page_type(factory.get("/c/x", HTTP_ACCEPT=accept)) == expected  # remembered


def test_the_negotiation_memo_is_bounded() -> None:
    views._preferred_by_accept.clear()
    factory = RequestFactory()
    for number in range(views.ACCEPT_MEMO_SIZE + 10):
        views._preferred_page_type(factory.get("/c/x", HTTP_ACCEPT=f"text/html;level={number}"))
    assert len(views._preferred_by_accept) == views.ACCEPT_MEMO_SIZE
    views._preferred_by_accept.clear()


@pytest.mark.django_db
def test_public_routes_resolve_first_and_every_route_still_resolves(client: Client) -> None:
    from django.urls import get_resolver, resolve, reverse

    first = get_resolver().url_patterns[0]
    assert getattr(first, "app_name", None) == "awards"
    assert resolve("/c/abc").view_name == "awards:public"
    assert resolve("/c/abc/credential.json").view_name == "awards:credential_json"
    assert resolve("/api/v1/verify").url_name is not None
    assert resolve(reverse("verification:verify")).view_name == "verification:verify"
    assert resolve(reverse("issuers:did", args=["abc"])).view_name == "issuers:did"
    assert resolve(reverse("core:landing")).view_name == "core:landing"
    assert client.get("/c/does-not-exist/credential.json").status_code == 404
