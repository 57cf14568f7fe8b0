"""AwsApiKeys: the API keys port on a DynamoDB table (``pk``/``sk`` strings), through boto3.

HTTP APIs have no usage plans, so the route's function checks keys itself
(``stratus.aws.events.authorize``) with this adapter, against the table named by
``STRATUS_API_KEYS_<NAME>`` that the template creates. DynamoDB is used directly (not the
table port): the store needs a few fixed items and conditional writes, nothing more.

Items (key attributes are strings, as the template declares them):

``pk = "VALUE#<SHA-256 of the key value>"``, ``sk = "KEY"``
    What ``consume`` needs, in one read: the key's id, name, plan, state and creation time.
    The value itself is never stored (a generated value is 40 random characters, so a slow
    hash would add nothing), hence a lost value cannot be recovered, only replaced.
``pk = "KEY#<id>"``, ``sk = "KEY"``
    The same by id, with the value's hash: what ``get``, ``list``, ``enable``... read.
``pk = "KEY#<id>"``, ``sk = "USAGE#<period start, 12 digits of epoch seconds>"``
    Requests admitted in that quota period (``USAGE#000000000000`` for plans without a quota).

Both key items are written together (``TransactWriteItems``), each on condition it does not
exist yet, so two keys never share a value (:class:`ApiKeyExists`). A request is admitted with
one consistent ``GetItem`` by the value's hash and, for a plan with a quota, one ``UpdateItem``
(``ADD used :one``) on condition that ``used`` is below the limit: however many Lambda
environments count at once, a quota is never overshot and a refused request is not counted.
When a key's first request of a period creates its counter, the counters of earlier periods are
deleted.

Throttling (``rate``/``burst``) is a token bucket per key in memory, as locally: per execution
environment, approximate by nature as API Gateway's own, full again after a cold start. Time is
the cloud's clock (quota periods are calendar periods in UTC).
"""

from __future__ import annotations

import builtins
import secrets
import string
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import ResourceNotFound, StratusError, Throttled, ValidationError
from stratus.resources.api_keys import (
    ApiKey,
    ApiKeyExists,
    ApiKeyNotFound,
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
    from stratus.resources.api_keys import ApiKeys

_ERRORS: dict[str, type[StratusError]] = {
    "ResourceNotFoundException": ResourceNotFound,
    "ValidationException": ValidationError,
    "ProvisionedThroughputExceededException": Throttled,
    "RequestLimitExceeded": Throttled,
    "ThrottlingException": Throttled,
}
_ID_ALPHABET = string.ascii_lowercase + string.digits
_NO_PERIOD = 0
#: How many fresh ids ``create`` tries when a generated id is taken (36^10 ids: it never happens twice).
_ID_ATTEMPTS = 3


def translate(error: ClientError) -> StratusError:
    return _context.translate_error(error, _ERRORS)


def _usage_sk(start: float) -> str:
    return f"USAGE#{int(start):012d}"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float) -> dict[str, str]:
    return {"N": repr(float(value))}


class AwsApiKeys(ApiKeysBackend):
    """One declared key store, in the DynamoDB table named by ``STRATUS_API_KEYS_<NAME>``."""

    def __init__(self, resource: ApiKeys, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.table = _context.physical_id(resource, cloud)
        self.client = _context.client("dynamodb", cloud)
        self.throttle = KeyThrottle()

    def __repr__(self) -> str:
        return f"<AwsApiKeys {self.table}>"

    def _now(self) -> float:
        return _context.clock(self.cloud).now()

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(TableName=self.table, **params)
        except ClientError as error:
            raise translate(error) from None

    # Items.

    @staticmethod
    def _key(item: dict[str, Any], key_id: str | None = None) -> ApiKey:
        return ApiKey(
            id=key_id or item["key_id"]["S"],
            name=item["name"]["S"],
            plan=item["plan"]["S"],
            enabled=bool(item["enabled"]["BOOL"]),
            created=datetime.fromtimestamp(float(item["created"]["N"]), tz=UTC),
        )

    def _by_id(self, key_id: str) -> dict[str, Any]:
        item = self._call("get_item", Key={"pk": _s(f"KEY#{key_id}"), "sk": _s("KEY")}, ConsistentRead=True).get("Item")
        if item is None:
            raise ApiKeyNotFound(f"Invalid API Key identifier specified: {key_id}")
        return item

    def _transact(self, items: builtins.list[dict[str, Any]]) -> builtins.list[str | None]:
        """Write ``items`` together; None if done, else the cancellation code of each item."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if _context.error_code(error) != "TransactionCanceledException":
                raise translate(error) from None
            reasons = error.response.get("CancellationReasons") or []
            return [r.get("Code") for r in reasons] or ["Unknown"] * len(items)
        return []

    # The port.

    def create(self, name: str, plan: str, value: str) -> ApiKey:
        value_hash = hash_key_value(value)
        now = self._now()
        described = {"name": _s(name), "plan": _s(plan), "enabled": {"BOOL": True}, "created": _n(now)}
        for _ in range(_ID_ATTEMPTS):
            key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))
            absent = "attribute_not_exists(pk)"
            codes = self._transact(
                [
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": {
                                "pk": _s(f"VALUE#{value_hash}"),
                                "sk": _s("KEY"),
                                "key_id": _s(key_id),
                                **described,
                            },
                            "ConditionExpression": absent,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": {
                                "pk": _s(f"KEY#{key_id}"),
                                "sk": _s("KEY"),
                                "value_hash": _s(value_hash),
                                **described,
                            },
                            "ConditionExpression": absent,
                        }
                    },
                ]
            )
            if not codes:
                return ApiKey(key_id, name, plan, True, datetime.fromtimestamp(now, tz=UTC), value)
            if codes[0] == "ConditionalCheckFailed" or self._value_taken(value_hash):
                raise ApiKeyExists("API Key already exists")
            if codes[1] != "ConditionalCheckFailed":
                raise StratusError(f"creating the API key failed: the transaction was cancelled ({codes})")
        raise StratusError("creating the API key failed: no free key id was found")

    def _value_taken(self, value_hash: str) -> bool:
        found = self._call("get_item", Key={"pk": _s(f"VALUE#{value_hash}"), "sk": _s("KEY")}, ConsistentRead=True).get(
            "Item"
        )
        return found is not None

    def get(self, key_id: str) -> ApiKey:
        return self._key(self._by_id(key_id), key_id)

    def list(self) -> builtins.list[ApiKey]:
        keys: builtins.list[ApiKey] = []
        start: dict[str, Any] | None = None
        while True:
            params: dict[str, Any] = {
                "FilterExpression": "begins_with(pk, :key) AND sk = :sk",
                "ExpressionAttributeValues": {":key": _s("KEY#"), ":sk": _s("KEY")},
                "ConsistentRead": True,
            }
            if start:
                params["ExclusiveStartKey"] = start
            response = self._call("scan", **params)
            keys.extend(self._key(item, item["pk"]["S"][len("KEY#") :]) for item in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        keys.sort(key=lambda k: (k.created, k.id))
        return keys

    def set_enabled(self, key_id: str, enabled: bool) -> None:
        value_hash = self._by_id(key_id)["value_hash"]["S"]
        update = {
            "UpdateExpression": "SET enabled = :enabled",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":enabled": {"BOOL": enabled}},
            "TableName": self.table,
        }
        codes = self._transact(
            [
                {"Update": {"Key": {"pk": _s(f"KEY#{key_id}"), "sk": _s("KEY")}, **update}},
                {"Update": {"Key": {"pk": _s(f"VALUE#{value_hash}"), "sk": _s("KEY")}, **update}},
            ]
        )
        if codes:
            raise ApiKeyNotFound(f"Invalid API Key identifier specified: {key_id}")  # deleted meanwhile

    def _usage_items(self, key_id: str) -> builtins.list[dict[str, Any]]:
        items: builtins.list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            params: dict[str, Any] = {
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :usage)",
                "ExpressionAttributeValues": {":pk": _s(f"KEY#{key_id}"), ":usage": _s("USAGE#")},
                "ConsistentRead": True,
            }
            if start:
                params["ExclusiveStartKey"] = start
            response = self._call("query", **params)
            items.extend(response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                return items

    def _delete_items(self, keys: builtins.list[dict[str, Any]]) -> None:
        for offset in range(0, len(keys), 25):
            pending: builtins.list[dict[str, Any]] = [{"DeleteRequest": {"Key": k}} for k in keys[offset : offset + 25]]
            for _ in range(5):
                if not pending:
                    break
                try:
                    response = self.client.batch_write_item(RequestItems={self.table: pending})
                except ClientError as error:
                    raise translate(error) from None
                pending = response.get("UnprocessedItems", {}).get(self.table, [])
            if pending:
                raise Throttled(f"{len(pending)} usage counters could not be deleted; try again")

    def delete(self, key_id: str) -> None:
        value_hash = self._by_id(key_id)["value_hash"]["S"]
        codes = self._transact(
            [
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": {"pk": _s(f"KEY#{key_id}"), "sk": _s("KEY")},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {"Delete": {"TableName": self.table, "Key": {"pk": _s(f"VALUE#{value_hash}"), "sk": _s("KEY")}}},
            ]
        )
        if codes:
            raise ApiKeyNotFound(f"Invalid API Key identifier specified: {key_id}")
        self.throttle.forget(key_id)
        self._delete_items([{"pk": item["pk"], "sk": item["sk"]} for item in self._usage_items(key_id)])

    def usage(self, key_id: str) -> Usage:
        key = self.get(key_id)
        plan = self.resource.plans.get(key.plan or "")
        if plan is None or plan.quota is None:
            used = sum(int(float(item["used"]["N"])) for item in self._usage_items(key_id))
            return Usage(key_id, key.plan, None, None, used, None, None)
        limit, period = plan.quota
        start = period_start(self._now(), period)
        item = self._call(
            "get_item", Key={"pk": _s(f"KEY#{key_id}"), "sk": _s(_usage_sk(start))}, ConsistentRead=True
        ).get("Item")
        used = int(float(item["used"]["N"])) if item else 0
        return Usage(key_id, key.plan, period, datetime.fromtimestamp(start, tz=UTC), used, limit, max(0, limit - used))

    def consume(self, value: str) -> ApiKey:
        now = self._now()
        item = self._call(
            "get_item", Key={"pk": _s(f"VALUE#{hash_key_value(value)}"), "sk": _s("KEY")}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise KeyRejected("Forbidden")
        key = self._key(item)
        plan = self.resource.plans.get(key.plan or "")
        if not key.enabled or plan is None:
            raise KeyRejected("Forbidden")
        if plan.throttle is not None:
            wait = self.throttle.take(key.id, float(plan.throttle[0]), plan.throttle[1], now)
            if wait > 0:
                raise ApiKeyThrottled("Too Many Requests", retry_after=wait)
        pk = _s(f"KEY#{key.id}")
        if plan.quota is None:
            self._call(
                "update_item",
                Key={"pk": pk, "sk": _s(_usage_sk(_NO_PERIOD))},
                UpdateExpression="ADD used :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
            return key
        limit, period = plan.quota
        start = period_start(now, period)
        try:
            response = self.client.update_item(
                TableName=self.table,
                Key={"pk": pk, "sk": _s(_usage_sk(start))},
                UpdateExpression="ADD used :one",
                ConditionExpression="attribute_not_exists(used) OR used < :limit",
                ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(limit)}},
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as error:
            if _context.error_code(error) == "ConditionalCheckFailedException":
                raise QuotaExceeded("Limit Exceeded") from None
            raise translate(error) from None
        if int(float(response["Attributes"]["used"]["N"])) == 1:
            self._forget_periods_before(key.id, start)
        return key

    def _forget_periods_before(self, key_id: str, start: float) -> None:
        """A new period began: the counts of earlier ones are done with (as locally)."""
        current = _usage_sk(start)
        old = [{"pk": item["pk"], "sk": item["sk"]} for item in self._usage_items(key_id) if item["sk"]["S"] < current]
        if old:
            self._delete_items(old)
