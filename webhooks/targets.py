"""Where a webhook may be sent: only to public addresses, checked at registration and at every send.

A partner's URL is chosen by the partner, and our servers send to it from inside our network, so an
unchecked URL would let a merchant's staff make us call the cloud metadata service (169.254.169.254),
a database on 10.x, or our own loopback (server-side request forgery). Every address the host
resolves to must be global: not private, loopback, link-local, shared (100.64/10), reserved,
multicast or unspecified, IPv4 inside IPv6 (::ffff:10.0.0.1) unwrapped first.

Checking once at registration is not enough: the name's DNS may later answer 127.0.0.1 (DNS
rebinding). So the sender resolves again at each delivery, checks every address, and connects to the
address it checked (`transport.py`), never letting the HTTP client resolve the name a second time.

`WEBHOOKS_ALLOWED_NETWORKS` (CIDRs) lets chosen networks through, for tests and local development
whose receivers listen on 127.0.0.1; production leaves it empty. Plain http is accepted only when
every address of the host is in that allowlist: partners on the internet are reached over https.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL may not be called; `code` says why (a `WebhookErrors` code)."""

    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        super().__init__(detail)


@dataclass(frozen=True)
class Target:
    """A URL split for a pinned connection: its addresses, all checked."""

    scheme: str
    host: str
    port: int
    path: str  # with the query string
    addresses: tuple[IPAddress, ...]


def _allowlisted(address: IPAddress) -> bool:
    return any(
        address in ipaddress.ip_network(cidr, strict=False) for cidr in settings.WEBHOOKS_ALLOWED_NETWORKS
    )


def is_public(address: IPAddress) -> bool:
    """Whether a webhook may be sent to this address (the allowlist aside)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def refused_addresses(addresses: tuple[IPAddress, ...]) -> list[str]:
    """Those of a host's addresses a webhook may not go to; one is enough to refuse the host, since
    the connection could land on any of them."""
    return [str(address) for address in addresses if not _allowlisted(address) and not is_public(address)]


def resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """Every address `host` resolves to now (a literal address is itself)."""
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused("webhook_host_unresolvable", f"{host} does not resolve: {exc}") from exc
    found: dict[IPAddress, None] = {}
    for *_, sockaddr in infos:
        found[ipaddress.ip_address(str(sockaddr[0]).split("%")[0])] = None
    if not found:
        raise TargetRefused("webhook_host_unresolvable", f"{host} has no address")
    return tuple(found)


def check(url: str) -> Target:
    """Resolve the URL's host and check every address; raises `TargetRefused`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("webhook_url_invalid", str(exc)) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise TargetRefused("webhook_url_invalid", "an http(s) URL with a host and no credentials")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port)
    refused = refused_addresses(addresses)
    if refused:
        raise TargetRefused("webhook_target_refused", f"{host} resolves to non-public {', '.join(refused)}")
    if parts.scheme == "http" and not all(_allowlisted(address) for address in addresses):
        raise TargetRefused("webhook_https_required", "webhooks are sent over https")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=host, port=port, path=path, addresses=addresses)
