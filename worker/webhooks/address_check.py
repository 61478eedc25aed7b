"""Where a webhook may be delivered: checked at delivery time, after DNS resolution.

A URL is a request from this machine to wherever its name resolves: to a database on
localhost, a router on the local network, or a cloud metadata service that hands out
credentials. So every address the name resolves to must be a public one (unless
``[webhooks] allow_private_networks``), and the connection goes to the address that
was checked, not to the name again (a second lookup could answer differently).
Cloud metadata addresses are refused even with private networks allowed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# AWS, GCP, Azure, OpenStack (169.254.169.254), AWS over IPv6, Alibaba Cloud.
METADATA = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
}


class AddressRefusedError(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address of ``host`` (A and AAAA records), as the system resolves it."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def why_refused(address: IpAddress, *, allow_private: bool) -> str | None:
    """The kind of address that may not be reached, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_unspecified or address.is_multicast:
        return "not an address of a host"
    if allow_private or address.is_global:
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private network address"
    return "not a public address"


def allowed_addresses(
    host: str, port: int, *, allow_private: bool, resolve: Resolver = system_resolver
) -> list[IpAddress]:
    """The addresses of ``host`` to connect to; AddressRefusedError if any may not be reached
    (a name with one private address among public ones is refused as a whole)."""
    try:
        literal: IpAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        try:
            found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host, port)]
        except (OSError, UnicodeError) as exc:
            raise AddressRefusedError(f"{host} could not be resolved: {exc}") from None
        if not found:
            raise AddressRefusedError(f"{host} has no address")
    for address in found:
        reason = why_refused(address, allow_private=allow_private)
        if reason is not None:
            shown = host if literal is not None else f"{host} ({address})"
            raise AddressRefusedError(
                f"{shown} is {reason}; webhooks go to public addresses only "
                "(see [webhooks] allow_private_networks)"
            )
    return found
