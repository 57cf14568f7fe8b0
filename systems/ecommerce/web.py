"""Small helpers every route shares: who is calling, JSON-safe values and error responses."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from stratus.resources.api import Request, Response
from systems.ecommerce.infra import ADMIN_GROUP

_ID = re.compile(r"^[0-9a-f]{32}$")


def customer_id(request: Request) -> str:
    """The caller's user id (the ``sub`` claim the JWT authorizer verified)."""
    return str(request.claims["sub"])


def is_admin(request: Request) -> bool:
    groups = request.claims.get("cognito:groups") or []
    if isinstance(groups, str):
        groups = groups.strip("[]").replace(",", " ").split()
    return ADMIN_GROUP in groups


def plain(value: Any) -> Any:
    """Table values as JSON values: Decimal → int (or float), sets → sorted lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    return value


def field_error(loc: list[str | int], msg: str, kind: str = "value_error") -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind}


def invalid(*errors: dict[str, Any], message: str = "Invalid request") -> Response:
    """A 400 naming each failing field, in the shape the route models use."""
    return Response(400, {"message": message, "errors": list(errors)})


def not_found(what: str) -> Response:
    return Response(404, {"message": f"{what} not found"})


def conflict(message: str, **extra: Any) -> Response:
    return Response(409, {"message": message, **extra})


def check_id(request: Request, name: str) -> str | Response:
    """A path parameter that must be one of our ids (32 hex digits); a 400 otherwise."""
    value = request.path_params.get(name, "")
    if not _ID.match(value):
        return invalid(field_error(["path", name], "must be an id of 32 hexadecimal digits"))
    return value


def is_id(value: str) -> bool:
    return bool(_ID.match(value))
