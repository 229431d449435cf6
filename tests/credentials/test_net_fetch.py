"""The hardened fetcher (``insignia.net.fetch``) against real local servers: plain http and https with a
certificate made here, resolvers injected to play DNS (private answers, rebinding), redirects, size caps,
slow servers, and the cache. No traffic leaves this machine: every connection that is made goes to 127.0.0.1,
and every other address is refused before a socket is opened.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from insignia.credentials.errors import FetchError
from insignia.credentials.verify.pipeline import Verifier
from insignia.net.fetch import ACCEPT, USER_AGENT, FetchCache, HttpFetcher, freshness, request, vet_url

Route = Callable[[BaseHTTPRequestHandler], None]


# == servers ====================================================================================================


class Server:
    """A threaded HTTP(S) server on 127.0.0.1 answering ``routes[path](handler)``; records every request."""

    def __init__(self, routes: dict[str, Route], *, tls: ssl.SSLContext | None = None) -> None:
        self.routes = routes
        self.requests: list[dict[str, Any]] = []
        self.sni: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                        "local": self.connection.getsockname()[0]})
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    send(self, 404, b"not here")
                    return
                with contextlib.suppress(OSError):  # the fetcher hung up on a body it did not want: the point
                    route(self)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                server.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                        "local": self.connection.getsockname()[0], "body": self.rfile.read(length)})
                with contextlib.suppress(OSError):
                    server.routes[self.path](self)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: self.sni.append(name)  # type: ignore[assignment]
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None
         ) -> None:
    handler.send_response(status)
    for name, value in {"Content-Type": "application/json", "Content-Length": str(len(body)),
                        **(headers or {})}.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def body(data: bytes, headers: dict[str, str] | None = None) -> Route:
    return lambda h: send(h, 200, data, headers)


def redirect(location: str, status: int = 302) -> Route:
    return lambda h: send(h, status, b"", {"Location": location})


class Certificate:
    """A self-signed certificate for some host names (and 127.0.0.1), and the contexts that use it."""

    def __init__(self, *names: str) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.pem = cert.public_bytes(serialization.Encoding.PEM)
        self.key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())

    def server_context(self, tmp_path: Any) -> ssl.SSLContext:
        cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
        cert_file.write_bytes(self.pem)
        key_file.write_bytes(self.key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.pem.decode())


class Dns:
    """An injected resolver: ``answers[host]`` is a list, or a function of how many times it was asked."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answer = self.answers.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answer(self.calls.count(host)) if callable(answer) else list(answer)


@pytest.fixture
def served() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(routes: dict[str, Route], *, tls: ssl.SSLContext | None = None) -> Server:
        server = Server(routes, tls=tls).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()


def loopback_fetcher(**options: Any) -> HttpFetcher:
    return HttpFetcher(allow_loopback=True, **options)


def refused(fetcher: Callable[[str], bytes], url: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetcher(url)
    return info.value


# == the scheme and the address =================================================================================


def test_http_to_loopback_works_only_when_allowed(served) -> None:
    server = served({"/doc.json": body(b'{"ok": true}')})
    assert loopback_fetcher()(server.url("/doc.json")) == b'{"ok": true}'
    [request] = server.requests
    assert request["headers"]["Accept"] == ACCEPT
    assert "application/ld+json" in request["headers"]["Accept"]
    assert request["headers"]["User-Agent"] == USER_AGENT
    assert request["headers"]["Host"] == f"127.0.0.1:{server.port}"

    error = refused(HttpFetcher(), server.url("/doc.json"))
    assert error.code == "https_required"
    assert "must use https" in error.message
    assert len(server.requests) == 1  # refused without connecting


def test_http_to_a_public_name_is_refused_even_in_development() -> None:
    dns = Dns({"badges.example.org": ["93.184.216.34"]})
    error = refused(loopback_fetcher(resolver=dns), "http://badges.example.org/a.json")
    assert error.code == "https_required"
    assert dns.calls == []  # refused before any lookup


def test_http_to_localhost_must_really_be_loopback(served) -> None:
    server = served({"/a": body(b"local")})
    assert loopback_fetcher(resolver=Dns({"localhost": ["127.0.0.1"]}))(server.url("/a", "localhost")) == b"local"
    error = refused(loopback_fetcher(resolver=Dns({"localhost": ["10.1.1.1"]})), server.url("/a", "localhost"))
    assert error.code == "address_forbidden"
    assert "10.1.1.1 is a private address" in error.message


@pytest.mark.parametrize(("url", "said"), [
    ("https://127.0.0.1/x", "127.0.0.1 is a loopback address"),
    ("https://127.1.2.3:8443/x", "127.1.2.3 is a loopback address"),
    ("https://10.20.30.40/x", "10.20.30.40 is a private address"),
    ("https://172.16.5.4/x", "172.16.5.4 is a private address"),
    ("https://192.168.1.1/x", "192.168.1.1 is a private address"),
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("https://100.64.0.1/x", "100.64.0.1 is a carrier-grade NAT (shared) address"),
    ("https://0.0.0.0/x", "0.0.0.0 is an unspecified address"),
    ("https://224.0.0.251/x", "224.0.0.251 is a multicast address"),
    ("https://240.0.0.1/x", "240.0.0.1 is a reserved address"),
    ("https://192.0.2.10/x", "192.0.2.10 is a special-purpose (non-public) address"),
    ("https://[::1]/x", "::1 is a loopback address"),
    ("https://[fe80::1]/x", "fe80::1 is a link-local address"),
    ("https://[fd12:3456::1]/x", "fd12:3456::1 is a unique-local address"),
    ("https://[ff02::1]/x", "ff02::1 is a multicast address"),
    ("https://[::ffff:127.0.0.1]/x", "::ffff:7f00:1 is an IPv6 address carrying 127.0.0.1, a loopback address"),
    ("https://[::ffff:169.254.169.254]/x", "carrying 169.254.169.254, a link-local address"),
    ("https://[64:ff9b::a9fe:a9fe]/x", "carrying 169.254.169.254, a link-local address"),  # NAT64
    ("https://[2002:a00:1::1]/x", "carrying 10.0.0.1, a private address"),  # 6to4
])
def test_private_and_special_addresses_are_refused(url: str, said: str) -> None:
    dns = Dns({})
    error = refused(HttpFetcher(resolver=dns), url)
    assert error.code == "address_forbidden"
    assert error.message.startswith("refused: ")
    assert said in error.message
    assert dns.calls == []  # a literal address is never looked up


def test_loopback_stays_refused_for_https_too_unless_allowed(served) -> None:
    server = served({"/a": body(b"x")})
    error = refused(HttpFetcher(), server.url("/a").replace("http://", "https://"))
    assert "127.0.0.1 is a loopback address" in error.message
    assert server.requests == []


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    dns = Dns({"intranet.example.org": ["10.0.0.7"]})
    error = refused(HttpFetcher(resolver=dns), "https://intranet.example.org/badge.json")
    assert error.code == "address_forbidden"
    assert error.message.startswith("refused: 10.0.0.7 is a private address (intranet.example.org resolves to it)")
    # one private answer among public ones is enough to refuse the name
    dns = Dns({"mixed.example.org": ["93.184.216.34", "169.254.169.254"]})
    error = refused(HttpFetcher(resolver=dns), "https://mixed.example.org/")
    assert "169.254.169.254 is a link-local address" in error.message


def test_dns_failures_and_odd_urls_are_fetch_errors() -> None:
    fetch = HttpFetcher(resolver=Dns({}))
    assert refused(fetch, "https://nowhere.invalid/").code == "dns_failed"
    assert refused(HttpFetcher(resolver=Dns({"empty.example": []})), "https://empty.example/").code == "dns_failed"
    for url in ("ftp://example.org/x", "https://", "file:///etc/passwd", "gopher://127.0.0.1:70/",
                "https://example.org:99999/", "not a url", "https://ex ample.org/"):
        assert refused(fetch, url).code == "url_invalid", url
    error = refused(fetch, "https://user:secret@example.org/")
    assert "user name or password" in error.message


def test_allow_private_is_a_narrow_switch() -> None:
    target = vet_url("https://10.1.2.3/a", allow_private=True)
    assert target.addresses == ("10.1.2.3",)
    with pytest.raises(FetchError, match="link-local"):
        vet_url("https://169.254.169.254/", allow_private=True)
    with pytest.raises(FetchError, match="loopback"):
        vet_url("https://127.0.0.1/", allow_private=True)


# == pinning: TLS by name, connection to the vetted address ======================================================


def test_https_connects_to_the_vetted_address_with_sni_and_host_of_the_name(served, tmp_path, monkeypatch) -> None:
    cert = Certificate("badges.test")
    server = served({"/issuer.json": body(b'{"id": "issuer"}')}, tls=cert.server_context(tmp_path))
    dns = Dns({"badges.test": ["127.0.0.1"]})
    fetch = loopback_fetcher(resolver=dns, ssl_context=cert.client_context())
    asked_the_system: list[Any] = []

    def no_system_dns(*args: Any, **kwargs: Any) -> Any:
        asked_the_system.append(args)
        raise socket.gaierror(socket.EAI_NONAME, "the fetcher must not look names up again")

    monkeypatch.setattr(socket, "getaddrinfo", no_system_dns)
    assert fetch(server.url("/issuer.json", "badges.test")) == b'{"id": "issuer"}'
    assert asked_the_system == []
    assert dns.calls == ["badges.test"]
    [request] = server.requests
    assert request["headers"]["Host"] == f"badges.test:{server.port}"
    assert server.sni == ["badges.test"]


def test_dns_rebinding_cannot_move_the_connection(served, tmp_path) -> None:
    """The resolver answers an allowed address first and a private one afterwards: only the first is used."""
    cert = Certificate("rebind.test")
    server = served({"/status.json": body(b'{"list": 1}')}, tls=cert.server_context(tmp_path))
    dns = Dns({"rebind.test": lambda n: ["127.0.0.1"] if n == 1 else ["10.0.0.1"]})
    fetch = loopback_fetcher(resolver=dns, ssl_context=cert.client_context(), cache=None)
    assert fetch(server.url("/status.json", "rebind.test")) == b'{"list": 1}'
    assert dns.calls == ["rebind.test"]  # asked once, and the connection went where that answer said
    assert [r["local"] for r in server.requests] == ["127.0.0.1"]
    # the next fetch asks again, gets the private answer, and is refused before connecting
    error = refused(fetch, server.url("/status.json", "rebind.test"))
    assert "10.0.0.1 is a private address (rebind.test resolves to it)" in error.message
    assert len(server.requests) == 1


def test_the_certificate_must_match_the_name_not_the_address(served, tmp_path) -> None:
    cert = Certificate("other.test")
    server = served({"/a": body(b"x")}, tls=cert.server_context(tmp_path))
    fetch = loopback_fetcher(resolver=Dns({"badges.test": ["127.0.0.1"]}), ssl_context=cert.client_context())
    error = refused(fetch, server.url("/a", "badges.test"))
    assert error.code == "tls_failed"
    assert "badges.test" in error.message
    # and an untrusted certificate is refused with the default trust store
    fetch = loopback_fetcher(resolver=Dns({"other.test": ["127.0.0.1"]}))
    assert refused(fetch, server.url("/a", "other.test")).code == "tls_failed"
    assert server.requests == []


# == redirects ==================================================================================================


def test_redirects_are_followed_and_each_hop_is_checked(served) -> None:
    server = served({"/old": redirect("/middle", 301), "/middle": redirect("/new", 308), "/new": body(b"moved")})
    assert loopback_fetcher()(server.url("/old")) == b"moved"
    assert [r["path"] for r in server.requests] == ["/old", "/middle", "/new"]


@pytest.mark.parametrize(("location", "said"), [
    ("https://169.254.169.254/latest/meta-data/", "refused: 169.254.169.254 is a link-local address"),
    ("https://10.0.0.1/admin", "refused: 10.0.0.1 is a private address"),
    ("https://metadata.internal/", "refused: 169.254.169.254 is a link-local address (metadata.internal resolves"),
    ("https://[::ffff:a9fe:a9fe]/", "carrying 169.254.169.254"),
    ("http://example.org/", "must use https"),
])
def test_a_redirect_to_a_forbidden_target_is_refused(served, location: str, said: str) -> None:
    server = served({"/hop": redirect(location)})
    fetch = loopback_fetcher(resolver=Dns({"metadata.internal": ["169.254.169.254"], "example.org": ["8.8.8.8"]}))
    error = refused(fetch, server.url("/hop"))
    assert said in error.message
    assert [r["path"] for r in server.requests] == ["/hop"]


def test_redirects_are_capped(served) -> None:
    routes: dict[str, Route] = {f"/r{n}": redirect(f"/r{n + 1}") for n in range(10)}
    server = served(routes)
    error = refused(loopback_fetcher(max_redirects=3), server.url("/r0"))
    assert error.code == "too_many_redirects"
    assert "more than 3 times" in error.message
    assert [r["path"] for r in server.requests] == ["/r0", "/r1", "/r2", "/r3"]


def test_a_redirect_loop_stops_at_once(served) -> None:
    server = served({"/a": redirect("/b"), "/b": redirect("/a")})
    error = refused(loopback_fetcher(), server.url("/a"))
    assert error.code == "too_many_redirects"
    assert "loop" in error.message
    assert len(server.requests) == 2


def test_a_redirect_without_location_is_an_error(served) -> None:
    server = served({"/x": lambda h: send(h, 302)})
    assert refused(loopback_fetcher(), server.url("/x")).code == "redirect_invalid"


# == answers, sizes and time ====================================================================================


@pytest.mark.parametrize("status", [404, 410, 500, 204])
def test_non_success_answers_are_errors_with_the_status(served, status: int) -> None:
    server = served({"/gone": lambda h: send(h, status, b"" if status == 204 else b"nope")})
    if status == 204:  # 2xx: an empty body, not an error
        assert loopback_fetcher()(server.url("/gone")) == b""
        return
    error = refused(loopback_fetcher(), server.url("/gone"))
    assert error.status == status
    assert error.code == f"http_{status}"
    assert f"answered HTTP {status}" in error.message


def test_a_revoked_hosted_assertion_reads_as_revoked_through_the_verifier(served) -> None:
    server = served({"/assertions/1": lambda h: send(h, 410, b"{}")})
    report = Verifier(fetch=loopback_fetcher(), allow_http_loopback=True).verify(server.url("/assertions/1"))
    assert str(report.verdict) == "invalid"
    assert any(c.id == "status" and c.code == "revoked" for c in report.checks)


def test_the_verifier_reports_an_ssrf_url_as_not_fetched() -> None:
    report = Verifier(fetch=HttpFetcher()).verify("https://169.254.169.254/latest/meta-data/")
    assert str(report.verdict) != "valid"
    [fmt] = [c for c in report.checks if c.id == "format"]
    assert fmt.code == "address_forbidden"
    assert "169.254.169.254 is a link-local address" in fmt.message


def test_an_oversized_body_is_refused_by_its_content_length(served) -> None:
    def huge(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(50 * 1024 * 1024))
        h.end_headers()
        h.wfile.write(b"x" * 1024)

    server = served({"/big": huge})
    error = refused(loopback_fetcher(max_bytes=64 * 1024), server.url("/big"))
    assert error.code == "response_too_large"
    assert "larger than 65,536 bytes" in error.message


@pytest.mark.parametrize("framing", ["close", "chunked"])
def test_an_oversized_body_without_content_length_is_refused_while_reading(served, framing: str) -> None:
    sent: list[int] = []

    def stream(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        if framing == "chunked":
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        for _ in range(200):  # up to 3.2 MB, stopped by the fetcher hanging up
            piece = b"y" * 16384
            h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if framing == "chunked" else piece)
            sent.append(len(piece))
        if framing == "chunked":
            h.wfile.write(b"0\r\n\r\n")

    server = served({"/stream": stream})
    error = refused(loopback_fetcher(max_bytes=100_000), server.url("/stream"))
    assert error.code == "response_too_large"
    # a body just under the cap goes through
    server.routes["/fits"] = body(b"z" * 100_000, {"Content-Length": "100000"})
    assert len(loopback_fetcher(max_bytes=100_000)(server.url("/fits"))) == 100_000


def test_a_server_that_does_not_answer_times_out(served) -> None:
    release = threading.Event()

    def silent(h: BaseHTTPRequestHandler) -> None:
        release.wait(5)

    server = served({"/slow": silent})
    started = time.monotonic()
    try:
        error = refused(loopback_fetcher(timeout=0.3), server.url("/slow"))
    finally:
        release.set()
    assert error.code == "fetch_timeout"
    assert "stopped answering" in error.message
    assert time.monotonic() - started < 3


def test_a_trickling_server_hits_the_overall_deadline(served) -> None:
    stop = threading.Event()

    def trickle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(100):  # one byte every 50 ms: each read is quick, the whole never ends in time
            if stop.is_set():
                return
            h.wfile.write(b"a")
            h.wfile.flush()
            time.sleep(0.05)

    server = served({"/trickle": trickle})
    started = time.monotonic()
    try:
        error = refused(loopback_fetcher(timeout=1.0, deadline=0.6), server.url("/trickle"))
    finally:
        stop.set()
    assert error.code == "fetch_timeout"
    assert "longer than the time allowed" in error.message
    assert time.monotonic() - started < 3


def test_a_body_shorter_than_its_content_length_is_an_error(served) -> None:
    def short(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "500")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(b"only this")
        h.close_connection = True

    server = served({"/short": short})
    error = refused(loopback_fetcher(), server.url("/short"))
    assert error.code == "fetch_failed"
    assert "broke off after 9 of 500 bytes" in error.message


def test_a_refused_connection_is_a_fetch_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = refused(loopback_fetcher(), f"http://127.0.0.1:{port}/")
    assert error.code == "fetch_failed"
    assert "could not be reached" in error.message


# == the cache ==================================================================================================


def test_max_age_is_honoured(served) -> None:
    server = served({"/ctx": body(b"v1", {"Cache-Control": "public, max-age=600"})})
    fetch = loopback_fetcher()
    assert fetch(server.url("/ctx")) == b"v1"
    server.routes["/ctx"] = body(b"v2")
    assert fetch(server.url("/ctx")) == b"v1"
    assert len(server.requests) == 1


@pytest.mark.parametrize("header", [{"Cache-Control": "no-store"}, {"Cache-Control": "no-cache"},
                                    {"Cache-Control": "max-age=0"}, {"Cache-Control": "max-age=banana"},
                                    {"Expires": "Thu, 01 Jan 1970 00:00:00 GMT"}, {"Expires": "0"}])
def test_uncacheable_answers_are_fetched_again(served, header: dict[str, str]) -> None:
    server = served({"/live": body(b"v1", header)})
    fetch = loopback_fetcher()
    assert fetch(server.url("/live")) == b"v1"
    server.routes["/live"] = body(b"v2", header)
    assert fetch(server.url("/live")) == b"v2"
    assert len(server.requests) == 2


def test_errors_are_not_cached(served) -> None:
    server = served({"/flaky": lambda h: send(h, 503, b"", {"Cache-Control": "max-age=600"})})
    fetch = loopback_fetcher()
    assert refused(fetch, server.url("/flaky")).status == 503
    server.routes["/flaky"] = body(b"ok")
    assert fetch(server.url("/flaky")) == b"ok"


def test_freshness_rules() -> None:
    now = time.time()
    later = format_datetime(dt.datetime.fromtimestamp(now + 120, dt.UTC), usegmt=True)
    plain = {"default_ttl": 300.0, "max_ttl": 3600.0}
    assert freshness({}, **plain) == 300.0
    assert freshness({"Cache-Control": "max-age=60"}, **plain) == 60.0
    assert freshness({"cache-control": "MAX-AGE=99999999"}, **plain) == 3600.0  # capped
    assert freshness({"Cache-Control": "private, max-age=\"30\""}, **plain) == 30.0
    assert freshness({"Cache-Control": "max-age=60, no-store"}, **plain) == 0.0
    assert freshness({"Cache-Control": "no-cache"}, **plain) == 0.0
    assert freshness({"Cache-Control": "max-age=60", "Expires": later}, **plain) == 60.0  # max-age wins
    assert 110 < freshness({"Expires": later}, **plain, now=now) <= 120
    assert 110 < freshness({"Expires": later, "Date": format_datetime(
        dt.datetime.fromtimestamp(now, dt.UTC), usegmt=True)}, **plain) <= 120
    assert freshness({"Expires": "garbage"}, **plain) == 0.0


def test_the_cache_expires_and_is_bounded() -> None:
    clock = [1000.0]
    cache = FetchCache(max_entries=3, max_bytes=100, clock=lambda: clock[0])
    cache.put("a", b"1" * 10, ttl=60)
    assert cache.get("a") == b"1" * 10
    clock[0] += 61
    assert cache.get("a") is None
    assert len(cache) == 0
    for name in "bcde":
        cache.put(name, b"x", ttl=60)
    assert len(cache) == 3
    assert cache.get("b") is None  # the least recently used went first
    cache.get("c")
    cache.put("f", b"y" * 90, ttl=60)  # over the byte budget: d and e go, c was used last
    assert cache.get("f") == b"y" * 90
    assert cache.size_bytes <= 100
    cache.put("g", b"z" * 101, ttl=60)  # bigger than the whole cache: not kept
    assert cache.get("g") is None
    cache.put("h", b"w", ttl=0)
    assert cache.get("h") is None


def test_the_cache_is_thread_safe() -> None:
    cache = FetchCache(max_entries=50, max_bytes=5000)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(2000):
                key = f"k{(n * 7 + i) % 120}"
                cache.put(key, bytes(i % 200), ttl=60)
                cache.get(key)
        except BaseException as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) <= 50
    assert cache.size_bytes <= 5000
    assert cache.size_bytes == sum(len(cache.get(k) or b"") for k in [f"k{i}" for i in range(120)])


def test_fetchers_can_share_a_cache_or_have_none(served) -> None:
    server = served({"/d": body(b"doc")})
    shared = FetchCache()
    assert loopback_fetcher(cache=shared)(server.url("/d")) == b"doc"
    assert loopback_fetcher(cache=shared)(server.url("/d")) == b"doc"
    assert len(server.requests) == 1
    uncached = loopback_fetcher(cache=None)
    uncached(server.url("/d"))
    uncached(server.url("/d"))
    assert len(server.requests) == 3


# == one pinned request, as the webhook sender uses it ==========================================================


def test_a_pinned_post_excerpts_the_answer_and_follows_no_redirect(served) -> None:
    server = served({"/hook": lambda h: send(h, 200, b"r" * 5000, {"Content-Type": "text/plain"}),
                     "/moved": redirect("https://169.254.169.254/")})
    target = vet_url(server.url("/hook"), allow_loopback=True, resolver=Dns({}))
    assert target.addresses == ("127.0.0.1",)
    answer = request(target, method="POST", body=b'{"event": 1}', headers={"Content-Type": "application/json"},
                     max_bytes=1000, connect_timeout=2, read_timeout=2, deadline=time.monotonic() + 5,
                     refuse_oversize=False)
    assert (answer.status, answer.body, answer.address) == (200, b"r" * 1000, "127.0.0.1")
    assert server.requests[0]["body"] == b'{"event": 1}'
    moved = request(vet_url(server.url("/moved"), allow_loopback=True), method="POST", body=b"{}",
                    max_bytes=1000, connect_timeout=2, read_timeout=2, deadline=time.monotonic() + 5)
    assert moved.status == 302  # handed back, never followed
    assert moved.headers["location"] == "https://169.254.169.254/"
    assert len(server.requests) == 2
