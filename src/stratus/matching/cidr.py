"""The ``cidr`` operator: AWS's validation messages over :mod:`ipaddress` networks.

:mod:`ipaddress` does the arithmetic; this module only checks the text in the order AWS does (one ``/``,
then integer mask bits, then the address) so a bad CIDR gets AWS's message, and builds the predicate.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from stratus.matching.errors import PatternError


def parse_cidr(text: str) -> Callable[[Any], bool]:
    """Validate ``a.b.c.d/n`` or ``v6::/n`` and return a predicate over event values (IP address strings)."""
    parts = text.split("/")
    if len(parts) != 2:
        raise PatternError("Malformed CIDR, one '/' required")
    address, bits = parts
    if not bits.isascii() or not bits.isdigit():
        raise PatternError("Malformed CIDR, mask bits must be an integer")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise PatternError(f"Nonstandard IP address: {address}") from None
    mask = int(bits)
    if mask > ip.max_prefixlen:
        raise PatternError(f"Malformed CIDR, mask bits must be between 0 and {ip.max_prefixlen}")
    network = ipaddress.ip_network(f"{address}/{mask}", strict=False)

    def matches(value: Any) -> bool:
        if type(value) is not str:
            return False
        try:
            return ipaddress.ip_address(value) in network
        except ValueError:
            return False

    return matches
