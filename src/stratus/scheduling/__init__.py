"""Schedule expressions in AWS syntax: ``cron(...)``, ``rate(...)`` and ``at(...)``."""

from stratus.scheduling.expression import ScheduleExpression, parse_schedule_expression

__all__ = ["ScheduleExpression", "parse_schedule_expression"]
