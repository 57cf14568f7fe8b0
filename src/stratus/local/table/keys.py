"""Order-preserving byte encodings of DynamoDB key values.

The embedded table keeps every key in a BLOB column so that SQLite's B-tree, which
compares BLOBs with ``memcmp`` (shorter first on a tie), yields DynamoDB's order:

- ``S``: the UTF-8 bytes (DynamoDB orders strings by their UTF-8 bytes);
- ``B``: the bytes themselves;
- ``N``: a byte string that sorts numerically, built here.

Why by hand: no library encodes a 38-digit decimal into bytes that sort numerically,
and the scheme is small. A number is ``0``, or ``± 0.d1d2…dn * 10^e`` with ``d1 ≠ 0``
and ``dn ≠ 0``. Its encoding is a sign byte (negative ``0x01`` < zero ``0x02`` <
positive ``0x03``), then for a positive number ``e`` biased into two big-endian bytes
and the digits as ASCII; a larger exponent is a larger number, and for equal exponents
the digit strings compare as the numbers do (a prefix is smaller: 0.12 < 0.123). For a
negative number the exponent and every digit are complemented and a ``0xFF`` terminator
is appended, so the order reverses, including for prefixes (-0.12 > -0.123).

Each key column holds one value, so no escaping or framing is needed: a range over a
column is a range over values. ``begins_with`` becomes the half-open range
``[prefix, successor(prefix))``.
"""

from __future__ import annotations

from decimal import Context, Decimal

_NEG, _ZERO, _POS = b"\x01", b"\x02", b"\x03"
_BIAS = 0x8000
_COMPLEMENT = bytes.maketrans(b"0123456789", b"9876543210")
_EXACT = Context(prec=40, Emax=999, Emin=-999)


def encode_number(value: Decimal) -> bytes:
    """The order-preserving encoding of a finite Decimal."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "numbers are finite"
    # Strip leading zeros (a Decimal like 0.0012 has digits (1, 2)) and trailing zeros.
    start = 0
    n = len(digits)
    while start < n and digits[start] == 0:
        start += 1
    if start == n:
        return _ZERO
    end = n
    while digits[end - 1] == 0:
        end -= 1
    text = "".join(map(str, digits[start:end])).encode()
    # value = 0.<digits[start:]> x 10^(exponent + n - start)
    e = exponent + n - start
    if sign:
        return _NEG + (_BIAS - e).to_bytes(2, "big") + text.translate(_COMPLEMENT) + b"\xff"
    return _POS + (_BIAS + e).to_bytes(2, "big") + text


def decode_number(data: bytes) -> Decimal:
    """The Decimal an :func:`encode_number` result stands for (normalized)."""
    head = data[:1]
    if head == _ZERO:
        return Decimal(0)
    if head == _POS:
        e = int.from_bytes(data[1:3], "big") - _BIAS
        digits = data[3:].decode()
        return Decimal(f"0.{digits}E{e}").normalize(_EXACT) if digits else Decimal(0)
    e = _BIAS - int.from_bytes(data[1:3], "big")
    digits = data[3:-1].translate(_COMPLEMENT).decode()
    return Decimal(f"-0.{digits}E{e}").normalize(_EXACT)


def encode(kind: str, value: object) -> bytes:
    """Encode a key value of type ``kind`` ("S", "N" or "B")."""
    if kind == "S":
        return value.encode()  # type: ignore[attr-defined]
    if kind == "N":
        return encode_number(value if isinstance(value, Decimal) else Decimal(str(value)))
    return bytes(value)  # type: ignore[call-overload]


def decode(kind: str, data: bytes) -> object:
    """The key value an :func:`encode` result stands for."""
    if kind == "S":
        return data.decode()
    if kind == "N":
        return decode_number(data)
    return bytes(data)


def successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix`` (None: no bound)."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])
