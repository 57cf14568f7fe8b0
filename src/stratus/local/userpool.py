"""The embedded Cognito user pool: users, codes, sessions and signing keys in SQLite.

``userpools.db`` holds, per pool (by qualified name): its generated pool and client ids,
its RSA signing keys (the private key PEM sealed under the state folder's master key,
see :mod:`stratus.local.crypto`, bound to the pool and kid), its users (argon2id
password hashes, attributes as JSON), the sign-in names that resolve to each user,
group memberships, one-time codes (sealed, with an attempt counter and an expiry on the
cloud clock) and sign-in sessions. A session is what Cognito's ``origin_jti`` names:
one refresh token (stored as a SHA-256 hash; it is 64 random bytes, so a slow hash adds
nothing) and every ID and access token issued from it. Revoking the session (sign-out,
RevokeToken, disabling or deleting the user) revokes them all.

Codes and temporary passwords are "emailed" by appending a JSON line to
``<state>/outbox/cognito.jsonl`` (mode 0600), the local stand-in for SES/SNS; tests and
developers read codes from there.

Password hashing: argon2id with RFC 9106's second recommended parameter set (t=3,
m=64 MiB, p=4) unless :data:`HASHING` is changed — the test suites set cheap parameters
there, never production code. Hashes carry their parameters, so a hash made with other
parameters still verifies and is upgraded at the next sign-in. Sign-in for an unknown
user verifies a dummy hash, so timing does not tell which usernames exist.

Failed sign-ins: after ``max_failed_sign_ins`` (5) consecutive failures the user is
locked out for 1 s, doubling with each further failure up to 15 minutes, as Cognito
documents; attempts during a lockout fail with "Password attempts exceeded" and are not
counted, and the counter restarts after 15 minutes without failures.

The JWKS is served by :func:`jwks_app` at ``/<pool qualified name>/.well-known/jwks.json``
and ``.../openid-configuration``, under ``cloud.base_url``, which makes ``iss`` resolvable
the way Cognito's is.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import string
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from stratus.clock import iso8601
from stratus.local.crypto import Unsealable, master_key
from stratus.resources.userpool import (
    PASSWORD_SYMBOLS,
    AliasExists,
    ChallengeRequired,
    ClientNotFound,
    CodeDelivery,
    CodeMismatch,
    ExpiredCode,
    InvalidParameter,
    LimitExceededError,
    NotAuthorized,
    SignUpResult,
    Tokens,
    User,
    UsernameExists,
    UserNotConfirmed,
    UserNotFound,
    UserPool,
    UserPoolBackend,
)
from stratus.resources.userpool_tokens import InvalidToken, KeyCache, verify_jwt

if TYPE_CHECKING:
    import sqlite3

    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

    from stratus.local.cloud import LocalCloud


@dataclass(frozen=True)
class PasswordHashing:
    """argon2id parameters (RFC 9106 second recommendation by default)."""

    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 4


#: The parameters new hashes use. Tests may set cheap ones; production code must not.
HASHING = PasswordHashing()

SIGN_UP_CODE_SECONDS = 24 * 3600
RESET_CODE_SECONDS = 3600
ATTRIBUTE_CODE_SECONDS = 24 * 3600
MAX_CODE_ATTEMPTS = 5
MAX_CODE_SENDS_PER_HOUR = 5
LOCKOUT_MAX_SECONDS = 900.0
FAILURE_MEMORY_SECONDS = 900.0
CHALLENGE_SESSION_SECONDS = 180
RSA_BITS = 2048
OUTBOX = ("outbox", "cognito.jsonl")

_INCORRECT = "Incorrect username or password."
_ATTEMPT_LIMIT = "Attempt limit exceeded, please try after some time."

_SCHEMA = [
    """
    CREATE TABLE up_pools (
        pool TEXT PRIMARY KEY,
        pool_id TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE TABLE up_clients (
        pool TEXT NOT NULL,
        client TEXT NOT NULL,
        client_id TEXT NOT NULL UNIQUE,
        PRIMARY KEY (pool, client)
    );
    CREATE TABLE up_keys (
        pool TEXT NOT NULL,
        kid TEXT NOT NULL,
        created REAL NOT NULL,
        retired REAL,
        sealed BLOB NOT NULL,
        public_jwk TEXT NOT NULL,
        PRIMARY KEY (pool, kid)
    );
    CREATE TABLE up_users (
        pool TEXT NOT NULL,
        username TEXT NOT NULL,
        sub TEXT NOT NULL,
        status TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        password_hash TEXT NOT NULL,
        attributes TEXT NOT NULL,
        created REAL NOT NULL,
        modified REAL NOT NULL,
        failed INTEGER NOT NULL DEFAULT 0,
        last_failed REAL,
        locked_until REAL,
        temp_expires REAL,
        PRIMARY KEY (pool, username)
    );
    CREATE TABLE up_logins (
        pool TEXT NOT NULL,
        login TEXT NOT NULL,
        username TEXT NOT NULL,
        PRIMARY KEY (pool, login)
    );
    CREATE INDEX up_logins_user ON up_logins (pool, username);
    CREATE TABLE up_groups (
        pool TEXT NOT NULL,
        username TEXT NOT NULL,
        grp TEXT NOT NULL,
        PRIMARY KEY (pool, username, grp)
    );
    CREATE TABLE up_codes (
        pool TEXT NOT NULL,
        username TEXT NOT NULL,
        purpose TEXT NOT NULL,
        sealed BLOB NOT NULL,
        expires REAL NOT NULL,
        attempts INTEGER NOT NULL,
        sends INTEGER NOT NULL,
        window_start REAL NOT NULL,
        PRIMARY KEY (pool, username, purpose)
    );
    CREATE TABLE up_sessions (
        pool TEXT NOT NULL,
        origin_jti TEXT NOT NULL,
        username TEXT NOT NULL,
        client TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        auth_time INTEGER NOT NULL,
        created REAL NOT NULL,
        expires REAL NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (pool, origin_jti)
    );
    CREATE INDEX up_sessions_user ON up_sessions (pool, username)
    """
]


# Password hashing.


class _Passwords:
    """argon2id hashing with a dummy hash for unknown users; never shows a password."""

    def __init__(self, params: PasswordHashing) -> None:
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            type=Type.ID,
        )
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        if stored is None:
            if self._dummy is None:
                self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
            stored = self._dummy
            with contextlib.suppress(VerificationError, InvalidHashError):
                self._hasher.verify(stored, password)
            return False
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return False

    def __repr__(self) -> str:
        return "<password hasher>"


# The outbox.


class Outbox:
    """``<state>/outbox/cognito.jsonl``: one JSON line per message "sent"."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = (json.dumps(message, sort_keys=True) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            if not self.path.exists():
                return []
            return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]


def outbox(cloud: LocalCloud) -> Outbox:
    """The cloud's Cognito outbox."""
    return cloud.shared("userpool:outbox", lambda: Outbox(cloud.state_dir.joinpath(*OUTBOX)))


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain[:1]}***"


def mask_phone(phone: str) -> str:
    return "+" + "*" * max(0, len(phone) - 5) + phone[-4:]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint: the kid of a key."""
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def _random_id(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass
class _Row:
    username: str
    sub: str
    status: str
    enabled: bool
    password_hash: str
    attributes: dict[str, str]
    created: float
    modified: float
    failed: int
    last_failed: float | None
    locked_until: float | None
    temp_expires: float | None


_USER_COLUMNS = (
    "username, sub, status, enabled, password_hash, attributes, created, modified, failed, last_failed, "
    "locked_until, temp_expires"
)


def _row(values: tuple[Any, ...]) -> _Row:
    return _Row(
        values[0],
        values[1],
        values[2],
        bool(values[3]),
        values[4],
        json.loads(values[5]),
        values[6],
        values[7],
        values[8],
        values[9],
        values[10],
        values[11],
    )


class LocalUserPool(UserPoolBackend):
    """One declared user pool on the local cloud."""

    def __init__(self, resource: UserPool, cloud: LocalCloud) -> None:
        self.resource = resource
        self.cloud = cloud
        self.name = resource.qualified_name
        self.db = cloud.storage.database("userpools")
        self.db.migrate("userpools", _SCHEMA)
        self._master = master_key(cloud)
        self._passwords = _Passwords(HASHING)
        self._outbox = outbox(cloud)
        self._keys = KeyCache()
        self._signing: tuple[str, Any] | None = None
        self._jwks_rows: list[tuple[str, float | None, dict[str, Any]]] | None = None
        self._lock = threading.Lock()
        with self.db.transaction() as conn:
            row = conn.execute("SELECT pool_id FROM up_pools WHERE pool = ?", (self.name,)).fetchone()
            if row is None:
                pool_id = f"{cloud.region}_{_random_id(9, string.ascii_letters + string.digits)}"
                conn.execute("INSERT INTO up_pools VALUES (?, ?, ?)", (self.name, pool_id, cloud.clock.now()))
            else:
                pool_id = row[0]
            self.pool_id = pool_id
            self._client_ids: dict[str, str] = {}
            for client in resource.clients:
                found = conn.execute(
                    "SELECT client_id FROM up_clients WHERE pool = ? AND client = ?", (self.name, client)
                ).fetchone()
                if found is None:
                    client_id = _random_id(26, string.ascii_lowercase + string.digits)
                    conn.execute("INSERT INTO up_clients VALUES (?, ?, ?)", (self.name, client, client_id))
                else:
                    client_id = found[0]
                self._client_ids[client] = client_id
        self._client_names = {v: k for k, v in self._client_ids.items()}

    def __repr__(self) -> str:
        return f"<LocalUserPool {self.name}>"

    # Identity.

    @property
    def issuer(self) -> str:
        return f"{self.cloud.base_url.rstrip('/')}/{self.name}"

    def client_id(self, client: str) -> str:
        return self._client_ids[client]

    def _now(self) -> float:
        return self.cloud.clock.now()

    # Signing keys.

    def _max_token_seconds(self) -> int:
        return max(max(c.id_token_minutes, c.access_token_minutes) for c in self.resource.clients.values()) * 60

    def _key_aad(self, kid: str) -> bytes:
        return f"stratus-userpool-key:{self.name}:{kid}".encode()

    def _new_key(self, conn: sqlite3.Connection) -> tuple[str, Any]:
        private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
        jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
        kid = _thumbprint(jwk)
        public = {"alg": "RS256", "e": jwk["e"], "kid": kid, "kty": "RSA", "n": jwk["n"], "use": "sig"}
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        sealed = self._master.seal(pem, self._key_aad(kid))
        conn.execute(
            "INSERT INTO up_keys VALUES (?, ?, ?, NULL, ?, ?)",
            (self.name, kid, self._now(), sealed, json.dumps(public)),
        )
        return kid, private

    def _signing_key(self) -> tuple[str, Any]:
        with self._lock:
            if self._signing is not None:
                return self._signing
            with self.db.transaction() as conn:
                row = conn.execute(
                    "SELECT kid, sealed FROM up_keys WHERE pool = ? AND retired IS NULL ORDER BY created DESC LIMIT 1",
                    (self.name,),
                ).fetchone()
                if row is None:
                    signing = self._new_key(conn)
                else:
                    pem = self._master.unseal(row[1], self._key_aad(row[0]))
                    signing = (row[0], serialization.load_pem_private_key(pem, password=None))
            self._signing = signing
            self._jwks_rows = None
            return signing

    def rotate_signing_key(self) -> str:
        with self._lock, self.db.transaction() as conn:
            conn.execute("UPDATE up_keys SET retired = ? WHERE pool = ? AND retired IS NULL", (self._now(), self.name))
            # Keys whose tokens have all expired leave the store for good.
            conn.execute(
                "DELETE FROM up_keys WHERE pool = ? AND retired IS NOT NULL AND retired < ?",
                (self.name, self._now() - self._max_token_seconds() - 60),
            )
            signing = self._new_key(conn)
            self._signing = signing
            self._jwks_rows = None
        return signing[0]

    def jwks(self) -> dict[str, Any]:
        self._signing_key()
        with self._lock:
            rows = self._jwks_rows
            if rows is None:
                rows = [
                    (kid, retired, json.loads(jwk))
                    for kid, retired, jwk in self.db.execute(
                        "SELECT kid, retired, public_jwk FROM up_keys WHERE pool = ? ORDER BY created DESC",
                        (self.name,),
                    )
                ]
                self._jwks_rows = rows
        horizon = self._now() - self._max_token_seconds() - 60
        return {"keys": [jwk for _, retired, jwk in rows if retired is None or retired >= horizon]}

    # Tokens.

    def _issue(
        self, conn: sqlite3.Connection, user: _Row, client: str, origin_jti: str, auth_time: int
    ) -> tuple[str, str, int]:
        settings = self.resource.clients[client]
        kid, private = self._signing_key()
        now = int(self._now())
        groups = self._groups(conn, user.username)
        event_id = str(uuid.uuid4())
        id_claims: dict[str, Any] = {"sub": user.sub}
        for attr, value in sorted(user.attributes.items()):
            if attr == "sub":
                continue
            if attr in ("email_verified", "phone_number_verified"):
                id_claims[attr] = value == "true"
            else:
                id_claims[attr] = value
        if groups:
            id_claims["cognito:groups"] = groups
        id_claims.update(
            {
                "iss": self.issuer,
                "cognito:username": user.username,
                "origin_jti": origin_jti,
                "aud": self._client_ids[client],
                "event_id": event_id,
                "token_use": "id",
                "auth_time": auth_time,
                "exp": now + settings.id_token_minutes * 60,
                "iat": now,
                "jti": str(uuid.uuid4()),
            }
        )
        scopes = [
            "aws.cognito.signin.user.admin",
            *[s for s in settings.scopes if s != "aws.cognito.signin.user.admin"],
        ]
        access_claims: dict[str, Any] = {"sub": user.sub}
        if groups:
            access_claims["cognito:groups"] = groups
        access_claims.update(
            {
                "iss": self.issuer,
                "client_id": self._client_ids[client],
                "origin_jti": origin_jti,
                "event_id": event_id,
                "token_use": "access",
                "scope": " ".join(scopes),
                "auth_time": auth_time,
                "exp": now + settings.access_token_minutes * 60,
                "iat": now,
                "jti": str(uuid.uuid4()),
                "username": user.username,
            }
        )
        headers = {"kid": kid, "typ": None}
        id_token = jwt.encode(id_claims, private, algorithm="RS256", headers=headers)
        access_token = jwt.encode(access_claims, private, algorithm="RS256", headers=headers)
        return id_token, access_token, settings.access_token_minutes * 60

    def _start_session(self, conn: sqlite3.Connection, user: _Row, client: str) -> Tokens:
        settings = self.resource.clients[client]
        refresh_token = secrets.token_urlsafe(64)
        origin_jti = str(uuid.uuid4())
        now = self._now()
        auth_time = int(now)
        conn.execute(
            "INSERT INTO up_sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (
                self.name,
                origin_jti,
                user.username,
                client,
                _sha256(refresh_token),
                auth_time,
                now,
                now + settings.refresh_token_seconds,
            ),
        )
        id_token, access_token, expires_in = self._issue(conn, user, client, origin_jti, auth_time)
        return Tokens(id_token, access_token, refresh_token, expires_in)

    def verify_token(self, token: str, token_use: str | None, clients: list[str] | None) -> dict[str, Any]:
        try:
            claims = verify_jwt(
                token,
                issuer=self.issuer,
                jwks=self.jwks,
                now=self._now(),
                token_uses=(token_use,) if token_use else ("id", "access"),
                audiences=[self._client_ids[c] for c in clients] if clients is not None else list(self._client_names),
                keys=self._keys,
            )
        except InvalidToken as exc:
            raise NotAuthorized(_token_message(exc.reason, token_use)) from None
        if self.is_session_revoked(str(claims.get("origin_jti", ""))):
            raise NotAuthorized(_token_message("revoked", claims.get("token_use")))
        return claims

    def is_session_revoked(self, origin_jti: str) -> bool:
        rows = self.db.execute(
            "SELECT revoked FROM up_sessions WHERE pool = ? AND origin_jti = ?", (self.name, origin_jti)
        )
        return not rows or bool(rows[0][0])

    def _access_user(self, conn: sqlite3.Connection, access_token: str) -> _Row:
        claims = self.verify_token(access_token, "access", None)
        user = self._user(conn, str(claims.get("username", "")))
        if user is None or user.sub != claims.get("sub"):
            raise NotAuthorized("Access Token has been revoked")
        if not user.enabled:
            raise NotAuthorized("User is disabled.")
        return user

    # Users.

    def _user(self, conn: sqlite3.Connection, username: str) -> _Row | None:
        row = conn.execute(
            f"SELECT {_USER_COLUMNS} FROM up_users WHERE pool = ? AND username = ?", (self.name, username)
        ).fetchone()
        return None if row is None else _row(row)

    def _resolve(self, conn: sqlite3.Connection, name: str) -> _Row | None:
        """The user a sign-in name (username, or email/phone alias) denotes."""
        found = conn.execute(
            "SELECT username FROM up_logins WHERE pool = ? AND login = ?", (self.name, name.lower())
        ).fetchone()
        return None if found is None else self._user(conn, found[0])

    def _require(self, conn: sqlite3.Connection, name: str) -> _Row:
        user = self._resolve(conn, name)
        if user is None:
            raise UserNotFound("User does not exist.")
        return user

    def _logins(self, username: str, attributes: dict[str, str]) -> list[str]:
        names = [username.lower()]
        for attr in self.resource.username_attributes:
            value = attributes.get(attr)
            if value:
                names.append(value.lower())
        return list(dict.fromkeys(names))

    def _claim_logins(self, conn: sqlite3.Connection, username: str, logins: list[str]) -> None:
        for login in logins:
            taken = conn.execute(
                "SELECT username FROM up_logins WHERE pool = ? AND login = ?", (self.name, login)
            ).fetchone()
            if taken is not None and taken[0] != username:
                if login == username.lower():
                    raise UsernameExists("User already exists")
                what = "email" if "@" in login else "phone_number"
                if self.resource.username_attributes and login == logins[0]:
                    raise UsernameExists(f"An account with the given {what} already exists.")
                raise AliasExists(f"An account with the given {what} already exists.")
        conn.execute("DELETE FROM up_logins WHERE pool = ? AND username = ?", (self.name, username))
        for login in logins:
            conn.execute("INSERT INTO up_logins VALUES (?, ?, ?)", (self.name, login, username))

    def _insert_user(
        self,
        conn: sqlite3.Connection,
        name: str,
        password_hash: str,
        attributes: dict[str, str],
        status: str,
        temp_expires: float | None,
    ) -> _Row:
        sub = str(uuid.uuid4())
        username = sub if self.resource.username_attributes else name
        attrs = {"sub": sub, **attributes}
        if "email" in attrs:
            attrs.setdefault("email_verified", "false")
        if "phone_number" in attrs:
            attrs.setdefault("phone_number_verified", "false")
        logins = self._logins(username, attrs)
        if name.lower() not in logins:
            logins.append(name.lower())
        # The sign-up name comes first so a clash on it reads as UsernameExists.
        logins.remove(name.lower())
        logins.insert(0, name.lower())
        self._claim_logins(conn, username, logins)
        now = self._now()
        conn.execute(
            "INSERT INTO up_users VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, 0, NULL, NULL, ?)",
            (self.name, username, sub, status, password_hash, json.dumps(attrs), now, now, temp_expires),
        )
        user = self._user(conn, username)
        assert user is not None
        return user

    def _save_attributes(self, conn: sqlite3.Connection, user: _Row) -> None:
        conn.execute(
            "UPDATE up_users SET attributes = ?, modified = ? WHERE pool = ? AND username = ?",
            (json.dumps(user.attributes), self._now(), self.name, user.username),
        )

    def _public(self, user: _Row) -> User:
        return User(
            username=user.username,
            sub=user.sub,
            status=user.status,
            enabled=user.enabled,
            attributes=dict(user.attributes),
            created=datetime.fromtimestamp(user.created, tz=UTC),
            modified=datetime.fromtimestamp(user.modified, tz=UTC),
        )

    def _groups(self, conn: sqlite3.Connection, username: str) -> list[str]:
        rows = conn.execute("SELECT grp FROM up_groups WHERE pool = ? AND username = ?", (self.name, username))
        member = {r[0] for r in rows}
        return [g for g in self.resource.groups if g in member]

    def _revoke_sessions(self, conn: sqlite3.Connection, username: str) -> None:
        conn.execute("UPDATE up_sessions SET revoked = 1 WHERE pool = ? AND username = ?", (self.name, username))

    # Codes.

    def _code_aad(self, username: str, purpose: str) -> bytes:
        return f"stratus-userpool-code:{self.name}:{username}:{purpose}".encode()

    def _new_code(self, conn: sqlite3.Connection, username: str, purpose: str, ttl: float) -> str:
        now = self._now()
        row = conn.execute(
            "SELECT sends, window_start FROM up_codes WHERE pool = ? AND username = ? AND purpose = ?",
            (self.name, username, purpose),
        ).fetchone()
        sends, window = (0, now) if row is None or now - row[1] >= 3600 else (row[0], row[1])
        if sends >= MAX_CODE_SENDS_PER_HOUR:
            raise LimitExceededError(_ATTEMPT_LIMIT)
        code = f"{secrets.randbelow(1_000_000):06d}"
        sealed = self._master.seal(code.encode(), self._code_aad(username, purpose))
        conn.execute(
            "INSERT INTO up_codes VALUES (?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT(pool, username, purpose) DO UPDATE "
            "SET sealed = excluded.sealed, expires = excluded.expires, attempts = 0, sends = excluded.sends, "
            "window_start = excluded.window_start",
            (self.name, username, purpose, sealed, now + ttl, sends + 1, window),
        )
        return code

    def _check_code(self, conn: sqlite3.Connection, username: str, purpose: str, code: str) -> Exception | None:
        """None if ``code`` is right (and consume it); otherwise the error, with the attempt recorded."""
        row = conn.execute(
            "SELECT sealed, expires, attempts FROM up_codes WHERE pool = ? AND username = ? AND purpose = ?",
            (self.name, username, purpose),
        ).fetchone()
        if row is None:
            return CodeMismatch("Invalid verification code provided, please try again.")
        sealed, expires, attempts = row
        if attempts >= MAX_CODE_ATTEMPTS:
            return LimitExceededError(_ATTEMPT_LIMIT)
        if self._now() > expires:
            return ExpiredCode("Invalid code provided, please request a code again.")
        try:
            expected = self._master.unseal(sealed, self._code_aad(username, purpose))
        except Unsealable:
            return CodeMismatch("Invalid verification code provided, please try again.")
        if not hmac.compare_digest(expected, code.encode()):
            conn.execute(
                "UPDATE up_codes SET attempts = attempts + 1 WHERE pool = ? AND username = ? AND purpose = ?",
                (self.name, username, purpose),
            )
            if attempts + 1 >= MAX_CODE_ATTEMPTS:
                return LimitExceededError(_ATTEMPT_LIMIT)
            return CodeMismatch("Invalid verification code provided, please try again.")
        conn.execute(
            "DELETE FROM up_codes WHERE pool = ? AND username = ? AND purpose = ?", (self.name, username, purpose)
        )
        return None

    def _delivery(self, user_attrs: dict[str, str]) -> tuple[CodeDelivery, str] | None:
        if user_attrs.get("email"):
            email = user_attrs["email"]
            return CodeDelivery(mask_email(email), "EMAIL", "email"), email
        if user_attrs.get("phone_number"):
            phone = user_attrs["phone_number"]
            return CodeDelivery(mask_phone(phone), "SMS", "phone_number"), phone
        return None

    def _send(self, to: str, medium: str, kind: str, username: str, subject: str, text: str, **extra: str) -> None:
        self._outbox.send(
            {
                "time": iso8601(self._now()),
                "pool": self.name,
                "to": to,
                "medium": medium,
                "kind": kind,
                "username": username,
                "subject": subject,
                "message": text,
                **extra,
            }
        )

    def _fake_delivery(self, name: str) -> CodeDelivery:
        """What Cognito answers for an unknown user when it must not reveal that (PreventUserExistenceErrors)."""
        if "@" in name:
            return CodeDelivery(mask_email(name), "EMAIL", "email")
        return CodeDelivery(f"{name[:1]}***@{name[-1:]}***", "EMAIL", "email")

    # Sign-up.

    def sign_up(self, username: str, password: str, attributes: dict[str, str]) -> SignUpResult:
        password_hash = self._passwords.hash(password)
        confirmed = self.resource.auto_confirm
        if confirmed:
            if "email" in attributes:
                attributes = {**attributes, "email_verified": "true"}
            if "phone_number" in attributes:
                attributes = {**attributes, "phone_number_verified": "true"}
        code: str | None = None
        with self.db.transaction() as conn:
            user = self._insert_user(
                conn, username, password_hash, attributes, "CONFIRMED" if confirmed else "UNCONFIRMED", None
            )
            delivery = None if confirmed else self._delivery(user.attributes)
            if delivery is not None:
                code = self._new_code(conn, user.username, "confirm", SIGN_UP_CODE_SECONDS)
        if delivery is not None and code is not None:
            details, to = delivery
            self._send(
                to,
                details.delivery_medium,
                "sign_up",
                user.username,
                "Your verification code",
                f"Your verification code is {code}.",
                code=code,
            )
        return SignUpResult(user.sub, confirmed, delivery[0] if delivery else None)

    def confirm_sign_up(self, username: str, code: str) -> None:
        error: Exception | None
        with self.db.transaction() as conn:
            user = self._resolve(conn, username)
            if user is None:
                error = CodeMismatch("Invalid verification code provided, please try again.")
            elif user.status != "UNCONFIRMED":
                error = NotAuthorized(f"User cannot be confirmed. Current status is {user.status}")
            else:
                error = self._check_code(conn, user.username, "confirm", code)
                if error is None:
                    self._confirm(conn, user)
        if error is not None:
            raise error

    def _confirm(self, conn: sqlite3.Connection, user: _Row) -> None:
        delivery = self._delivery(user.attributes)
        if delivery is not None:
            user.attributes[f"{delivery[0].attribute_name}_verified"] = "true"
        self._save_attributes(conn, user)
        conn.execute(
            "UPDATE up_users SET status = 'CONFIRMED' WHERE pool = ? AND username = ?", (self.name, user.username)
        )

    def resend_confirmation_code(self, username: str) -> CodeDelivery:
        with self.db.transaction() as conn:
            user = self._resolve(conn, username)
            if user is None:
                return self._fake_delivery(username)
            if user.status != "UNCONFIRMED":
                raise InvalidParameter("User is already confirmed.")
            delivery = self._delivery(user.attributes)
            if delivery is None:
                raise InvalidParameter("Unable to send the code: the user has no email or phone_number")
            code = self._new_code(conn, user.username, "confirm", SIGN_UP_CODE_SECONDS)
        details, to = delivery
        self._send(
            to,
            details.delivery_medium,
            "sign_up",
            user.username,
            "Your verification code",
            f"Your verification code is {code}.",
            code=code,
        )
        return details

    def admin_confirm_sign_up(self, username: str) -> None:
        with self.db.transaction() as conn:
            user = self._require(conn, username)
            if user.status != "UNCONFIRMED":
                raise NotAuthorized(f"User cannot be confirmed. Current status is {user.status}")
            conn.execute(
                "DELETE FROM up_codes WHERE pool = ? AND username = ? AND purpose = 'confirm'",
                (self.name, user.username),
            )
            conn.execute(
                "UPDATE up_users SET status = 'CONFIRMED', modified = ? WHERE pool = ? AND username = ?",
                (self._now(), self.name, user.username),
            )

    # Sign-in.

    def _locked(self, user: _Row) -> bool:
        return user.locked_until is not None and self._now() < user.locked_until

    def _record_failure(self, conn: sqlite3.Connection, user: _Row) -> None:
        now = self._now()
        row = conn.execute(
            "SELECT failed, last_failed FROM up_users WHERE pool = ? AND username = ?", (self.name, user.username)
        ).fetchone()
        if row is None:
            return
        failed, last_failed = row
        if last_failed is None or now - last_failed > FAILURE_MEMORY_SECONDS:
            failed = 0
        failed += 1
        locked_until = None
        over = failed - self.resource.max_failed_sign_ins
        if over >= 0:
            locked_until = now + min(2.0**over, LOCKOUT_MAX_SECONDS)
        conn.execute(
            "UPDATE up_users SET failed = ?, last_failed = ?, locked_until = ? WHERE pool = ? AND username = ?",
            (failed, now, locked_until, self.name, user.username),
        )

    def _password_sign_in(self, username: str, password: str) -> _Row:
        """The user whose password this is, with failures counted; NotAuthorized otherwise."""
        with self.db.read() as conn:
            user = self._resolve(conn, username)
        if user is not None and self._locked(user):
            raise NotAuthorized("Password attempts exceeded")
        ok = self._passwords.verify(user.password_hash if user else None, password)
        if user is None:
            raise NotAuthorized(_INCORRECT)
        if not ok:
            with self.db.transaction() as conn:
                self._record_failure(conn, user)
            raise NotAuthorized(_INCORRECT)
        rehash = self._passwords.hash(password) if self._passwords.needs_rehash(user.password_hash) else None
        with self.db.transaction() as conn:
            current = self._user(conn, user.username)
            if current is None or current.password_hash != user.password_hash:
                raise NotAuthorized(_INCORRECT)  # the password changed meanwhile
            if self._locked(current):
                raise NotAuthorized("Password attempts exceeded")
            conn.execute(
                "UPDATE up_users SET failed = 0, last_failed = NULL, locked_until = NULL"
                + (", password_hash = ?" if rehash else "")
                + " WHERE pool = ? AND username = ?",
                ((rehash,) if rehash else ()) + (self.name, user.username),
            )
        return current

    def initiate_auth(self, client: str, username: str, password: str) -> Tokens:
        user = self._password_sign_in(username, password)
        if not user.enabled:
            raise NotAuthorized("User is disabled.")
        if user.status == "UNCONFIRMED":
            raise UserNotConfirmed("User is not confirmed.")
        if user.status == "FORCE_CHANGE_PASSWORD":
            if user.temp_expires is not None and self._now() > user.temp_expires:
                raise NotAuthorized("Temporary password has expired and must be reset by an administrator.")
            attrs = {k: v for k, v in user.attributes.items() if k not in ("sub", "email_verified")}
            raise ChallengeRequired(
                "NEW_PASSWORD_REQUIRED",
                self._challenge_session(user, client),
                {"USER_ID_FOR_SRP": user.username, "requiredAttributes": "[]", "userAttributes": json.dumps(attrs)},
            )
        if user.status == "RESET_REQUIRED":
            raise NotAuthorized("Password reset required for the user")
        with self.db.transaction() as conn:
            return self._start_session(conn, user, client)

    def _session_aad(self) -> bytes:
        return f"stratus-userpool-session:{self.name}".encode()

    def _challenge_session(self, user: _Row, client: str) -> str:
        payload = {
            "u": user.username,
            "c": client,
            "exp": self._now() + CHALLENGE_SESSION_SECONDS,
            "p": _sha256(user.password_hash)[:16],
        }
        return _b64url(self._master.seal(json.dumps(payload).encode(), self._session_aad()))

    def respond_to_new_password_challenge(self, client: str, username: str, session: str, new_password: str) -> Tokens:
        invalid = NotAuthorized("Invalid session for the user.")
        try:
            blob = base64.urlsafe_b64decode(session + "=" * (-len(session) % 4))
            payload = json.loads(self._master.unseal(blob, self._session_aad()))
        except (ValueError, Unsealable):
            raise invalid from None
        if payload.get("c") != client or self._now() > float(payload.get("exp", 0)):
            raise NotAuthorized("Invalid session for the user, session is expired.")
        password_hash = self._passwords.hash(new_password)
        with self.db.transaction() as conn:
            user = self._resolve(conn, username)
            if user is None or user.username != payload.get("u") or user.status != "FORCE_CHANGE_PASSWORD":
                raise invalid
            if not hmac.compare_digest(_sha256(user.password_hash)[:16], str(payload.get("p"))):
                raise invalid
            conn.execute(
                "UPDATE up_users SET status = 'CONFIRMED', password_hash = ?, temp_expires = NULL, modified = ? "
                "WHERE pool = ? AND username = ?",
                (password_hash, self._now(), self.name, user.username),
            )
            user.status = "CONFIRMED"
            return self._start_session(conn, user, client)

    def refresh(self, client: str, refresh_token: str) -> Tokens:
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT origin_jti, username, client, auth_time, expires, revoked FROM up_sessions "
                "WHERE pool = ? AND token_hash = ?",
                (self.name, _sha256(refresh_token)),
            ).fetchone()
            if row is None or row[2] != client:
                raise NotAuthorized("Invalid Refresh Token")
            origin_jti, username, _, auth_time, expires, revoked = row
            if revoked:
                raise NotAuthorized("Refresh Token has been revoked")
            if self._now() > expires:
                raise NotAuthorized("Refresh Token has expired")
            user = self._user(conn, username)
            if user is None:
                raise NotAuthorized("Invalid Refresh Token")
            if not user.enabled:
                raise NotAuthorized("User is disabled.")
            id_token, access_token, expires_in = self._issue(conn, user, client, origin_jti, auth_time)
        return Tokens(id_token, access_token, None, expires_in)

    def global_sign_out(self, access_token: str) -> None:
        with self.db.transaction() as conn:
            user = self._access_user(conn, access_token)
            self._revoke_sessions(conn, user.username)

    def admin_user_global_sign_out(self, username: str) -> None:
        with self.db.transaction() as conn:
            self._revoke_sessions(conn, self._require(conn, username).username)

    def revoke_token(self, client: str, refresh_token: str) -> None:
        if not self.resource.clients[client].enable_token_revocation:
            raise InvalidParameter("Token revocation is not enabled for this app client")
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT client FROM up_sessions WHERE pool = ? AND token_hash = ?",
                (self.name, _sha256(refresh_token)),
            ).fetchone()
            if row is None:
                return  # RevokeToken succeeds for tokens it does not know
            if row[0] != client:
                raise ClientNotFound("The refresh token was not issued to this client")
            conn.execute(
                "UPDATE up_sessions SET revoked = 1 WHERE pool = ? AND token_hash = ?",
                (self.name, _sha256(refresh_token)),
            )

    def get_user(self, access_token: str) -> User:
        with self.db.read() as conn:
            return self._public(self._access_user(conn, access_token))

    # Passwords.

    def forgot_password(self, username: str) -> CodeDelivery:
        with self.db.transaction() as conn:
            user = self._resolve(conn, username)
            if user is None:
                return self._fake_delivery(username)
            if not user.enabled:
                raise NotAuthorized("User is disabled.")
            attrs = user.attributes
            if attrs.get("email") and attrs.get("email_verified") == "true":
                details, to = CodeDelivery(mask_email(attrs["email"]), "EMAIL", "email"), attrs["email"]
            elif attrs.get("phone_number") and attrs.get("phone_number_verified") == "true":
                details = CodeDelivery(mask_phone(attrs["phone_number"]), "SMS", "phone_number")
                to = attrs["phone_number"]
            else:
                raise InvalidParameter(
                    "Cannot reset password for the user as there is no registered/verified email or phone_number"
                )
            code = self._new_code(conn, user.username, "reset", RESET_CODE_SECONDS)
        self._send(
            to,
            details.delivery_medium,
            "forgot_password",
            user.username,
            "Your password reset code",
            f"Your password reset code is {code}.",
            code=code,
        )
        return details

    def confirm_forgot_password(self, username: str, code: str, new_password: str) -> None:
        password_hash = self._passwords.hash(new_password)
        error: Exception | None
        with self.db.transaction() as conn:
            user = self._resolve(conn, username)
            if user is None:
                error = CodeMismatch("Invalid verification code provided, please try again.")
            else:
                error = self._check_code(conn, user.username, "reset", code)
                if error is None:
                    conn.execute(
                        "UPDATE up_users SET password_hash = ?, modified = ?, failed = 0, last_failed = NULL, "
                        "locked_until = NULL, temp_expires = NULL, "
                        "status = CASE status WHEN 'UNCONFIRMED' THEN 'UNCONFIRMED' ELSE 'CONFIRMED' END "
                        "WHERE pool = ? AND username = ?",
                        (password_hash, self._now(), self.name, user.username),
                    )
        if error is not None:
            raise error

    def change_password(self, access_token: str, old: str, new: str) -> None:
        with self.db.read() as conn:
            user = self._access_user(conn, access_token)
        if self._locked(user):
            raise NotAuthorized("Password attempts exceeded")
        if not self._passwords.verify(user.password_hash, old):
            with self.db.transaction() as conn:
                self._record_failure(conn, user)
            raise NotAuthorized(_INCORRECT)
        password_hash = self._passwords.hash(new)
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE up_users SET password_hash = ?, modified = ? WHERE pool = ? AND username = ?",
                (password_hash, self._now(), self.name, user.username),
            )

    # Administration.

    def _temporary_password(self) -> str:
        policy = self.resource.password_policy
        symbols = "".join(sorted(PASSWORD_SYMBOLS - {" "}))
        classes = [string.ascii_uppercase, string.ascii_lowercase, string.digits, symbols]
        chars = [secrets.choice(c) for c in classes]
        alphabet = "".join(classes)
        chars += [secrets.choice(alphabet) for _ in range(max(policy.min_length, 12) - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        return "".join(chars)

    def admin_create_user(
        self, username: str, attributes: dict[str, str], temporary_password: str | None, suppress: bool
    ) -> User:
        password = temporary_password or self._temporary_password()
        password_hash = self._passwords.hash(password)
        expires = self._now() + self.resource.password_policy.temporary_password_days * 86400
        with self.db.transaction() as conn:
            user = self._insert_user(conn, username, password_hash, attributes, "FORCE_CHANGE_PASSWORD", expires)
        delivery = self._delivery(user.attributes)
        if delivery is not None and not suppress:
            details, to = delivery
            self._send(
                to,
                details.delivery_medium,
                "invitation",
                user.username,
                "Your temporary password",
                f"Your username is {username} and temporary password is {password}.",
                temporary_password=password,
            )
        return self._public(user)

    def admin_set_user_password(self, username: str, password: str, permanent: bool) -> None:
        password_hash = self._passwords.hash(password)
        with self.db.transaction() as conn:
            user = self._require(conn, username)
            if permanent:
                status = "CONFIRMED" if user.status != "UNCONFIRMED" else "UNCONFIRMED"
                expires = None
            else:
                status = "FORCE_CHANGE_PASSWORD"
                expires = self._now() + self.resource.password_policy.temporary_password_days * 86400
            conn.execute(
                "UPDATE up_users SET password_hash = ?, status = ?, temp_expires = ?, modified = ?, failed = 0, "
                "last_failed = NULL, locked_until = NULL WHERE pool = ? AND username = ?",
                (password_hash, status, expires, self._now(), self.name, user.username),
            )

    def admin_delete_user(self, username: str) -> None:
        with self.db.transaction() as conn:
            user = self._require(conn, username)
            for table in ("up_users", "up_logins", "up_groups", "up_codes", "up_sessions"):
                conn.execute(f"DELETE FROM {table} WHERE pool = ? AND username = ?", (self.name, user.username))

    def admin_set_enabled(self, username: str, enabled: bool) -> None:
        with self.db.transaction() as conn:
            user = self._require(conn, username)
            conn.execute(
                "UPDATE up_users SET enabled = ?, modified = ? WHERE pool = ? AND username = ?",
                (int(enabled), self._now(), self.name, user.username),
            )
            if not enabled:
                self._revoke_sessions(conn, user.username)

    def admin_get_user(self, username: str) -> User:
        with self.db.read() as conn:
            return self._public(self._require(conn, username))

    def admin_add_user_to_group(self, username: str, group: str) -> None:
        with self.db.transaction() as conn:
            user = self._require(conn, username)
            conn.execute("INSERT OR IGNORE INTO up_groups VALUES (?, ?, ?)", (self.name, user.username, group))

    def admin_remove_user_from_group(self, username: str, group: str) -> None:
        with self.db.transaction() as conn:
            user = self._require(conn, username)
            conn.execute(
                "DELETE FROM up_groups WHERE pool = ? AND username = ? AND grp = ?", (self.name, user.username, group)
            )

    def admin_list_groups_for_user(self, username: str) -> list[str]:
        with self.db.read() as conn:
            return self._groups(conn, self._require(conn, username).username)

    def update_user_attributes(self, access_token: str, attributes: dict[str, str]) -> list[CodeDelivery]:
        sends: list[tuple[CodeDelivery, str, str, str]] = []
        with self.db.transaction() as conn:
            user = self._access_user(conn, access_token)
            for attr, value in attributes.items():
                if attr in ("email", "phone_number") and user.attributes.get(attr) != value:
                    user.attributes[f"{attr}_verified"] = "false"
                user.attributes[attr] = value
            self._claim_logins(conn, user.username, self._logins(user.username, user.attributes))
            self._save_attributes(conn, user)
            for attr in ("email", "phone_number"):
                if attr in attributes and user.attributes.get(f"{attr}_verified") == "false":
                    code = self._new_code(conn, user.username, f"verify:{attr}", ATTRIBUTE_CODE_SECONDS)
                    value = attributes[attr]
                    details = (
                        CodeDelivery(mask_email(value), "EMAIL", "email")
                        if attr == "email"
                        else CodeDelivery(mask_phone(value), "SMS", "phone_number")
                    )
                    sends.append((details, value, code, user.username))
        for details, to, code, name in sends:
            self._send(
                to,
                details.delivery_medium,
                "verify_attribute",
                name,
                "Your verification code",
                f"Your verification code is {code}.",
                code=code,
            )
        return [s[0] for s in sends]

    def verify_user_attribute(self, access_token: str, attribute: str, code: str) -> None:
        error: Exception | None
        with self.db.transaction() as conn:
            user = self._access_user(conn, access_token)
            error = self._check_code(conn, user.username, f"verify:{attribute}", code)
            if error is None:
                user.attributes[f"{attribute}_verified"] = "true"
                self._save_attributes(conn, user)
        if error is not None:
            raise error


def _token_message(reason: str, token_use: object) -> str:
    what = {"id": "Id Token", "access": "Access Token"}.get(str(token_use), "Token")
    if reason == "expired":
        return f"{what} has expired"
    if reason == "revoked":
        return f"{what} has been revoked"
    return f"Invalid {what}"


# The JWKS endpoint.


def _pools(cloud: LocalCloud) -> dict[str, LocalUserPool]:
    found = {}
    for app in cloud.apps:
        for resource in app.resources_of("user_pool"):
            backend = resource._backend
            if isinstance(backend, LocalUserPool):
                found[backend.name] = backend
    return found


def jwks_routes(cloud: LocalCloud) -> list[BaseRoute]:
    """The routes of :func:`jwks_app`, for a gateway to add to its own Starlette routes."""
    return list(jwks_app(cloud).routes)


def jwks_app(cloud: LocalCloud) -> Starlette:
    """A Starlette app serving every bound pool's ``/<pool>/.well-known/jwks.json`` and openid-configuration."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def document(build: Callable[[LocalUserPool], dict[str, Any]]) -> Callable[[Request], Any]:
        def endpoint(request: Request) -> JSONResponse:
            pool = _pools(cloud).get(request.path_params["pool"])
            if pool is None:
                return JSONResponse({"message": "Not Found"}, status_code=404)
            return JSONResponse(build(pool), headers={"Cache-Control": "max-age=300"})

        return endpoint

    def openid(pool: LocalUserPool) -> dict[str, Any]:
        scopes = sorted({s for c in pool.resource.clients.values() for s in c.scopes} | {"openid"})
        return {
            "issuer": pool.issuer,
            "jwks_uri": f"{pool.issuer}/.well-known/jwks.json",
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "response_types_supported": ["code", "token"],
            "scopes_supported": scopes,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    return Starlette(
        routes=[
            Route("/{pool}/.well-known/jwks.json", document(lambda p: p.jwks())),
            Route("/{pool}/.well-known/openid-configuration", document(openid)),
        ]
    )
