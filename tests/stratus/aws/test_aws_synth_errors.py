"""Declarations AWS would refuse fail at synthesis, with a message naming the declaration."""

from __future__ import annotations

import pytest

from stratus import App
from stratus.aws.synth import SynthError, template


def test_queue_name_too_long_once_qualified() -> None:
    app = App("a" * 30)
    app.queue("q" * 60)
    with pytest.raises(SynthError, match=r"queue 'q{60}' of app 'a{30}'.*91 characters.*80"):
        template(app)


def test_rule_name_too_long_once_qualified() -> None:
    app = App("r" * 20)
    bus = app.event_bus("bus")
    target = app.queue("target")
    bus.rule("x" * 60, pattern={"source": ["s"]}, targets=[target])
    with pytest.raises(SynthError, match=r"rule 'x{60}'.*64"):
        template(app)


def test_search_collection_name_limit() -> None:
    app = App("shop")
    app.search_index("c" * 30, fields={"title": "text"})
    with pytest.raises(SynthError, match=r"search 'c{30}' of app 'shop'.*35 characters.*32"):
        template(app)


def test_database_identifier_characters() -> None:
    app = App("shop")
    app.sql("ledger-")
    with pytest.raises(SynthError, match=r"sql 'ledger-' of app 'shop'.*'shop-ledger-'.*end with '-'"):
        template(app)


def test_bucket_name_leaves_room_for_account_and_region() -> None:
    app = App("shop")
    app.bucket("b" * 40)
    with pytest.raises(SynthError, match=r"bucket 'b{40}'.*63"):
        template(app)


def test_handler_using_another_apps_resource_names_both() -> None:
    other = App("other")
    foreign = other.table("things", partition_key="id")
    app = App("mine")

    @app.function
    def reader(event: object, context: object) -> object:
        return foreign.get({"id": "1"})

    with pytest.raises(SynthError, match=r"function 'reader' of app 'mine'.*table 'things' of app 'other'"):
        template(app)


def test_function_slower_than_its_queue_visibility() -> None:
    app = App("shop")
    jobs = app.queue("jobs", visibility_timeout=30)

    @app.on_queue(jobs)
    @app.function(timeout=60)
    def work(event: object, context: object) -> None:
        return None

    with pytest.raises(SynthError, match=r"function 'work'.*60 s.*visibility timeout \(30 s\).*'jobs'"):
        template(app)


def test_reserved_environment_variable() -> None:
    app = App("shop")

    @app.function(environment={"AWS_REGION": "eu-west-1"})
    def work(event: object, context: object) -> None:
        return None

    with pytest.raises(SynthError, match=r"function 'work'.*'AWS_REGION' is reserved"):
        template(app)


def test_names_that_collide_in_the_environment() -> None:
    app = App("shop")
    app.table("a-b", partition_key="id")
    app.table("a_b", partition_key="id")
    with pytest.raises(SynthError, match="STRATUS_TABLE_A_B"):
        template(app)


def test_unknown_release_strategy() -> None:
    with pytest.raises(SynthError, match="deployment must be one of canary, linear, all-at-once"):
        template(App("shop"), deployment="blue-green")


def test_function_release_setting_wins_over_the_option() -> None:
    app = App("shop")

    @app.function
    def work(event: object, context: object) -> None:
        return None

    work.deployment = "linear"  # type: ignore[attr-defined]
    properties = template(app, deployment="all-at-once")["Resources"]["FunctionWork"]["Properties"]
    assert properties["DeploymentPreference"]["Type"] == "Linear10PercentEvery1Minute"


def test_secret_rotation_is_refused_until_it_can_be_synthesized() -> None:
    from stratus.resources.secrets import RotationSchedule

    app = App("shop")
    app.secret("token", rotation=RotationSchedule(every_days=30))
    with pytest.raises(SynthError, match=r"secret 'token' of app 'shop': automatic rotation"):
        template(app)


def test_environment_over_lambdas_limit() -> None:
    app = App("big")
    tables = [app.table(f"table-number-{i:03d}", partition_key="id") for i in range(90)]

    @app.function
    def everything(event: object, context: object) -> object:
        return [t.get({"id": "x"}) for t in tables]

    with pytest.raises(SynthError, match=r"function 'everything'.*environment.*4096"):
        template(app)
