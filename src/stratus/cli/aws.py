"""``stratus synth SYSTEM -o DIR`` and ``stratus deploy SYSTEM``: the way out of one machine.

Plain functions with typer annotations; ``stratus.cli`` mounts them as commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from stratus import systems
from stratus.errors import StratusError

console = Console()

_DEPLOYMENT_HELP = "Release every function gradually: canary, linear or all-at-once (AutoPublishAlias + CodeDeploy)."


def synth(
    system: Annotated[str, typer.Argument(help="The system to synthesize (a folder of systems/).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write template.yaml and build/.")] = Path(
        "dist/aws"
    ),
    no_layer: Annotated[
        bool, typer.Option("--no-layer", help="Skip installing the dependencies layer (build/layer/python).")
    ] = False,
    deployment: Annotated[str | None, typer.Option("--deployment", help=_DEPLOYMENT_HELP)] = None,
    systems_dir: Annotated[
        Path | None, typer.Option("--systems", help="The systems folder (default ./systems or $STRATUS_SYSTEMS).")
    ] = None,
) -> None:
    """Write the SAM template and the build folder of SYSTEM."""
    from stratus.aws.synth import synthesize

    try:
        root = systems.systems_folder(systems_dir)
        app = systems.load(system, root)
        result = synthesize(app, out, systems_root=root, layer=not no_layer, deployment=deployment)
    except StratusError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    count = len(result.template["Resources"])
    console.print(f"wrote {result.template_path} ({count} resources) and {result.build}")


def deploy(
    system: Annotated[str, typer.Argument(help="The system to deploy.")],
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="An AWS-compatible endpoint (moto, LocalStack...).")
    ] = None,
    stack_name: Annotated[str | None, typer.Option("--stack-name", help="Default: stratus-<system>.")] = None,
    region: Annotated[str, typer.Option("--region", envvar="AWS_REGION")] = "us-east-1",
    bucket: Annotated[
        str | None, typer.Option("--bucket", help="Deployment bucket (default stratus-deploy-<account>-<region>).")
    ] = None,
    no_layer: Annotated[bool, typer.Option("--no-layer", help="Deploy without the dependencies layer.")] = False,
    deployment: Annotated[str | None, typer.Option("--deployment", help=_DEPLOYMENT_HELP)] = None,
    parameter: Annotated[
        list[str] | None, typer.Option("--parameter", help="KEY=VALUE template parameter (e.g. SubnetIds=...).")
    ] = None,
    systems_dir: Annotated[Path | None, typer.Option("--systems", help="The systems folder.")] = None,
) -> None:
    """Synthesize SYSTEM and create or update its CloudFormation stack."""
    from stratus.aws.deploy import deploy as run_deploy

    parameters = {}
    for item in parameter or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            console.print(f"[red]error:[/red] --parameter {item!r} must be KEY=VALUE")
            raise typer.Exit(2)
        parameters[key] = value
    try:
        root = systems.systems_folder(systems_dir)
        app = systems.load(system, root)
        result = run_deploy(
            app,
            systems_root=root,
            stack_name=stack_name,
            endpoint_url=endpoint_url,
            region=region,
            bucket=bucket,
            layer=not no_layer,
            deployment=deployment,
            parameters=parameters,
        )
    except StratusError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"stack {result.stack_name}: {result.status}")
    for key, value in result.outputs.items():
        console.print(f"  {key}: {value}")
