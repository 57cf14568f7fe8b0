"""The order-preserving key encodings: byte order must equal DynamoDB's value order."""

from __future__ import annotations

from decimal import Context, Decimal

from hypothesis import given
from hypothesis import strategies as st

from stratus.local.table.keys import decode, decode_number, encode, encode_number, successor

_WIDE = Context(prec=200, Emax=9999, Emin=-9999)


def _storable(d: Decimal) -> bool:
    """DynamoDB's range: 38 significant digits, magnitudes 1E-130 to under 1E+126."""
    return d == 0 or (-130 <= d.adjusted() <= 125 and len(d.normalize(_WIDE).as_tuple().digits) <= 38)


numbers = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(_storable)


@given(numbers, numbers)
def test_number_bytes_sort_like_the_numbers(a: Decimal, b: Decimal) -> None:
    ea, eb = encode_number(a), encode_number(b)
    assert (ea < eb) == (a < b)
    assert (ea == eb) == (a == b)


@given(numbers)
def test_numbers_round_trip(a: Decimal) -> None:
    assert decode_number(encode_number(a)) == a


def test_equal_numbers_encode_equally() -> None:
    assert encode_number(Decimal("1.50")) == encode_number(Decimal("1.5")) == encode_number(Decimal("15E-1"))
    assert encode_number(Decimal("0")) == encode_number(Decimal("-0.000"))
    assert encode_number(Decimal(100)) == encode_number(Decimal("1E+2"))


def test_extreme_numbers_order() -> None:
    values = [
        Decimal("-9.9999999999999999999999999999999999999E+125"),
        Decimal(-1),
        Decimal("-1E-130"),
        Decimal(0),
        Decimal("1E-130"),
        Decimal("0.12"),
        Decimal("0.123"),
        Decimal(1),
        Decimal("9.9999999999999999999999999999999999999E+125"),
    ]
    encoded = [encode_number(v) for v in values]
    assert encoded == sorted(encoded)


@given(st.text(), st.text())
def test_strings_sort_by_utf8_bytes(a: str, b: str) -> None:
    assert (encode("S", a) < encode("S", b)) == (a.encode() < b.encode())
    assert decode("S", encode("S", a)) == a


@given(st.binary(min_size=1))
def test_successor_bounds_every_extension(prefix: bytes) -> None:
    upper = successor(prefix)
    if upper is None:
        assert set(prefix) == {0xFF}
        return
    assert prefix < upper
    assert prefix + b"\xff" * 8 < upper
    assert not upper.startswith(prefix)
