"""S3 event notifications → function.

S3 invokes the function asynchronously with one record per event, so each matching
event becomes an asynchronous invocation (the function's retries and destinations apply).
The pump keeps a durable position in the bucket's event log, starting at the events that
follow the mapping's creation, and applies the notification's event-type, prefix and
suffix filter to the object key (decoded from S3's URL encoding).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from stratus.local.pumps import IDLE, PumpResult
from stratus.resources.function import Function
from stratus.resources.triggers import BucketSource

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud
    from stratus.local.functions import FunctionEngine

_MIGRATIONS = [
    "CREATE TABLE bucket_checkpoints (mapping TEXT PRIMARY KEY, position INTEGER NOT NULL)",
]
BATCH = 500


class BucketPump:
    def __init__(self, function: Function, spec: BucketSource, engine: FunctionEngine, cloud: LocalCloud) -> None:
        self.function = function
        self.spec = spec
        self.engine = engine
        self.cloud = cloud
        self.log: Any = spec.bucket.backend
        self.mapping = f"{function.qualified_name}|bucket|{spec.bucket.qualified_name}"
        self.name = f"s3:{spec.bucket.qualified_name}->{function.qualified_name}"
        self.db = cloud.storage.database("dispatch")
        self.db.migrate("bucket_checkpoints", _MIGRATIONS)
        rows = self.db.execute("SELECT position FROM bucket_checkpoints WHERE mapping = ?", (self.mapping,))
        self.position = rows[0][0] if rows else self._latest()
        if not rows:
            self._save()
        self.log.subscribe(lambda: cloud.wake(self))  # only this pump has work

    def _latest(self) -> int:
        position = 0
        while batch := self.log.events_after(position, BATCH):
            position = batch[-1][0]
        return position

    def _save(self) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO bucket_checkpoints (mapping, position) VALUES (?, ?) "
                "ON CONFLICT(mapping) DO UPDATE SET position = excluded.position",
                (self.mapping, self.position),
            )

    def pump(self) -> PumpResult:
        batch = self.log.events_after(self.position, BATCH)
        if not batch:
            return IDLE
        for position, message in batch:
            for record in message.get("Records", []):
                key = unquote_plus(record["s3"]["object"]["key"])
                if self.spec.matches(record["eventName"], key):
                    delivered = copy.deepcopy(record)
                    delivered["s3"]["configurationId"] = f"{self.function.name}-notification"
                    self.engine.invoke_async(self.function, {"Records": [delivered]})
            self.position = position
        self._save()
        return PumpResult(True)
