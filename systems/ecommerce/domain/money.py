"""Money in integer minor units (cents), never floats: prices, totals and refunds add up exactly."""

from __future__ import annotations

import re
from dataclasses import dataclass

CURRENCIES = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0}
_CODE = re.compile(r"^[A-Z]{3}$")


class MoneyError(ValueError):
    """An amount or currency that cannot be money (negative, fractional minor units, mixed currencies)."""


@dataclass(frozen=True, order=True)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise MoneyError(f"amount must be a whole number of minor units, got {self.amount!r}")
        if not isinstance(self.currency, str) or self.currency not in CURRENCIES:
            raise MoneyError(f"unsupported currency {self.currency!r} (supported: {', '.join(sorted(CURRENCIES))})")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise MoneyError(f"quantity must be a whole number >= 0, got {quantity!r}")
        return Money(self.amount * quantity, self.currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {getattr(other, 'currency', other)!r}")

    @staticmethod
    def zero(currency: str) -> Money:
        return Money(0, currency)

    def display(self) -> str:
        digits = CURRENCIES[self.currency]
        if digits == 0:
            return f"{self.amount} {self.currency}"
        sign = "-" if self.amount < 0 else ""
        whole, minor = divmod(abs(self.amount), 10**digits)
        return f"{sign}{whole}.{minor:0{digits}d} {self.currency}"

    def to_dict(self) -> dict[str, object]:
        return {"amount": self.amount, "currency": self.currency}
