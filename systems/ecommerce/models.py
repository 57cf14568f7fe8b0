"""Request models: every body and query string a route accepts, validated before its handler runs.

Unknown fields are refused (``extra="forbid"``) so a typo is a 400, not a silently ignored
setting. Card numbers and CVCs are ``SecretStr``: they never appear in a repr or a log.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from systems.ecommerce.domain.cart import MAX_LINES, MAX_QUANTITY
from systems.ecommerce.domain.money import CURRENCIES

CATEGORY = r"^[a-z0-9][a-z0-9-]{0,49}$"
MAX_PRICE = 100_000_000_00
MAX_STOCK = 1_000_000
MAX_IMAGE_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- auth --------------------------------------------------------------------------------------


class SignUp(Strict):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    password: SecretStr = Field(min_length=8, max_length=99)
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$", description="E.164, for SMS updates")


class SignIn(Strict):
    email: str = Field(min_length=3, max_length=254)
    password: SecretStr = Field(min_length=1, max_length=256)


class Refresh(Strict):
    refresh_token: SecretStr = Field(min_length=1, max_length=4096)


EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
CODE = r"^\d{6}$"


class ConfirmSignUp(Strict):
    email: str = Field(pattern=EMAIL, max_length=254)
    code: str = Field(pattern=CODE, description="the 6-digit code from the email")


class EmailOnly(Strict):
    email: str = Field(pattern=EMAIL, max_length=254)


class ResetPassword(Strict):
    email: str = Field(pattern=EMAIL, max_length=254)
    code: str = Field(pattern=CODE, description="the 6-digit code from the email")
    password: SecretStr = Field(min_length=8, max_length=99, description="the new password")


# -- catalog -----------------------------------------------------------------------------------


def _check_currency(value: str) -> str:
    if value not in CURRENCIES:
        raise ValueError(f"unsupported currency (supported: {', '.join(sorted(CURRENCIES))})")
    return value


def _check_attributes(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    if len(value) > 30:
        raise ValueError("at most 30 attributes")
    for key, text in value.items():
        if not 1 <= len(key) <= 50 or len(text) > 200:
            raise ValueError("attribute names are 1-50 characters and values at most 200")
    return value


class NewProduct(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    category: str = Field(pattern=CATEGORY)
    attributes: dict[str, str] = Field(default_factory=dict)
    price: int = Field(gt=0, le=MAX_PRICE, strict=True, description="in minor units (cents)")
    currency: str = "USD"
    stock: int = Field(default=0, ge=0, le=MAX_STOCK, strict=True)

    _currency = field_validator("currency")(_check_currency)
    _attributes = field_validator("attributes")(_check_attributes)


class ProductChange(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    category: str | None = Field(default=None, pattern=CATEGORY)
    attributes: dict[str, str] | None = None
    price: int | None = Field(default=None, gt=0, le=MAX_PRICE, strict=True)
    currency: str | None = None

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return None if value is None else _check_currency(value)

    _attributes = field_validator("attributes")(_check_attributes)

    @model_validator(mode="after")
    def _something(self) -> ProductChange:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self


class StockChange(Strict):
    stock: int | None = Field(default=None, ge=0, le=MAX_STOCK, strict=True)
    adjust: int | None = Field(default=None, ge=-MAX_STOCK, le=MAX_STOCK, strict=True)

    @model_validator(mode="after")
    def _one(self) -> StockChange:
        if (self.stock is None) == (self.adjust is None):
            raise ValueError("give exactly one of stock (absolute) and adjust (a change)")
        return self


class ListQuery(Strict):
    category: str | None = Field(default=None, pattern=CATEGORY)
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)


class ImageUpload(Strict):
    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    size: int = Field(gt=0, le=MAX_IMAGE_BYTES, strict=True, description="bytes")


class SearchQuery(Strict):
    q: str = Field(default="", max_length=200)
    category: str | None = Field(default=None, pattern=CATEGORY)
    min_price: int | None = Field(default=None, ge=0, le=MAX_PRICE)
    max_price: int | None = Field(default=None, ge=0, le=MAX_PRICE)
    in_stock: bool | None = None
    sort: Literal["relevance", "price", "-price", "newest"] = "relevance"
    size: int = Field(default=20, ge=1, le=50)
    cursor: str | None = Field(default=None, max_length=2048)

    @model_validator(mode="after")
    def _range(self) -> SearchQuery:
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError("min_price must not exceed max_price")
        return self


# -- carts and orders --------------------------------------------------------------------------


class Line(Strict):
    product_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    quantity: int = Field(ge=1, le=MAX_QUANTITY, strict=True)


def _distinct(lines: list[Line]) -> list[Line]:
    ids = [line.product_id for line in lines]
    if len(set(ids)) != len(ids):
        raise ValueError("each product may appear once")
    return lines


class CartUpdate(Strict):
    version: int = Field(ge=0, strict=True, description="the version you read; 0 for a new cart")
    lines: list[Line] = Field(max_length=MAX_LINES)

    _lines = field_validator("lines")(_distinct)


class Address(Strict):
    name: str = Field(min_length=1, max_length=100)
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field(default="", max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$")


class NewOrder(Strict):
    payment_method_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    shipping_address: Address
    lines: list[Line] | None = Field(default=None, min_length=1, max_length=MAX_LINES)

    _lines = field_validator("lines")(lambda v: v if v is None else _distinct(v))


class CancelOrder(Strict):
    reason: str | None = Field(default=None, min_length=1, max_length=500)


class RefundRequest(Strict):
    amount: int | None = Field(
        default=None, gt=0, le=2**53, strict=True, description="minor units; omitted: all that is left"
    )
    reason: str = Field(min_length=1, max_length=500)


class PageQuery(Strict):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)


# -- payments ----------------------------------------------------------------------------------


class NewCard(Strict):
    number: SecretStr = Field(min_length=12, max_length=23)
    exp_month: int = Field(ge=1, le=12, strict=True)
    exp_year: int = Field(ge=2000, le=2100, strict=True)
    cvc: SecretStr = Field(min_length=3, max_length=4)
