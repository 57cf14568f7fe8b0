"""A synthesized stack deployed into moto's CloudFormation, in-process, and read back.

``deploy_on_moto`` runs the deploy module's own steps — :func:`stratus.aws.deploy.build`
(synthesize, upload the code, translate SAM to CloudFormation with aws-sam-translator) and
:func:`stratus.aws.deploy.apply` (create the stack and wait) — against ``moto.mock_aws``.

moto gap: moto's CloudFormation has no model for some resource types the template holds
(:data:`EMULATED`); it would skip them and then refuse every ``Ref``/``Fn::GetAtt`` to them.
Those resources are created here through their services' APIs, which moto does implement,
from the template's own properties: the ones the stack refers to *before* the stack
(secrets, the Aurora cluster and its subnet group, the user pool, the cache, the search
collection, the HTTP API), whose references in the template are replaced by the physical ids obtained; the rest *after*
it (policies, subscriptions, schedules, the API's routes and stage), resolved against the
stack. Nothing else in the template is touched: every other resource is CloudFormation's.

Other moto gaps handled here, each where it is handled: an Aurora instance needs an engine
version in moto (made through the RDS API, with its cluster's); moto's CreateCollection needs
a customer-managed key (the collection is made up); a key created by CloudFormation keeps its
policy as an object its own KMS API cannot parse (put again as text); an event bus has no
physical id (its name is used); and moto would invoke functions itself, through Docker, from
SQS mappings and EventBridge rules (:func:`_take_over_deliveries`).

Last, :func:`recording_calls`, :func:`iam_requests` and :func:`allows` check the calls a
function made against the role the template gives it, which moto does not do.

``Stack.resolve`` evaluates a template value (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``,
``Fn::Join``, pseudo parameters) against what was created, reading attributes back from the
services (a function's ARN from Lambda, a key's from KMS...), so a function's environment
can be computed from the template and compared with what Lambda holds.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from stratus.app import App
from stratus.aws.deploy import DeployResult, apply, build

REGION = "us-east-1"
ACCOUNT = "123456789012"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": None,
}

#: Types moto's CloudFormation cannot create (moto 5.2.5): made through the services' APIs instead.
#: "before": the stack refers to them; "after": they refer to the stack; "none": moto has no API either.
EMULATED: dict[str, str] = {
    "AWS::SecretsManager::Secret": "before",
    # moto has this model, but the cluster, made before the stack, names it.
    "AWS::RDS::DBSubnetGroup": "before",
    "AWS::RDS::DBCluster": "before",
    "AWS::SecretsManager::SecretTargetAttachment": "before",
    "AWS::Cognito::UserPool": "before",
    "AWS::Cognito::UserPoolClient": "before",
    "AWS::Cognito::UserPoolGroup": "before",
    "AWS::ElastiCache::ServerlessCache": "before",
    "AWS::OpenSearchServerless::SecurityPolicy": "before",
    "AWS::OpenSearchServerless::Collection": "before",
    "AWS::ApiGatewayV2::Api": "before",
    "AWS::ApiGatewayV2::Stage": "after",
    # moto has this model, but its instance needs an EngineVersion, which an Aurora instance takes from its cluster.
    "AWS::RDS::DBInstance": "after",
    "AWS::Lambda::EventInvokeConfig": "after",
    "AWS::SQS::QueuePolicy": "after",
    "AWS::SNS::TopicPolicy": "after",
    "AWS::SNS::Subscription": "after",
    "AWS::Scheduler::ScheduleGroup": "after",
    "AWS::Scheduler::Schedule": "after",
    "AWS::OpenSearchServerless::AccessPolicy": "none",
}
#: Properties of a "before" resource that name resources of the stack: applied once the stack exists.
_NEEDS_STACK = {"AWS::Cognito::UserPool": "LambdaConfig", "AWS::ApiGatewayV2::Api": "Body"}
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
_DYNAMIC = re.compile(r"\{\{resolve:secretsmanager:(.+?):SecretString:([^:}]+)(?::[^}]*)?\}\}")


@dataclass
class Made:
    """A resource created outside CloudFormation: what ``Ref`` and ``Fn::GetAtt`` give."""

    type: str
    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Stack:
    """The deployed stack: the translated template, CloudFormation's resources and the emulated ones."""

    name: str
    template: dict[str, Any]
    parameters: dict[str, str]
    result: DeployResult | None = None
    physical: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    made: dict[str, Made] = field(default_factory=dict)
    not_created: dict[str, str] = field(default_factory=dict)
    #: event source mapping UUID -> the mapping as CloudFormation created it (before it was disabled)
    event_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: rule name -> its Lambda targets as CloudFormation created them (moto cannot deliver to them)
    lambda_targets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    # -- reading the template back -----------------------------------------------------
    def functions(self) -> dict[str, str]:
        """Declared function name (``STRATUS_FUNCTION``) -> logical id, for the system's functions."""
        out = {}
        for logical, body in self.template["Resources"].items():
            if body["Type"] == "AWS::Lambda::Function":
                variables = body["Properties"].get("Environment", {}).get("Variables", {})
                if "STRATUS_FUNCTION" in variables:
                    out[variables["STRATUS_FUNCTION"]] = logical
        return out

    def environment(self, function: str) -> dict[str, str]:
        """The function's environment: the template's variables, resolved against the stack."""
        logical = self.functions()[function]
        variables = self.template["Resources"][logical]["Properties"]["Environment"]["Variables"]
        resolved = self.resolve(variables)
        return {key: str(value) for key, value in resolved.items()}

    # -- resolving intrinsics ----------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), *_ = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.attribute(name, attribute)
            if key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self.sub(text, {k: self.resolve(v) for k, v in variables.items()})
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(v) for v in self.resolve(items))
            if key.startswith("Fn::"):
                raise NotImplementedError(f"{key} is not resolved by this helper")
        return {k: self.resolve(v) for k, v in value.items()}

    def sub(self, text: str, variables: dict[str, Any] | None = None) -> str:
        variables = variables or {}

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and name not in PSEUDO:
                resource, attribute = name.split(".", 1)
                return str(self.attribute(resource, attribute))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(one, text)

    def ref(self, name: str) -> Any:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            declared = self.template.get("Parameters", {}).get(name, {})
            value = self.parameters[name]
            return value.split(",") if declared.get("Type", "").startswith("List<") else value
        if name in self.made:
            return self.made[name].ref
        if name in self.physical:
            return self.physical[name]
        raise KeyError(f"{name!r} is neither a parameter nor a resource of the stack")

    def attribute(self, name: str, attribute: str) -> Any:
        if name in self.made:
            return self.made[name].attributes[attribute]
        physical, type_ = self.physical[name], self.types[name]
        reader = _ATTRIBUTES.get((type_, attribute))
        if reader is None:
            raise NotImplementedError(f"Fn::GetAtt {type_}.{attribute} is not read back by this helper")
        return reader(physical)


@functools.cache
def _client(service: str) -> Any:
    """One client per service (making one costs more than most moto calls); moto serves it whenever a mock is on."""
    return boto3.client(service, region_name=REGION)


_ATTRIBUTES: dict[tuple[str, str], Callable[[str], Any]] = {
    ("AWS::Lambda::Function", "Arn"): lambda name: _client("lambda").get_function_configuration(FunctionName=name)[
        "FunctionArn"
    ],
    ("AWS::IAM::Role", "Arn"): lambda name: _client("iam").get_role(RoleName=name)["Role"]["Arn"],
    ("AWS::KMS::Key", "Arn"): lambda key: _client("kms").describe_key(KeyId=key)["KeyMetadata"]["Arn"],
    ("AWS::SQS::Queue", "Arn"): lambda url: _client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"],
    ("AWS::Events::EventBus", "Arn"): lambda name: _client("events").describe_event_bus(Name=name)["Arn"],
    ("AWS::DynamoDB::Table", "Arn"): lambda name: _client("dynamodb").describe_table(TableName=name)["Table"][
        "TableArn"
    ],
    ("AWS::DynamoDB::Table", "StreamArn"): lambda name: _client("dynamodb").describe_table(TableName=name)["Table"][
        "LatestStreamArn"
    ],
}


# -- the emulated resources -------------------------------------------------------------


def _generated(spec: dict[str, Any]) -> str:
    excluded = set(spec.get("ExcludeCharacters", ""))
    alphabet = [c for c in string.ascii_letters + string.digits + "!#$%&()*+,-.:;<=>?[]^_{|}~" if c not in excluded]
    password = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    if "SecretStringTemplate" not in spec:
        return password
    return json.dumps({**json.loads(spec["SecretStringTemplate"]), spec["GenerateStringKey"]: password})


def _dynamic(text: Any) -> Any:
    """``{{resolve:secretsmanager:ARN:SecretString:key}}`` as CloudFormation resolves it."""
    if not isinstance(text, str):
        return text

    def one(match: re.Match[str]) -> str:
        value = _client("secretsmanager").get_secret_value(SecretId=match.group(1))["SecretString"]
        return str(json.loads(value)[match.group(2)])

    return _DYNAMIC.sub(one, text)


def _present(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


class _Emulator:
    """Creates one emulated resource from its (resolved) properties."""

    def __init__(self, stack: Stack, cache_endpoint: tuple[str, int]) -> None:
        self.stack = stack
        self.cache_endpoint = cache_endpoint

    def create(self, logical: str, body: dict[str, Any]) -> Made | None:
        type_ = body["Type"]
        method = getattr(self, "_" + type_.replace("AWS::", "").replace("::", "_").lower())
        later = _NEEDS_STACK.get(type_)
        properties = self.stack.resolve({k: v for k, v in body.get("Properties", {}).items() if k != later})
        if type_ == "AWS::ApiGatewayV2::Api":
            properties["Name"] = body["Properties"].get("Name") or body["Properties"]["Body"]["info"]["title"]
        made: Made | None = method(logical, properties)
        return made

    # before the stack
    def _secretsmanager_secret(self, logical: str, p: dict[str, Any]) -> Made:
        # CloudFormation generates a value when the template gives none (a 32-character password).
        value = p.get("SecretString") or _generated(p.get("GenerateSecretString", {}))
        created = _client("secretsmanager").create_secret(
            **_present(Name=p.get("Name"), Description=p.get("Description"), SecretString=value)
        )
        return Made("AWS::SecretsManager::Secret", created["ARN"], {"Id": created["ARN"]})

    def _rds_dbsubnetgroup(self, logical: str, p: dict[str, Any]) -> Made:
        # As on AWS, the subnets must exist: the stack's SubnetIds name moto's (network_parameters).
        group = _client("rds").create_db_subnet_group(
            DBSubnetGroupName=p["DBSubnetGroupName"],
            DBSubnetGroupDescription=p["DBSubnetGroupDescription"],
            SubnetIds=p["SubnetIds"],
        )["DBSubnetGroup"]
        return Made("AWS::RDS::DBSubnetGroup", group["DBSubnetGroupName"])

    def _rds_dbcluster(self, logical: str, p: dict[str, Any]) -> Made:
        cluster = _client("rds").create_db_cluster(
            DBClusterIdentifier=p["DBClusterIdentifier"],
            Engine=p["Engine"],
            EngineVersion=p.get("EngineVersion"),
            DatabaseName=p.get("DatabaseName"),
            MasterUsername=_dynamic(p["MasterUsername"]),
            MasterUserPassword=_dynamic(p["MasterUserPassword"]),
            ServerlessV2ScalingConfiguration=p.get("ServerlessV2ScalingConfiguration"),
            EnableHttpEndpoint=p.get("EnableHttpEndpoint", False),
            StorageEncrypted=p.get("StorageEncrypted", False),
            **_present(DBSubnetGroupName=p.get("DBSubnetGroupName"), VpcSecurityGroupIds=p.get("VpcSecurityGroupIds")),
        )["DBCluster"]
        return Made(
            "AWS::RDS::DBCluster",
            cluster["DBClusterIdentifier"],
            {
                "DBClusterArn": cluster["DBClusterArn"],
                "Endpoint.Address": cluster["Endpoint"],
                "Endpoint.Port": str(cluster.get("Port", 5432)),
            },
        )

    def _secretsmanager_secrettargetattachment(self, logical: str, p: dict[str, Any]) -> Made:
        # What the attachment adds to an RDS secret: the engine and where the cluster answers.
        client = _client("secretsmanager")
        cluster = _client("rds").describe_db_clusters(DBClusterIdentifier=p["TargetId"])["DBClusters"][0]
        value = json.loads(client.get_secret_value(SecretId=p["SecretId"])["SecretString"])
        value.update(
            engine="postgres",
            host=cluster["Endpoint"],
            port=cluster.get("Port", 5432),
            dbClusterIdentifier=cluster["DBClusterIdentifier"],
        )
        client.put_secret_value(SecretId=p["SecretId"], SecretString=json.dumps(value))
        return Made("AWS::SecretsManager::SecretTargetAttachment", p["SecretId"])

    def _cognito_userpool(self, logical: str, p: dict[str, Any]) -> Made:
        # LambdaConfig names a function of the stack: set after it (see _after_cognito_userpool).
        pool = _client("cognito-idp").create_user_pool(
            **_present(
                PoolName=p["UserPoolName"],
                Policies=p.get("Policies"),
                UsernameAttributes=p.get("UsernameAttributes"),
                AutoVerifiedAttributes=p.get("AutoVerifiedAttributes"),
                MfaConfiguration=p.get("MfaConfiguration"),
                AccountRecoverySetting=p.get("AccountRecoverySetting"),
                Schema=p.get("Schema"),
            )
        )["UserPool"]
        issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool['Id']}"
        return Made(
            "AWS::Cognito::UserPool",
            pool["Id"],
            {"Arn": pool["Arn"], "ProviderName": issuer.removeprefix("https://"), "ProviderURL": issuer},
        )

    def _cognito_userpoolclient(self, logical: str, p: dict[str, Any]) -> Made:
        client = _client("cognito-idp").create_user_pool_client(**p)["UserPoolClient"]
        return Made("AWS::Cognito::UserPoolClient", client["ClientId"])

    def _cognito_userpoolgroup(self, logical: str, p: dict[str, Any]) -> Made:
        group = _client("cognito-idp").create_group(**p)["Group"]
        return Made("AWS::Cognito::UserPoolGroup", group["GroupName"])

    def _elasticache_serverlesscache(self, logical: str, p: dict[str, Any]) -> Made:
        # moto has no ElastiCache Serverless at all: the endpoint is the Redis server the caller names.
        host, port = self.cache_endpoint
        name = p["ServerlessCacheName"]
        return Made(
            "AWS::ElastiCache::ServerlessCache",
            name,
            {
                "Endpoint.Address": host,
                "Endpoint.Port": str(port),
                "ARN": f"arn:aws:elasticache:{REGION}:{ACCOUNT}:serverlesscache:{name}",
            },
        )

    def _opensearchserverless_securitypolicy(self, logical: str, p: dict[str, Any]) -> Made:
        _client("opensearchserverless").create_security_policy(name=p["Name"], type=p["Type"], policy=p["Policy"])
        return Made("AWS::OpenSearchServerless::SecurityPolicy", p["Name"])

    def _opensearchserverless_collection(self, logical: str, p: dict[str, Any]) -> Made:
        # moto gap: moto's CreateCollection reads a "KmsARN" from the encryption policy, which an
        # AWS-owned-key policy (AWSOwnedKey: true) does not have; the collection is made up here.
        ident = secrets.token_hex(10)
        return Made(
            "AWS::OpenSearchServerless::Collection",
            ident,
            {
                "Id": ident,
                "Arn": f"arn:aws:aoss:{REGION}:{ACCOUNT}:collection/{ident}",
                "CollectionEndpoint": f"https://{ident}.{REGION}.aoss.amazonaws.com",
            },
        )

    def _apigatewayv2_api(self, logical: str, p: dict[str, Any]) -> Made:
        # Created empty here (the stack's permissions name its id); its routes come from the
        # OpenAPI body once the functions it integrates exist (_after_apigatewayv2_api).
        api = _client("apigatewayv2").create_api(Name=p["Name"], ProtocolType="HTTP")
        return Made("AWS::ApiGatewayV2::Api", api["ApiId"], {"ApiEndpoint": api["ApiEndpoint"], "ApiId": api["ApiId"]})

    # after the stack
    def _apigatewayv2_stage(self, logical: str, p: dict[str, Any]) -> None:
        _client("apigatewayv2").create_stage(
            **_present(
                ApiId=p["ApiId"],
                StageName=p["StageName"],
                AutoDeploy=p.get("AutoDeploy"),
                DefaultRouteSettings=p.get("DefaultRouteSettings"),
            )
        )

    def _rds_dbinstance(self, logical: str, p: dict[str, Any]) -> None:
        rds = _client("rds")
        cluster = rds.describe_db_clusters(DBClusterIdentifier=p["DBClusterIdentifier"])["DBClusters"][0]
        rds.create_db_instance(
            DBInstanceIdentifier=f"{self.stack.name}-{logical}".lower()[:63],
            DBClusterIdentifier=p["DBClusterIdentifier"],
            DBInstanceClass=p["DBInstanceClass"],
            Engine=p["Engine"],
            EngineVersion=cluster["EngineVersion"],
        )

    def _lambda_eventinvokeconfig(self, logical: str, p: dict[str, Any]) -> None:
        _client("lambda").put_function_event_invoke_config(
            **_present(
                FunctionName=p["FunctionName"],
                Qualifier=None if p.get("Qualifier") in (None, "$LATEST") else p["Qualifier"],
                MaximumRetryAttempts=p.get("MaximumRetryAttempts"),
                MaximumEventAgeInSeconds=p.get("MaximumEventAgeInSeconds"),
                DestinationConfig=p.get("DestinationConfig"),
            )
        )

    def _sqs_queuepolicy(self, logical: str, p: dict[str, Any]) -> None:
        for url in p["Queues"]:
            _client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(p["PolicyDocument"])})

    def _sns_topicpolicy(self, logical: str, p: dict[str, Any]) -> None:
        for arn in p["Topics"]:
            _client("sns").set_topic_attributes(
                TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(p["PolicyDocument"])
            )

    def _sns_subscription(self, logical: str, p: dict[str, Any]) -> None:
        attributes = {
            k: json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in p.items()
            if k in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy")
        }
        _client("sns").subscribe(
            TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"], Attributes=attributes
        )

    def _scheduler_schedulegroup(self, logical: str, p: dict[str, Any]) -> None:
        _client("scheduler").create_schedule_group(Name=p["Name"])

    def _scheduler_schedule(self, logical: str, p: dict[str, Any]) -> None:
        _client("scheduler").create_schedule(**p)

    def _opensearchserverless_accesspolicy(self, logical: str, p: dict[str, Any]) -> None:
        return None  # never called: moto has no data-access policies (see EMULATED)

    def after(self, logical: str, body: dict[str, Any]) -> None:
        """Second half of a "before" resource that needs the stack (the API's routes, the pool's trigger)."""
        properties = self.stack.resolve(body.get("Properties", {}))
        made = self.stack.made[logical]
        if body["Type"] == "AWS::ApiGatewayV2::Api" and "Body" in properties:
            _client("apigatewayv2").reimport_api(ApiId=made.ref, Body=json.dumps(properties["Body"]))
        elif body["Type"] == "AWS::Cognito::UserPool" and properties.get("LambdaConfig"):
            _client("cognito-idp").update_user_pool(UserPoolId=made.ref, LambdaConfig=properties["LambdaConfig"])


# -- the template given to CloudFormation ----------------------------------------------------


def _replace_references(value: Any, made: dict[str, Made]) -> Any:
    """``value`` with every Ref/GetAtt/Sub variable naming an emulated resource replaced by its value."""
    if isinstance(value, list):
        return [_replace_references(v, made) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, argument), *_ = value.items()
        if key == "Ref" and argument in made:
            return made[argument].ref
        if key == "Fn::GetAtt":
            name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            if name in made:
                return made[name].attributes[attribute]
        if key == "Fn::Sub":
            text, variables = (argument, None) if isinstance(argument, str) else argument

            def one(match: re.Match[str]) -> str:
                name, _, attribute = match.group(1).partition(".")
                if variables is not None and match.group(1) in variables:
                    return match.group(0)
                if name in made:
                    return str(made[name].attributes[attribute] if attribute else made[name].ref)
                return match.group(0)

            text = _SUB_VARIABLE.sub(one, text)
            if variables is None:
                return {"Fn::Sub": text}
            return {"Fn::Sub": [text, _replace_references(variables, made)]}
    return {k: _replace_references(v, made) for k, v in value.items()}


def _names(value: Any) -> set[str]:
    """Every resource name a template value refers to."""
    found: set[str] = set()
    if isinstance(value, list):
        for v in value:
            found |= _names(v)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt":
                found.add(argument[0] if isinstance(argument, list) else argument.split(".", 1)[0])
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                found |= {m.split(".", 1)[0] for m in _SUB_VARIABLE.findall(text)}
            found |= _names(argument)
    return found


def network_parameters() -> dict[str, str]:
    """``SubnetIds`` and ``SecurityGroupIds`` naming moto's default VPC (inside ``mock_aws``).

    Two of its subnets and its default security group: the Aurora cluster's subnet group is made
    through RDS, which, as on AWS, refuses subnets that do not exist.
    """
    ec2 = _client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    in_vpc = {"Name": "vpc-id", "Values": [vpc]}
    subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets(Filters=[in_vpc])["Subnets"])
    groups = ec2.describe_security_groups(Filters=[in_vpc, {"Name": "group-name", "Values": ["default"]}])
    return {"SubnetIds": ",".join(subnets[:2]), "SecurityGroupIds": groups["SecurityGroups"][0]["GroupId"]}


def deploy_on_moto(
    app: App,
    *,
    systems_root: Path,
    work_dir: Path,
    parameters: dict[str, str],
    cache_endpoint: tuple[str, int],
    bucket: str = "stratus-deployments",
) -> Stack:
    """Build ``app``'s template with the deploy module and create its stack in moto (inside ``mock_aws``)."""
    template = build(
        app,
        systems_root=systems_root,
        s3=_client("s3"),
        bucket=bucket,
        region=REGION,
        layer=False,
        parameters=parameters,
        work_dir=work_dir,
    )
    stack = Stack(f"stratus-{app.name}", template, parameters)
    resources = template["Resources"]
    emulator = _Emulator(stack, cache_endpoint)
    unknown = sorted({b["Type"] for b in resources.values()} - set(EMULATED) - _moto_types())
    if unknown:
        raise AssertionError(f"moto's CloudFormation cannot create {unknown}, and this helper does not emulate them")

    phase = {logical: EMULATED.get(body["Type"]) for logical, body in resources.items()}
    for type_ in [t for t, when in EMULATED.items() if when == "before"]:  # EMULATED lists them in order
        for logical, body in resources.items():
            if body["Type"] == type_:
                made = emulator.create(logical, body)
                assert made is not None
                stack.made[logical] = made

    deployed = {k: v for k, v in template.items() if k != "Resources"}
    deployed["Resources"] = {}
    for logical, body in resources.items():
        if phase[logical] is not None:
            continue
        body = _replace_references(body, stack.made)
        depends = body.get("DependsOn")
        if depends is not None:
            kept = [d for d in ([depends] if isinstance(depends, str) else depends) if phase.get(d) is None]
            body = {k: v for k, v in body.items() if k != "DependsOn"} | ({"DependsOn": kept} if kept else {})
        dangling = _names(body) & {k for k, when in phase.items() if when is not None}
        assert not dangling, f"{logical} still refers to {dangling}, which CloudFormation will not create"
        deployed["Resources"][logical] = body
    deployed["Outputs"] = _replace_references(template.get("Outputs", {}), stack.made)

    stack.result = apply(_client("cloudformation"), stack.name, deployed, parameters)
    summaries = _client("cloudformation").list_stack_resources(StackName=stack.name)["StackResourceSummaries"]
    for summary in summaries:
        logical, physical = summary["LogicalResourceId"], summary["PhysicalResourceId"]
        if summary["ResourceType"] == "AWS::Events::EventBus" and not physical:
            physical = template["Resources"][logical]["Properties"]["Name"]  # moto gap: no id (the Ref is the name)
        stack.physical[logical] = physical
        stack.types[logical] = summary["ResourceType"]

    for logical, body in resources.items():
        if body["Type"] == "AWS::KMS::Key":
            # moto gap: moto's CloudFormation keeps a key's policy as an object, which its own KMS API
            # then fails to parse (every DescribeKey/Encrypt raises TypeError); put it again as text.
            policy = json.dumps(stack.resolve(body["Properties"]["KeyPolicy"]))
            _client("kms").put_key_policy(KeyId=stack.physical[logical], PolicyName="default", Policy=policy)
    for logical, body in resources.items():
        if phase[logical] == "after":
            emulator.create(logical, body)
        elif phase[logical] == "before":
            emulator.after(logical, body)
        elif phase[logical] == "none":
            stack.not_created[logical] = body["Type"]
    _take_over_deliveries(stack)
    return stack


def _take_over_deliveries(stack: Stack) -> None:
    """Keep moto from invoking the functions itself; the caller delivers as Lambda and EventBridge would.

    moto gap: moto invokes a function in a Docker container, which is not here. An SQS mapping
    would receive the messages, fail to invoke and count a receive against the redrive policy, so
    the stack's SQS mappings are disabled (moto ignores the state of DynamoDB stream mappings:
    their failed invocations only log errors). And an EventBridge rule with a Lambda target makes
    moto's PutEvents raise NotImplementedError, so those targets are removed from moto's rules.
    Both are recorded on the stack first.
    """
    lam, events = _client("lambda"), _client("events")
    for logical, type_ in stack.types.items():
        if type_ == "AWS::Lambda::EventSourceMapping":
            mapping = lam.get_event_source_mapping(UUID=stack.physical[logical])
            stack.event_sources[mapping["UUID"]] = mapping
            if ":sqs:" in mapping["EventSourceArn"]:
                lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    for logical, type_ in stack.types.items():
        if type_ != "AWS::Events::Rule":
            continue
        properties = stack.template["Resources"][logical]["Properties"]
        bus, name = properties.get("EventBusName", "default"), properties["Name"]
        targets = events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]
        functions = [t for t in targets if ":lambda:" in t["Arn"]]
        if functions:
            stack.lambda_targets[name] = functions
            events.remove_targets(Rule=name, EventBusName=bus, Ids=[t["Id"] for t in functions])


def _moto_types() -> set[str]:
    """The resource types moto's CloudFormation has models for."""
    from moto.cloudformation.parsing import get_model_map

    return set(get_model_map())


# -- what a function's role allows -------------------------------------------------------------
#
# moto does not check a role's policy against what a function calls (its IAM enforcement compares
# every request with the resource "*", so no least-privilege statement would ever match). The
# calls a function makes are recorded instead, as IAM (action, resource) pairs, and checked
# against the role the template gives the function.

Call = tuple[str, str, dict[str, Any]]  # (IAM service prefix, operation, parameters)


@contextmanager
def recording_calls() -> Iterator[list[Call]]:
    """Every AWS API call made through botocore while the block runs."""
    from botocore.client import BaseClient

    calls: list[Call] = []
    original = BaseClient._make_api_call

    def record(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.append((self.meta.service_model.signing_name, operation_name, dict(api_params)))
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = record  # type: ignore[method-assign,unused-ignore]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign,unused-ignore]


_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def _arn(service: str, rest: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{rest}"


def iam_requests(call: Call) -> list[tuple[str, str | None]]:
    """The (action, resource ARN) pairs IAM evaluates for ``call``; resource None: not derived here."""
    service, operation, params = call
    action = f"{service}:{operation}"

    def table(name: str, index: str | None = None) -> str:
        base = name if name.startswith("arn:") else _arn("dynamodb", f"table/{name}")
        return f"{base}/index/{index}" if index else base

    if service == "dynamodb":
        if operation == "TransactWriteItems":
            return [
                (f"dynamodb:{_TRANSACT[kind]}", table(spec["TableName"]))
                for item in params["TransactItems"]
                for kind, spec in item.items()
            ]
        if operation == "TransactGetItems":
            return [("dynamodb:GetItem", table(item["Get"]["TableName"])) for item in params["TransactItems"]]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(action, table(name)) for name in params["RequestItems"]]
        if "TableName" in params:
            return [(action, table(params["TableName"], params.get("IndexName")))]
    if service == "sqs" and "QueueUrl" in params:
        return [(action, _arn("sqs", params["QueueUrl"].rstrip("/").rsplit("/", 1)[1]))]
    if service == "secretsmanager" and "SecretId" in params:
        return [(action, params["SecretId"])]
    if service == "kms" and "KeyId" in params:
        key = params["KeyId"]
        return [(action, key if key.startswith("arn:") else _arn("kms", f"key/{key}"))]
    if service == "states":
        for name in ("stateMachineArn", "executionArn"):
            if name in params:
                return [(action, params[name])]
    if service == "events" and operation == "PutEvents":
        return [
            (action, bus if bus.startswith("arn:") else _arn("events", f"event-bus/{bus}"))
            for bus in (entry.get("EventBusName", "default") for entry in params["Entries"])
        ]
    if service == "sns" and "TopicArn" in params:
        return [(action, params["TopicArn"])]
    return [(action, None)]


def _wildcard(pattern: str, text: str, *, case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, 0 if case else re.IGNORECASE) is not None


def allows(statements: list[dict[str, Any]], action: str, resource: str | None) -> bool:
    """Whether an Allow statement covers ``action`` on ``resource`` (any resource when None)."""
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if not any(_wildcard(a, action, case=False) for a in actions):
            continue
        if resource is None or any(_wildcard(r, resource, case=True) for r in resources):
            return True
    return False


def role_statements(stack: Stack, function: str) -> list[dict[str, Any]]:
    """The statements of the role the template gives ``function`` (a declared function name)."""
    body = stack.template["Resources"][stack.functions()[function]]
    role = body["Properties"]["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for policy in stack.template["Resources"][role]["Properties"].get("Policies", []):
        statements.extend(stack.resolve(policy["PolicyDocument"])["Statement"])
    return statements
