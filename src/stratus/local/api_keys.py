"""The embedded API key store: key hashes and quota counts in SQLite, token buckets in memory.

``apikeys.db`` holds one row per key (its id, name, plan, state and the SHA-256 of its
value, looked up by that hash, so the value is never stored nor compared byte by byte)
and one row per key and quota period with the count of admitted requests, incremented
in the same transaction that checks it, so concurrent requests cannot overshoot a quota.
Time is the cloud's clock.
"""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from stratus.resources.api_keys import (
    ApiKey,
    ApiKeyExists,
    ApiKeyNotFound,
    ApiKeys,
    ApiKeysBackend,
    ApiKeyThrottled,
    KeyRejected,
    KeyThrottle,
    QuotaExceeded,
    Usage,
    hash_key_value,
    period_start,
)

if TYPE_CHECKING:
    import sqlite3

    from stratus.local.cloud import LocalCloud

_SCHEMA = [
    """
    CREATE TABLE apikeys (
        store TEXT NOT NULL,
        key_id TEXT NOT NULL,
        name TEXT NOT NULL,
        plan TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        created REAL NOT NULL,
        value_hash TEXT NOT NULL,
        PRIMARY KEY (store, key_id),
        UNIQUE (store, value_hash)
    );
    CREATE TABLE apikey_usage (
        store TEXT NOT NULL,
        key_id TEXT NOT NULL,
        period_start REAL NOT NULL,
        used INTEGER NOT NULL,
        PRIMARY KEY (store, key_id, period_start)
    )
    """
]


class LocalApiKeys(ApiKeysBackend):
    """One declared key store on the local cloud."""

    def __init__(self, resource: ApiKeys, cloud: LocalCloud) -> None:
        self.resource = resource
        self.cloud = cloud
        self.name = resource.qualified_name
        self.db = cloud.storage.database("apikeys")
        self.db.migrate("apikeys", _SCHEMA)
        self.throttle = KeyThrottle()

    def __repr__(self) -> str:
        return f"<LocalApiKeys {self.name}>"

    def _key(self, row: tuple) -> ApiKey:
        key_id, name, plan, enabled, created = row
        return ApiKey(key_id, name, plan, bool(enabled), datetime.fromtimestamp(created, tz=UTC))

    def _row(self, conn: sqlite3.Connection, key_id: str) -> tuple:
        row = conn.execute(
            "SELECT key_id, name, plan, enabled, created FROM apikeys WHERE store = ? AND key_id = ?",
            (self.name, key_id),
        ).fetchone()
        if row is None:
            raise ApiKeyNotFound(f"Invalid API Key identifier specified: {key_id}")
        return tuple(row)

    def create(self, name: str, plan: str, value: str) -> ApiKey:
        key_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(10))
        now = self.cloud.clock.now()
        with self.db.transaction() as conn:
            taken = conn.execute(
                "SELECT 1 FROM apikeys WHERE store = ? AND value_hash = ?", (self.name, hash_key_value(value))
            ).fetchone()
            if taken is not None:
                raise ApiKeyExists("API Key already exists")
            conn.execute(
                "INSERT INTO apikeys VALUES (?, ?, ?, ?, 1, ?, ?)",
                (self.name, key_id, name, plan, now, hash_key_value(value)),
            )
        return ApiKey(key_id, name, plan, True, datetime.fromtimestamp(now, tz=UTC), value)

    def get(self, key_id: str) -> ApiKey:
        with self.db.read() as conn:
            return self._key(self._row(conn, key_id))

    def list(self) -> list[ApiKey]:
        rows = self.db.execute(
            "SELECT key_id, name, plan, enabled, created FROM apikeys WHERE store = ? ORDER BY created, key_id",
            (self.name,),
        )
        return [self._key(tuple(r)) for r in rows]

    def set_enabled(self, key_id: str, enabled: bool) -> None:
        with self.db.transaction() as conn:
            self._row(conn, key_id)
            conn.execute(
                "UPDATE apikeys SET enabled = ? WHERE store = ? AND key_id = ?", (int(enabled), self.name, key_id)
            )

    def delete(self, key_id: str) -> None:
        with self.db.transaction() as conn:
            self._row(conn, key_id)
            conn.execute("DELETE FROM apikeys WHERE store = ? AND key_id = ?", (self.name, key_id))
            conn.execute("DELETE FROM apikey_usage WHERE store = ? AND key_id = ?", (self.name, key_id))
        self.throttle.forget(key_id)

    def usage(self, key_id: str) -> Usage:
        with self.db.read() as conn:
            key = self._key(self._row(conn, key_id))
            plan = self.resource.plans.get(key.plan or "")
            if plan is None or plan.quota is None:
                (used,) = conn.execute(
                    "SELECT COALESCE(SUM(used), 0) FROM apikey_usage WHERE store = ? AND key_id = ?",
                    (self.name, key_id),
                ).fetchone()
                return Usage(key_id, key.plan, None, None, used, None, None)
            limit, period = plan.quota
            start = period_start(self.cloud.clock.now(), period)
            row = conn.execute(
                "SELECT used FROM apikey_usage WHERE store = ? AND key_id = ? AND period_start = ?",
                (self.name, key_id, start),
            ).fetchone()
        used = row[0] if row else 0
        return Usage(key_id, key.plan, period, datetime.fromtimestamp(start, tz=UTC), used, limit, max(0, limit - used))

    def consume(self, value: str) -> ApiKey:
        now = self.cloud.clock.now()
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT key_id, name, plan, enabled, created FROM apikeys WHERE store = ? AND value_hash = ?",
                (self.name, hash_key_value(value)),
            ).fetchone()
        if row is None:
            raise KeyRejected("Forbidden")
        key = self._key(tuple(row))
        plan = self.resource.plans.get(key.plan or "")
        if not key.enabled or plan is None:
            raise KeyRejected("Forbidden")
        if plan.throttle is not None:
            wait = self.throttle.take(key.id, float(plan.throttle[0]), plan.throttle[1], now)
            if wait > 0:
                raise ApiKeyThrottled("Too Many Requests", retry_after=wait)
        with self.db.transaction() as conn:
            if plan.quota is not None:
                limit, period = plan.quota
                start = period_start(now, period)
                found = conn.execute(
                    "SELECT used FROM apikey_usage WHERE store = ? AND key_id = ? AND period_start = ?",
                    (self.name, key.id, start),
                ).fetchone()
                if found is None:  # a new period: the old counts are done with
                    conn.execute(
                        "DELETE FROM apikey_usage WHERE store = ? AND key_id = ? AND period_start < ?",
                        (self.name, key.id, start),
                    )
                if found is not None and found[0] >= limit:
                    over = True
                else:
                    over = False
                    conn.execute(
                        "INSERT INTO apikey_usage VALUES (?, ?, ?, 1) ON CONFLICT(store, key_id, period_start) "
                        "DO UPDATE SET used = used + 1",
                        (self.name, key.id, start),
                    )
            else:
                over = False
                conn.execute(
                    "INSERT INTO apikey_usage VALUES (?, ?, 0, 1) ON CONFLICT(store, key_id, period_start) "
                    "DO UPDATE SET used = used + 1",
                    (self.name, key.id),
                )
        if over:
            raise QuotaExceeded("Limit Exceeded")
        return key
