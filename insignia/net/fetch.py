"""A careful HTTP fetcher for verification: https only, public addresses only, small and quick.

The kernel takes any ``fetch(url) -> bytes`` callable; this is the one the CLI and the platform hand it
(did:web documents, status lists, OB 2.0 hosted documents, images). Every rule is about not letting a
credential someone uploads make this server do something for them (SSRF):

* https only; plain http only to loopback, and only when development allows it (``allow_loopback``);
* the host is resolved once, every address is vetted (private, link-local, loopback, unique-local,
  multicast, reserved, carrier-grade NAT, IPv4 inside IPv6, …), and the connection goes to the vetted
  address itself — DNS is not asked again, so a rebinding answer cannot slip in between check and
  connect — while TLS still checks the certificate for the host name (SNI and ``Host`` stay the name);
* redirects are followed by hand, at most ``max_redirects``, each hop checked like the first;
* the body is capped while it streams (refused early by ``Content-Length``); connect and read timeouts
  are short and an overall deadline covers the whole fetch, redirects included;
* a non-2xx answer is a ``FetchError`` carrying the status (an OB 2.0 assertion answering 410 is revoked);
* answers are cached for as long as their ``Cache-Control``/``Expires`` allow (``FetchCache``).

Every failure is the kernel's ``FetchError`` with a message that says what happened.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC

from insignia.credentials.errors import FetchError

USER_AGENT = "Insignia-Verifier/0.1 (+https://github.com/insignia)"
ACCEPT = ("application/ld+json, application/json;q=0.9, application/did+json;q=0.9, application/vc+jwt;q=0.8, "
          "text/plain;q=0.5, image/png;q=0.7, image/svg+xml;q=0.7")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024

#: ``resolver(host, port) -> [address, ...]``: how a host name becomes addresses (replaceable in tests).
Resolver = Callable[[str, int], list[str]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_PRIVATE_V4 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system gives for ``host`` (TCP), in its order, without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if address not in seen:
            seen.append(address)
    return seen


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in _NAT64) or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_kind(address: Address) -> str | None:
    """Why ``address`` is not a public unicast address ("a link-local address", …), or None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            kind = address_kind(inner)
            if kind is not None:
                return f"an IPv6 address carrying {inner}, {kind}"
            if address.ipv4_mapped is None:  # 6to4, Teredo, NAT64: tunnels we have no reason to use
                return "an IPv6 transition address"
            return None
        if address in _UNIQUE_LOCAL:
            return "a unique-local address"
        if address in _SITE_LOCAL:
            return "a site-local address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address):
        if address in _CGNAT:
            return "a carrier-grade NAT (shared) address"
        if any(address in net for net in _PRIVATE_V4):
            return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private or not address.is_global:
        return "a special-purpose (non-public) address"
    return None


def is_loopback_host(host: str) -> bool:
    """A host name or literal that can only mean this machine."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _ip_literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _allowed_anyway(address: Address, *, allow_loopback: bool, allow_private: bool) -> bool:
    """Development and test switches: loopback, and (never in production) private networks."""
    if address.is_loopback:
        return allow_loopback
    return allow_private and address_kind(address) in ("a private address", "a unique-local address")


@dataclass(frozen=True)
class Target:
    """A URL that passed the checks, with the addresses it may be reached at (the pin)."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def vet_url(url: str, *, allow_loopback: bool = False, allow_private: bool = False,
            resolver: Resolver = system_resolver) -> Target:
    """Check ``url`` against the rules and resolve it once; raises ``FetchError`` saying why not."""
    if not isinstance(url, str) or len(url) > 8192:
        raise FetchError("Expected a URL no longer than 8,192 characters.", code="url_invalid")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"{url!r} is not a valid URL: {exc}.", code="url_invalid") from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".") if parts.hostname not in (None, "") else ""
    if scheme not in ("https", "http") or not host:
        raise FetchError(f"{url} is not an http(s) URL.", code="url_invalid")
    if parts.username is not None or parts.password is not None:
        raise FetchError(f"refused: {url} carries a user name or password.", code="url_invalid")
    if any(ord(c) < 33 or c == "\x7f" for c in url):
        raise FetchError(f"refused: {url!r} contains spaces or control characters.", code="url_invalid")
    loopback_name = is_loopback_host(host)
    if scheme == "http" and not (allow_loopback and loopback_name):
        raise FetchError(f"refused: {url} must use https (plain http only reaches loopback in development).",
                         code="https_required")
    port = port or (443 if scheme == "https" else 80)
    literal = _ip_literal(host)
    if literal is not None:
        found = [str(literal)]
    else:
        try:
            found = list(resolver(host, port))
        except (OSError, UnicodeError, ValueError) as exc:
            raise FetchError(f"The host {host} cannot be found.", code="dns_failed") from exc
        if not found:
            raise FetchError(f"The host {host} has no address.", code="dns_failed")
    addresses: list[str] = []
    for raw in found:
        try:
            address = ipaddress.ip_address(str(raw).split("%", 1)[0])
        except ValueError as exc:
            raise FetchError(f"The host {host} resolved to {raw!r}, which is not an address.",
                             code="dns_failed") from exc
        kind = address_kind(address)
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        plain = mapped or address  # connect to an IPv4-mapped address over IPv4
        if kind is not None and _allowed_anyway(plain, allow_loopback=allow_loopback, allow_private=allow_private):
            kind = None
        if kind is not None:
            via = "" if literal is not None else f" ({host} resolves to it)"
            raise FetchError(f"refused: {address} is {kind}{via}; it is not fetched.", code="address_forbidden")
        if scheme == "http" and not plain.is_loopback:
            raise FetchError(f"refused: {host} is not on this machine ({address}), so plain http is not allowed.",
                             code="https_required")
        if str(plain) not in addresses:
            addresses.append(str(plain))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(url=url, scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))


# == connections pinned to the vetted address ===================================================================


def _open_socket(address: str, port: int, timeout: float) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((address, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """``HTTPConnection`` to ``host`` (for ``Host``) that connects to ``address`` without asking DNS again."""

    def __init__(self, host: str, port: int, *, address: str, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(host, port, timeout=read_timeout)
        self.pinned_address = address
        self.connect_timeout = connect_timeout
        self.raw_sock: socket.socket | None = None

    def connect(self) -> None:
        sock = _open_socket(self.pinned_address, self.port, self.connect_timeout)
        self.raw_sock = sock.dup()  # a second handle to shut the connection down at the deadline
        sock.settimeout(self.timeout)
        self.sock = self._wrap(sock)

    def _wrap(self, sock: socket.socket) -> socket.socket:
        return sock


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """The same over TLS: SNI and certificate verification use the host name, not the pinned address."""

    default_port = http.client.HTTPS_PORT

    def __init__(self, host: str, port: int, *, address: str, connect_timeout: float, read_timeout: float,
                 context: ssl.SSLContext) -> None:
        super().__init__(host, port, address=address, connect_timeout=connect_timeout, read_timeout=read_timeout)
        self.ssl_context = context

    def _wrap(self, sock: socket.socket) -> socket.socket:
        sock.settimeout(self.connect_timeout)
        wrapped = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        wrapped.settimeout(self.timeout)
        return wrapped


# == the cache ==================================================================================================


def _parse_cache_control(value: str) -> dict[str, str | None]:
    directives: dict[str, str | None] = {}
    for part in value.split(","):
        name, sep, arg = part.strip().partition("=")
        if name:
            directives[name.strip().lower()] = arg.strip().strip('"') if sep else None
    return directives


def freshness(headers: Mapping[str, str], *, default_ttl: float, max_ttl: float, now: float | None = None
              ) -> float:
    """How many seconds an answer may be reused (0: not at all), from ``Cache-Control`` then ``Expires``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    directives = _parse_cache_control(lowered.get("cache-control", ""))
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    if "max-age" in directives:
        try:
            return float(max(0, min(int(directives["max-age"] or ""), max_ttl)))
        except ValueError:
            return 0.0  # a max-age we cannot read: do not guess
    if "expires" in lowered:
        try:
            expires = email.utils.parsedate_to_datetime(lowered["expires"])
        except (TypeError, ValueError, IndexError):
            return 0.0  # RFC 9111: an invalid Expires means already expired
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        reference = now if now is not None else time.time()
        if "date" in lowered:
            try:
                date = email.utils.parsedate_to_datetime(lowered["date"])
                if date.tzinfo is None:
                    date = date.replace(tzinfo=UTC)
                reference = date.timestamp()
            except (TypeError, ValueError, IndexError):
                pass
        return max(0.0, min(expires.timestamp() - reference, max_ttl))
    return float(default_ttl)


class FetchCache:
    """A thread-safe LRU of fetched bodies with an expiry each, bounded in entries and in bytes."""

    def __init__(self, *, max_entries: int = 256, max_bytes: int = 16 * 1024 * 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.clock = clock
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, url: str) -> bytes | None:
        with self._lock:
            item = self._items.get(url)
            if item is None:
                return None
            expires, body = item
            if expires <= self.clock():
                self._drop(url)
                return None
            self._items.move_to_end(url)
            return body

    def put(self, url: str, body: bytes, ttl: float) -> None:
        if ttl <= 0 or len(body) > self.max_bytes:
            return
        with self._lock:
            if url in self._items:
                self._drop(url)
            self._items[url] = (self.clock() + ttl, body)
            self._bytes += len(body)
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                self._drop(next(iter(self._items)))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def _drop(self, url: str) -> None:
        _, body = self._items.pop(url)
        self._bytes -= len(body)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def size_bytes(self) -> int:
        return self._bytes


# == the fetcher ================================================================================================


@dataclass
class Answer:
    """One HTTP answer: status, headers (lower-case names) and at most ``max_bytes`` of body."""

    status: int
    headers: dict[str, str]
    body: bytes
    address: str


class _Deadline:
    """Shuts a connection down when the overall time is up (a trickling server cannot hold us)."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.expired = False
        self._timer: threading.Timer | None = None

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return

        def expire() -> None:
            self.expired = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        self._timer = threading.Timer(max(0.0, self.remaining()), expire)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def request(target: Target, *, method: str = "GET", body: bytes | None = None,
            headers: Mapping[str, str] | None = None, max_bytes: int, connect_timeout: float,
            read_timeout: float, deadline: float, ssl_context: ssl.SSLContext | None = None,
            refuse_oversize: bool = True) -> Answer:
    """One request to a vetted ``target``, connecting only to its pinned addresses; no redirects followed.

    Reads at most ``max_bytes`` of the body: with ``refuse_oversize`` a longer body is a ``FetchError``,
    otherwise it is cut (a webhook receiver's answer is only excerpted). ``deadline`` is a ``time.monotonic``
    instant after which the connection is shut.
    """
    clock = _Deadline(deadline)
    last_error: BaseException | None = None
    for address in target.addresses:
        if clock.remaining() <= 0:
            break
        timeout = max(0.05, min(connect_timeout, clock.remaining()))
        read = max(0.05, min(read_timeout, clock.remaining()))
        if target.scheme == "https":
            conn: _PinnedHTTPConnection = _PinnedHTTPSConnection(
                target.host, target.port, address=address, connect_timeout=timeout, read_timeout=read,
                context=ssl_context or ssl.create_default_context())
        else:
            conn = _PinnedHTTPConnection(target.host, target.port, address=address, connect_timeout=timeout,
                                         read_timeout=read)
        try:
            conn.connect()
        except ssl.SSLError as exc:
            conn.close()
            _close(conn.raw_sock)
            raise FetchError(f"{target.url}: the TLS connection to {target.host} ({address}) failed: "
                             f"{getattr(exc, 'reason', None) or exc}.", code="tls_failed") from exc
        except OSError as exc:
            conn.close()
            _close(conn.raw_sock)
            last_error = exc
            continue
        clock.watch(conn.raw_sock)
        try:
            return _exchange(conn, target, address, method, body, headers or {}, max_bytes, clock, refuse_oversize)
        finally:
            clock.stop()
            conn.close()
            _close(conn.raw_sock)
    if clock.remaining() <= 0:
        raise FetchError(f"{target.url} took longer than the time allowed.", code="fetch_timeout")
    if isinstance(last_error, TimeoutError):
        raise FetchError(f"{target.url}: {target.host} did not accept a connection within {connect_timeout:g} s.",
                         code="fetch_timeout") from last_error
    raise FetchError(f"{target.url} could not be reached ({target.host} at {target.addresses[-1]}): "
                     f"{getattr(last_error, 'strerror', None) or last_error}.", code="fetch_failed") from last_error


def _close(sock: socket.socket | None) -> None:
    if sock is not None:
        sock.close()


def _exchange(conn: _PinnedHTTPConnection, target: Target, address: str, method: str, body: bytes | None,
              headers: Mapping[str, str], max_bytes: int, clock: _Deadline, refuse_oversize: bool) -> Answer:
    try:
        conn.request(method, target.path, body=body, headers=dict(headers))
        response = conn.getresponse()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        declared = answer_headers.get("content-length", "")
        too_large = FetchError(f"{target.url} is larger than {max_bytes:,} bytes; refusing it.",
                               code="response_too_large")
        if refuse_oversize and declared.strip().isdigit() and int(declared) > max_bytes:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            if clock.remaining() <= 0:
                raise TimeoutError
            chunk = response.read1(min(CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
        if clock.expired:
            raise TimeoutError
        if (declared.strip().isdigit() and len(data) < min(int(declared), max_bytes + 1)
                and method != "HEAD" and response.status not in (204, 304)):
            raise FetchError(f"{target.url}: the answer from {target.host} broke off after {len(data):,} of "
                             f"{int(declared):,} bytes.", code="fetch_failed")
        if len(data) > max_bytes:
            if refuse_oversize:
                raise too_large
            data = data[:max_bytes]
        return Answer(response.status, answer_headers, data, address)
    except FetchError:
        raise
    except (TimeoutError, OSError, http.client.HTTPException, ValueError) as exc:
        if clock.expired or clock.remaining() <= 0:
            raise FetchError(f"{target.url} took longer than the time allowed; gave up.",
                             code="fetch_timeout") from exc
        if isinstance(exc, TimeoutError):
            raise FetchError(f"{target.url}: {target.host} stopped answering (no data for "
                             f"{conn.timeout:g} s).", code="fetch_timeout") from exc
        raise FetchError(f"{target.url}: the answer from {target.host} broke off: {exc or type(exc).__name__}.",
                         code="fetch_failed") from exc


@dataclass
class HttpFetcher:
    """Callable ``fetch(url) -> bytes``; see the module docstring for the rules it enforces."""

    #: Seconds a read may wait for data (and, unless ``connect_timeout`` says otherwise, a connect).
    timeout: float = 5.0
    max_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 3
    #: Development only: allow http:// and connections to loopback addresses.
    allow_loopback: bool = False
    #: Development/test only: allow private-network targets (never in production).
    allow_private: bool = False
    connect_timeout: float = 3.0
    #: Seconds for a whole fetch, redirects included.
    deadline: float = 10.0
    accept: str = ACCEPT
    #: How host names become addresses; every answer is vetted and the connection pinned to it.
    resolver: Resolver = system_resolver
    #: Trust for https (tests inject one that trusts their own certificate).
    ssl_context: ssl.SSLContext | None = None
    #: ``None`` turns caching off; share one ``FetchCache`` between fetchers to share answers.
    cache: FetchCache | None = field(default_factory=FetchCache)
    #: Seconds to keep an answer that says nothing about caching, and the most any answer is kept.
    default_ttl: float = 300.0
    max_ttl: float = 86400.0

    def __post_init__(self) -> None:
        if self.ssl_context is None:
            self.ssl_context = ssl.create_default_context()

    def vet(self, url: str) -> Target:
        return vet_url(url, allow_loopback=self.allow_loopback, allow_private=self.allow_private,
                       resolver=self.resolver)

    def __call__(self, url: str) -> bytes:
        if self.cache is not None and isinstance(url, str):
            cached = self.cache.get(url)
            if cached is not None:
                return cached
        answer = self.get(url)
        if self.cache is not None:
            self.cache.put(url, answer.body, freshness(answer.headers, default_ttl=self.default_ttl,
                                                       max_ttl=self.max_ttl))
        return answer.body

    def get(self, url: str) -> Answer:
        """Fetch ``url`` following redirects under the rules; the final 2xx answer (never cached here)."""
        deadline = time.monotonic() + self.deadline
        current = url
        seen: list[str] = []
        for _ in range(self.max_redirects + 1):
            target = self.vet(current)
            seen.append(current)
            answer = request(
                target, headers={"User-Agent": USER_AGENT, "Accept": self.accept, "Accept-Encoding": "identity"},
                max_bytes=self.max_bytes, connect_timeout=self.connect_timeout, read_timeout=self.timeout,
                deadline=deadline, ssl_context=self.ssl_context,
            )
            if answer.status in REDIRECTS:
                location = answer.headers.get("location", "").strip()
                if not location:
                    raise FetchError(f"{current} redirected (HTTP {answer.status}) without a Location.",
                                     code="redirect_invalid", status=answer.status)
                current = urllib.parse.urljoin(current, location)
                if current in seen:
                    raise FetchError(f"{url} redirects in a loop (back to {current}).", code="too_many_redirects")
                continue
            if not 200 <= answer.status < 300:
                raise FetchError(f"{current} answered HTTP {answer.status}, not a success.",
                                 code=f"http_{answer.status}", status=answer.status)
            return answer
        raise FetchError(f"{url} redirected more than {self.max_redirects} times; gave up.",
                         code="too_many_redirects")


__all__ = [
    "ACCEPT",
    "USER_AGENT",
    "Answer",
    "FetchCache",
    "HttpFetcher",
    "Resolver",
    "Target",
    "address_kind",
    "freshness",
    "is_loopback_host",
    "request",
    "system_resolver",
    "vet_url",
]
