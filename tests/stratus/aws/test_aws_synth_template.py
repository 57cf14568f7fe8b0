"""The synthesized SAM template: every declared setting reaches AWS's property, and AWS tools accept it."""

from __future__ import annotations

import json
from typing import Any

import aws_full
import aws_sample
import pytest
from aws_checks import lint, translate

from stratus.aws.synth import template


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    return template(aws_sample.app)["Resources"]


@pytest.fixture(scope="module")
def full() -> dict[str, Any]:
    return template(aws_full.app, layer=True, deployment="canary")


def _statements(resources: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    role = resources[f"{function_id}Role"]["Properties"]
    return role["Policies"][0]["PolicyDocument"]["Statement"]


def _actions_on(statements: list[dict[str, Any]], needle: str) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        if needle in json.dumps(statement["Resource"]):
            found.update(statement["Action"])
    return found


def test_table_has_typed_keys_stream_and_ttl(sample: dict[str, Any]) -> None:
    audit = sample["TableAudit"]["Properties"]
    assert audit["AttributeDefinitions"] == [
        {"AttributeName": "day", "AttributeType": "S"},
        {"AttributeName": "at", "AttributeType": "N"},
    ]
    assert audit["KeySchema"][1] == {"AttributeName": "at", "KeyType": "RANGE"}
    assert audit["BillingMode"] == "PAY_PER_REQUEST"
    orders = sample["TableOrders"]["Properties"]
    assert orders["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert orders["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}


def test_queue_redrives_to_its_dead_letter_queue(sample: dict[str, Any]) -> None:
    inbox = sample["QueueInbox"]["Properties"]
    assert inbox["QueueName"] == "awssample-inbox"
    assert inbox["VisibilityTimeout"] == 60
    assert inbox["RedrivePolicy"]["maxReceiveCount"] == 5
    assert "awssample-failed" in json.dumps(inbox["RedrivePolicy"]["deadLetterTargetArn"])


def test_function_runs_the_entrypoint_with_its_identity_and_resources(sample: dict[str, Any]) -> None:
    save = sample["FunctionSave"]["Properties"]
    assert save["Handler"] == "stratus.aws.entrypoint.handler"
    assert save["Runtime"] == "python3.11"
    assert save["Timeout"] == 10
    env = save["Environment"]["Variables"]
    assert env["STRATUS_SYSTEM"] == "awssample"
    assert env["STRATUS_FUNCTION"] == "save"
    assert env["STRATUS_TABLE_ORDERS"] == "awssample-orders"
    assert env["STRATUS_TOPIC_ALERTS"] == {
        "Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:awssample-alerts"
    }
    assert "STRATUS_QUEUE_INBOX" not in env  # save does not use the queue
    assert save["EventInvokeConfig"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600}


def test_sqs_trigger_is_a_function_event(sample: dict[str, Any]) -> None:
    events = sample["FunctionProcess"]["Properties"]["Events"]
    (event,) = events.values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["BatchSize"] == 5
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_policy_narrows_to_the_operations_the_code_calls(sample: dict[str, Any]) -> None:
    save = _statements(sample, "FunctionSave")
    table_actions = _actions_on(save, "table/awssample-orders")
    assert "dynamodb:PutItem" in table_actions
    assert "dynamodb:Scan" not in table_actions
    assert _actions_on(save, ":awssample-alerts") == {"sns:Publish"}
    assert not _actions_on(save, "awssample-audit")


def test_policy_follows_module_level_helpers(sample: dict[str, Any]) -> None:
    placed = _statements(sample, "FunctionPlaced")
    assert "dynamodb:Query" in _actions_on(placed, "table/awssample-audit")
    assert not _actions_on(placed, "table/awssample-orders")


def test_trigger_source_permissions_are_scoped_to_the_queue(sample: dict[str, Any]) -> None:
    process = _statements(sample, "FunctionProcess")
    assert "sqs:ReceiveMessage" in _actions_on(process, "awssample-inbox")
    for statement in process:
        if statement["Resource"] == ["*"]:
            assert all(a.startswith("xray:") for a in statement["Action"])


def test_rule_targets_function_with_a_permission_for_that_rule_only(sample: dict[str, Any]) -> None:
    rule = sample["EventBusEventsRulePlacedRule"]["Properties"]
    assert rule["EventBusName"] == "awssample-events"
    assert rule["EventPattern"] == {"source": ["shop"], "detail-type": ["OrderPlaced"]}
    permission = sample["EventBusEventsRulePlacedRulePlacedPermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert "rule/awssample-events/awssample-placed-rule" in json.dumps(permission["SourceArn"])


def test_topic_to_queue_subscription_with_filter_and_queue_policy(sample: dict[str, Any]) -> None:
    sub = sample["TopicAlertsSubscription1"]["Properties"]
    assert sub["Protocol"] == "sqs"
    assert sub["FilterPolicy"] == {"kind": ["order"]}
    assert sub["RawMessageDelivery"] is True
    policy = sample["QueueFailedPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert policy["Principal"] == {"Service": "sns.amazonaws.com"}
    assert policy["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Ref": "TopicAlerts"}


def test_full_template_passes_cfn_lint(full: dict[str, Any]) -> None:
    assert lint(full) == []


def test_full_template_translates_to_cloudformation(full: dict[str, Any]) -> None:
    resources = translate(full)["Resources"]
    types = {body["Type"] for body in resources.values()}
    assert {
        "AWS::Lambda::Function",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Alias",
        "AWS::CodeDeploy::DeploymentGroup",
        "AWS::ApiGatewayV2::Api",
        "AWS::StepFunctions::StateMachine",
        "AWS::Lambda::LayerVersion",
    } <= types


def test_indexes_streams_and_buckets(full: dict[str, Any]) -> None:
    resources = full["Resources"]
    products = resources["TableProducts"]["Properties"]
    (gsi,) = products["GlobalSecondaryIndexes"]
    assert gsi["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name"]}
    assert products["LocalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert {"AttributeName": "price", "AttributeType": "N"} in products["AttributeDefinitions"]
    assert resources["BucketImages"]["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert resources["StreamClicks"]["Properties"]["ShardCount"] == 2
    assert resources["StreamClicks"]["Properties"]["RetentionPeriodHours"] == 48


def test_stream_and_bucket_events(full: dict[str, Any]) -> None:
    resources = full["Resources"]
    (table_event,) = resources["FunctionIndexProduct"]["Properties"]["Events"].values()
    props = table_event["Properties"]
    assert table_event["Type"] == "DynamoDB"
    assert props["Stream"] == {"Fn::GetAtt": ["TableProducts", "StreamArn"]}
    assert props["StartingPosition"] == "TRIM_HORIZON"
    assert props["BisectBatchOnFunctionError"] is True
    assert props["MaximumRetryAttempts"] == 3
    assert props["MaximumRecordAgeInSeconds"] == 3600
    assert props["ParallelizationFactor"] == 2
    assert props["TumblingWindowInSeconds"] == 30
    assert props["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    (kinesis,) = resources["FunctionCountClicks"]["Properties"]["Events"].values()
    assert kinesis["Type"] == "Kinesis"
    assert kinesis["Properties"]["FilterCriteria"] == {"Filters": [{"Pattern": '{"data":{"kind":["click"]}}'}]}
    (s3,) = resources["FunctionThumbnail"]["Properties"]["Events"].values()
    assert s3["Properties"]["Filter"] == {
        "S3Key": {"Rules": [{"Name": "prefix", "Value": "uploads/"}, {"Name": "suffix", "Value": ".jpg"}]}
    }
    (fifo,) = resources["FunctionDrain"]["Properties"]["Events"].values()
    assert fifo["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 5}


def test_function_subscription_is_an_sns_event(full: dict[str, Any]) -> None:
    (event,) = full["Resources"]["FunctionPage"]["Properties"]["Events"].values()
    assert event["Type"] == "SNS"
    assert event["Properties"] == {
        "Topic": {"Ref": "TopicAlerts"},
        "FilterPolicy": {"severity": ["high"]},
        "FilterPolicyScope": "MessageBody",
    }


def test_destinations_settings_and_release(full: dict[str, Any]) -> None:
    charge = full["Resources"]["FunctionCharge"]["Properties"]
    assert charge["MemorySize"] == 512
    assert charge["ReservedConcurrentExecutions"] == 5
    assert charge["Environment"]["Variables"]["MODE"] == "prod"
    config = charge["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 1
    assert config["MaximumEventAgeInSeconds"] == 600
    assert config["DestinationConfig"]["OnSuccess"]["Type"] == "SNS"
    assert config["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    assert charge["AutoPublishAlias"] == "live"
    assert charge["DeploymentPreference"]["Type"] == "Canary10Percent5Minutes"
    assert charge["DeploymentPreference"]["Alarms"] == [{"Ref": "FunctionChargeErrorsAlarm"}]
    assert charge["Layers"] == [{"Ref": "DependenciesLayer"}]


def test_http_api_routes_authorizer_cors_and_throttling(full: dict[str, Any]) -> None:
    resources = full["Resources"]
    api = resources["HttpApiPublic"]["Properties"]
    assert api["CorsConfiguration"]["AllowOrigins"] == ["https://shop.example"]
    assert api["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100.0}
    jwt = api["Auth"]["Authorizers"]["UsersJwt"]
    assert jwt["JwtConfiguration"]["audience"] == [{"Ref": "UserPoolUsersClientWeb"}]
    (route,) = resources["FunctionCreateOrder"]["Properties"]["Events"].values()
    assert route["Type"] == "HttpApi"
    assert route["Properties"]["Path"] == "/orders"  # no local mount prefix: each API has its own domain
    assert route["Properties"]["Method"] == "POST"
    assert route["Properties"]["Auth"] == {"Authorizer": "UsersJwt", "AuthorizationScopes": ["openid"]}
    assert route["Properties"]["RouteSettings"] == {"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5.0}


def test_schedules_rules_and_workflow(full: dict[str, Any]) -> None:
    resources = full["Resources"]
    nightly = resources["ScheduleNightlySchedule"]["Properties"]
    assert nightly["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert nightly["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert nightly["Target"]["RoleArn"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    hourly = resources["ScheduleHourlyReport"]["Properties"]["Target"]
    assert json.loads(hourly["Input"]) == {"report": "hourly"}
    assert "DeadLetterConfig" in hourly
    fanout = resources["EventBusDomainRuleFanout"]["Properties"]["Targets"]
    assert fanout[0]["InputTransformer"] == {"InputPathsMap": {"id": "$.detail.id"}, "InputTemplate": "<id>"}
    assert fanout[1]["InputPath"] == "$.detail"
    assert fanout[2]["RoleArn"] == {"Fn::GetAtt": ["EventBusDomainRuleFanoutRole", "Arn"]}
    assert fanout[3]["SqsParameters"] == {"MessageGroupId": "g"}
    machine = resources["WorkflowFulfil"]["Properties"]
    assert machine["DefinitionUri"] == "workflows/fulfil.asl.json"
    assert set(machine["DefinitionSubstitutions"]) == {"ChargeFunction", "AlertsTopic"}
    statements = machine["Policies"][0]["Statement"]
    assert any("lambda:InvokeFunction" in s["Action"] for s in statements)


def test_data_services_and_identity(full: dict[str, Any]) -> None:
    resources = full["Resources"]
    assert resources["KeyMaster"]["Properties"]["EnableKeyRotation"] is True
    assert resources["SqlLedger"]["Properties"]["EnableHttpEndpoint"] is True
    assert resources["SqlLedgerSecretAttachment"]["Type"] == "AWS::SecretsManager::SecretTargetAttachment"
    assert resources["CacheSessions"]["Type"] == "AWS::ElastiCache::ServerlessCache"
    assert resources["SearchCatalog"]["Type"] == "AWS::OpenSearchServerless::Collection"
    assert resources["UserPoolUsersGroupAdmins"]["Properties"]["GroupName"] == "admins"
    create_order = resources["FunctionCreateOrder"]["Properties"]
    assert "VpcConfig" in create_order  # it uses the cache
    env = create_order["Environment"]["Variables"]
    assert env["STRATUS_SQL_LEDGER"] == {"Ref": "SqlLedgerSecret"}
    assert env["STRATUS_SQL_LEDGER_CLUSTER"] == {"Fn::GetAtt": ["SqlLedger", "DBClusterArn"]}
    alarm = resources["AlarmChargeErrors"]["Properties"]
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "awsfull-charge"}]
    assert alarm["AlarmActions"] == [{"Ref": "TopicAlerts"}]


def test_auto_confirm_pool_gets_a_pre_sign_up_trigger() -> None:
    from stratus import App
    from stratus.resources.userpool import AppClient

    app = App("confirm")
    app.user_pool("users", clients=[AppClient("web")], auto_confirm=True)
    document = template(app)
    resources = document["Resources"]
    pool = resources["UserPoolUsers"]["Properties"]
    assert pool["LambdaConfig"] == {"PreSignUp": {"Fn::GetAtt": ["UserPoolUsersAutoConfirm", "Arn"]}}
    code = resources["UserPoolUsersAutoConfirm"]["Properties"]["Code"]["ZipFile"]
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    event = namespace["handler"]({"request": {"userAttributes": {"email": "a@b.c"}}, "response": {}}, None)
    assert event["response"] == {"autoConfirmUser": True, "autoVerifyEmail": True}
    permission = resources["UserPoolUsersAutoConfirmPermission"]["Properties"]
    assert permission["Principal"] == "cognito-idp.amazonaws.com"
    assert lint(document) == []


def test_released_functions_are_invoked_through_their_alias() -> None:
    from stratus import App

    app = App("alias")

    @app.function
    def worker(event: Any, context: Any) -> None:
        return None

    @app.function
    def caller(event: Any, context: Any) -> None:
        worker.invoke_async(event)

    resources = template(app, deployment="all-at-once")["Resources"]
    env = resources["FunctionCaller"]["Properties"]["Environment"]["Variables"]
    assert env["STRATUS_FUNCTION_WORKER"] == "alias-worker:live"
    invoke = _actions_on(_statements(resources, "FunctionCaller"), "function:alias-worker")
    assert invoke == {"lambda:InvokeFunction"}


@pytest.mark.parametrize(
    "system",
    __import__("stratus.systems").systems.available(
        __import__("pathlib").Path(__file__).resolve().parents[3] / "systems"
    ),
)
def test_every_system_synthesizes_and_translates(system: str) -> None:
    from pathlib import Path

    from stratus import systems

    root = Path(__file__).resolve().parents[3] / "systems"
    app = systems.load(system, root)
    document = template(app, layer=True)
    assert translate(document)["Resources"]


def test_a_function_using_sql_runs_in_the_clusters_vpc() -> None:
    from stratus import App
    from stratus.aws.adapters.sql import settings_from_secret

    app = App("vpcsql")
    db = app.sql("ledger")

    @app.function
    def record(event: Any, context: Any) -> None:
        db.execute("select 1")

    @app.function
    def ping(event: Any, context: Any) -> str:
        return "pong"

    document = template(app)
    resources = document["Resources"]
    network = {"SubnetIds": {"Ref": "SubnetIds"}, "SecurityGroupIds": {"Ref": "SecurityGroupIds"}}
    assert resources["FunctionRecord"]["Properties"]["VpcConfig"] == network  # no cache: the SQL cluster alone
    assert "VpcConfig" not in resources["FunctionPing"]["Properties"]

    def network_actions(function_id: str) -> set[str]:  # Lambda creates the function's interfaces in the VPC
        return {a for s in _statements(resources, function_id) for a in s["Action"] if a.startswith("ec2:")}

    assert "ec2:CreateNetworkInterface" in network_actions("FunctionRecord")
    assert network_actions("FunctionPing") == set()
    # The cluster is in the functions' subnets, behind their security groups.
    cluster = resources["SqlLedger"]["Properties"]
    assert cluster["VpcSecurityGroupIds"] == network["SecurityGroupIds"]
    group = resources[cluster["DBSubnetGroupName"]["Ref"]]
    assert group["Type"] == "AWS::RDS::DBSubnetGroup"
    assert group["Properties"]["SubnetIds"] == network["SubnetIds"]
    assert group["Properties"]["DBSubnetGroupName"] == "vpcsql-ledger"
    assert set(document["Parameters"]) == {"SubnetIds", "SecurityGroupIds"}
    assert document["Parameters"]["SubnetIds"]["Type"] == "List<AWS::EC2::Subnet::Id>"
    # The generated secret asks for TLS; the adapter reading it (once attached: host and port) honours it.
    generate = resources["SqlLedgerSecret"]["Properties"]["GenerateSecretString"]
    fields = json.loads(generate["SecretStringTemplate"])
    assert fields == {"username": "stratus", "dbname": "stratus", "sslmode": "require"}
    attached = {**fields, generate["GenerateStringKey"]: "pw", "host": "ledger.cluster.example", "port": 5432}
    assert "sslmode=require" in settings_from_secret(json.dumps(attached), "sql 'ledger'").conninfo
    assert lint(document) == []
    assert translate(document)["Resources"]["FunctionRecord"]["Properties"]["VpcConfig"] == network


def test_user_pool_recovers_accounts_by_verified_email_then_phone(full: dict[str, Any]) -> None:
    pool = full["Resources"]["UserPoolUsers"]["Properties"]
    assert pool["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [
            {"Name": "verified_email", "Priority": 1},
            {"Name": "verified_phone_number", "Priority": 2},
        ]
    }
