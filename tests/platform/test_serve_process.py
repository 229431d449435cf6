"""``insignia serve`` as a deployment runs it: the real server processes (granian, and gunicorn when chosen with
``INSIGNIA_SERVER``), on a data directory of their own, through HTTP.

What must hold for either server: it answers, keeps a client's connection open between requests, runs
background jobs in its workers (a webhook delivery enqueued by ``POST /api/v1/awards`` reaches a receiver this
test runs), buffers engagement counts in its workers and writes them when it is stopped with SIGTERM, stops
within the graceful period, and every worker's cached public page shows a revocation made through another worker
(on PostgreSQL, where each worker keeps a change listener, within moments). Runs on SQLite, and on PostgreSQL
(a fresh database next to the test one) in the PostgreSQL run of the platform tests. No timings are asserted
beyond generous deadlines.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from insignia.site import server as servers

ROOT = Path(__file__).resolve().parents[2]
SQLITE = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the production servers are set up for Linux")

SEED = """
import json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from insignia.badges.services import create_badge, publish_badge
from insignia.core.services import create_organisation
from insignia.integrations.services import create_api_token, create_webhook
from insignia.issuers.services import create_issuer
user = get_user_model().objects.create_user(email="serve@example.org", password="a long test password")
actor = create_organisation(user=user, name="Serve Academy")
issuer = create_issuer(actor=actor, name="Serve Academy", url="https://serve.example", email="badges@serve.example")
badge = publish_badge(actor=actor, badge=create_badge(actor=actor, issuer=issuer, name="Served", description="x",
                                                     criteria_narrative="y", design={"initials": "S"}))
_, token = create_api_token(actor=actor, name="serve test", scopes=["issue", "read"])
create_webhook(actor=actor, url=sys.argv[1], events=["award.issued"])
print(json.dumps({"badge": badge.public_id, "token": token}))
"""


@dataclass
class Site:
    env: dict[str, str]
    badge: str
    token: str
    hooks: list[dict[str, Any]]
    hook_arrived: threading.Event
    database_url: str  # "" for SQLite in the data directory


class _Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()
        self.server.received.append(json.loads(body))  # type: ignore[attr-defined]
        self.server.arrived.set()  # type: ignore[attr-defined]

    def log_message(self, *args: Any) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _admin_url() -> str:
    """The PostgreSQL server the platform tests run on (a database of our own is made next to theirs)."""
    return os.environ.get("DATABASE_URL") or os.environ.get("INSIGNIA_TEST_POSTGRES_URL",
                                                            "postgres://postgres@127.0.0.1:5432/test")


def _fresh_postgres() -> tuple[str, str]:
    import psycopg

    admin = _admin_url()
    name = f"insignia_serve_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, "")), name


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A migrated data directory with a published badge, an API token and a webhook to a local receiver."""
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    receiver.received = []  # type: ignore[attr-defined]
    receiver.arrived = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    data = tmp_path_factory.mktemp("serve")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("INSIGNIA_", "DJANGO_", "DATABASE_URL", "GRANIAN_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "insignia.site.settings",
        "INSIGNIA_DATA_DIR": str(data),
        "INSIGNIA_DEBUG": "1",  # webhooks to a plain-http loopback receiver are allowed in development only
        "INSIGNIA_SECRET_KEY": secrets.token_urlsafe(48),
        "INSIGNIA_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(48),
        "INSIGNIA_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Only the flush at exit writes the counts (the test shows that one happens).
        "INSIGNIA_ENGAGEMENT_FLUSH_SECONDS": "3600",
        "INSIGNIA_ENGAGEMENT_FLUSH_EVERY": "1000000",
        "INSIGNIA_WORKERS": "2",
        "INSIGNIA_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    })
    database_url, pg_name = "", ""
    if not SQLITE:
        database_url, pg_name = _fresh_postgres()
        env["DATABASE_URL"] = database_url
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    try:
        seeded = subprocess.run([sys.executable, "-c", SEED, hook_url], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=300)
        assert seeded.returncode == 0, seeded.stderr
        found = json.loads(seeded.stdout.strip().splitlines()[-1])
        yield Site(env=env, badge=found["badge"], token=found["token"], hooks=receiver.received,  # type: ignore
                   hook_arrived=receiver.arrived, database_url=database_url)  # type: ignore[attr-defined]
    finally:
        receiver.shutdown()
        if pg_name:
            import psycopg

            with psycopg.connect(_admin_url(), autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def _views_stored(site: Site, public_id: str) -> int:
    query = ("SELECT COALESCE(SUM(e.count), 0) FROM awards_engagementcount e JOIN awards_award a "
             "ON a.id = e.award_id WHERE a.public_id = %s AND e.kind = 'view'")
    if site.database_url:
        import psycopg

        with psycopg.connect(site.database_url) as connection:
            return int(connection.execute(query, (public_id,)).fetchone()[0])  # type: ignore[index]
    database = Path(site.env["INSIGNIA_DATA_DIR"]) / "insignia.sqlite3"
    with sqlite3.connect(database) as connection:
        return int(connection.execute(query.replace("%s", "?"), (public_id,)).fetchone()[0])


def _wait_until_answering(port: int, process: subprocess.Popen[bytes], deadline: float = 90.0) -> None:
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"GET /verify HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if probe.recv(16).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("the server did not answer in time")


@contextlib.contextmanager
def _serving(site: Site, name: str, tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``insignia serve`` with server ``name`` on a free port, answering: (port, process). Stopped afterwards if
    the test left it running (SIGTERM, then SIGKILL past the graceful period); its log printed if it failed."""
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "insignia.cli", "serve", "--port", str(port)], cwd=ROOT,
                               env={**site.env, "INSIGNIA_SERVER": name}, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        _wait_until_answering(port, process)
        yield port, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=servers.GRACEFUL_SECONDS + 15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
        if process.returncode not in (0, None):
            print((tmp_path / "server.log").read_text(errors="replace"))


@pytest.mark.parametrize("name", servers.SERVERS)
def test_the_server_answers_runs_jobs_and_flushes_counts_when_stopped(site: Site, name: str,
                                                                      tmp_path: Path) -> None:
    with _serving(site, name, tmp_path) as (port, process):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        site.hook_arrived.clear()
        connection.request("POST", "/api/v1/awards", body=json.dumps({
            "badge": site.badge, "recipient": f"{name}@example.org", "recipient_name": name.title()}),
            headers={"Authorization": f"Bearer {site.token}", "Content-Type": "application/json"})
        answer = connection.getresponse()
        award = json.loads(answer.read())
        assert answer.status == 201, award
        # the webhook delivery job ran in a worker (the in-process job runner is up)
        assert site.hook_arrived.wait(30), "no webhook delivery arrived"
        assert [hook["data"]["award"]["id"] for hook in site.hooks if hook["type"] == "award.issued"][-1] == award["id"]
        connection.close()

        # kept-alive connections, each counting a view that the worker holds in memory for now
        views = 0
        for _ in range(3):
            visitor = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            visitor.connect()
            kept = visitor.sock
            for _ in range(4):
                visitor.request("GET", f"/c/{award['id']}", headers={"Accept": "text/html"})
                page = visitor.getresponse()
                assert page.status == 200
                page.read()
                assert visitor.sock is kept  # the same connection (http.client would reconnect after a close)
                views += 1
            visitor.close()
        assert _views_stored(site, award["id"]) == 0  # buffered, not written yet

        started = time.monotonic()
        os.killpg(process.pid, signal.SIGTERM)
        assert process.wait(timeout=servers.GRACEFUL_SECONDS + 15) == 0
        assert time.monotonic() - started < servers.GRACEFUL_SECONDS
        assert _group_gone(process.pid), "a process of the server was left behind"
        assert _views_stored(site, award["id"]) == views  # every worker wrote its buffer on the way out


def test_an_unknown_server_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSIGNIA_SERVER", "waitress")
    with pytest.raises(SystemExit, match="granian, gunicorn"):
        servers.chosen_server()
    monkeypatch.delenv("INSIGNIA_SERVER")
    assert servers.chosen_server() == servers.DEFAULT_SERVER


def test_granian_refuses_a_port_another_server_listens_on() -> None:
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as another server's worker would
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(SystemExit, match="in use"):
            servers.refuse_a_port_in_use("127.0.0.1", other.getsockname()[1])


def _live_in_group(group: int) -> list[int]:
    """The processes of a process group still running (exited ones waiting to be reaped by init not counted)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            state, _ppid, pgrp = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError, IndexError):
            continue
        if int(pgrp) == group and state != "Z":
            found.append(int(entry.name))
    return found


def _group_gone(group: int, within: float = 10.0) -> bool:
    """Whether every process of the group has exited within ``within`` seconds (multiprocessing's resource
    tracker leaves a moment after the main process)."""
    stop = time.monotonic() + within
    while _live_in_group(group):
        if time.monotonic() > stop:
            return False
        time.sleep(0.2)
    return True


@pytest.mark.parametrize("delay", [0.2, 0.6, 1.5])
def test_granian_stops_at_once_when_asked_while_its_workers_still_load(site: Site, delay: float) -> None:
    """SIGTERM soon after the start (before, while or just after the workers import Django): no worker may
    swallow it and serve on until the main process kills it at the end of the graceful period."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "insignia.site.server", "--port", str(port)], cwd=ROOT,
                               env=site.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        time.sleep(delay)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        # 0, or killed by the signal itself when it came before the server set up its handlers (no worker yet)
        assert process.wait(timeout=servers.GRACEFUL_SECONDS + 15) in (0, -signal.SIGTERM)
        assert time.monotonic() - started < servers.GRACEFUL_SECONDS / 2
        assert _group_gone(process.pid), "a process of the server was left behind"
        with socket.socket() as probe:  # and nothing of it listens any more
            probe.bind(("127.0.0.1", port))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _listeners(site: Site) -> int:
    """The server's change-listener connections to its database (PostgreSQL)."""
    import psycopg

    with psycopg.connect(site.database_url) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND application_name = 'insignia-changes'").fetchone()[0])  # type: ignore[index]


def _page_now(port: int, public_id: str) -> bytes:
    """The public page through a new connection (SO_REUSEPORT spreads new connections over the workers)."""
    visitor = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        visitor.request("GET", f"/c/{public_id}", headers={"Accept": "text/html"})
        page = visitor.getresponse()
        assert page.status == 200
        return page.read()
    finally:
        visitor.close()


@pytest.mark.parametrize("name", servers.SERVERS)
def test_every_worker_shows_a_revocation_made_in_another(site: Site, name: str, tmp_path: Path) -> None:
    """Cached pages in every worker (on PostgreSQL kept without a query, see ``core.changes``) show a revocation
    committed through one of them, within moments."""
    with _serving(site, name, tmp_path) as (port, _):
        auth = {"Authorization": f"Bearer {site.token}", "Content-Type": "application/json"}
        api = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        api.request("POST", "/api/v1/awards", body=json.dumps({
            "badge": site.badge, "recipient": f"revoked-{name}@example.org"}), headers=auth)
        answer = api.getresponse()
        award = json.loads(answer.read())
        assert answer.status == 201, award
        if site.database_url:
            deadline = time.monotonic() + 30
            while _listeners(site) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _listeners(site) == 2  # one per worker (INSIGNIA_WORKERS=2)
        warm = {_page_now(port, award["id"]) for _ in range(40)}  # every worker renders, keeps and re-serves it
        assert len(warm) == 1

        api.request("POST", f"/api/v1/awards/{award['id']}/revoke", body=json.dumps({"reason": "Issued twice."}),
                    headers=auth)
        answer = api.getresponse()
        assert answer.status == 200, answer.read()
        answer.read()
        api.close()
        deadline, in_a_row = time.monotonic() + 15, 0
        while in_a_row < 40:  # then every worker has shown it (40 new connections over 2 workers)
            assert time.monotonic() < deadline, "a worker still serves the page from before the revocation"
            page = _page_now(port, award["id"])
            in_a_row = in_a_row + 1 if page not in warm and b"revoked" in page.lower() else 0
            if not in_a_row:
                time.sleep(0.05)
