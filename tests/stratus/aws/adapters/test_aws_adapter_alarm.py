"""AwsAlarm on moto: the state CloudWatch reports, and a forced state."""

from __future__ import annotations

from tests.stratus.aws.adapters.moto_cloud import moto_cloud

from stratus.aws.adapters.alarm import AwsAlarm


class _Alarm:
    kind = "alarm"
    name = "errors"


def test_state_and_set_state() -> None:
    with moto_cloud() as cloud:
        cloud.client("cloudwatch").put_metric_alarm(
            AlarmName="shop-errors",
            MetricName="Errors",
            Namespace="AWS/Lambda",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
        alarm = _Alarm()
        cloud.set_id(alarm, "shop-errors")
        backend = AwsAlarm(alarm, cloud)  # type: ignore[arg-type]
        assert backend.state().value in ("OK", "INSUFFICIENT_DATA")  # (moto starts alarms at OK)
        backend.set_state("ALARM", "forced by a test")
        state = backend.state()
        assert (state.value, state.reason) == ("ALARM", "forced by a test")
        # (moto does not implement DescribeAlarmHistory, so history() is not exercised here.)
