"""Validation of Cognito-style JWTs, shared by the user pool adapters and the JWT authorizer.

PyJWT checks the RS256 signature; everything around it is done here, on purpose:

- The algorithm is pinned to RS256 *before* any key is chosen: ``none``, every HMAC
  algorithm (the classic "HS256 signed with the public key" confusion) and every other
  algorithm are refused from the header alone, and PyJWT is also told ``RS256`` only.
- The key comes only from the issuer's JWKS, by ``kid``. ``jku``, ``x5u``, ``jwk`` and
  ``x5c`` headers are never looked at, and a ``crit`` header is refused (we implement no
  extension).
- Time is checked against the caller's clock (the cloud's, or the request's
  ``timeEpoch``), not ``time.time()``, so virtual time works: ``exp`` and ``nbf`` with a
  small leeway (at most 5 s), ``iat`` not in the future.
- ``iss`` must match exactly; ``token_use`` must be an allowed one; an ID token's
  ``aud`` or an access token's ``client_id`` must be an allowed client.

Errors are :class:`InvalidToken` with a short reason (``expired``, ``bad signature``,
``wrong issuer``...) fit for a ``WWW-Authenticate: Bearer error="invalid_token"``
description; they never contain the token.
"""

from __future__ import annotations

import binascii
import json
import re
import threading
from base64 import urlsafe_b64decode
from collections.abc import Callable, Iterable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"
MAX_LEEWAY = 5.0
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
_MIN_RSA_BITS = 2048


class InvalidToken(Exception):
    """A token that is not valid; ``reason`` says why (never the token itself)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64json(segment: str) -> dict[str, Any]:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        value = json.loads(urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidToken("malformed token") from None
    if not isinstance(value, dict):
        raise InvalidToken("malformed token")
    return value


class KeyCache:
    """Public keys parsed from JWKS entries, by the entry's content (a rotated kid is a new entry)."""

    def __init__(self) -> None:
        self._keys: dict[str, RSAPublicKey] = {}
        self._lock = threading.Lock()

    def key(self, jwk: dict[str, Any]) -> RSAPublicKey:
        text = json.dumps(jwk, sort_keys=True)
        with self._lock:
            found = self._keys.get(text)
        if found is not None:
            return found
        if jwk.get("kty") != "RSA" or jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
            raise InvalidToken("signing key is not an RS256 signature key")
        try:
            key = RSAAlgorithm.from_jwk(jwk)
        except (jwt.InvalidKeyError, ValueError, KeyError, TypeError):
            raise InvalidToken("signing key is malformed") from None
        if not isinstance(key, RSAPublicKey) or key.key_size < _MIN_RSA_BITS:
            raise InvalidToken("signing key is not an RSA public key of 2048 bits or more")
        with self._lock:
            if len(self._keys) > 256:
                self._keys.clear()
            self._keys[text] = key
        return key


_DEFAULT_CACHE = KeyCache()


def verify_jwt(
    token: str,
    *,
    issuer: str,
    jwks: dict[str, Any] | Callable[[], dict[str, Any]],
    now: float,
    token_uses: Iterable[str] = ("id", "access"),
    audiences: Iterable[str] | None = None,
    leeway: float = MAX_LEEWAY,
    keys: KeyCache | None = None,
) -> dict[str, Any]:
    """Validate ``token`` fully and return its claims, or raise :class:`InvalidToken`.

    ``audiences`` are client ids: an ID token's ``aud`` or an access token's ``client_id``
    must be one of them (``None`` accepts any client of the issuer).
    """
    if not 0 <= leeway <= MAX_LEEWAY:
        raise ValueError(f"leeway must be 0 to {MAX_LEEWAY} seconds")
    if not isinstance(token, str) or not token or len(token) > 16384 or not token.isascii():
        raise InvalidToken("malformed token")
    parts = token.split(".")
    # An empty signature is let through to the algorithm check, so "alg: none" is named as such.
    if len(parts) != 3 or not all(_SEGMENT.match(p) for p in parts[:2]) or not _SEGMENT.match(parts[2] or "x"):
        raise InvalidToken("malformed token")
    header = _b64json(parts[0])
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise InvalidToken(f"algorithm {alg!r} is not allowed" if isinstance(alg, str) else "missing algorithm")
    if "crit" in header:
        raise InvalidToken("unsupported critical header")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("missing key id")
    key_set = jwks() if callable(jwks) else jwks
    entry = next(
        (k for k in key_set.get("keys", []) if isinstance(k, dict) and k.get("kid") == kid),
        None,
    )
    if entry is None:
        raise InvalidToken("unknown key id")
    public_key = (keys or _DEFAULT_CACHE).key(entry)
    try:
        claims = jwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
                "verify_jti": False,
                "verify_sub": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise InvalidToken("bad signature") from None
    except jwt.PyJWTError:
        raise InvalidToken("malformed token") from None
    return check_claims(claims, issuer=issuer, now=now, token_uses=token_uses, audiences=audiences, leeway=leeway)


def _number(claims: dict[str, Any], name: str, *, required: bool) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise InvalidToken(f"missing {name}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken(f"malformed {name}")
    return float(value)


def check_claims(
    claims: dict[str, Any],
    *,
    issuer: str,
    now: float,
    token_uses: Iterable[str],
    audiences: Iterable[str] | None,
    leeway: float = MAX_LEEWAY,
) -> dict[str, Any]:
    """The claim checks of :func:`verify_jwt` (for claims whose signature was verified)."""
    if claims.get("iss") != issuer:
        raise InvalidToken("wrong issuer")
    use = claims.get("token_use")
    if use not in tuple(token_uses):
        raise InvalidToken("wrong token_use")
    exp = _number(claims, "exp", required=True)
    iat = _number(claims, "iat", required=True)
    nbf = _number(claims, "nbf", required=False)
    assert exp is not None and iat is not None
    if now > exp + leeway:
        raise InvalidToken("expired")
    if nbf is not None and nbf > now + leeway:
        raise InvalidToken("not yet valid")
    if iat > now + leeway:
        raise InvalidToken("issued in the future")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidToken("missing sub")
    if audiences is not None:
        allowed = set(audiences)
        if use == "id":
            aud = claims.get("aud")
            values = aud if isinstance(aud, list) else [aud]
            if not any(isinstance(v, str) and v in allowed for v in values):
                raise InvalidToken("wrong audience")
        elif use == "access" and claims.get("client_id") not in allowed:
            raise InvalidToken("wrong client")
    return claims
