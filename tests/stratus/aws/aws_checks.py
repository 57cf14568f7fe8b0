"""What AWS's own tools say about a synthesized template: aws-sam-translator and cfn-lint."""

from __future__ import annotations

import copy
from typing import Any


def translate(document: dict[str, Any]) -> dict[str, Any]:
    """aws-sam-translator's CloudFormation for a synthesized template (local URIs → S3 placeholders)."""
    from stratus.aws.deploy import translate as sam_translate

    packaged = copy.deepcopy(document)
    for body in packaged["Resources"].values():
        properties = body.get("Properties", {})
        if body["Type"] == "AWS::Serverless::Function":
            properties["CodeUri"] = {"Bucket": "deploy", "Key": "code.zip"}
        elif body["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = {"Bucket": "deploy", "Key": "layer.zip"}
        elif body["Type"] == "AWS::Serverless::StateMachine":
            properties["DefinitionUri"] = {"Bucket": "deploy", "Key": "definition.json"}
    return sam_translate(packaged, "us-east-1")


def lint(document: dict[str, Any]) -> list[str]:
    """cfn-lint's findings (errors and warnings) for a synthesized SAM template."""
    from cfnlint.api import ManualArgs
    from cfnlint.api import lint as cfn_lint

    from stratus.aws.synth import dump

    return [str(m) for m in cfn_lint(dump(document), config=ManualArgs(regions=["us-east-1"]))]
