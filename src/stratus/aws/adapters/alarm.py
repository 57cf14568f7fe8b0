"""AwsAlarm: the alarm port on Amazon CloudWatch alarms, through boto3.

The alarm (metric, statistic, threshold, actions) is created by the template; evaluation
and actions are CloudWatch's own. This adapter reads the state (``DescribeAlarms``), the
state changes (``DescribeAlarmHistory``, newest first) and forces a state (``SetAlarmState``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import ResourceNotFound, StratusError, ValidationError
from stratus.resources.alarm import AlarmBackend, AlarmHistoryItem, AlarmState

if TYPE_CHECKING:
    from stratus.resources.alarm import Alarm


def translate(error: ClientError) -> StratusError:
    code = _context.error_code(error)
    message = _context.error_message(error)
    if code in ("ResourceNotFound", "ResourceNotFoundException"):
        return ResourceNotFound(message)
    if code in ("InvalidParameterValue", "InvalidFormat", "ValidationError", "ValidationException"):
        return ValidationError(message)
    failure = StratusError(f"{code}: {message}")
    failure.code = code or StratusError.code
    return failure


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value or 0)


class AwsAlarm(AlarmBackend):
    """One CloudWatch alarm, named by ``STRATUS_ALARM_<NAME>``."""

    def __init__(self, resource: Alarm, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.alarm_name = _context.physical_id(resource, cloud)
        self.client = _context.client("cloudwatch", cloud)

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**params)  # type: ignore[no-any-return,unused-ignore]
        except ClientError as error:
            raise translate(error) from None

    def state(self) -> AlarmState:
        found = self._call("describe_alarms", AlarmNames=[self.alarm_name]).get("MetricAlarms", [])
        if not found:
            raise ResourceNotFound(f"alarm {self.alarm_name!r} does not exist")
        alarm = found[0]
        return AlarmState(
            str(alarm["StateValue"]), str(alarm.get("StateReason", "")), _epoch(alarm.get("StateUpdatedTimestamp"))
        )

    def history(self, limit: int) -> list[AlarmHistoryItem]:
        response = self._call(
            "describe_alarm_history",
            AlarmName=self.alarm_name,
            HistoryItemType="StateUpdate",
            MaxRecords=max(1, min(limit, 100)),
            ScanBy="TimestampDescending",
        )
        items: list[AlarmHistoryItem] = []
        for entry in response.get("AlarmHistoryItems", [])[:limit]:
            old_state: str | None = None
            new_state = ""
            try:
                data = json.loads(entry.get("HistoryData") or "{}")
                old_state = (data.get("oldState") or {}).get("stateValue")
                new_state = str((data.get("newState") or {}).get("stateValue", ""))
            except (TypeError, ValueError, AttributeError):
                pass
            items.append(
                AlarmHistoryItem(_epoch(entry.get("Timestamp")), old_state, new_state, entry.get("HistorySummary", ""))
            )
        return items

    def set_state(self, value: str, reason: str) -> None:
        self._call("set_alarm_state", AlarmName=self.alarm_name, StateValue=value, StateReason=reason)
