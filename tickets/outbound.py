"""Outbound HTTP to addresses that integrators choose: the SSRF guard.

A webhook URL must not let an integrator make Baton talk to its own
network (loopback services, cloud metadata, the database, private hosts).
The rule is applied twice:

* when a subscription is saved, every address its host resolves to must
  be public (:func:`check_url`);
* when a delivery is sent, the host is resolved once, every resolved
  address is checked, and the connection is made to a checked address
  (:func:`pinned_connection`), so a DNS answer that changes between the
  check and the connection (DNS rebinding) cannot reach a forbidden
  address. Host header, TLS SNI and certificate checks still use the
  URL's host name.

An address is forbidden unless it is globally routable unicast:
loopback, private, link-local, multicast, unspecified, reserved, shared
(100.64.0.0/10), site-local and other special-purpose ranges are refused;
IPv4-mapped, 6to4 and NAT64 addresses are judged by the IPv4 address they
embed, and IPv4-compatible and local-use NAT64 addresses are refused.
``settings.BATON_WEBHOOK_ALLOWED_NETWORKS`` (CIDRs) re-allows networks
for on-premises receivers.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

FORBIDDEN_CODE = "webhook_url_forbidden"
UNRESOLVABLE_CODE = "webhook_host_unresolvable"

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Special-purpose ranges that some Python versions count as global.
_SPECIAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "198.18.0.0/15",  # benchmarking
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHIDv2...)
        "2001:db8::/32",  # documentation
        "5f00::/16",  # SRv6 SIDs
    )
)


class DestinationRefused(Exception):
    """A URL or address Baton will not send to.

    ``code`` is the stable API code, ``message`` the text a person reads
    (it names no address), ``detail`` the specifics for the server log.
    """

    def __init__(self, code: str, message: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.message = message
        self.detail = detail


@lru_cache(maxsize=8)
def _parse_networks(networks: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in networks)


def allowed_networks() -> tuple[IPNetwork, ...]:
    """The operator's allow-list, ``BATON_WEBHOOK_ALLOWED_NETWORKS``."""
    configured = getattr(settings, "BATON_WEBHOOK_ALLOWED_NETWORKS", ()) or ()
    return _parse_networks(tuple(str(n) for n in configured))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def forbidden_reason(address: IPAddress | str) -> str | None:
    """Why Baton must not connect to ``address`` (e.g. ``"loopback"``), or
    None when it may: a public unicast address, or one inside an allowed
    network."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    allowed = allowed_networks()
    if any(ip in network for network in allowed):
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            if any(embedded in network for network in allowed):
                return None
            inner = _public_reason(embedded)
            return f"embeds a {inner} IPv4 address" if inner else None
        if ip in _NAT64_LOCAL:
            return "local-use NAT64"
        if ip in _IPV4_COMPATIBLE and not (ip.is_unspecified or ip.is_loopback):
            return "IPv4-compatible"
    return _public_reason(ip)


def _public_reason(ip: IPAddress) -> str | None:
    # Order matters only for the reason shown in logs: most specific first.
    checks: Sequence[tuple[bool, str]] = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip in _SHARED, "shared (carrier-grade NAT)"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site-local"),
        (any(ip in network for network in _SPECIAL), "special-purpose"),
        (not ip.is_global, "not globally routable"),
    )
    return next((reason for hit, reason in checks if hit), None)


@dataclass(frozen=True)
class Target:
    """A URL split for sending: where to connect and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str


def parse_url(url: str) -> Target:
    """``url`` as a :class:`Target`; ``DestinationRefused`` unless it is an
    http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise DestinationRefused(
            FORBIDDEN_CODE, str(_("The URL is not valid.")), f"{url!r}: {error}"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused(
            FORBIDDEN_CODE,
            str(_("The URL must be http(s) with a host.")),
            f"{url!r}: scheme or host missing",
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(
        scheme=scheme,
        host=parts.hostname,
        port=port or (443 if scheme == "https" else 80),
        path=path,
    )


Resolved = tuple[int, tuple[Any, ...]]  # (family, sockaddr) as getaddrinfo gives


def resolve_checked(host: str, port: int) -> list[Resolved]:
    """Every address ``host`` resolves to, after checking each one.

    Raises ``DestinationRefused``: ``webhook_host_unresolvable`` when the
    name does not resolve, ``webhook_url_forbidden`` when any address is
    forbidden (a name that also points inside is refused as a whole).
    """
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as error:
        raise DestinationRefused(
            UNRESOLVABLE_CODE,
            str(_("The host name could not be resolved.")),
            f"{host}: {error}",
        ) from None
    resolved: list[Resolved] = []
    for family, _type, _proto, _name, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        reason = forbidden_reason(str(sockaddr[0]))
        if reason is not None:
            raise DestinationRefused(
                FORBIDDEN_CODE,
                str(_("Webhooks cannot be sent to this address.")),
                f"{host} resolves to {sockaddr[0]} ({reason})",
            )
        if (family, sockaddr) not in resolved:
            resolved.append((family, sockaddr))
    if not resolved:
        raise DestinationRefused(
            UNRESOLVABLE_CODE,
            str(_("The host name could not be resolved.")),
            f"{host}: no IPv4 or IPv6 address",
        )
    return resolved


def check_url(url: str) -> Target:
    """Raise ``DestinationRefused`` unless ``url`` is an http(s) URL whose
    host resolves only to allowed addresses (subscription time)."""
    target = parse_url(url)
    resolve_checked(target.host, target.port)
    return target


def _connect_checked(addresses: list[Resolved], timeout: float | None) -> socket.socket:
    """A TCP connection to the first checked address that answers; the
    peer is checked once more after connecting."""
    last_error: OSError | None = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            sock.connect(sockaddr)
            peer = str(sock.getpeername()[0])
            reason = forbidden_reason(peer)
            if reason is not None:
                raise DestinationRefused(
                    FORBIDDEN_CODE,
                    str(_("Webhooks cannot be sent to this address.")),
                    f"connected to {peer} ({reason})",
                )
            return sock
        except OSError as error:
            sock.close()
            last_error = error
        except BaseException:
            sock.close()
            raise
    assert last_error is not None  # addresses is never empty
    raise last_error


def _tls_context() -> ssl.SSLContext:
    # Built per connection so that the system's CA store (and SSL_CERT_FILE)
    # is read as it is now.
    return ssl.create_default_context()


def pinned_connection(target: Target, *, timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection to ``target`` that resolves its host once,
    refuses it if any address is forbidden, and connects only to the
    checked addresses. Raises ``DestinationRefused`` before connecting."""
    addresses = resolve_checked(target.host, target.port)
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=_tls_context()
        )
    else:
        connection = http.client.HTTPConnection(
            target.host, target.port, timeout=timeout
        )

    def create_connection(
        _address: Any, timeout: float | None = None, *_args: Any, **_kwargs: Any
    ) -> socket.socket:
        # http.client would resolve the host again here; connect to the
        # addresses checked above instead. TLS then wraps this socket with
        # server_hostname=target.host (SNI and certificate check).
        return _connect_checked(addresses, timeout)

    connection._create_connection = create_connection  # type: ignore[attr-defined]
    return connection
