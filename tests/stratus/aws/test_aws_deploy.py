"""Deploying into moto's CloudFormation, then running the entrypoint against what was created."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import aws_sample
import boto3
import pytest
from moto import mock_aws
from test_aws_entrypoint import sqs_event

from stratus.aws import entrypoint
from stratus.aws.deploy import deploy, zip_folder


def _systems(tmp_path: Path) -> Path:
    root = tmp_path / "systems"
    (root / "awssample").mkdir(parents=True)
    shutil.copyfile(Path(aws_sample.__file__), root / "awssample" / "app.py")
    return root


def test_zip_is_deterministic(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.py").write_text("x = 1\n")
    (tmp_path / "b.txt").write_text("b")
    assert zip_folder(tmp_path) == zip_folder(tmp_path)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_deploy_creates_the_stack_and_the_entrypoint_runs_against_it(
    aws_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with mock_aws():
        root = _systems(tmp_path)
        result = deploy(aws_sample.app, systems_root=root, layer=False, bucket="deployments")
        assert result.stack_name == "stratus-awssample"
        assert result.status == "CREATE_COMPLETE"
        assert "Transform" not in result.template  # translated locally

        dynamodb = boto3.client("dynamodb")
        table = dynamodb.describe_table(TableName="awssample-orders")["Table"]
        assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        sqs = boto3.client("sqs")
        inbox_url = sqs.get_queue_url(QueueName="awssample-inbox")["QueueUrl"]
        redrive = json.loads(
            sqs.get_queue_attributes(QueueUrl=inbox_url, AttributeNames=["All"])["Attributes"]["RedrivePolicy"]
        )
        assert redrive["maxReceiveCount"] == 5
        topics = [t["TopicArn"] for t in boto3.client("sns").list_topics()["Topics"]]
        assert any(arn.endswith(":awssample-alerts") for arn in topics)
        rules = boto3.client("events").list_rules(EventBusName="awssample-events")["Rules"]
        assert [r["Name"] for r in rules] == ["awssample-placed-rule"]
        lam = boto3.client("lambda")
        process = lam.get_function(FunctionName="awssample-process")["Configuration"]
        assert process["Handler"] == "stratus.aws.entrypoint.handler"
        assert process["Environment"]["Variables"]["STRATUS_TABLE_ORDERS"] == "awssample-orders"
        mappings = lam.list_event_source_mappings(FunctionName="awssample-process")["EventSourceMappings"]
        assert mappings[0]["BatchSize"] == 5
        assert mappings[0]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        machine = boto3.client("stepfunctions").describe_state_machine(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:awssample-notify"
        )
        assert json.loads(machine["definition"])["StartAt"] == "Save"
        # moto keeps ${SaveFunction} as written (it ignores DefinitionSubstitutions); CloudFormation substitutes:
        (state_machine,) = [r for r in result.template["Resources"].values() if r["Type"].startswith("AWS::StepF")]
        assert "function:awssample-save" in json.dumps(state_machine["Properties"]["DefinitionSubstitutions"])
        code = boto3.client("s3").list_objects_v2(Bucket="deployments", Prefix="awssample/code-")["KeyCount"]
        assert code == 1

        # The Lambda entrypoint, in process, with the environment the template gave the function.
        for key, value in process["Environment"]["Variables"].items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("STRATUS_APP_MODULE", "aws_sample")
        entrypoint.reset()
        try:
            outcome: Any = entrypoint.handler(sqs_event('{"id": "o-1", "total": 5}', "not json"), None)
        finally:
            entrypoint.reset()
        assert outcome == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
        item = dynamodb.get_item(TableName="awssample-orders", Key={"id": {"S": "o-1"}})["Item"]
        assert item["total"] == {"N": "5"}

        # Deploying again updates the same stack.
        again = deploy(aws_sample.app, systems_root=root, layer=False, bucket="deployments")
        assert again.stack_id == result.stack_id
        assert again.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE")


def test_untranslatable_template_is_a_deploy_error() -> None:
    from stratus.aws.deploy import DeployError, translate

    broken = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.11"}}},
    }
    with pytest.raises(DeployError, match="does not translate"):
        translate(broken, "us-east-1")
