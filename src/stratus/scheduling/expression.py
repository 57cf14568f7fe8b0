"""Parse and evaluate EventBridge schedule expressions, exactly as AWS writes them.

- ``rate(5 minutes)``: value and unit (minute/minutes, hour/hours, day/days; singular only for 1).
- ``cron(min hour day-of-month month day-of-week year)``: six fields, AWS's syntax (``?`` in one
  of the two day fields, ``L``, ``W``, ``#``, names ``JAN``-``DEC`` and ``SUN``-``SAT``, days of the
  week numbered 1-7 from Sunday).
- ``at(2025-01-31T09:00:00)``: one time, in the schedule's time zone.

Occurrences are computed by croniter (the field's library for cron arithmetic) after AWS's
fields are translated to its dialect; the year field, which croniter lacks, is applied here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from stratus.errors import ValidationError

_RATE = re.compile(r"^rate\(\s*(\d+)\s+([a-z]+)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_FIELD = {
    "minutes": (re.compile(r"^[\d,\-*/]+$"), 0, 59),
    "hours": (re.compile(r"^[\d,\-*/]+$"), 0, 23),
    "day-of-month": (re.compile(r"^([\d,\-*?/]+|L|LW|\d{1,2}W)$"), 1, 31),
    "month": (re.compile(r"^[\dA-Z,\-*/]+$"), 1, 12),
    "day-of-week": (re.compile(r"^([\dA-Z,\-*?/]+|[1-7]L|[1-7A-Z]+#[1-5]|L)$"), 1, 7),
    "year": (re.compile(r"^[\d,\-*/]+$"), 1970, 2199),
}
#: A yearless cron searched this far ahead before concluding it never fires again.
_MAX_YEARS = 250


def _invalid(expression: str, why: str) -> ValidationError:
    return ValidationError(f"Parameter ScheduleExpression is not valid: {expression!r}: {why}")


@dataclass(frozen=True)
class ScheduleExpression:
    """A parsed expression; ``next_after`` gives the next occurrence strictly after a moment."""

    text: str
    kind: str  # "rate" | "cron" | "at"
    rate_seconds: int = 0
    cron: str = ""  # croniter dialect, five fields
    years: frozenset[int] | None = None
    at: datetime | None = None  # naive local time

    def next_after(self, after: float, *, timezone: str = "UTC", start: float | None = None) -> float | None:
        """Epoch seconds of the first occurrence strictly after ``after``, or None if there is none.

        ``start`` anchors rates (a rate schedule fires at start, start + rate, ...).
        """
        tz = _zone(timezone)
        if self.kind == "rate":
            anchor = start if start is not None else after
            if after < anchor:
                return anchor
            periods = int((after - anchor) // self.rate_seconds) + 1
            return anchor + periods * self.rate_seconds
        if self.kind == "at":
            assert self.at is not None
            moment = self.at.replace(tzinfo=tz).timestamp()
            return moment if moment > after else None
        base = datetime.fromtimestamp(after, tz=tz)
        iterator = croniter(self.cron, base)
        limit_year = base.year + _MAX_YEARS
        while True:
            nxt: datetime = iterator.get_next(datetime)
            if nxt.year > limit_year or (self.years is not None and nxt.year > max(self.years)):
                return None
            if self.years is None or nxt.year in self.years:
                return nxt.timestamp()
            if self.years is not None and not any(y >= nxt.year for y in self.years):
                return None


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"Invalid timezone: {name!r} is not an IANA time zone name") from None


def validate_timezone(name: str) -> str:
    _zone(name)
    return name


@lru_cache(maxsize=1024)
def parse_schedule_expression(expression: str) -> ScheduleExpression:
    """Parse ``expression`` or raise ValidationError saying what is wrong."""
    if not isinstance(expression, str) or not expression:
        raise ValidationError("ScheduleExpression must be a non-empty string")
    text = expression.strip()
    if m := _RATE.match(text):
        value, unit = int(m.group(1)), m.group(2)
        if value <= 0:
            raise _invalid(expression, "the rate value must be a positive whole number")
        singular = unit.rstrip("s") if unit.endswith("s") else unit
        if singular not in _UNITS:
            raise _invalid(expression, "the unit must be minute(s), hour(s) or day(s)")
        if (value == 1) != (unit == singular):
            raise _invalid(expression, "use a singular unit for 1 and a plural unit for other values")
        return ScheduleExpression(text, "rate", rate_seconds=value * _UNITS[singular])
    if m := _AT.match(text):
        try:
            moment = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise _invalid(expression, "not a real date and time") from None
        return ScheduleExpression(text, "at", at=moment)
    if m := _CRON.match(text):
        return _parse_cron(expression, m.group(1))
    raise _invalid(expression, "expected rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss)")


def _parse_cron(expression: str, body: str) -> ScheduleExpression:
    fields = body.split()
    if len(fields) != 6:
        raise _invalid(
            expression, f"cron needs 6 fields (minutes hours day-of-month month day-of-week year), got {len(fields)}"
        )
    fields = [f.upper() for f in fields]
    for name, value in zip(_FIELD, fields, strict=True):
        pattern, _, _ = _FIELD[name]
        if not pattern.match(value):
            raise _invalid(expression, f"invalid {name} field {value!r}")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise _invalid(expression, "exactly one of day-of-month and day-of-week must be '?'")
    for name, value in (("minutes", minute), ("hours", hour), ("day-of-month", dom), ("year", year)):
        _check_numbers(expression, name, value)
    month = _names_to_numbers(expression, "month", month, _MONTHS, first=1)
    _check_numbers(expression, "month", month)
    dow = _translate_dow(expression, dow)
    cron = " ".join([minute, hour, "*" if dom == "?" else dom, month, "*" if dow == "?" else dow])
    try:
        croniter(cron, datetime(2000, 1, 1, tzinfo=UTC))
    except (ValueError, KeyError) as error:
        raise _invalid(expression, str(error)) from None
    years = None if year == "*" else frozenset(_expand(expression, "year", year))
    return ScheduleExpression(expression.strip(), "cron", cron=cron, years=years)


def _names_to_numbers(expression: str, field: str, value: str, names: list[str], *, first: int) -> str:
    for index, name in enumerate(names):
        value = re.sub(rf"\b{name}\b", str(index + first), value)
    if re.search(r"[A-Z]", value.replace("L", "").replace("W", "")):
        raise _invalid(expression, f"invalid {field} field (unknown name)")
    return value


def _translate_dow(expression: str, dow: str) -> str:
    """AWS numbers days 1-7 from Sunday; croniter 0-6. ``6L`` (last Friday) is croniter's ``L5``."""
    if dow in ("?", "*"):
        return dow
    if dow == "L":
        return "6"  # AWS: L alone in day-of-week means Saturday (the last day of the week)
    if m := re.fullmatch(r"([1-7])L", dow):
        return f"L{int(m.group(1)) - 1}"
    if m := re.fullmatch(r"([1-7A-Z]+)#([1-5])", dow):
        day = m.group(1)
        number = _DAYS.index(day) if day in _DAYS else int(day) - 1 if day.isdigit() else -1
        if not 0 <= number <= 6:
            raise _invalid(expression, f"invalid day-of-week field {dow!r}")
        return f"{number}#{m.group(2)}"
    numeric = _names_to_numbers(expression, "day-of-week", dow, _DAYS, first=1)
    _check_numbers(expression, "day-of-week", numeric)

    def shift(match: re.Match[str]) -> str:
        return str(int(match.group(0)) - 1)

    # Shift every day number (not step values after '/').
    parts = []
    for part in numeric.split(","):
        base, slash, step = part.partition("/")
        parts.append(re.sub(r"\d+", shift, base) + slash + step)
    return ",".join(parts)


def _check_numbers(expression: str, field: str, value: str) -> None:
    _, low, high = _FIELD[field]
    for part in value.split(","):
        base = part.split("/")[0]
        for number in re.findall(r"\d+", base.rstrip("LW")):
            if not low <= int(number) <= high:
                raise _invalid(expression, f"{field} value {number} is outside {low}-{high}")
        if "/" in part:
            step = part.split("/")[1]
            if not step.isdigit() or int(step) == 0:
                raise _invalid(expression, f"invalid step in {field} field {part!r}")


def _expand(expression: str, field: str, value: str) -> list[int]:
    _, low, high = _FIELD[field]
    out: set[int] = set()
    for part in value.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            lo, hi = low, high
        elif "-" in base:
            a, b = base.split("-")
            lo, hi = int(a), int(b)
        else:
            lo = int(base)
            hi = high if step_text else lo
        if lo > hi:
            raise _invalid(expression, f"invalid range in {field} field {part!r}")
        out.update(range(lo, hi + 1, step))
    return sorted(out)


def occurrences(expression: ScheduleExpression, after: float, count: int, *, timezone: str = "UTC") -> list[float]:
    """The next ``count`` occurrences after ``after`` (for the console and tests)."""
    out: list[float] = []
    t = after
    for _ in range(count):
        nxt = expression.next_after(t, timezone=timezone, start=after if expression.kind == "rate" else None)
        if nxt is None:
            break
        out.append(nxt)
        t = nxt
    return out


__all__ = ["ScheduleExpression", "occurrences", "parse_schedule_expression", "validate_timezone"]
