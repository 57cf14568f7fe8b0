"""Card handling and the payment provider's webhook signatures.

Card numbers are never stored or logged: :func:`card_token` turns a card into a token,
the last four digits and an encrypted blob (the caller encrypts with the keys port);
:class:`Card`'s repr masks the number. Webhooks carry ``t=<unix time>,v1=<hex hmac>``
in a signature header, signed over ``"<t>.<body>"`` with a shared secret, and are refused
outside a replay window (the scheme Stripe-like providers use).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

REPLAY_WINDOW = 300  # seconds
_DIGITS = re.compile(r"^\d{12,19}$")


class CardError(ValueError):
    """A card that cannot be charged (bad number, expired, bad CVC)."""


class WebhookRejected(ValueError):
    """A webhook whose signature or timestamp does not verify."""


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class Card:
    number: str
    exp_month: int
    exp_year: int
    cvc: str

    def __repr__(self) -> str:
        return f"Card(****{self.number[-4:]}, {self.exp_month:02d}/{self.exp_year})"

    __str__ = __repr__

    def validate(self, *, year: int, month: int) -> None:
        number = self.number.replace(" ", "")
        if not _DIGITS.match(number) or not luhn_ok(number):
            raise CardError("card number is not valid")
        if not 1 <= self.exp_month <= 12:
            raise CardError("expiry month must be 1-12")
        if (self.exp_year, self.exp_month) < (year, month):
            raise CardError("card has expired")
        if not re.fullmatch(r"\d{3,4}", self.cvc):
            raise CardError("CVC must be 3 or 4 digits")

    @property
    def last4(self) -> str:
        return self.number.replace(" ", "")[-4:]


def card_fingerprint(number: str, pepper: bytes) -> str:
    """A stable, non-reversible identifier of a card number (HMAC with a secret pepper)."""
    return hmac.new(pepper, number.replace(" ", "").encode(), hashlib.sha256).hexdigest()


def sign_webhook(body: bytes, secret: bytes, timestamp: int) -> str:
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_webhook(body: bytes, header: str | None, secret: bytes, *, now: float, window: int = REPLAY_WINDOW) -> None:
    """Raise WebhookRejected unless ``header`` signs ``body`` and is within the replay window."""
    if not header:
        raise WebhookRejected("missing signature header")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise WebhookRejected("malformed signature header") from None
    if abs(now - timestamp) > window:
        raise WebhookRejected("timestamp outside the replay window")
    expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise WebhookRejected("signature does not match")
