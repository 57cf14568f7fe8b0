"""AwsEventBus: the event bus port on Amazon EventBridge, through boto3.

``PutEvents`` goes to EventBridge, which routes by the rules the synthesized template
declares (named ``<app>-<rule>``), delivers to targets with its own retries and archives
events (archives named ``<app>-<archive>``). Replays are ``StartReplay``; enabling and
disabling a rule are ``EnableRule``/``DisableRule``.

Per-entry checks of the Python surface (an entry is a dict of known fields, ``time`` an
aware datetime, ``detail`` JSON-able) fail that entry alone, as EventBridge reports its own
per-entry failures; everything else is EventBridge's to judge. EventBridge offers no way to
read an archive's events, so ``archived`` raises UnsupportedOperation.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import ResourceNotFound, StratusError, Throttled, ValidationError
from stratus.resources.event_bus import MAX_PUT_BYTES, EventBusBackend, PutEventsResult, PutEventsResultEntry

if TYPE_CHECKING:
    from stratus.resources.event_bus import EventBus

_FIELDS = frozenset({"source", "detail_type", "detail", "resources", "time"})


class UnsupportedOperation(StratusError):
    """Something the local bus offers that EventBridge has no API for."""

    code = "UnsupportedOperation"


def translate(error: ClientError) -> StratusError:
    code = _context.error_code(error)
    message = _context.error_message(error)
    if code in ("ValidationException", "InvalidEventPatternException"):
        return ValidationError(message)
    if code == "ResourceNotFoundException":
        return ResourceNotFound(message)
    if code in ("ThrottlingException", "LimitExceededException"):
        return Throttled(message)
    failure = StratusError(f"{code}: {message}")
    failure.code = code or StratusError.code
    return failure


def _entry_size(entry: dict[str, Any]) -> int:
    """PutEvents entry size as EventBridge computes it (time, source, detail-type, detail, resources)."""
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        value = entry.get(key)
        if isinstance(value, str):
            size += len(value.encode())
    return size + sum(len(r.encode()) for r in entry.get("Resources", []))


class AwsEventBus(EventBusBackend):
    """One EventBridge bus, named by ``STRATUS_EVENT_BUS_<NAME>``."""

    def __init__(self, resource: EventBus, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.bus_name = _context.physical_id(resource, cloud)
        self.client = _context.client("events", cloud)
        self._arn: str | None = None

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**params)  # type: ignore[no-any-return,unused-ignore]
        except ClientError as error:
            raise translate(error) from None

    @property
    def bus_arn(self) -> str:
        if self._arn is None:
            self._arn = str(self._call("describe_event_bus", Name=self.bus_name)["Arn"])
        return self._arn

    def rule_name(self, rule: str) -> str:
        return f"{self.resource.app.name}-{rule}"

    def archive_name(self, archive: str) -> str:
        return f"{self.resource.app.name}-{archive}"

    # -- putting ----------------------------------------------------------------------------

    def _shape(self, entry: Any) -> tuple[dict[str, Any] | None, PutEventsResultEntry | None]:
        def fail(message: str, code: str = "InvalidArgument") -> tuple[None, PutEventsResultEntry]:
            return None, PutEventsResultEntry(error_code=code, error_message=message)

        if not isinstance(entry, dict):
            return fail("Entry must be a dict.")
        unknown = set(entry) - _FIELDS
        if unknown:
            return fail(f"Unknown entry fields: {', '.join(sorted(unknown))}.")
        shaped: dict[str, Any] = {"EventBusName": self.bus_name}
        source, detail_type, detail = entry.get("source"), entry.get("detail_type"), entry.get("detail")
        if isinstance(source, str):
            shaped["Source"] = source
        elif source is not None:
            return fail("Parameter Source is not valid. Reason: Source must be a string.")
        if isinstance(detail_type, str):
            shaped["DetailType"] = detail_type
        elif detail_type is not None:
            return fail("Parameter DetailType is not valid. Reason: DetailType must be a string.")
        if isinstance(detail, str):
            shaped["Detail"] = detail
        elif detail is not None:
            try:
                shaped["Detail"] = json.dumps(detail, default=str)
            except (TypeError, ValueError):
                return fail("Detail is malformed.", "MalformedDetail")
        resources = entry.get("resources") or []
        if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
            return fail("Parameter Resources is not valid. Reason: Resources must be strings.")
        if resources:
            shaped["Resources"] = list(resources)
        when = entry.get("time")
        if when is not None:
            if not isinstance(when, datetime) or when.tzinfo is None:
                return fail("Parameter Time is not valid. Reason: Time must be a timezone-aware datetime.")
            shaped["Time"] = when
        return shaped, None

    def put_events(self, entries: list[dict[str, Any]]) -> PutEventsResult:
        shaped = [self._shape(entry) for entry in entries]
        sendable = [s for s, _ in shaped if s is not None]
        total = sum(_entry_size(s) for s in sendable)
        if total > MAX_PUT_BYTES:
            raise ValidationError(f"Total size of the entries in the request is over the limit ({total} bytes).")
        answers: list[dict[str, Any]] = []
        if sendable:
            answers = list(self._call("put_events", Entries=sendable).get("Entries", []))
        results: list[PutEventsResultEntry] = []
        replies = iter(answers)
        for entry, failure in shaped:
            if failure is not None:
                results.append(failure)
                continue
            assert entry is not None
            reply = next(replies, {})
            if reply.get("ErrorCode"):
                results.append(
                    PutEventsResultEntry(error_code=reply["ErrorCode"], error_message=reply.get("ErrorMessage"))
                )
            else:
                results.append(PutEventsResultEntry(event_id=reply.get("EventId")))
        return PutEventsResult(sum(1 for r in results if r.error_code), results)

    # -- rules, archives and replays ---------------------------------------------------------

    def set_rule_enabled(self, rule: str, enabled: bool) -> None:
        operation = "enable_rule" if enabled else "disable_rule"
        self._call(operation, Name=self.rule_name(rule), EventBusName=self.bus_name)
        self.resource.rules[rule].enabled = enabled

    def replay(self, archive: str, start: float, end: float, rules: list[str] | None, name: str | None) -> str:
        replay_name = name or f"replay-{uuid.uuid4().hex[:12]}"
        archive_arn = self._call("describe_archive", ArchiveName=self.archive_name(archive))["ArchiveArn"]
        destination: dict[str, Any] = {"Arn": self.bus_arn}
        if rules:
            destination["FilterArns"] = [
                self._call("describe_rule", Name=self.rule_name(r), EventBusName=self.bus_name)["Arn"] for r in rules
            ]
        self._call(
            "start_replay",
            ReplayName=replay_name,
            EventSourceArn=archive_arn,
            EventStartTime=datetime.fromtimestamp(start, UTC),
            EventEndTime=datetime.fromtimestamp(end, UTC),
            Destination=destination,
        )
        return replay_name

    def archived(self, archive: str) -> list[dict[str, Any]]:
        raise UnsupportedOperation(
            f"EventBridge has no API to list the events of archive {self.archive_name(archive)!r}; replay it instead"
        )
