"""Optimized integrations against real local resources: request fields in, AWS response shapes out."""

from __future__ import annotations

import json
from typing import Any

from tests.ports.workflow.harness import Harness

from stratus import App


def one_task(app: App, name: str, resource: str, parameters: dict[str, Any], **extra: Any) -> Any:
    task = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True, **extra}
    return app.workflow(name, definition={"StartAt": "Call", "States": {"Call": task}}, **_subs(app))


def _subs(app: App) -> dict[str, Any]:
    return {"substitutions": {r.name: r for r in app.resources}}


def run(env: Any, flow: Any, payload: Any = None) -> Any:
    execution = flow.start(payload or {})
    env.settle()
    return flow.describe(execution.arn)


def test_sqs_send_message(harness: Harness) -> None:
    app = App("ints")
    jobs = app.queue("jobs")
    flow = one_task(
        app,
        "send",
        "arn:aws:states:::sqs:sendMessage",
        {
            "QueueUrl": "${jobs}",
            "MessageBody": {"job.$": "$.job"},
            "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "resize"}},
        },
    )
    with harness.bind(app) as env:
        done = run(env, flow, {"job": 7})
        assert done.status == "SUCCEEDED", done.cause
        out = done.output
        assert set(out) >= {"MD5OfMessageBody", "MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}
        assert out["SdkHttpMetadata"]["HttpStatusCode"] == 200
        (message,) = jobs.receive(max_messages=1)
        assert json.loads(message.body) == {"job": 7}
        assert message.message_id == out["MessageId"] and message.md5_of_body == out["MD5OfMessageBody"]
        assert message.message_attributes["kind"].value == "resize"


def test_sqs_errors_are_task_errors(harness: Harness) -> None:
    app = App("ints")
    app.queue("jobs.fifo", fifo=True)
    flow = one_task(app, "send", "arn:aws:states:::sqs:sendMessage", {"QueueUrl": "${jobs.fifo}", "MessageBody": "x"})
    with harness.bind(app) as env:
        done = run(env, flow)
        assert done.status == "FAILED"
        assert done.error == "SQS.MissingParameterException"  # a FIFO queue needs MessageGroupId
        assert "Service: AmazonSQS" in (done.cause or "")


def test_sns_publish_reaches_subscribers(harness: Harness) -> None:
    app = App("ints")
    alerts = app.topic("alerts")
    inbox = app.queue("inbox")
    alerts.subscribe(inbox, raw=True)
    flow = one_task(
        app,
        "notify",
        "arn:aws:states:::sns:publish",
        {"TopicArn": "${alerts}", "Message.$": "$.text", "Subject": "Heads up"},
    )
    with harness.bind(app) as env:
        done = run(env, flow, {"text": "disk full"})
        assert done.status == "SUCCEEDED", done.cause
        assert "MessageId" in done.output and "SdkResponseMetadata" in done.output
        env.settle()
        (message,) = inbox.receive(max_messages=1)
        assert message.body == "disk full"


def test_dynamodb_put_get_update_delete(harness: Harness) -> None:
    app = App("ints")
    app.table("accounts", partition_key="id")
    table = "${accounts}"
    flow = app.workflow(
        "ledger",
        definition={
            "StartAt": "Put",
            "States": {
                "Put": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:putItem",
                    "Parameters": {
                        "TableName": table,
                        "Item": {"id": {"S.$": "$.id"}, "balance": {"N": "10"}, "tags": {"SS": ["a", "b"]}},
                        "ConditionExpression": "attribute_not_exists(id)",
                    },
                    "ResultPath": "$.put",
                    "Next": "Update",
                },
                "Update": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:updateItem",
                    "Parameters": {
                        "TableName": table,
                        "Key": {"id": {"S.$": "$.id"}},
                        "UpdateExpression": "SET #b = #b + :amount",
                        "ExpressionAttributeNames": {"#b": "balance"},
                        "ExpressionAttributeValues": {":amount": {"N": "5"}},
                        "ReturnValues": "UPDATED_NEW",
                    },
                    "ResultSelector": {"balance.$": "$.Attributes.balance.N"},
                    "ResultPath": "$.updated",
                    "Next": "Get",
                },
                "Get": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:getItem",
                    "Parameters": {"TableName": table, "Key": {"id": {"S.$": "$.id"}}},
                    "ResultSelector": {"item.$": "$.Item"},
                    "ResultPath": "$.got",
                    "Next": "Delete",
                },
                "Delete": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:deleteItem",
                    "Parameters": {"TableName": table, "Key": {"id": {"S.$": "$.id"}}, "ReturnValues": "ALL_OLD"},
                    "ResultSelector": {"old.$": "$.Attributes.id.S"},
                    "ResultPath": "$.deleted",
                    "End": True,
                },
            },
        },
        substitutions={"accounts": app.resource("table", "accounts")},
    )
    accounts = app.resource("table", "accounts")
    with harness.bind(app) as env:
        done = run(env, flow, {"id": "acc-1"})
        assert done.status == "SUCCEEDED", done.cause
        out = done.output
        assert out["put"]["SdkHttpMetadata"]["HttpStatusCode"] == 200 and "Attributes" not in out["put"]
        assert out["updated"] == {"balance": "15"}
        assert out["got"]["item"] == {"id": {"S": "acc-1"}, "balance": {"N": "15"}, "tags": {"SS": ["a", "b"]}}
        assert out["deleted"] == {"old": "acc-1"}
        assert accounts.get({"id": "acc-1"}) is None  # type: ignore[attr-defined]


def test_dynamodb_condition_failure_is_catchable(harness: Harness) -> None:
    app = App("ints")
    accounts = app.table("accounts", partition_key="id")
    flow = app.workflow(
        "once",
        definition={
            "StartAt": "Put",
            "States": {
                "Put": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:putItem",
                    "Parameters": {
                        "TableName": "${accounts}",
                        "Item": {"id": {"S": "dup"}},
                        "ConditionExpression": "attribute_not_exists(id)",
                    },
                    "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "Next": "Exists"}],
                    "End": True,
                },
                "Exists": {"Type": "Pass", "Result": "already there", "End": True},
            },
        },
        substitutions={"accounts": accounts},
    )
    with harness.bind(app) as env:
        accounts.put({"id": "dup"})
        done = run(env, flow)
        assert (done.status, done.output) == ("SUCCEEDED", "already there")
        failed = next(e for e in flow.history(done.arn) if e["type"] == "TaskFailed")
        assert "ConditionalCheckFailedException" in failed["taskFailedEventDetails"]["cause"]


def test_events_put_events_runs_bus_rules(harness: Harness) -> None:
    app = App("ints")
    bus = app.event_bus("orders")
    seen: list[Any] = []

    @app.on_event(bus, pattern={"detail-type": ["Shipped"]})
    def shipped(event: Any, context: Any) -> None:
        seen.append(event["detail"])

    flow = one_task(
        app,
        "emit",
        "arn:aws:states:::events:putEvents",
        {
            "Entries": [
                {"EventBusName": "${orders}", "Source": "shop", "DetailType": "Shipped", "Detail": {"id.$": "$.id"}}
            ]
        },
    )
    with harness.bind(app) as env:
        done = run(env, flow, {"id": "o-9"})
        assert done.status == "SUCCEEDED", done.cause
        assert done.output["FailedEntryCount"] == 0 and "EventId" in done.output["Entries"][0]
        env.settle()
        assert seen == [{"id": "o-9"}]


def test_lambda_invoke_returns_the_invoke_response(harness: Harness) -> None:
    app = App("ints")

    @app.function
    def square(event: Any, context: Any) -> Any:
        if event["n"] < 0:
            raise ArithmeticError("negative")
        return {"square": event["n"] ** 2}

    flow = one_task(app, "calc", "arn:aws:states:::lambda:invoke", {"FunctionName": "${square}", "Payload.$": "$"})
    with harness.bind(app) as env:
        done = run(env, flow, {"n": 4})
        assert done.status == "SUCCEEDED", done.cause
        out = done.output
        assert out["Payload"] == {"square": 16} and out["StatusCode"] == 200
        assert out["ExecutedVersion"] == "$LATEST" and "SdkHttpMetadata" in out and "SdkResponseMetadata" in out
        failed = run(env, flow, {"n": -1})
        assert failed.status == "FAILED" and failed.error == "ArithmeticError"
        cause = json.loads(failed.cause or "{}")
        assert cause["errorType"] == "ArithmeticError" and cause["errorMessage"] == "negative"
        assert {"requestId", "stackTrace"} <= set(cause)


def test_lambda_invoke_of_a_missing_function(harness: Harness) -> None:
    app = App("ints")
    flow = one_task(app, "calc", "arn:aws:states:::lambda:invoke", {"FunctionName": "nowhere", "Payload": {}})
    with harness.bind(app) as env:
        done = run(env, flow)
        assert done.error == "Lambda.ResourceNotFoundException"


def nested_app(child_fails: bool = False) -> tuple[App, Any, Any]:
    app = App("nest")
    child_definition: dict[str, Any] = {
        "StartAt": "Work",
        "States": {"Work": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}},
    }
    if child_fails:
        child_definition["States"]["Work"] = {"Type": "Fail", "Error": "ChildBroke", "Cause": "no"}
    child = app.workflow("child", definition=child_definition)
    parent = app.workflow(
        "parent",
        definition={
            "StartAt": "Fire",
            "States": {
                "Fire": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution",
                    "Parameters": {"StateMachineArn": "${Child}", "Input": {"n": 1}},
                    "ResultPath": "$.fired",
                    "Next": "Sync",
                },
                "Sync": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution.sync",
                    "Parameters": {"StateMachineArn": "${Child}", "Input": {"n.$": "$.n"}},
                    "ResultPath": "$.sync",
                    "Next": "Sync2",
                },
                "Sync2": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution.sync:2",
                    "Parameters": {"StateMachineArn": "${Child}", "Input": {"n.$": "$.n"}},
                    "ResultSelector": {"out.$": "$.Output", "status.$": "$.Status"},
                    "ResultPath": "$.sync2",
                    "End": True,
                },
            },
        },
        substitutions={"Child": child},
    )
    return app, parent, child


def test_start_execution_fire_and_forget_and_sync(harness: Harness) -> None:
    app, parent, child = nested_app()
    with harness.bind(app) as env:
        done = run(env, parent, {"n": 21})
        assert done.status == "SUCCEEDED", done.cause
        out = done.output
        assert out["fired"]["ExecutionArn"].startswith(child.arn.replace("stateMachine", "execution"))
        assert isinstance(out["fired"]["StartDate"], int)
        assert out["sync"]["Status"] == "SUCCEEDED"
        assert out["sync"]["Output"] == '{"doubled":42}'  # .sync: the output as text
        assert out["sync"]["Input"] == '{"n":21}'
        assert out["sync2"] == {"out": {"doubled": 42}, "status": "SUCCEEDED"}  # .sync:2: as JSON
        assert len(child.executions(status="SUCCEEDED")) == 3
        kinds = [e["type"] for e in parent.history(done.arn)]
        # the request-response start succeeds at once; the .sync ones are submitted, then succeed
        assert kinds.count("TaskSubmitted") == 2 and kinds.count("TaskSucceeded") == 3


def test_a_failed_child_fails_the_sync_task(harness: Harness) -> None:
    app, parent, _ = nested_app(child_fails=True)
    with harness.bind(app) as env:
        done = run(env, parent, {"n": 1})
        assert (done.status, done.error) == ("FAILED", "States.TaskFailed")
        cause = json.loads(done.cause or "{}")
        assert cause["Status"] == "FAILED" and cause["Error"] == "ChildBroke"


def test_a_task_can_start_a_workflow_of_another_kind_express(harness: Harness) -> None:
    app = App("nest")
    app.workflow(
        "fast",
        type="EXPRESS",
        definition={"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "fast", "End": True}}},
    )
    parent = one_task(
        app,
        "slow",
        "arn:aws:states:::states:startExecution.sync:2",
        {"StateMachineArn": "${fast}", "Input": {}},
    )
    with harness.bind(app) as env:
        done = run(env, parent)
        assert done.status == "SUCCEEDED", done.cause
        assert done.output["Output"] == "fast"


def test_stopping_a_parent_stops_the_child_it_waits_for(harness: Harness) -> None:
    app = App("nest")
    child = app.workflow(
        "child",
        definition={"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 3600, "End": True}}},
    )
    parent = one_task(
        app, "parent", "arn:aws:states:::states:startExecution.sync:2", {"StateMachineArn": "${child}", "Input": {}}
    )
    with harness.bind(app) as env:
        execution = parent.start()
        env.settle(max_seconds=60)
        (running,) = child.executions(status="RUNNING")
        parent.stop(execution.arn, error="Cancelled")
        assert child.describe(running.arn).status == "ABORTED"
        env.settle()
        assert parent.describe(execution.arn).status == "ABORTED"


def test_a_malformed_request_is_the_service_refusing_it(harness: Harness) -> None:
    app = App("ints")
    app.table("accounts", partition_key="id")
    flow = one_task(
        app, "bad", "arn:aws:states:::dynamodb:getItem", {"TableName": "${accounts}", "Key": {"id": "not typed"}}
    )
    with harness.bind(app) as env:
        done = run(env, flow)
        assert (done.status, done.error) == ("FAILED", "DynamoDB.AmazonDynamoDBException")
        missing = one_task(app, "missing", "arn:aws:states:::dynamodb:getItem", {"TableName": "nope", "Key": {}})
        env.restart()  # bind the workflow declared after the start
        assert run(env, missing).error == "DynamoDB.ResourceNotFoundException"
