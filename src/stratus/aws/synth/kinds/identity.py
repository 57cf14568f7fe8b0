"""User pools (Cognito): the pool, its app clients and its groups.

``auto_confirm`` becomes a small pre-sign-up trigger (inline code, no permissions beyond its
logs) that confirms the user and verifies the email or phone given, as the local pool does.
Not synthesized (Cognito has no setting for them): ``max_failed_sign_ins`` (Cognito's lockout
is built in) and custom scopes in tokens from password sign-in (Cognito grants custom scopes
only through OAuth flows).
"""

from __future__ import annotations

import copy
from typing import Any

from stratus.aws.iam import allow
from stratus.aws.synth.names import check_name, describe, logical_id, physical_name, resource_id, sub_arn
from stratus.aws.synth.synthesizer import Synthesizer, generator

_TYPES = {"string": "String", "number": "Number", "boolean": "Boolean", "datetime": "DateTime"}
#: Where a forgotten-password code goes: the verified email, else the verified phone number (as the
#: local pool does). Without it Cognito prefers the phone (SMS) and falls back to the email.
ACCOUNT_RECOVERY: dict[str, Any] = {
    "RecoveryMechanisms": [
        {"Name": "verified_email", "Priority": 1},
        {"Name": "verified_phone_number", "Priority": 2},
    ]
}


@generator("user_pool")
def user_pool(resource: Any, synth: Synthesizer) -> None:
    pid = resource_id(resource)
    policy = resource.password_policy
    synth.template.add(
        pid,
        "AWS::Cognito::UserPool",
        {
            "UserPoolName": check_name("user_pool", physical_name(resource), describe(resource)),
            "Policies": {
                "PasswordPolicy": {
                    "MinimumLength": policy.min_length,
                    "RequireUppercase": policy.require_upper,
                    "RequireLowercase": policy.require_lower,
                    "RequireNumbers": policy.require_digits,
                    "RequireSymbols": policy.require_symbols,
                    "TemporaryPasswordValidityDays": policy.temporary_password_days,
                }
            },
            "UsernameAttributes": list(resource.username_attributes) or None,
            "AutoVerifiedAttributes": ["email"] if "email" in resource.username_attributes else None,
            "MfaConfiguration": "OFF",
            "AccountRecoverySetting": copy.deepcopy(ACCOUNT_RECOVERY),
            "LambdaConfig": (
                {"PreSignUp": {"Fn::GetAtt": [f"{pid}AutoConfirm", "Arn"]}} if resource.auto_confirm else None
            ),
            "Schema": [
                {"Name": attr, "AttributeDataType": _TYPES[kind], "Mutable": True}
                for attr, kind in resource.custom_attributes.items()
            ]
            or None,
        },
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
    )
    if resource.auto_confirm:
        _auto_confirm(resource, synth, pid)
    for client in resource.clients.values():
        synth.template.add(
            logical_id(pid, "Client", client.name),
            "AWS::Cognito::UserPoolClient",
            {
                "UserPoolId": {"Ref": pid},
                "ClientName": client.name,
                "GenerateSecret": False,
                "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                "IdTokenValidity": client.id_token_minutes,
                "AccessTokenValidity": client.access_token_minutes,
                "RefreshTokenValidity": max(60, int(client.refresh_token_days * 24 * 60)),
                "TokenValidityUnits": {"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "minutes"},
                "EnableTokenRevocation": client.enable_token_revocation,
                "PreventUserExistenceErrors": "ENABLED",
            },
        )
    for group in resource.groups:
        synth.template.add(
            logical_id(pid, "Group", group),
            "AWS::Cognito::UserPoolGroup",
            {"UserPoolId": {"Ref": pid}, "GroupName": group},
        )


_AUTO_CONFIRM = """def handler(event, context):
    response = event.setdefault("response", {})
    attributes = event.get("request", {}).get("userAttributes", {})
    response["autoConfirmUser"] = True
    if "email" in attributes:
        response["autoVerifyEmail"] = True
    if "phone_number" in attributes:
        response["autoVerifyPhone"] = True
    return event
"""


def _auto_confirm(resource: Any, synth: Synthesizer, pid: str) -> None:
    """A pre-sign-up trigger confirming every new user (the pool's ``auto_confirm``)."""
    fid = f"{pid}AutoConfirm"
    name = f"{physical_name(resource)}-auto-confirm"[:64]
    log_group = sub_arn("logs", f"log-group:/aws/lambda/{name}")
    synth.template.add(
        f"{fid}Role",
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": [
                {
                    "PolicyName": "logs",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            allow(["logs:CreateLogGroup"], log_group),
                            allow(
                                ["logs:CreateLogStream", "logs:PutLogEvents"],
                                {"Fn::Sub": ["${Group}:*", {"Group": log_group}]},
                            ),
                        ],
                    },
                }
            ],
        },
    )
    synth.template.add(
        fid,
        "AWS::Lambda::Function",
        {
            "FunctionName": name,
            "Description": f"Confirms every sign-up of {describe(resource)} (auto_confirm)",
            "Runtime": "python3.11",
            "Handler": "index.handler",
            "Role": {"Fn::GetAtt": [f"{fid}Role", "Arn"]},
            "Code": {"ZipFile": _AUTO_CONFIRM},
            "Timeout": 5,
        },
    )
    synth.template.add(
        f"{fid}Permission",
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": fid},
            "Principal": "cognito-idp.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": [pid, "Arn"]},
        },
    )
