"""Sends one webhook over HTTP(S), to an address checked at the moment of sending.

The host name is resolved once, every address it resolves to is checked, and the connection goes
to a checked address (the TLS handshake still verifies the certificate for the host name): a DNS
answer that changes between the check and the connect cannot redirect the request. Redirects
are never followed, and every socket operation has a timeout, so a hanging receiver costs one
delivery its timeout and nothing else.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from docjobs.domain.webhooks import UnsafeWebhookUrl, parse_target, refusal

Resolver = Callable[[str, int], list[str]]
RESPONSE_EXCERPT_BYTES = 1024


def resolve_host(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class HttpOutcome:
    status_code: int | None
    duration_ms: float
    error: str | None = None
    response_excerpt: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    def __init__(self, *, allow_loopback: bool = False, timeout: float = 10.0, connect_timeout: float = 3.0,
                 resolver: Resolver = resolve_host) -> None:  # fmt: skip
        self.allow_loopback = allow_loopback
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.resolver = resolver

    def safe_addresses(self, url: str) -> tuple[str, str, int, list[str]]:
        """(scheme, host, port, addresses) of a URL whose every address may be sent to, or
        UnsafeWebhookUrl saying why not."""
        scheme, host, port = parse_target(url)
        try:
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError):
            raise UnsafeWebhookUrl(f"The webhook host {host!r} does not resolve.", field="webhook_url") from None
        if not addresses:
            raise UnsafeWebhookUrl(f"The webhook host {host!r} does not resolve.", field="webhook_url")
        for address in addresses:
            if (why := refusal(address, self.allow_loopback)) is not None:
                raise UnsafeWebhookUrl(f"Webhooks cannot be sent to {host!r}: {address} {why}.", field="webhook_url")
        return scheme, host, port, addresses

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> HttpOutcome:
        started = time.perf_counter()

        def took() -> float:
            return round((time.perf_counter() - started) * 1000, 1)

        try:
            scheme, host, port, addresses = self.safe_addresses(url)
        except UnsafeWebhookUrl as refused:
            return HttpOutcome(None, took(), error=refused.message)
        connection = _PinnedConnection(scheme, host, port, addresses[0], self.connect_timeout, self.timeout)
        parts = urlsplit(url.strip())
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", path, body=body, headers={**headers, "Host": _host_header(host, port, scheme)})
            response = connection.getresponse()
            excerpt = response.read(RESPONSE_EXCERPT_BYTES).decode("utf-8", "replace")
            return HttpOutcome(response.status, took(), response_excerpt=excerpt or None)
        except TimeoutError:
            return HttpOutcome(None, took(), error=f"timed out after {self.timeout:g} s")
        except (OSError, http.client.HTTPException, ssl.SSLError) as error:
            return HttpOutcome(None, took(), error=f"{type(error).__name__}: {error}"[:300])
        finally:
            connection.close()


def _host_header(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == (443 if scheme == "https" else 80) else f"{shown}:{port}"


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to one given IP address, speaking to (and verifying) `host`."""

    def __init__(self, scheme: str, host: str, port: int, address: str, connect_timeout: float, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.scheme = scheme
        self.address = address
        self.connect_timeout = connect_timeout

    def connect(self) -> None:
        sock: Any = socket.create_connection((self.address, self.port), timeout=self.connect_timeout)
        sock.settimeout(self.timeout)
        if self.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self.sock = sock
