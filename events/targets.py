"""Where a webhook may be sent (SPEC "Events and outbound webhooks"): the rules of an endpoint's URL.

- `https://` only, unless `settings.WEBHOOK_ALLOW_HTTP`.
- The host must not resolve to a loopback, private, link-local, multicast, reserved, unspecified or
  otherwise not publicly routable address (an IPv6 address carrying an IPv4 one, mapped, 6to4 or
  Teredo, is judged as that IPv4; site-local fec0::/10 is refused), unless
  `settings.WEBHOOK_ALLOW_PRIVATE_TARGETS` (development and tests). Every address of the DNS answer
  must pass: the HTTP client may connect to any of them.

`target_check` runs at create and PATCH (a 400 on `url`) and again before every attempt, against the
DNS answer of that moment. `guarded_session` closes the gap between that check and the connect (a DNS
answer that changes in between, "DNS rebinding"): each socket's peer address meets the same rule once
connected, before a byte is sent. The session ignores proxy variables and `.netrc` (`trust_env`).
Settings are read at each call, so tests may change them.
"""

import ipaddress
import socket
import threading
import weakref
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class TargetRefused(Exception):
    """The URL or the address it resolves to is not a place webhooks may go; the message says why."""


def target_check(url: str) -> None:
    """Raise TargetRefused unless `url` is an allowed webhook target right now (DNS resolved here)."""
    host, port = _host_and_port(url)
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return
    for address in _resolve(host, port):
        address_check(address, host=host)


def address_check(address: str, *, host: str | None = None) -> None:
    """Raise TargetRefused when `address` (an IP literal) is not publicly routable."""
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return
    reason = refused_because(address)
    if reason:
        named = f"{host} resolves to {address}" if host and host != address else address
        raise TargetRefused(f"{named}, {reason}; webhooks go only to public addresses.")


def refused_because(address: str) -> str | None:
    """Why `address` is no webhook target (`"a private address"`), or None when it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    if ip.version == 6:
        if ip.is_site_local:  # fec0::/10, deprecated; Python 3.11 calls it global
            return "a site-local address"
        # An IPv6 address that carries an IPv4 one (mapped, 6to4 2002::/16, Teredo) is judged by it:
        # 2002:a9fe:a9fe:: is 169.254.169.254 on a network that routes 6to4.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            ip = embedded
    checks = (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
        ("is_private", "a private address"),
    )
    for attribute, reason in checks:
        if getattr(ip, attribute):
            return reason
    if not ip.is_global:  # e.g. 100.64.0.0/10 (carrier-grade NAT)
        return "not a publicly routable address"
    return None


def _host_and_port(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"The URL is not valid: {exc}.") from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if scheme not in allowed:
        need = "https:// or http://" if settings.WEBHOOK_ALLOW_HTTP else "https:// (plain http is off here)"
        raise TargetRefused(f"The URL must start with {need}.")
    if not parts.hostname:
        raise TargetRefused("The URL has no host.")
    return parts.hostname, port or (443 if scheme == "https" else 80)


def _resolve(host: str, port: int) -> list[str]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"The host {host} does not resolve ({exc}).") from None
    return sorted({answer[4][0] for answer in answers})


# --- the HTTP client: every connected socket's peer is checked before anything is sent ---------------


_opened = threading.local()


def thread_sockets() -> weakref.WeakSet:
    """The sockets this thread's connections opened (pooled ones included), so a deadline running in
    another thread can shut them down and end an attempt that is still being fed byte by byte."""
    if not hasattr(_opened, "sockets"):
        _opened.sockets = weakref.WeakSet()
    return _opened.sockets


def _checked(sock: socket.socket, host: str) -> socket.socket:
    try:
        address_check(sock.getpeername()[0], host=host)
    except TargetRefused:
        sock.close()
        raise
    thread_sockets().add(sock)
    return sock


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _checked(super()._new_conn(), self.host)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:  # TLS is wrapped around this socket afterwards
        return _checked(super()._new_conn(), self.host)


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }


def guarded_session() -> requests.Session:
    """A requests Session whose connections refuse peers `address_check` refuses; no proxies from the
    environment. Keep one per thread (a Session is not thread-safe); it pools connections per host."""
    session = requests.Session()
    session.trust_env = False
    adapter = _GuardedAdapter(pool_connections=16, pool_maxsize=4, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
