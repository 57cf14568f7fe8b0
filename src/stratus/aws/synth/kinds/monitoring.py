"""CloudWatch alarms, with topic and function actions (a function action needs a Lambda permission)."""

from __future__ import annotations

from typing import Any

from stratus.aws.synth.names import check_name, describe, physical_name, ref, resource_id, sub_arn
from stratus.aws.synth.synthesizer import Synthesizer, generator

#: Dimensions whose value names a declared resource of this kind: translated to its AWS name.
_DIMENSION_KINDS = {"FunctionName": "function", "QueueName": "queue", "TableName": "table", "TopicName": "topic"}


def _action(resource: Any, synth: Synthesizer, alarm_arn: Any, alarm_id: str) -> Any:
    if resource.kind == "topic":
        return ref(resource)
    synth.allow_invoke(
        resource, "lambda.alarms.cloudwatch.amazonaws.com", alarm_arn, f"{alarm_id}{resource_id(resource)}"
    )
    return synth.function_arn(resource)


def _dimension(name: str, value: str, synth: Synthesizer) -> str:
    kind = _DIMENSION_KINDS.get(name)
    if kind is not None:
        for resource in synth.app.resources_of(kind):
            if resource.name == value:
                return physical_name(resource)
    return value


@generator("alarm")
def alarm(resource: Any, synth: Synthesizer) -> None:
    aid = resource_id(resource)
    name = check_name("alarm", physical_name(resource), describe(resource))
    alarm_arn = sub_arn("cloudwatch", f"alarm:{name}")

    def actions(items: Any) -> list[Any] | None:
        return [_action(r, synth, alarm_arn, aid) for r in items] or None

    synth.template.add(
        aid,
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": name,
            "AlarmDescription": resource.description or None,
            "Namespace": resource.namespace,
            "MetricName": resource.metric,
            "Dimensions": [{"Name": k, "Value": _dimension(k, v, synth)} for k, v in resource.dimensions.items()]
            or None,
            "Statistic": resource.statistic,
            "Period": resource.period,
            "EvaluationPeriods": resource.evaluation_periods,
            "DatapointsToAlarm": resource.datapoints_to_alarm,
            "Threshold": resource.threshold,
            "ComparisonOperator": resource.comparison,
            "TreatMissingData": resource.treat_missing,
            "AlarmActions": actions(resource.actions),
            "OKActions": actions(resource.ok_actions),
            "InsufficientDataActions": actions(resource.insufficient_data_actions),
        },
    )
