"""The JWT authorizer of HTTP APIs: a user pool's tokens (or any issuer's) guard routes.

``JwtAuthorizer(pool, audience=["web"])`` accepts the ID and access tokens ``pool`` issues
to the named app clients, as API Gateway's JWT authorizer configured with the pool's
issuer and those client ids does. The token comes from the identity source, by default
``Authorization: Bearer <token>`` (any other scheme is refused). Validation is
:func:`~stratus.resources.userpool_tokens.verify_jwt`: RS256 only, a ``kid`` from the
issuer's JWKS (``jku``/``x5u``/``jwk`` headers are ignored), signature, exact ``iss``,
``token_use`` with ``aud`` (ID tokens) or ``client_id`` (access tokens) among the audience,
``exp``/``nbf`` with 5 s leeway and ``iat`` not in the future, on the request's clock
(``requestContext.timeEpoch``).

One addition to API Gateway: with a pool, tokens of a revoked sign-in session (global
sign-out, RevokeToken, a disabled or deleted user) are refused at once, as Cognito's own
APIs refuse them, instead of living until they expire.

``JwtAuthorizer.from_jwks(issuer, audience, jwks_provider)`` validates tokens of another
issuer (a real Cognito pool in the AWS mode, or any OpenID provider) with the same rules;
``audience`` is then client ids and ``jwks_provider`` returns the issuer's JWKS.

Failures raise :class:`~stratus.resources.auth.Unauthorized` with a short reason
(``invalid_token: expired``...) that the gateway puts in ``WWW-Authenticate``; the token
itself never appears in a reason, log or ``repr``. Scopes and groups the route requires
are checked by the gateway on the returned :class:`~stratus.resources.auth.AuthResult`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from stratus.clock import Clock, SystemClock
from stratus.errors import ValidationError
from stratus.resources.auth import Authorizer, AuthResult, Unauthorized
from stratus.resources.userpool import UserPool
from stratus.resources.userpool_tokens import MAX_LEEWAY, InvalidToken, KeyCache, verify_jwt

if TYPE_CHECKING:
    from stratus.resources.api import Route

_SOURCE = re.compile(r"^\$request\.(header|querystring)\.([A-Za-z0-9!#$%&'*+.^_`|~-]+)$")
_BEARER = re.compile(r"^[Bb][Ee][Aa][Rr][Ee][Rr] +(\S+) *$")


class JwtAuthorizer(Authorizer):
    """API Gateway's JWT authorizer for a user pool's (or another issuer's) tokens."""

    kind = "jwt"

    def __init__(
        self,
        pool: UserPool | None = None,
        audience: Iterable[str] | None = None,
        identity_source: str = "$request.header.Authorization",
        *,
        name: str | None = None,
        leeway: float = MAX_LEEWAY,
        clock: Clock | None = None,
    ) -> None:
        if pool is not None and not isinstance(pool, UserPool):
            raise ValidationError(f"JwtAuthorizer needs a declared UserPool, got {pool!r}")
        audience_list = _strings("audience", audience)
        if pool is not None:
            if not audience_list:
                raise ValidationError("JwtAuthorizer: audience must name at least one app client of the pool")
            for client in audience_list:
                if client not in pool.clients:
                    raise ValidationError(
                        f"JwtAuthorizer: user pool {pool.name!r} declares no app client named {client!r}"
                    )
        match = _SOURCE.match(identity_source) if isinstance(identity_source, str) else None
        if match is None:
            raise ValidationError(
                f"JwtAuthorizer identity_source must be $request.header.<name> or $request.querystring.<name>, "
                f"got {identity_source!r}"
            )
        if isinstance(leeway, bool) or not isinstance(leeway, int | float) or not 0 <= leeway <= MAX_LEEWAY:
            raise ValidationError(f"JwtAuthorizer leeway must be 0 to {MAX_LEEWAY} seconds")
        self.pool = pool
        self.audience = audience_list
        self.identity_sources = (identity_source,)
        self._where, self._field = match.group(1), match.group(2)
        self.name = name or (f"{pool.name}-jwt" if pool is not None else "jwt")
        self.leeway = float(leeway)
        self._clock: Clock = clock or SystemClock()
        self._keys = KeyCache()
        self._issuer: str | None = None
        self._jwks: Callable[[], dict[str, Any]] | None = None
        self._client_ids: list[str] | None = None

    @classmethod
    def from_jwks(
        cls,
        issuer: str,
        audience: Iterable[str],
        jwks_provider: Callable[[], dict[str, Any]],
        *,
        identity_source: str = "$request.header.Authorization",
        name: str | None = None,
        leeway: float = MAX_LEEWAY,
        clock: Clock | None = None,
    ) -> JwtAuthorizer:
        """An authorizer for tokens of ``issuer`` whose ``aud``/``client_id`` is one of ``audience`` (client ids)."""
        if not isinstance(issuer, str) or not issuer.startswith(("https://", "http://")):
            raise ValidationError(f"JwtAuthorizer issuer must be an http(s) URL, got {issuer!r}")
        if not callable(jwks_provider):
            raise ValidationError("JwtAuthorizer jwks_provider must be a callable returning the JWKS")
        ids = _strings("audience", audience)
        if not ids:
            raise ValidationError("JwtAuthorizer: audience must list at least one client id")
        authorizer = cls(None, ids, identity_source, name=name, leeway=leeway, clock=clock)
        authorizer._issuer = issuer
        authorizer._jwks = jwks_provider
        authorizer._client_ids = ids
        return authorizer

    # The contract.

    def authorize(self, event: dict[str, Any], route: Route | None) -> AuthResult:
        token = self._token(event)
        issuer, jwks, clients = self._trust()
        try:
            claims = verify_jwt(
                token,
                issuer=issuer,
                jwks=jwks,
                now=self._now(event),
                token_uses=("id", "access"),
                audiences=clients,
                leeway=self.leeway,
                keys=self._keys,
            )
        except InvalidToken as error:
            raise Unauthorized(f"invalid_token: {error.reason}") from None
        if self.pool is not None and self.pool.is_session_revoked(str(claims.get("origin_jti") or "")):
            raise Unauthorized("invalid_token: revoked")
        scope = claims.get("scope") if claims.get("token_use") == "access" else None
        scopes = scope.split() if isinstance(scope, str) else []
        return AuthResult(principal_id=str(claims["sub"]), claims=claims, scopes=scopes, context={})

    # Helpers.

    def _token(self, event: dict[str, Any]) -> str:
        if self._where == "header":
            raw = (event.get("headers") or {}).get(self._field.lower())
        else:
            raw = (event.get("queryStringParameters") or {}).get(self._field)
        if not isinstance(raw, str) or not raw.strip():
            raise Unauthorized("missing token")
        match = _BEARER.match(raw)
        if match is not None:
            return match.group(1)
        if self._where == "header" and self._field.lower() == "authorization":
            raise Unauthorized("invalid_request: the Authorization header must be 'Bearer <token>'")
        if " " in raw.strip():
            raise Unauthorized("invalid_request: malformed token")
        return raw.strip()

    def _trust(self) -> tuple[str, Callable[[], dict[str, Any]], list[str]]:
        if self.pool is None:
            assert self._issuer is not None and self._jwks is not None and self._client_ids is not None
            return self._issuer, self._jwks, self._client_ids
        # Resolved on every call: the same declared pool may be bound to another cloud (tests).
        pool = self.pool
        return pool.issuer, pool.jwks, [pool.client_id(c) for c in self.audience]

    def _now(self, event: dict[str, Any]) -> float:
        epoch = (event.get("requestContext") or {}).get("timeEpoch")
        if isinstance(epoch, int | float) and not isinstance(epoch, bool):
            return float(epoch) / 1000.0
        return self._clock.now()

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "user_pool": self.pool.name if self.pool is not None else None,
            "issuer": self._issuer,
            "audience": list(self.audience),
        }

    def __repr__(self) -> str:
        source = self.pool.qualified_name if self.pool is not None else self._issuer
        return f"<JwtAuthorizer {self.name} for {source}>"


def _strings(what: str, values: Iterable[str] | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    found = list(values)
    if not all(isinstance(v, str) and v for v in found):
        raise ValidationError(f"JwtAuthorizer {what} must be a list of non-empty strings")
    return found
