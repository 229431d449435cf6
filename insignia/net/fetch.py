"""A careful HTTP fetcher for verification: https only, public addresses only, small and quick.

The kernel takes any ``fetch(url) -> bytes`` callable; this is the one the CLI and the platform
hand it. It refuses plain http (except to loopback when development allows it), refuses
private, link-local and loopback targets in production (SSRF), follows at most a few
redirects, caps the response size and time, and maps every failure to ``FetchError``.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message

from insignia.credentials.errors import FetchError

USER_AGENT = "Insignia-Verifier/0.1 (+https://github.com/insignia)"
ACCEPT = "application/ld+json, application/json;q=0.9, text/plain;q=0.8, image/png;q=0.7, image/svg+xml;q=0.7"


def _is_loopback_host(host: str) -> bool:
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


@dataclass
class HttpFetcher:
    """Callable ``fetch(url) -> bytes``; see the module docstring for the rules it enforces."""

    timeout: float = 5.0
    max_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 3
    #: Development only: allow http:// and connections to loopback addresses.
    allow_loopback: bool = False
    #: Development/test only: allow private-network targets (never in production).
    allow_private: bool = False
    _opener: urllib.request.OpenerDirector = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._opener = urllib.request.build_opener(_NoRedirect())

    def _check_target(self, url: str) -> urllib.parse.SplitResult:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme not in ("https", "http") or not host:
            raise FetchError(f"{url} is not an http(s) URL.", code="url_invalid")
        loopback = _is_loopback_host(host)
        if parts.scheme == "http" and not (loopback and self.allow_loopback):
            raise FetchError(f"{url} must use https.", code="https_required")
        try:
            infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
        except (OSError, UnicodeError) as exc:
            raise FetchError(f"The host {host} cannot be found.", code="dns_failed") from exc
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if address.is_loopback and self.allow_loopback:
                continue
            if address.is_private and self.allow_private and not address.is_loopback:
                continue
            if (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
                    or address.is_reserved or address.is_unspecified):
                raise FetchError(
                    f"{url} points at a private or local address ({address}); refusing to fetch it.",
                    code="address_forbidden",
                )
        return parts

    def __call__(self, url: str) -> bytes:
        current = url
        for _ in range(self.max_redirects + 1):
            self._check_target(current)
            # the scheme was checked above: only http(s) reaches urlopen
            request = urllib.request.Request(  # noqa: S310
                current, headers={"User-Agent": USER_AGENT, "Accept": ACCEPT}
            )
            try:
                response = self._opener.open(request, timeout=self.timeout)
            except urllib.error.HTTPError as exc:
                if exc.code in (301, 302, 303, 307, 308):
                    location = exc.headers.get("Location")
                    if not location:
                        raise FetchError(f"{current} redirected without a Location.", code="redirect_invalid") from exc
                    current = urllib.parse.urljoin(current, location)
                    continue
                raise FetchError(f"{current} answered HTTP {exc.code}.", code=f"http_{exc.code}",
                                 status=exc.code) from exc
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise FetchError(f"{current} could not be reached: {exc}.", code="fetch_failed") from exc
            with response:
                headers: Message = response.headers
                declared = headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchError(f"{current} is larger than {self.max_bytes:,} bytes.", code="response_too_large")
                body = response.read(self.max_bytes + 1)
            if len(body) > self.max_bytes:
                raise FetchError(f"{current} is larger than {self.max_bytes:,} bytes.", code="response_too_large")
            return body
        raise FetchError(f"{url} redirected more than {self.max_redirects} times.", code="too_many_redirects")
