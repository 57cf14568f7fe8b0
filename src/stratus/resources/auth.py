"""Authorizers: who may call an HTTP API route, and what the handler learns about them.

The contract every authorizer implements (JWT authorizers of a user pool, API keys, a
Lambda authorizer, a test double)::

    class MyAuthorizer(Authorizer):
        kind = "jwt"            # or "lambda": the shape of requestContext.authorizer
        def authorize(self, event, route) -> AuthResult: ...

``authorize`` receives the payload 2.0 event being built (headers, query, cookies,
``requestContext.timeEpoch`` — the clock to use for expiry and caches) and the
:class:`~stratus.resources.api.Route`. It returns an :class:`AuthResult`, or raises
:class:`Unauthorized` (401, with a ``WWW-Authenticate: Bearer`` challenge) or
:class:`Forbidden` (403). The gateway then checks the route's ``scopes`` (any one of them
must be granted, as JWT authorizers do) and ``groups`` (``cognito:groups`` claim), and
puts :meth:`Authorizer.request_context` into ``requestContext.authorizer`` exactly as HTTP
APIs do: ``{"jwt": {"claims", "scopes"}}`` or ``{"lambda": context}``.

``authorize`` may block (it runs on the gateway's worker threads) and must be thread-safe.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from stratus.errors import AccessDenied, StratusError, ValidationError

if TYPE_CHECKING:
    from stratus.resources.api import Route
    from stratus.resources.function import Function


class Unauthorized(StratusError):
    """No valid identity: a 401 with ``WWW-Authenticate: Bearer error="invalid_token"``."""

    code = "Unauthorized"
    status = 401

    def __init__(self, reason: str = "Unauthorized") -> None:
        super().__init__(reason)
        self.reason = reason


class Forbidden(AccessDenied):
    """A known identity without the rights this route needs: a 403."""

    code = "Forbidden"
    status = 403

    def __init__(self, reason: str = "Forbidden") -> None:
        super().__init__(reason)
        self.reason = reason


class AuthorizerFailed(StratusError):
    """The authorizer itself failed or answered nonsense: a 500 to the client (as AWS)."""

    code = "AuthorizerConfigurationException"


@dataclass(frozen=True)
class AuthResult:
    """Who the caller is: principal, token claims, granted scopes, extra context."""

    principal_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    scopes: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def groups(self) -> list[str]:
        """The ``cognito:groups`` claim as a list (Cognito sends a list; some tokens a string)."""
        value = self.claims.get("cognito:groups")
        if value is None:
            return []
        if isinstance(value, str):
            return [g for g in value.replace(",", " ").strip("[]").split() if g]
        return [str(g) for g in value]


class Authorizer(ABC):
    """An HTTP API authorizer (see the module docstring for the contract)."""

    #: "jwt" or "lambda": how the result appears in requestContext.authorizer.
    kind: ClassVar[str] = "jwt"
    #: Where the identity comes from, in API Gateway's selection-expression syntax.
    identity_sources: tuple[str, ...] = ("$request.header.Authorization",)
    name: str = "authorizer"

    @abstractmethod
    def authorize(self, event: dict[str, Any], route: Route) -> AuthResult:
        """Identify the caller of ``event``; Unauthorized or Forbidden to refuse."""

    def request_context(self, result: AuthResult) -> dict[str, Any]:
        """``requestContext.authorizer`` for an allowed request."""
        if self.kind == "lambda":
            return {"lambda": dict(result.context)}
        return {"jwt": {"claims": dict(result.claims), "scopes": list(result.scopes) or None}}

    def security_scheme(self) -> dict[str, Any]:
        """The OpenAPI security scheme describing this authorizer."""
        source = self.identity_sources[0] if self.identity_sources else "$request.header.Authorization"
        where, _, name = source.removeprefix("$request.").partition(".")
        if where == "header" and name.lower() == "authorization":
            return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT" if self.kind == "jwt" else None}
        return {"type": "apiKey", "in": "query" if where == "querystring" else "header", "name": name}

    def settings(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "identity_sources": list(self.identity_sources)}


def identity_values(event: dict[str, Any], sources: tuple[str, ...]) -> list[str] | None:
    """The values of ``sources`` in ``event`` (None when one is missing or empty)."""
    values: list[str] = []
    for source in sources:
        value: Any = None
        if source.startswith("$request.header."):
            value = (event.get("headers") or {}).get(source[len("$request.header.") :].lower())
        elif source.startswith("$request.querystring."):
            value = (event.get("queryStringParameters") or {}).get(source[len("$request.querystring.") :])
        elif source.startswith("$context."):
            value = event.get("requestContext", {})
            for part in source[len("$context.") :].split("."):
                value = value.get(part) if isinstance(value, dict) else None
        elif source.startswith("$stageVariables."):
            value = (event.get("stageVariables") or {}).get(source[len("$stageVariables.") :])
        if value is None or value == "":
            return None
        values.append(str(value))
    return values


_SOURCE_PREFIXES = ("$request.header.", "$request.querystring.", "$context.", "$stageVariables.")


class FunctionAuthorizer(Authorizer):
    """A Lambda (REQUEST) authorizer, payload format 2.0.

    The function receives the authorizer event (``type: REQUEST``, ``identitySource``,
    headers, query, requestContext...) and answers ``{"isAuthorized": bool, "context":
    {...}}`` (simple responses) or an IAM policy ``{"principalId", "policyDocument",
    "context"}``. Decisions are cached per identity for ``cache_ttl`` seconds (0: never);
    a request whose identity sources are missing is refused with 401 without invoking.
    """

    kind = "lambda"
    MAX_CACHE_ENTRIES = 10_000

    def __init__(
        self,
        function: Function,
        identity_sources: tuple[str, ...] | list[str] = ("$request.header.Authorization",),
        cache_ttl: int = 300,
        simple_responses: bool = True,
        name: str | None = None,
    ) -> None:
        from stratus.resources.function import Function

        if not isinstance(function, Function):
            raise ValidationError(f"FunctionAuthorizer needs a declared function, got {function!r}")
        sources = tuple(identity_sources)
        if cache_ttl and not sources:
            raise ValidationError("FunctionAuthorizer: caching needs at least one identity source")
        for source in sources:
            if not isinstance(source, str) or not source.startswith(_SOURCE_PREFIXES):
                raise ValidationError(
                    f"FunctionAuthorizer identity source {source!r} must start with "
                    f"one of {', '.join(_SOURCE_PREFIXES)}"
                )
        if isinstance(cache_ttl, bool) or not isinstance(cache_ttl, int) or not 0 <= cache_ttl <= 3600:
            raise ValidationError(f"FunctionAuthorizer cache_ttl must be 0 to 3600 seconds, got {cache_ttl!r}")
        self.function = function
        self.identity_sources = sources
        self.cache_ttl = cache_ttl
        self.simple_responses = bool(simple_responses)
        self.name = name or function.name
        self._cache: OrderedDict[tuple[str, ...], tuple[float, AuthResult | None]] = OrderedDict()
        self._lock = threading.Lock()

    def authorize(self, event: dict[str, Any], route: Route) -> AuthResult:
        values = identity_values(event, self.identity_sources)
        if values is None and self.identity_sources:
            raise Unauthorized("missing identity")
        now = event.get("requestContext", {}).get("timeEpoch", 0) / 1000.0
        key = tuple(values or ())
        if self.cache_ttl:
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None and hit[0] > now:
                    self._cache.move_to_end(key)
                    return _allowed(hit[1])
        result = self._decide(self._event(event, values or []))
        if self.cache_ttl:
            with self._lock:
                self._cache[key] = (now + self.cache_ttl, result)
                while len(self._cache) > self.MAX_CACHE_ENTRIES:
                    self._cache.popitem(last=False)
        return _allowed(result)

    def _event(self, event: dict[str, Any], identity: list[str]) -> dict[str, Any]:
        context = event.get("requestContext", {})
        out = {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": f"arn:aws:execute-api:us-east-1:{context.get('accountId', '')}:"
            f"{context.get('apiId', '')}/$default/{event.get('routeKey', '').replace(' ', '')}",
            "identitySource": identity,
            "routeKey": event.get("routeKey"),
            "rawPath": event.get("rawPath"),
            "rawQueryString": event.get("rawQueryString", ""),
            "headers": dict(event.get("headers") or {}),
            "requestContext": {k: v for k, v in context.items() if k != "authorizer"},
        }
        for optional in ("cookies", "queryStringParameters", "pathParameters", "stageVariables"):
            if event.get(optional) is not None:
                out[optional] = event[optional]
        return out

    def _decide(self, auth_event: dict[str, Any]) -> AuthResult | None:
        answer = self.function.invoke(auth_event)
        if not isinstance(answer, dict):
            raise AuthorizerFailed(f"authorizer {self.name!r} returned {type(answer).__name__}, not an object")
        context = answer.get("context") or {}
        if not isinstance(context, dict):
            raise AuthorizerFailed(f"authorizer {self.name!r} returned a context that is not an object")
        if self.simple_responses:
            allowed = answer.get("isAuthorized")
            if not isinstance(allowed, bool):
                raise AuthorizerFailed(f"authorizer {self.name!r}: isAuthorized must be a boolean")
            return AuthResult(principal_id=None, context=context) if allowed else None
        policy = answer.get("policyDocument")
        if not isinstance(policy, dict):
            raise AuthorizerFailed(f"authorizer {self.name!r} returned no policyDocument")
        statements = policy.get("Statement") or []
        effects = [s.get("Effect") for s in statements if isinstance(s, dict)]
        allowed = "Allow" in effects and "Deny" not in effects
        principal = answer.get("principalId")
        return AuthResult(principal_id=str(principal) if principal else None, context=context) if allowed else None

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "function": self.function.name,
            "cache_ttl": self.cache_ttl,
            "simple_responses": self.simple_responses,
        }


def _allowed(result: AuthResult | None) -> AuthResult:
    if result is None:
        raise Forbidden("the authorizer denied the request")
    return result


def check_requirements(result: AuthResult, scopes: tuple[str, ...], groups: tuple[str, ...]) -> None:
    """Forbidden unless ``result`` has one of ``scopes`` (when any) and one of ``groups`` (when any)."""
    if scopes and not set(scopes) & set(result.scopes):
        raise Forbidden("insufficient scope")
    if groups and not set(groups) & set(result.groups):
        raise Forbidden("not in a permitted group")
