"""Alarms (CloudWatch Alarms): watch one metric statistic and change state when it crosses a threshold.

    errors = app.alarm(
        "orders-errors", function=place_order, metric="Errors", statistic="Sum",
        period=60, evaluation_periods=3, datapoints_to_alarm=2, threshold=1, comparison=">=",
        treat_missing="notBreaching", actions=[pager],
    )
    errors.state()      # AlarmState(value="OK", reason="Threshold Crossed: ...", timestamp=...)

An alarm is OK, ALARM or INSUFFICIENT_DATA. Each period it takes the last
``evaluation_periods`` datapoints and goes to ALARM when at least ``datapoints_to_alarm`` of
them breach ("M out of N"), treating missing datapoints as ``treat_missing`` says. On a change
to ALARM it notifies ``actions``, to OK ``ok_actions``, to INSUFFICIENT_DATA
``insufficient_data_actions`` (CloudWatch's AlarmActions, OKActions, InsufficientDataActions),
with CloudWatch's notification document.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stratus.errors import ValidationError
from stratus.resources.base import Resource

if TYPE_CHECKING:
    from stratus.app import App

#: Comparison operators, by their short form and by CloudWatch's name.
COMPARISONS = {
    ">=": "GreaterThanOrEqualToThreshold",
    ">": "GreaterThanThreshold",
    "<": "LessThanThreshold",
    "<=": "LessThanOrEqualToThreshold",
}
TREAT_MISSING = ("missing", "notBreaching", "breaching", "ignore")
STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
ACTION_KINDS = ("topic", "function")
_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


@dataclass(frozen=True)
class AlarmState:
    """An alarm's current state, why, and since when (epoch seconds)."""

    value: str
    reason: str
    timestamp: float


@dataclass(frozen=True)
class AlarmHistoryItem:
    """One state change."""

    timestamp: float
    old_state: str | None
    new_state: str
    reason: str


class AlarmBackend(ABC):
    @abstractmethod
    def state(self) -> AlarmState: ...

    @abstractmethod
    def history(self, limit: int) -> list[AlarmHistoryItem]:
        """State changes, newest first."""

    @abstractmethod
    def set_state(self, value: str, reason: str) -> None:
        """Force a state (SetAlarmState); the next evaluation sets it back if the data disagree."""


def _statistic(value: object) -> str:
    if isinstance(value, str):
        if value in _STATISTICS:
            return value
        if len(value) > 1 and value[0] == "p":
            try:
                number = float(value[1:])
            except ValueError:
                number = -1
            if 0 <= number <= 100:
                return value
    raise ValidationError(
        f"alarm statistic must be one of {', '.join(_STATISTICS)} or a percentile like p99, got {value!r}"
    )


def _actions(label: str, value: Sequence[Resource[Any]] | None) -> tuple[Resource[Any], ...]:
    out = tuple(value or ())
    for target in out:
        if not isinstance(target, Resource) or target.kind not in ACTION_KINDS:
            raise ValidationError(f"alarm {label} must be topics or functions, got {target!r}")
    if len(out) > 5:
        raise ValidationError(f"alarm {label}: at most 5 actions, got {len(out)}")
    return out


class Alarm(Resource[AlarmBackend]):
    """A metric alarm (see the module docstring)."""

    kind = "alarm"
    max_name_length = 255

    def __init__(
        self,
        app: App,
        name: str,
        *,
        metric: str | None = None,
        namespace: str | None = None,
        dimensions: Mapping[str, str] | None = None,
        function: Resource[Any] | None = None,
        statistic: str = "Sum",
        period: int = 60,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        threshold: float = 0.0,
        comparison: str = ">=",
        treat_missing: str = "missing",
        actions: Sequence[Resource[Any]] | None = None,
        ok_actions: Sequence[Resource[Any]] | None = None,
        insufficient_data_actions: Sequence[Resource[Any]] | None = None,
        description: str = "",
    ) -> None:
        super().__init__(app, name)
        if not isinstance(metric, str) or not 1 <= len(metric) <= 255:
            raise ValidationError(f"alarm {name!r}: metric must be a metric name (e.g. 'Errors'), got {metric!r}")
        dims = dict(dimensions or {})
        if function is not None:
            if not isinstance(function, Resource) or function.kind != "function":
                raise ValidationError(f"alarm {name!r}: function must be a declared function, got {function!r}")
            namespace = namespace or "AWS/Lambda"
            dims.setdefault("FunctionName", function.qualified_name)
        if not isinstance(namespace, str) or not 1 <= len(namespace) <= 255:
            raise ValidationError(f"alarm {name!r}: namespace must be given (e.g. 'AWS/Lambda'), got {namespace!r}")
        if len(dims) > 30 or not all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in dims.items()):
            raise ValidationError(f"alarm {name!r}: dimensions must map up to 30 names to non-empty strings")
        if isinstance(period, bool) or not isinstance(period, int) or period < 60 or period % 60:
            raise ValidationError(f"alarm {name!r}: period must be a multiple of 60 seconds, got {period!r}")
        if isinstance(evaluation_periods, bool) or not isinstance(evaluation_periods, int) or evaluation_periods < 1:
            raise ValidationError(f"alarm {name!r}: evaluation_periods must be a positive integer")
        if evaluation_periods * period > 86400:
            raise ValidationError(
                f"alarm {name!r}: evaluation_periods x period must not exceed one day "
                f"({evaluation_periods} x {period} s)"
            )
        m = evaluation_periods if datapoints_to_alarm is None else datapoints_to_alarm
        if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= evaluation_periods:
            raise ValidationError(
                f"alarm {name!r}: datapoints_to_alarm must be from 1 to evaluation_periods ({evaluation_periods})"
            )
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not math.isfinite(threshold):
            raise ValidationError(f"alarm {name!r}: threshold must be a finite number, got {threshold!r}")
        operator = COMPARISONS.get(comparison, comparison)
        if operator not in COMPARISONS.values():
            raise ValidationError(
                f"alarm {name!r}: comparison must be one of {', '.join(COMPARISONS)} "
                f"(or {', '.join(COMPARISONS.values())}), got {comparison!r}"
            )
        if treat_missing not in TREAT_MISSING:
            raise ValidationError(f"alarm {name!r}: treat_missing must be one of {', '.join(TREAT_MISSING)}")
        self.metric = metric
        self.namespace = namespace
        self.dimensions = dims
        self.statistic = _statistic(statistic)
        self.period = period
        self.evaluation_periods = evaluation_periods
        self.datapoints_to_alarm = m
        self.threshold = float(threshold)
        self.comparison = operator
        self.treat_missing = treat_missing
        self.actions = _actions("actions", actions)
        self.ok_actions = _actions("ok_actions", ok_actions)
        self.insufficient_data_actions = _actions("insufficient_data_actions", insufficient_data_actions)
        self.description = description

    def breaches(self, value: float) -> bool:
        """Whether a datapoint crosses the threshold."""
        op = self.comparison
        if op == "GreaterThanOrEqualToThreshold":
            return value >= self.threshold
        if op == "GreaterThanThreshold":
            return value > self.threshold
        if op == "LessThanThreshold":
            return value < self.threshold
        return value <= self.threshold

    def state(self) -> AlarmState:
        """The current state, its reason and when it was entered."""
        return self.backend.state()

    def history(self, limit: int = 100) -> list[AlarmHistoryItem]:
        """State changes, newest first (kept 14 days, as CloudWatch keeps alarm history)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError("limit must be a positive integer")
        return self.backend.history(limit)

    def set_state(self, value: str, reason: str) -> None:
        """Force the state (CloudWatch's SetAlarmState), e.g. to test the actions."""
        if value not in STATES:
            raise ValidationError(f"state must be one of {', '.join(STATES)}, got {value!r}")
        if not isinstance(reason, str) or not reason or len(reason) > 1023:
            raise ValidationError("reason must be a string of 1 to 1023 characters")
        self.backend.set_state(value, reason)

    def settings(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "metric": self.metric,
            "dimensions": dict(self.dimensions),
            "statistic": self.statistic,
            "period": self.period,
            "evaluation_periods": self.evaluation_periods,
            "datapoints_to_alarm": self.datapoints_to_alarm,
            "threshold": self.threshold,
            "comparison": self.comparison,
            "treat_missing": self.treat_missing,
            "actions": [a.name for a in self.actions],
            "ok_actions": [a.name for a in self.ok_actions],
            "insufficient_data_actions": [a.name for a in self.insufficient_data_actions],
            "description": self.description,
        }
