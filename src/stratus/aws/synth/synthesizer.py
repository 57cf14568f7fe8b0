"""The Synthesizer: one App in, one SAM template out, one generator per resource kind.

Generators (``stratus.aws.synth.kinds``) register per kind and receive the resource and
this object, which holds what they share: the template, the options, each function's
usage (from its code), the function → alias mapping of release strategies, and helpers
to let a service invoke a function or deliver to a queue or topic. Functions are generated
last, so that every other generator has already said which events and permissions it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stratus.app import App
from stratus.aws.cloud import env_name
from stratus.aws.synth.errors import SynthError
from stratus.aws.synth.names import arn, describe, logical_id, ref, resource_id
from stratus.aws.synth.template import Template, service_statement
from stratus.aws.uses import ForeignResource, Usage, find_usage
from stratus.resources.base import Resource

DEPLOYMENTS = {
    "canary": "Canary10Percent5Minutes",
    "linear": "Linear10PercentEvery1Minute",
    "all-at-once": "AllAtOnce",
}
ALIAS = "live"

Generator = Callable[[Any, "Synthesizer"], None]
GENERATORS: dict[str, Generator] = {}


def generator(*kinds: str) -> Callable[[Generator], Generator]:
    def register(fn: Generator) -> Generator:
        for kind in kinds:
            GENERATORS[kind] = fn
        return fn

    return register


@dataclass
class SynthOptions:
    """How to synthesize: where the code is, the layer, and the release strategy for every function."""

    code_uri: str = "build/code"
    layer_uri: str | None = "build/layer"
    deployment: str | None = None

    def __post_init__(self) -> None:
        if self.deployment is not None and self.deployment not in DEPLOYMENTS:
            raise SynthError(f"deployment must be one of {', '.join(DEPLOYMENTS)}, got {self.deployment!r}")


class Synthesizer:
    def __init__(self, app: App, options: SynthOptions | None = None) -> None:
        self.app = app
        self.options = options or SynthOptions()
        self.template = Template(app.description or f"Stratus system {app.name}")
        self.usage: dict[str, Usage] = {}
        #: function name -> [(event name, SAM event)] contributed by other generators.
        self.events: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        #: resource logical id -> functions (names) whose role must be named in its policy.
        self.users: dict[str, list[str]] = {}
        self._env_seen: dict[str, Resource[Any]] = {}
        #: files to write next to the template (ASL definitions), by relative path.
        self.files: dict[str, str] = {}

    # -- the run ------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        import stratus.aws.synth.kinds  # noqa: F401 - registers the generators (imported late: they import iam)

        app = self.app
        for resource in app.resources:
            variable = env_name(resource.kind, resource.name)
            other = self._env_seen.get(variable)
            if other is not None:
                raise SynthError(
                    f"{describe(resource)} and {describe(other)} would share the environment variable {variable}"
                )
            self._env_seen[variable] = resource
        for function in app.functions():
            try:
                self.usage[function.name] = find_usage(function)
            except ForeignResource as exc:
                raise SynthError(
                    f"{describe(function)}: its code uses {describe(exc.resource)}; a function may use only "
                    "the resources of its own app"
                ) from exc
            for resource in _authorizer_resources(function):
                self.usage[function.name].add(resource)
            for resource in self.usage[function.name].resources:
                self.users.setdefault(resource_id(resource), []).append(function.name)
        if self.options.layer_uri:
            self.template.add(
                "DependenciesLayer",
                "AWS::Serverless::LayerVersion",
                {
                    "LayerName": f"{app.name}-dependencies",
                    "Description": f"Python dependencies shared by every function of {app.name}",
                    "ContentUri": self.options.layer_uri,
                    "CompatibleRuntimes": ["python3.11"],
                    "RetentionPolicy": "Delete",
                },
            )
        ordered = [r for r in app.resources if r.kind != "function"] + list(app.functions())
        for resource in ordered:
            generate = GENERATORS.get(resource.kind)
            if generate is None:
                raise SynthError(f"{describe(resource)}: a {resource.kind} cannot be synthesized for AWS yet")
            generate(resource, self)
        return self.template.to_dict()

    # -- shared helpers -----------------------------------------------------------------
    def release(self, function: Any) -> str | None:
        """The DeploymentPreference type of ``function`` (its own setting wins over the option)."""
        chosen = getattr(function, "deployment", None) or self.options.deployment
        if chosen is None:
            return None
        if chosen not in DEPLOYMENTS:
            raise SynthError(
                f"{describe(function)}: deployment must be one of {', '.join(DEPLOYMENTS)}, got {chosen!r}"
            )
        return DEPLOYMENTS[chosen]

    def function_arn(self, function: Any) -> Any:
        """What other services invoke: the ``live`` alias when the function is released gradually."""
        if self.release(function) is not None:
            return {"Fn::Sub": [f"${{Fn}}:{ALIAS}", {"Fn": arn(function)}]}
        return arn(function)

    def add_event(self, function: Any, name: str, event: dict[str, Any]) -> None:
        self.events.setdefault(function.name, []).append((logical_id(name), event))

    def allow_invoke(self, function: Any, principal: str, source_arn: Any, for_id: str) -> None:
        """A resource-based permission letting ``principal`` invoke ``function`` from ``source_arn`` only."""
        if f"{for_id}Permission" in self.template.resources:
            return
        self.template.add(
            f"{for_id}Permission",
            "AWS::Lambda::Permission",
            {
                "Action": "lambda:InvokeFunction",
                "FunctionName": self.function_arn(function),
                "Principal": principal,
                "SourceArn": source_arn,
                "SourceAccount": {"Ref": "AWS::AccountId"} if principal == "s3.amazonaws.com" else None,
            },
            DependsOn=resource_id(function),
        )

    def allow_delivery(self, resource: Resource[Any], service: str, source_arn: Any) -> None:
        """Let ``service`` (sns, events, scheduler...) send to a queue or publish to a topic for one source."""
        if resource.kind == "queue":
            self.template.allow_queue(
                resource_id(resource), service_statement(service, "sqs:SendMessage", arn(resource), source_arn)
            )
        elif resource.kind == "topic":
            self.template.allow_topic(
                resource_id(resource), service_statement(service, "sns:Publish", ref(resource), source_arn)
            )

    def env_value(self, resource: Resource[Any]) -> dict[str, Any]:
        """The environment variables giving ``resource``'s physical identity (see stratus.aws.cloud)."""
        from stratus.aws.synth.environment import env_values

        return env_values(resource, self)


def _authorizer_resources(function: Any) -> list[Resource[Any]]:
    """Resources an in-function authorizer of the function's route uses (it runs in the entrypoint)."""
    from stratus.aws.events import is_native

    out: list[Resource[Any]] = []
    for trigger in function.triggers:
        route = trigger.options.get("route") if trigger.kind == "http" else None
        authorizer = getattr(route, "authorizer", None)
        if authorizer is not None and not is_native(authorizer):
            out.extend(v for v in vars(authorizer).values() if isinstance(v, Resource))
    return out
