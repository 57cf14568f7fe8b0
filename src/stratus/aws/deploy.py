"""Deploy a system: synthesize, translate SAM → CloudFormation locally, upload the code, create/update the stack.

The SAM transform is applied here with ``aws-sam-translator`` (the library behind the
service-side transform) rather than by CloudFormation, so the same deploy works against
endpoints that have no SAM transform (moto, LocalStack's community edition) and the stack
holds plain CloudFormation. The function code and the layer are zipped deterministically
and uploaded under their content hash to a deployment bucket
(``stratus-deploy-<account>-<region>`` unless named), so an unchanged bundle is not
re-uploaded and an unchanged stack is left alone.

:func:`deploy` is :func:`build` (synthesize, upload, translate: the CloudFormation template)
followed by :func:`apply` (create or update the stack, and wait); a caller that must look at
or adjust the plain CloudFormation in between (a test deploying into moto) calls the two.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratus.app import App
from stratus.aws.synth import SynthResult, synthesize
from stratus.errors import StratusError

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


class DeployError(StratusError):
    """The stack could not be translated, created or updated; the message says why (CloudFormation's reasons)."""

    code = "DeployError"


@dataclass
class DeployResult:
    stack_name: str
    stack_id: str
    status: str
    outputs: dict[str, str] = field(default_factory=dict)
    template: dict[str, Any] = field(default_factory=dict)


def zip_folder(folder: Path) -> bytes:
    """A deterministic zip of ``folder`` (sorted entries, fixed timestamps), so equal code hashes equal."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(folder)), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _upload(s3: Any, bucket: str, prefix: str, data: bytes) -> dict[str, str]:
    key = f"{prefix}-{hashlib.sha256(data).hexdigest()[:16]}.zip"
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return {"Bucket": bucket, "Key": key}


def _ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except Exception:
        pass
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})


def package(result: SynthResult, out: Path, s3: Any, bucket: str, app: str) -> dict[str, Any]:
    """The SAM template with local code, layer and definitions replaced by uploads and inline documents."""
    document = copy.deepcopy(result.template)
    code = _upload(s3, bucket, f"{app}/code", zip_folder(result.build / "code"))
    layer_dir = result.build / "layer"
    layer = _upload(s3, bucket, f"{app}/layer", zip_folder(layer_dir)) if layer_dir.is_dir() else None
    for body in document["Resources"].values():
        properties = body.get("Properties", {})
        if body["Type"] == "AWS::Serverless::Function":
            properties["CodeUri"] = code
        elif body["Type"] == "AWS::Serverless::LayerVersion":
            if layer is None:
                raise DeployError("the template has a layer but build/layer is missing")
            properties["ContentUri"] = layer
        elif body["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in properties:
            properties["Definition"] = json.loads((out / properties.pop("DefinitionUri")).read_text())
    return document


def translate(document: dict[str, Any], region: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """SAM → CloudFormation with aws-sam-translator (no managed-policy names are used, so none are looked up)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        return translator.translate(
            copy.deepcopy(document), parameter_values=dict(parameters or {}), get_managed_policy_map=lambda: {}
        )
    except Exception as exc:
        raise DeployError(f"the SAM template does not translate: {exc}") from exc


def build(
    app: App,
    *,
    systems_root: Path | str,
    s3: Any,
    bucket: str,
    region: str = "us-east-1",
    layer: bool = True,
    deployment: str | None = None,
    parameters: dict[str, str] | None = None,
    work_dir: Path | str | None = None,
) -> dict[str, Any]:
    """Synthesize ``app``, upload its code (and layer) to ``bucket``, and return the CloudFormation template.

    The first half of :func:`deploy`; :func:`apply` is the second. Separate so a caller can
    look at (or adjust) the plain CloudFormation before it is applied.
    """
    with tempfile.TemporaryDirectory(prefix="stratus-deploy-") as scratch:
        out = Path(work_dir) if work_dir is not None else Path(scratch)
        result = synthesize(app, out, systems_root=systems_root, layer=layer, deployment=deployment)
        _ensure_bucket(s3, bucket, region)
        packaged = package(result, out, s3, bucket, app.name)
    return translate(packaged, region, parameters)


def deploy(
    app: App,
    *,
    systems_root: Path | str,
    stack_name: str | None = None,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    bucket: str | None = None,
    layer: bool = True,
    deployment: str | None = None,
    parameters: dict[str, str] | None = None,
    work_dir: Path | str | None = None,
    session: Any = None,
) -> DeployResult:
    """Synthesize ``app`` and create or update its stack (``stratus-<app>`` unless named); wait for it."""
    import boto3

    session = session or boto3.session.Session()

    def client(service: str) -> Any:
        return session.client(service, region_name=region, endpoint_url=endpoint_url)

    stack = stack_name or f"stratus-{app.name}"
    if bucket is None:
        account = client("sts").get_caller_identity()["Account"]
        bucket = f"stratus-deploy-{account}-{region}"
    cloudformation = build(
        app,
        systems_root=systems_root,
        s3=client("s3"),
        bucket=bucket,
        region=region,
        layer=layer,
        deployment=deployment,
        parameters=parameters,
        work_dir=work_dir,
    )
    return apply(client("cloudformation"), stack, cloudformation, parameters or {})


def apply(cfn: Any, stack: str, template: dict[str, Any], parameters: dict[str, str]) -> DeployResult:
    """Create or update ``stack`` with the CloudFormation ``template`` and wait until it is done."""
    body = json.dumps(template)
    arguments = {
        "StackName": stack,
        "TemplateBody": body,
        "Capabilities": CAPABILITIES,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    }
    exists = _exists(cfn, stack)
    try:
        if exists:
            cfn.update_stack(**arguments)
            waiter = cfn.get_waiter("stack_update_complete")
        else:
            cfn.create_stack(**arguments)
            waiter = cfn.get_waiter("stack_create_complete")
    except Exception as exc:
        if "No updates are to be performed" not in str(exc):
            raise DeployError(f"stack {stack!r}: {exc}") from exc
        waiter = None
    if waiter is not None:
        try:
            waiter.wait(StackName=stack, WaiterConfig={"Delay": 2, "MaxAttempts": 900})
        except Exception as exc:
            raise DeployError(f"stack {stack!r} did not deploy: {_failure(cfn, stack) or exc}") from exc
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    return DeployResult(stack, described["StackId"], described["StackStatus"], outputs, template)


def _exists(cfn: Any, stack: str) -> bool:
    try:
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except Exception:
        return False
    return status != "DELETE_COMPLETE"


def _failure(cfn: Any, stack: str) -> str:
    try:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    except Exception:
        return ""
    reasons = [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
        for e in events
        if e["ResourceStatus"].endswith("FAILED")
    ]
    return "; ".join(reasons[:5])
