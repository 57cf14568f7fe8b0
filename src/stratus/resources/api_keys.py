"""API keys and usage plans (API Gateway): who may call, how fast and how much.

``ApiKeys(app, "partners", plans=[UsagePlan("basic", throttle=(10, 20), quota=(1000, "DAY"))])``
declares a durable store of keys. :meth:`ApiKeys.create_key` returns the key's value
once; only its SHA-256 is stored (a generated key is 40 random characters, so a slow
hash would add nothing), so a lost value cannot be recovered, only replaced.

:class:`ApiKeyAuthorizer` guards HTTP API routes with a key sent in a header
(``x-api-key`` by default) and answers as API Gateway does:

- missing, unknown or disabled key, or a key without a declared plan → 403
  ``{"message": "Forbidden"}`` (:class:`~stratus.resources.auth.Forbidden`);
- more than the plan's rate (a token bucket of ``burst`` tokens refilled at ``rate`` per
  second, per key) → 429 ``{"message": "Too Many Requests"}`` (:class:`ApiKeyThrottled`);
- over the plan's quota in the current period → 429 ``{"message": "Limit Exceeded"}``
  (:class:`QuotaExceeded`).

Quota periods are calendar periods in UTC on the cloud's clock: a ``DAY`` starts at
midnight, a ``WEEK`` on Monday, a ``MONTH`` on the 1st. Throttled or refused requests do
not count against the quota. Counts are durable; the token buckets live in memory (as API
Gateway's throttling, they are approximate by nature and start full after a restart).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from stratus.errors import LimitExceeded, ResourceInUse, ResourceNotFound, StratusError, Throttled, ValidationError
from stratus.resources.auth import Authorizer, AuthResult, Forbidden
from stratus.resources.base import Resource
from stratus.resources.token_bucket import TokenBucket

if TYPE_CHECKING:
    from stratus.app import App
    from stratus.resources.api import Route

PERIODS = ("DAY", "WEEK", "MONTH")
MIN_KEY_LENGTH, MAX_KEY_LENGTH = 20, 128
MAX_RATE = 10000.0
MAX_BURST = 5000
_PLAN_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_KEY_NAME = re.compile(r"^[\w .@+=,-]{1,128}$")
_KEY_VALUE = re.compile(r"^[\x21-\x7E]+$")
_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")


# Errors.


class ApiKeyNotFound(ResourceNotFound):
    code = "NotFoundException"


class ApiKeyExists(ResourceInUse):
    """Another key of the store has this value."""

    code = "ConflictException"


class ApiKeyThrottled(Throttled):
    """The key's rate limit is exceeded: 429 "Too Many Requests"."""

    code = "TooManyRequestsException"
    status = 429

    def __init__(self, reason: str = "Too Many Requests", retry_after: float = 1.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class QuotaExceeded(LimitExceeded):
    """The key's quota for the period is used up: 429 "Limit Exceeded"."""

    code = "LimitExceededException"
    status = 429

    def __init__(self, reason: str = "Limit Exceeded") -> None:
        super().__init__(reason)
        self.reason = reason


class KeyRejected(StratusError):
    """The key is missing, unknown, disabled or has no plan (the gateway answers 403 Forbidden)."""

    code = "Forbidden"


# Declarations and values.


@dataclass(frozen=True)
class UsagePlan:
    """A usage plan: ``throttle=(rate per second, burst)`` and ``quota=(limit, "DAY"|"WEEK"|"MONTH")``."""

    name: str
    throttle: tuple[float, int] | None = None
    quota: tuple[int, str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _PLAN_NAME.match(self.name):
            raise ValidationError(f"usage plan name {self.name!r} must be 1-128 letters, digits, '_', '.' or '-'")
        where = f"usage plan {self.name!r}"
        if self.throttle is not None:
            if not isinstance(self.throttle, tuple) or len(self.throttle) != 2:
                raise ValidationError(f"{where}: throttle must be (rate, burst)")
            rate, burst = self.throttle
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= MAX_RATE:
                raise ValidationError(f"{where}: throttle rate must be a number above 0 and at most {MAX_RATE:g}")
            if isinstance(burst, bool) or not isinstance(burst, int) or not 1 <= burst <= MAX_BURST:
                raise ValidationError(f"{where}: throttle burst must be an integer from 1 to {MAX_BURST}")
        if self.quota is not None:
            if not isinstance(self.quota, tuple) or len(self.quota) != 2:
                raise ValidationError(f"{where}: quota must be (limit, period)")
            limit, period = self.quota
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ValidationError(f"{where}: quota limit must be a positive integer")
            if period not in PERIODS:
                raise ValidationError(f"{where}: quota period must be one of {', '.join(PERIODS)}, got {period!r}")


@dataclass(frozen=True)
class ApiKey:
    """A key as the store describes it; ``value`` is set only in the answer to :meth:`ApiKeys.create_key`."""

    id: str
    name: str
    plan: str | None
    enabled: bool
    created: datetime
    value: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        shown = "<hidden>" if self.value else None
        return f"ApiKey(id={self.id!r}, name={self.name!r}, plan={self.plan!r}, enabled={self.enabled}, value={shown})"

    __str__ = __repr__


@dataclass(frozen=True)
class Usage:
    """A key's use of its quota in the current period (``limit``/``remaining`` None without a quota)."""

    key_id: str
    plan: str | None
    period: str | None
    period_start: datetime | None
    used: int
    limit: int | None
    remaining: int | None


def period_start(epoch: float, period: str) -> float:
    """The start (epoch seconds, UTC) of the calendar quota ``period`` containing ``epoch``.

    A ``DAY`` starts at midnight UTC, a ``WEEK`` on Monday at midnight, a ``MONTH`` on the 1st:
    every adapter counts a key's requests per period from this one definition.
    """
    if period not in PERIODS:
        raise ValidationError(f"quota period must be one of {', '.join(PERIODS)}, got {period!r}")
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "DAY":
        start = day
    elif period == "WEEK":
        start = day - timedelta(days=day.weekday())
    else:
        start = day.replace(day=1)
    return start.timestamp()


# The backend contract.


class ApiKeysBackend(ABC):
    """What an adapter implements; inputs are already validated by :class:`ApiKeys`."""

    @abstractmethod
    def create(self, name: str, plan: str, value: str) -> ApiKey: ...

    @abstractmethod
    def get(self, key_id: str) -> ApiKey: ...

    @abstractmethod
    def list(self) -> list[ApiKey]: ...

    @abstractmethod
    def set_enabled(self, key_id: str, enabled: bool) -> None: ...

    @abstractmethod
    def delete(self, key_id: str) -> None: ...

    @abstractmethod
    def usage(self, key_id: str) -> Usage: ...

    @abstractmethod
    def consume(self, value: str) -> ApiKey:
        """Admit one request with key ``value``: KeyRejected, ApiKeyThrottled or QuotaExceeded if not."""


# The handle.


class ApiKeys(Resource[ApiKeysBackend]):
    """A durable store of API keys, each on one of the declared usage plans."""

    kind = "api_keys"
    max_name_length = 128

    def __init__(self, app: App, name: str, *, plans: list[UsagePlan]) -> None:
        super().__init__(app, name)
        plan_list = list(plans or [])
        if not plan_list or not all(isinstance(p, UsagePlan) for p in plan_list):
            raise ValidationError(f"api keys {name!r}: plans must be a non-empty list of UsagePlan")
        names = [p.name for p in plan_list]
        if len(set(names)) != len(names):
            raise ValidationError(f"api keys {name!r}: usage plan names must be distinct")
        self.plans = {p.name: p for p in plan_list}

    def settings(self) -> dict[str, Any]:
        return {
            "plans": [
                {"name": p.name, "throttle": list(p.throttle) if p.throttle else None, "quota": p.quota}
                for p in self.plans.values()
            ]
        }

    def create_key(self, name: str, plan: str, *, value: str | None = None) -> ApiKey:
        """Create an enabled key on ``plan``; the answer carries the value, which is never shown again."""
        if not isinstance(name, str) or not _KEY_NAME.match(name):
            raise ValidationError(f"api key name {name!r} must be 1-128 characters")
        if plan not in self.plans:
            raise ApiKeyNotFound(f"Invalid Usage Plan ID specified: {plan}")
        if value is not None and (
            not isinstance(value, str)
            or not MIN_KEY_LENGTH <= len(value) <= MAX_KEY_LENGTH
            or not _KEY_VALUE.match(value)
        ):
            raise ValidationError(f"api key value must be {MIN_KEY_LENGTH}-{MAX_KEY_LENGTH} printable characters")
        return self.backend.create(name, plan, value if value is not None else _new_key_value())

    def get_key(self, key_id: str) -> ApiKey:
        return self.backend.get(_check_id(key_id))

    def list_keys(self) -> list[ApiKey]:
        return self.backend.list()

    def disable(self, key_id: str) -> None:
        self.backend.set_enabled(_check_id(key_id), False)

    def enable(self, key_id: str) -> None:
        self.backend.set_enabled(_check_id(key_id), True)

    def delete_key(self, key_id: str) -> None:
        self.backend.delete(_check_id(key_id))

    def usage(self, key_id: str) -> Usage:
        """How much of its quota the key used in the current period."""
        return self.backend.usage(_check_id(key_id))

    def consume(self, value: str) -> ApiKey:
        """Admit one request made with ``value`` (what :class:`ApiKeyAuthorizer` calls)."""
        if not isinstance(value, str) or not value or len(value) > MAX_KEY_LENGTH:
            raise KeyRejected("Forbidden")
        return self.backend.consume(value)


def _new_key_value() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(40))


def _check_id(key_id: object) -> str:
    if not isinstance(key_id, str) or not re.fullmatch(r"[a-z0-9]{10}", key_id):
        raise ApiKeyNotFound(f"Invalid API Key identifier specified: {key_id}")
    return key_id


# The authorizer.


class ApiKeyAuthorizer(Authorizer):
    """Admit requests that carry an enabled key of ``keys`` in ``header``, within its plan's limits."""

    kind: ClassVar[str] = "lambda"

    def __init__(self, keys: ApiKeys, header: str = "x-api-key", *, name: str | None = None) -> None:
        if not isinstance(keys, ApiKeys):
            raise ValidationError(f"ApiKeyAuthorizer needs a declared ApiKeys store, got {keys!r}")
        if not isinstance(header, str) or not _HEADER.match(header):
            raise ValidationError(f"ApiKeyAuthorizer header {header!r} is not a valid header name")
        self.keys = keys
        self.header = header.lower()
        self.identity_sources = (f"$request.header.{self.header}",)
        self.name = name or f"{keys.name}-api-key"

    def authorize(self, event: dict[str, Any], route: Route | None) -> AuthResult:
        value = (event.get("headers") or {}).get(self.header)
        if not isinstance(value, str) or not value:
            raise Forbidden("Forbidden")
        try:
            key = self.keys.consume(value)
        except KeyRejected:
            raise Forbidden("Forbidden") from None
        context = {"apiKeyId": key.id, "apiKeyName": key.name, "usagePlan": key.plan}
        return AuthResult(principal_id=key.id, claims={}, scopes=[], context=context)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "api_keys": self.keys.name, "header": self.header}

    def __repr__(self) -> str:
        return f"<ApiKeyAuthorizer {self.name} header={self.header}>"


def hash_key_value(value: str) -> str:
    """What a store keeps of a key's value: its SHA-256, never the value itself."""
    return hashlib.sha256(value.encode()).hexdigest()


class KeyThrottle:
    """Each key's usage-plan throttle (rate + burst), in memory: per process, as API Gateway's is per node."""

    def __init__(self) -> None:
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str, rate: float, burst: int, now: float) -> float:
        """Take a token from the key's bucket: 0 if taken, else the seconds until one is available."""
        with self._lock:
            bucket = self._buckets.get(key_id)
            if bucket is None:
                bucket = self._buckets[key_id] = TokenBucket(rate, burst, now)
            bucket.rate, bucket.burst = float(rate), float(burst)  # the key's plan as it is now
            return bucket.take(now)

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._buckets.pop(key_id, None)
