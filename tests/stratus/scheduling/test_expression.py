"""Schedule expressions in AWS syntax."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stratus import ValidationError
from stratus.scheduling.expression import occurrences, parse_schedule_expression

JAN_1_2024 = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


def iso(ts: list[float]) -> list[str]:
    return [datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M") for t in ts]


@pytest.mark.parametrize(
    ("expression", "timezone", "expected"),
    [
        ("cron(0 10 ? * 6L *)", "UTC", ["2024-01-26T10:00", "2024-02-23T10:00"]),  # last Friday
        ("cron(15 10 ? * MON-FRI *)", "UTC", ["2024-01-01T10:15", "2024-01-02T10:15"]),
        ("cron(0 12 ? * 2#1 *)", "UTC", ["2024-01-01T12:00", "2024-02-05T12:00"]),  # first Monday
        ("cron(0 2 * * ? *)", "Europe/Paris", ["2024-01-01T01:00", "2024-01-02T01:00"]),
        ("cron(0 0 L * ? *)", "UTC", ["2024-01-31T00:00", "2024-02-29T00:00"]),
        ("cron(0 0 1 1 ? 2025-2026)", "UTC", ["2025-01-01T00:00", "2026-01-01T00:00"]),
        ("cron(0/30 9 ? * SUN *)", "UTC", ["2024-01-07T09:00", "2024-01-07T09:30"]),
        ("rate(5 minutes)", "UTC", ["2024-01-01T00:05", "2024-01-01T00:10"]),
        ("rate(1 day)", "UTC", ["2024-01-02T00:00", "2024-01-03T00:00"]),
        ("at(2024-03-01T09:00:00)", "America/New_York", ["2024-03-01T14:00"]),
    ],
)
def test_occurrences(expression: str, timezone: str, expected: list[str]) -> None:
    parsed = parse_schedule_expression(expression)
    assert iso(occurrences(parsed, JAN_1_2024, 2, timezone=timezone)) == expected


def test_a_year_list_ends() -> None:
    parsed = parse_schedule_expression("cron(0 0 1 1 ? 2025)")
    assert len(occurrences(parsed, JAN_1_2024, 5)) == 1


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("rate(1 minutes)", "singular unit for 1"),
        ("rate(5 minute)", "singular unit for 1"),
        ("rate(0 hours)", "positive whole number"),
        ("rate(3 weeks)", "minute"),
        ("cron(0 10 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 10 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 10 * *)", "6 fields"),
        ("cron(61 10 * * ? *)", "minutes value 61"),
        ("cron(0 24 * * ? *)", "hours value 24"),
        ("cron(0 0 ? * 8 *)", "day-of-week value 8"),
        ("cron(0 0 1 1 ? 1969)", "year value 1969"),
        ("cron(0 0 1 FOO ? *)", "month"),
        ("at(2024-13-01T00:00:00)", "not a real date"),
        ("every 5 minutes", "expected rate"),
    ],
)
def test_invalid_expressions_say_why(expression: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        parse_schedule_expression(expression)
