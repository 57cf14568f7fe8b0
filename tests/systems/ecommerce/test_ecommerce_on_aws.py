"""The e-commerce system on AWS, end to end: its synthesized template deployed into moto, its main flow
driven through the Lambda entrypoint with the events AWS would deliver.

1. ``stratus.aws.deploy.build`` synthesizes the SAM template, uploads the code bundle and expands
   the SAM transform with aws-sam-translator; ``stratus.aws.deploy.apply`` creates the stack in
   moto's CloudFormation (``moto_stack``; resource types moto's CloudFormation lacks are made
   through their services' APIs — "moto gap" — and every reference to them resolved).
2. Each function's environment is computed from the template against the created stack and must
   equal what Lambda holds for it; the JWT authorizer of the HTTP API must accept the tokens of the
   deployed user pool; the routes the test calls are looked up in the deployed API.
3. The main flow, through ``stratus.aws.entrypoint.handler`` only: an admin (a Cognito user in the
   ``admin`` group) creates a product (a customer may not); a customer saves a card, fills the cart
   and POSTs /orders with an Idempotency-Key (API Gateway HTTP API 2.0 events carrying the JWT
   claims). The checkout execution the function started in Step Functions is read back and its
   definition run; the order is CONFIRMED in DynamoDB, OrderPlaced reaches the bus and, by its
   rule, the payment-captures queue; the capture and order-processing queues are consumed as SQS
   batch events; the customer is notified; a retried POST returns the same order.
4. Every AWS call the functions made is allowed by the role the template gives them (moto does not
   check least-privilege policies; ``moto_stack.allows`` does, on the recorded calls).

What this test found, and is fixed: ``place_order`` looked the checkout workflow up by name, which
the template's usage analysis cannot see (no ``STRATUS_WORKFLOW_CHECKOUT``, no
``states:StartExecution``); its route now declares ``uses=[checkout_workflow]``.

What stands in for AWS, and why:

- Step Functions: moto does not run Lambda tasks (it would need Docker), so the definition moto
  holds (with the template's DefinitionSubstitutions applied, which moto ignores) runs on Stratus's
  ASL interpreter, each Lambda task invoking the entrypoint with that function's environment and
  ``events:putEvents`` going to moto's EventBridge. The execution in moto stays RUNNING.
- Lambda event sources (SQS, EventBridge → Lambda): moto would invoke through Docker too, so the
  test delivers as the event source mapping does (receive up to its batch size, invoke, delete what
  did not fail) and hands the EventBridge envelope to the rule's function.
- Aurora and ElastiCache: the cluster's secret points at the local PostgreSQL (127.0.0.1:5432,
  database ``test``) and the cache's endpoint is the local Redis (without TLS, so ``redis://``).
- The payment provider: the system's stand-in (``systems.ecommerce.provider``), served locally, its
  URL put in the ``payment-provider`` secret as an operator would.
- Search (OpenSearch Serverless): there is no server here, and the flow needs none: nothing it
  calls reads the index. The products table's stream consumer (``on_product_change``, the search
  indexing) is therefore not run; neither is the order-events projection (read models).
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
import redis
from moto import mock_aws
from tests.systems.ecommerce.moto_stack import (
    ACCOUNT,
    REGION,
    Call,
    Stack,
    allows,
    deploy_on_moto,
    iam_requests,
    network_parameters,
    recording_calls,
    role_statements,
)

from stratus.aws import entrypoint
from stratus.clock import VirtualClock
from stratus.workflows import LambdaFunctions, Resources, TaskContext, TaskFailed, parse, run

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SYSTEMS = Path(__file__).resolve().parents[3] / "systems"
POSTGRES = {"host": "127.0.0.1", "port": 5432, "username": "postgres", "password": "", "dbname": "test"}
REDIS = ("127.0.0.1", 6379)
PASSWORD = "Corr3ct-horse!"
CARD = {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}
ADDRESS = {"name": "Ada", "line1": "1 Loop Rd", "city": "Cupertino", "postal_code": "95014", "country": "US"}


@functools.cache
def _unreachable() -> str | None:
    try:
        with psycopg.connect(
            f"postgresql://{POSTGRES['username']}@{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}",
            connect_timeout=3,
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL at {POSTGRES['host']}:{POSTGRES['port']} is unreachable: {str(error).strip()}"
    try:
        client = redis.Redis(host=REDIS[0], port=REDIS[1], socket_connect_timeout=3)
        client.ping()
        client.close()
    except redis.RedisError as error:
        return f"Redis at {REDIS[0]}:{REDIS[1]} is unreachable: {error}"
    return None


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process, with credentials that can reach nothing else."""
    if reason := _unreachable():
        pytest.skip(reason)
    for name in list(os.environ):
        if name.startswith(("AWS_", "STRATUS_")):
            monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    entrypoint.reset()
    with mock_aws():
        try:
            yield
        finally:
            entrypoint.reset()


@pytest.fixture
def provider() -> Iterator[Any]:
    """The payment provider's stand-in, on a free local port (no webhooks: it has no URL to post them to)."""
    from systems.ecommerce.provider_client import LocalProvider

    running = LocalProvider(os.urandom(32), "")
    running.start()
    try:
        yield running
    finally:
        running.stop()


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


# -- Lambda, as the runtime calls the handler ----------------------------------------------------


@dataclass
class LambdaContext:
    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 128

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class Lambdas:
    """The system's functions as deployed: each invoked through the entrypoint in its own environment."""

    def __init__(self, stack: Stack, environments: dict[str, dict[str, str]]) -> None:
        self.stack = stack
        self.environments = environments
        self.names = {stack.physical[logical]: declared for declared, logical in stack.functions().items()}
        #: (declared function, AWS API call it made), in order
        self.calls: list[tuple[str, Call]] = []

    def declared(self, physical_name: str) -> str:
        return self.names[physical_name]

    def invoke(self, function: str, event: Any, context: Any = None) -> Any:
        environment = self.environments[function]
        physical = self.stack.physical[self.stack.functions()[function]]
        context = context or LambdaContext(
            physical, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical}", str(uuid.uuid4())
        )
        with _lambda_environment(environment | {"AWS_LAMBDA_FUNCTION_NAME": physical}), recording_calls() as calls:
            try:
                return entrypoint.handler(event, context)
            finally:
                self.calls.extend((function, call) for call in calls)

    def denied(self) -> set[tuple[str, str, str | None]]:
        """Every (function, action, resource) a function called that its role does not allow."""
        roles: dict[str, list[dict[str, Any]]] = {}
        out = set()
        for function, call in self.calls:
            statements = roles.get(function) or roles.setdefault(function, role_statements(self.stack, function))
            for action, resource in iam_requests(call):
                if not allows(statements, action, resource):
                    out.add((function, action, resource))
        return out


@contextmanager
def _lambda_environment(variables: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("STRATUS_")]:
        del os.environ[name]
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# -- API Gateway (HTTP API, payload format 2.0) ---------------------------------------------------


def gateway_claims(token: str) -> dict[str, str]:
    """The claims of a JWT as API Gateway hands them to the function: every value a string, lists as "[a b]"."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    out = {}
    for name, value in claims.items():
        if isinstance(value, list):
            out[name] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


class Gateway:
    """Builds the 2.0 events of the deployed HTTP API and sends them to the function its route integrates."""

    def __init__(self, api_id: str, lambdas: Lambdas) -> None:
        self.api_id = api_id
        self.lambdas = lambdas
        apigw = client("apigatewayv2")
        integrations = {i["IntegrationId"]: i["IntegrationUri"] for i in apigw.get_integrations(ApiId=api_id)["Items"]}
        self.routes: dict[str, str] = {}
        for route in apigw.get_routes(ApiId=api_id)["Items"]:
            uri = integrations[route["Target"].removeprefix("integrations/")]
            match = re.search(r"function:([^/:]+)(?::[^/]+)?/invocations$", uri)
            assert match, uri
            self.routes[route["RouteKey"]] = lambdas.declared(match.group(1))

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        route_key = next((key for key in self.routes if _matches(key, method, path)), None)
        assert route_key is not None, f"the deployed API has no route for {method} {path}"
        template = route_key.split(" ", 1)[1]
        text = json.dumps(body) if body is not None else None
        domain = f"{self.api_id}.execute-api.{REGION}.amazonaws.com"
        now = datetime.now(UTC)
        all_headers = {
            "accept": "application/json",
            "host": domain,
            "user-agent": "pytest",
            "x-forwarded-for": "203.0.113.7",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            **{k.lower(): v for k, v in (headers or {}).items()},
        }
        if text is not None:
            all_headers |= {"content-type": "application/json", "content-length": str(len(text.encode()))}
        context: dict[str, Any] = {
            "accountId": ACCOUNT,
            "apiId": self.api_id,
            "domainName": domain,
            "domainPrefix": self.api_id,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": uuid.uuid4().hex[:20] + "=",
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        }
        if token is not None:
            all_headers["authorization"] = f"Bearer {token}"
            # The JWT authorizer validated the token (see the authorizer check) and passes its claims on.
            context["authorizer"] = {"jwt": {"claims": gateway_claims(token), "scopes": None}}
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": path,
            "rawQueryString": "",
            "headers": all_headers,
            "requestContext": context,
            "isBase64Encoded": False,
        }
        parameters = _path_parameters(template, path)
        if parameters:
            event["pathParameters"] = parameters
        if text is not None:
            event["body"] = text
        response = self.lambdas.invoke(self.routes[route_key], event)
        answer = response.get("body")
        return response["statusCode"], dict(response.get("headers") or {}), json.loads(answer) if answer else None


def _matches(route_key: str, method: str, path: str) -> bool:
    route_method, template = route_key.split(" ", 1)
    return route_method == method and _path_parameters(template, path) is not None


def _path_parameters(template: str, path: str) -> dict[str, str] | None:
    pattern = re.sub(r"\\\{([^}]+)\\\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(template))
    match = re.fullmatch(pattern, path)
    return match.groupdict() if match else None


# -- Cognito -----------------------------------------------------------------------------------------


def sign_in(stack: Stack, email: str, *, groups: tuple[str, ...] = ()) -> str:
    """A confirmed user of the deployed pool (in ``groups``), and their id token."""
    pool = stack.made["UserPoolCustomers"].ref
    web = stack.made["UserPoolCustomersClientWeb"].ref
    idp = client("cognito-idp")
    idp.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True)
    for group in groups:
        idp.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    answer = idp.initiate_auth(
        ClientId=web, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD}
    )
    return str(answer["AuthenticationResult"]["IdToken"])


# -- SQS → Lambda, as the event source mapping delivers --------------------------------------------


def consume(lambdas: Lambdas, function: str, queue_url: str) -> tuple[list[dict[str, Any]], Any]:
    """One poll of the function's SQS event source mapping: receive, invoke with the batch, delete the successes."""
    lam, sqs = client("lambda"), client("sqs")
    physical = lambdas.stack.physical[lambdas.stack.functions()[function]]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    (mapping,) = [
        m
        for m in lambdas.stack.event_sources.values()
        if m["EventSourceArn"] == queue_arn and m["FunctionArn"].endswith(f":function:{physical}")
    ]
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["BatchSize"] == mapping["BatchSize"]
    messages = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=min(10, mapping["BatchSize"]),
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {
                name: {k[0].lower() + k[1:]: v for k, v in value.items()}
                for name, value in (m.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": REGION,
        }
        for m in messages
    ]
    if not records:
        return [], None
    result = lambdas.invoke(function, {"Records": records})
    reports = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])} if reports else set()
    for record in records:
        if record["messageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"])
    return records, result


# -- Step Functions -----------------------------------------------------------------------------------


class PutEvents:
    """``arn:aws:states:::events:putEvents``: the optimized integration, sent to (moto's) EventBridge."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def invoke(self, resource: str, payload: Any, context: TaskContext) -> Any:
        entries = [
            {
                "EventBusName": entry["EventBusName"],
                "Source": entry["Source"],
                "DetailType": entry["DetailType"],
                "Detail": entry["Detail"] if isinstance(entry["Detail"], str) else json.dumps(entry["Detail"]),
            }
            for entry in payload["Entries"]
        ]
        answer = client("events").put_events(Entries=entries)
        if answer["FailedEntryCount"]:
            raise TaskFailed("EventBridge.FailedEntry", json.dumps(answer["Entries"]))
        self.sent.extend(entries)
        return {"Entries": answer["Entries"], "FailedEntryCount": 0}


def run_checkout(stack: Stack, lambdas: Lambdas, execution_arn: str) -> tuple[Any, PutEvents]:
    """Run the execution moto recorded: its definition and input as Step Functions holds them."""
    sfn = client("stepfunctions")
    execution = sfn.describe_execution(executionArn=execution_arn)
    machine = sfn.describe_state_machine(stateMachineArn=execution["stateMachineArn"])
    substitutions = stack.resolve(
        stack.template["Resources"]["WorkflowCheckout"]["Properties"]["DefinitionSubstitutions"]
    )
    # moto gap: moto keeps the definition with its ${...} placeholders (it ignores DefinitionSubstitutions);
    # Step Functions substitutes them when the state machine is created.
    definition = re.sub(
        r"\$\{([A-Za-z0-9_]+)\}", lambda m: str(substitutions.get(m.group(1), m.group(0))), machine["definition"]
    )
    functions = LambdaFunctions()
    for physical, declared in lambdas.names.items():
        functions.register(physical, functools.partial(_task, lambdas, declared))
    tasks = Resources(functions)
    put_events = PutEvents()
    tasks.register("arn:aws:states:::events:putEvents", put_events)
    result = run(
        parse(definition, name=machine["name"]),
        json.loads(execution["input"]),
        clock=VirtualClock(datetime.now(UTC).timestamp()),
        tasks=tasks,
        name=execution["name"],
    )
    return result, put_events


def _task(lambdas: Lambdas, function: str, event: Any, context: Any) -> Any:
    return lambdas.invoke(function, event, context)


# -- the test ------------------------------------------------------------------------------------------


def _table_items(table: str, key: str, value: str) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    plain = TypeDeserializer()
    items = client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="#k = :v",
        ExpressionAttributeNames={"#k": key},
        ExpressionAttributeValues={":v": {"S": value}},
        ConsistentRead=True,
    )["Items"]
    return [{k: plain.deserialize(v) for k, v in item.items()} for item in items]


def _order_events(stack: Stack, order_id: str) -> list[str]:
    items = _table_items(stack.physical["TableOrderEvents"], "order_id", order_id)
    return [item["type"] for item in sorted(items, key=lambda i: i["seq"])]


def _forget_ledger_rows(customers: list[str]) -> None:
    """The test's rows in the local PostgreSQL (the schema is shared with other runs of the system)."""
    from stratus.servers.postgres import schema_name

    schema = schema_name("ecommerce", "ledger")
    dsn = f"postgresql://{POSTGRES['username']}@{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
        if exists is None:
            return
        conn.execute(f'SET search_path TO "{schema}"')
        for customer in customers:
            conn.execute(
                "DELETE FROM ledger_entries WHERE payment_id IN (SELECT id FROM payments WHERE customer_id = %s)",
                (customer,),
            )
            conn.execute("DELETE FROM payments WHERE customer_id = %s", (customer,))
            conn.execute("DELETE FROM payment_methods WHERE customer_id = %s", (customer,))


def test_checkout_on_aws_from_the_deployed_template(aws: None, provider: Any, tmp_path: Path) -> None:
    from systems.ecommerce.app import app

    # 1. Synthesize, translate and deploy.
    network = network_parameters()  # moto's default VPC: the cluster's subnet group needs real subnets
    stack = deploy_on_moto(
        app, systems_root=SYSTEMS, work_dir=tmp_path / "synth", parameters=network, cache_endpoint=REDIS
    )
    assert stack.result is not None and stack.result.status == "CREATE_COMPLETE"
    assert "Transform" not in stack.result.template  # SAM expanded before CloudFormation saw it
    api_id = stack.made["HttpApiShop"].ref
    assert stack.result.outputs["HttpApiShopUrl"] == f"https://{api_id}.execute-api.{REGION}.amazonaws.com"

    # 2. Each function's environment: the template's variables resolved against the stack, which is
    #    exactly what CloudFormation gave Lambda.
    lam = client("lambda")
    environments = {}
    for declared, logical in stack.functions().items():
        environment = stack.environment(declared)
        configuration = lam.get_function_configuration(FunctionName=stack.physical[logical])
        assert configuration["Handler"] == "stratus.aws.entrypoint.handler"
        assert configuration["Environment"]["Variables"] == environment, declared
        environments[declared] = environment
    machine_arn = stack.physical["WorkflowCheckout"]
    assert environments["reserve_inventory"]["STRATUS_TABLE_RESERVATIONS"] == stack.physical["TableReservations"]
    assert environments["capture_payments"]["STRATUS_QUEUE_ORDER_PROCESSING"] == stack.physical["QueueOrderProcessing"]
    bus_name = environments["process_orders"]["STRATUS_EVENT_BUS_SHOP"]
    assert bus_name == stack.physical["EventBusShop"]
    assert client("events").describe_event_bus(Name=bus_name)["Name"] == bus_name
    ledger_secret = stack.made["SqlLedgerSecret"].ref
    assert environments["authorize_payment"]["STRATUS_SQL_LEDGER"] == ledger_secret
    provider_secret = stack.made["SecretPaymentProvider"].ref
    assert environments["authorize_payment"]["STRATUS_SECRET_PAYMENT_PROVIDER"] == provider_secret
    assert environments["put_cart"]["STRATUS_CACHE_PRODUCT_CACHE"] == f"rediss://{REDIS[0]}:{REDIS[1]}"
    for environment in environments.values():
        if "STRATUS_CACHE_PRODUCT_CACHE" in environment:
            # The local Redis stands in for the ElastiCache Serverless endpoint, which only speaks TLS.
            environment["STRATUS_CACHE_PRODUCT_CACHE"] = f"redis://{REDIS[0]}:{REDIS[1]}/0"
    # place_order starts the checkout workflow it declares in ``uses``: the template gives it its identity.
    assert environments["place_order"]["STRATUS_WORKFLOW_CHECKOUT"] == machine_arn
    # The ledger's cluster and the functions using it share the VPC: its subnets, its security groups.
    subnets, groups = network["SubnetIds"].split(","), network["SecurityGroupIds"].split(",")
    cluster = client("rds").describe_db_clusters(DBClusterIdentifier="ecommerce-ledger")["DBClusters"][0]
    assert cluster["DBSubnetGroup"] == "ecommerce-ledger"
    assert [g["VpcSecurityGroupId"] for g in cluster["VpcSecurityGroups"]] == groups
    subnet_group = client("rds").describe_db_subnet_groups(DBSubnetGroupName="ecommerce-ledger")["DBSubnetGroups"][0]
    assert sorted(s["SubnetIdentifier"] for s in subnet_group["Subnets"]) == sorted(subnets)
    ledger_users = [name for name, environment in environments.items() if "STRATUS_SQL_LEDGER" in environment]
    assert "authorize_payment" in ledger_users
    for declared in ledger_users:
        vpc = lam.get_function_configuration(FunctionName=stack.physical[stack.functions()[declared]])["VpcConfig"]
        assert (vpc["SubnetIds"], vpc["SecurityGroupIds"]) == (subnets, groups), declared

    # What operators put in the secrets: the ledger's cluster answers at the local PostgreSQL (it
    # has no TLS), the provider at its local stand-in.
    secrets_manager = client("secretsmanager")
    credentials = json.loads(secrets_manager.get_secret_value(SecretId=ledger_secret)["SecretString"])
    assert credentials["dbClusterIdentifier"] == "ecommerce-ledger" and credentials["engine"] == "postgres"
    secrets_manager.put_secret_value(
        SecretId=ledger_secret, SecretString=json.dumps(credentials | POSTGRES | {"sslmode": "disable"})
    )
    secrets_manager.put_secret_value(
        SecretId=provider_secret,
        SecretString=json.dumps({"url": provider.url, "webhook_secret": os.urandom(32).hex()}),
    )

    # The HTTP API's JWT authorizer accepts the deployed pool's id tokens (issuer and audience).
    body = stack.resolve(stack.template["Resources"]["HttpApiShop"]["Properties"]["Body"])
    jwt = body["components"]["securitySchemes"]["CustomersJwt"]["x-amazon-apigateway-authorizer"]
    assert body["paths"]["/orders"]["post"]["security"] == [{"CustomersJwt": []}]
    admin = sign_in(stack, f"admin-{uuid.uuid4().hex[:8]}@shop.example", groups=("admin",))
    alice = sign_in(stack, f"alice-{uuid.uuid4().hex[:8]}@example.com")
    for token in (admin, alice):
        claims = gateway_claims(token)
        assert claims["iss"] == jwt["jwtConfiguration"]["issuer"]
        assert claims["aud"] in jwt["jwtConfiguration"]["audience"]
    alice_id = gateway_claims(alice)["sub"]

    lambdas = Lambdas(stack, environments)
    gateway = Gateway(api_id, lambdas)
    assert gateway.routes["POST /orders"] == "place_order"
    assert gateway.routes["POST /products"] == "create_product"

    try:
        # 3. The catalog: admins only.
        product = {"name": "Blue mug", "description": "A mug", "category": "kitchen", "price": 1250, "stock": 5}
        status, _, answer = gateway.call("POST", "/products", token=alice, body=product)
        assert status == 403 and answer == {"message": "Forbidden"}
        status, headers, mug = gateway.call("POST", "/products", token=admin, body=product)
        assert status == 201, mug
        assert headers["location"] == f"/products/{mug['id']}"
        products_table = stack.physical["TableProducts"]
        assert _table_items(products_table, "id", mug["id"])[0]["stock"] == 5

        # A card (provider token sealed with KMS, row in the ledger) and a cart (read through the cache).
        status, _, card = gateway.call("POST", "/payment-methods", token=alice, body=CARD)
        assert status == 201, card
        assert card["last4"] == "4242"
        status, _, cart = gateway.call(
            "PUT", "/cart", token=alice, body={"version": 0, "lines": [{"product_id": mug["id"], "quantity": 2}]}
        )
        assert status == 200, cart
        assert cart["total"] == 2500 and cart["version"] == 1

        # POST /orders from the cart: 202, and the checkout execution started in Step Functions.
        order_body = {"payment_method_id": card["id"], "shipping_address": ADDRESS}
        key = {"Idempotency-Key": f"order-{uuid.uuid4().hex[:12]}"}
        status, headers, placed = gateway.call("POST", "/orders", token=alice, body=order_body, headers=key)
        assert status == 202, placed
        order_id = placed["order_id"]
        assert placed["status"] == "PENDING" and placed["total"] == 2500
        assert headers["location"] == f"/orders/{order_id}"
        sfn = client("stepfunctions")
        (execution,) = sfn.list_executions(stateMachineArn=machine_arn)["executions"]
        assert execution["name"] == order_id
        assert json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"]) == {
            "order_id": order_id
        }
        status, _, emptied = gateway.call("GET", "/cart", token=alice)
        assert status == 200 and emptied["lines"] == []

        # 4. The checkout saga: every task through the entrypoint; OrderPlaced onto the bus.
        result, put_events = run_checkout(stack, lambdas, execution["executionArn"])
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        entered = [e["stateEnteredEventDetails"]["name"] for e in result.history if e["type"].endswith("StateEntered")]
        assert entered == ["Validate", "ReserveInventory", "AuthorizePayment", "ConfirmOrder", "PublishOrderPlaced"]
        assert [(e["EventBusName"], e["DetailType"]) for e in put_events.sent] == [(bus_name, "OrderPlaced")]
        assert _order_events(stack, order_id) == [
            "OrderCreated",
            "InventoryReserved",
            "PaymentAuthorized",
            "OrderConfirmed",
        ]
        (reservation,) = _table_items(stack.physical["TableReservations"], "order_id", order_id)
        assert reservation["status"] == "CONFIRMED"
        assert _table_items(products_table, "id", mug["id"])[0]["stock"] == 3
        status, _, order = gateway.call("GET", f"/orders/{order_id}", token=alice)
        assert status == 200 and order["status"] == "CONFIRMED"
        (payment,) = provider.app.state.provider.payments.values()
        assert payment["status"] == "authorized" and payment["amount"] == 2500

        # The bus rule delivered OrderPlaced to the payment-captures queue: consumed as an SQS batch.
        records, captured = consume(lambdas, "capture_payments", stack.physical["QueuePaymentCaptures"])
        assert len(records) == 1
        envelope = json.loads(records[0]["body"])
        assert (envelope["source"], envelope["detail-type"]) == ("shop.orders", "OrderPlaced")
        assert envelope["detail"]["order_id"] == order_id and envelope["detail"]["status"] == "CONFIRMED"
        assert captured == {"batchItemFailures": []}
        assert payment["status"] == "captured"

        # The order-processing queue: the captured order ships.
        records, shipped = consume(lambdas, "process_orders", stack.physical["QueueOrderProcessing"])
        assert [json.loads(r["body"]) for r in records] == [{"order_id": order_id}]
        assert shipped == {"batchItemFailures": []}
        assert _order_events(stack, order_id)[-2:] == ["FulfilmentStarted", "OrderShipped"]
        for queue in ("QueuePaymentCaptures", "QueueOrderProcessing"):
            left = client("sqs").get_queue_attributes(
                QueueUrl=stack.physical[queue], AttributeNames=["ApproximateNumberOfMessages"]
            )
            assert left["Attributes"]["ApproximateNumberOfMessages"] == "0", queue

        # The notify rule's function gets the same EventBridge envelope: the customer's inbox.
        (notify_target,) = stack.lambda_targets["ecommerce-notify-customers"]
        assert lambdas.declared(notify_target["Arn"].rsplit(":", 1)[1]) == "on_order_event"
        assert lambdas.invoke("on_order_event", envelope) is None
        status, _, inbox = gateway.call("GET", "/me/notifications", token=alice)
        assert status == 200
        assert [(n["type"], n["order_id"]) for n in inbox["items"]] == [("OrderPlaced", order_id)]

        # 5. A retried POST (same key, same body) returns the same order, and starts nothing new.
        status, headers, again = gateway.call("POST", "/orders", token=alice, body=order_body, headers=key)
        assert status == 200, again
        assert headers["idempotent-replayed"] == "true"
        assert again["order_id"] == order_id and again["status"] == "SHIPPED"
        assert len(sfn.list_executions(stateMachineArn=machine_arn)["executions"]) == 1
        status, _, changed = gateway.call(
            "POST",
            "/orders",
            token=alice,
            body=order_body | {"lines": [{"product_id": mug["id"], "quantity": 1}]},
            headers=key,
        )
        assert status == 422, changed

        # 6. Least privilege: every call a function made is allowed by the role the template gives it.
        called = {(function, f"{call[0]}:{call[1]}") for function, call in lambdas.calls}
        assert ("reserve_inventory", "dynamodb:TransactWriteItems") in called
        assert ("add_card", "kms:GenerateDataKey") in called
        assert ("place_order", "states:StartExecution") in called
        denied = lambdas.denied()
        assert not denied, denied
    finally:
        entrypoint.reset()
        _forget_ledger_rows([alice_id])
