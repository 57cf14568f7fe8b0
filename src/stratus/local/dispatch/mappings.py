"""Which pump delivers each of a function's triggers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratus.local.pumps import Pump
from stratus.resources.function import Function

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud
    from stratus.local.functions import FunctionEngine


def pumps_for(function: Function, engine: FunctionEngine, cloud: LocalCloud) -> list[Pump]:
    pumps: list[Any] = []
    for trigger in function.triggers:
        spec: Any = trigger.options.get("spec")
        if trigger.kind == "queue":
            from stratus.local.dispatch.queue_source import QueuePump

            pumps.append(QueuePump(function, spec, engine, cloud))
        elif trigger.kind in ("stream", "table_stream"):
            from stratus.local.dispatch.stream_source import StreamPump

            stream_pump = StreamPump(function, spec, engine, cloud)
            stream_pump.start()
            pumps.append(stream_pump)
        elif trigger.kind == "bucket":
            from stratus.local.dispatch.bucket_source import BucketPump

            pumps.append(BucketPump(function, spec, engine, cloud))
    return pumps
