"""The secrets port (Secrets Manager): the behaviour every adapter must have."""

from __future__ import annotations

import uuid

import pytest

from stratus import App, ResourceNotFound, ValidationError
from stratus.errors import LimitExceeded
from stratus.resources.secrets import (
    InvalidParameter,
    ResourceExists,
    RotationFailed,
    RotationSchedule,
    random_password,
)

DAY = 86400


def _stages(secret) -> dict[str, tuple[str, ...]]:
    return {v.version_id: v.stages for v in secret.list_versions(include_deprecated=True)}


def test_get_before_any_value_is_not_found(sm) -> None:
    with pytest.raises(ResourceNotFound, match="staging label: AWSCURRENT"):
        sm.secret.get()
    assert sm.secret.list_versions() == []


def test_put_and_get_string_bytes_and_json(sm) -> None:
    v1 = sm.secret.put("sk_live_1")
    assert uuid.UUID(v1)
    got = sm.secret.get()
    assert (got.value, got.version_id, got.stages) == ("sk_live_1", v1, ("AWSCURRENT",))
    v2 = sm.secret.put({"api_key": "k", "webhook_secret": "w"})
    assert sm.secret.get().json() == {"api_key": "k", "webhook_secret": "w"}
    v3 = sm.secret.put(b"\x00\x01binary")
    assert sm.secret.get().value == b"\x00\x01binary"
    # Older versions stay readable by id.
    assert sm.secret.get(version_id=v1).value == "sk_live_1"
    assert sm.secret.get(version_id=v2).json()["api_key"] == "k"
    assert sm.secret.get(version_stage="AWSPREVIOUS").version_id == v2
    assert v3 == sm.secret.get().version_id


def test_put_moves_current_and_previous(sm) -> None:
    v1 = sm.secret.put("one")
    v2 = sm.secret.put("two")
    v3 = sm.secret.put("three")
    assert _stages(sm.secret) == {v3: ("AWSCURRENT",), v2: ("AWSPREVIOUS",), v1: ()}
    assert [v.version_id for v in sm.secret.list_versions(include_deprecated=True)] == [v3, v2, v1]
    assert [v.version_id for v in sm.secret.list_versions()] == [v3, v2]  # v1 has no label: deprecated


def test_repr_never_shows_the_value(sm) -> None:
    sm.secret.put("hunter2-super-secret")
    value = sm.secret.get()
    assert "hunter2" not in repr(value)
    assert "hunter2" not in str(value)
    assert "hunter2" not in repr(sm.secret)
    assert value.version_id in repr(value)


def test_client_request_token_is_idempotent(sm) -> None:
    token = "a" * 32
    assert sm.secret.put("v", client_request_token=token) == token
    other = sm.secret.put("newer")
    # Retrying with the same token and value changes nothing (the label stays on the newer one).
    assert sm.secret.put("v", client_request_token=token) == token
    assert sm.secret.get().version_id == other
    with pytest.raises(ResourceExists):
        sm.secret.put("different", client_request_token=token)
    assert sm.secret.get(version_id=token).value == "v"
    with pytest.raises(ValidationError, match="client_request_token"):
        sm.secret.put("v", client_request_token="short")


def test_limits_and_bad_values(sm) -> None:
    sm.secret.put("x" * 65536)
    with pytest.raises(ValidationError, match="65536"):
        sm.secret.put("x" * 65537)
    with pytest.raises(ValidationError, match="65536"):
        sm.secret.put("é" * 32769)  # 65538 bytes of UTF-8
    with pytest.raises(ValidationError, match="str, bytes or a dict"):
        sm.secret.put(42)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="JSON"):
        sm.secret.put({"when": object()})
    with pytest.raises(ValidationError, match="staging label"):
        sm.secret.get(version_stage="")
    assert sm.secret.get().value == "x" * 65536  # nothing half-written


def test_at_most_20_labels_per_version(sm) -> None:
    v1 = sm.secret.put("one", stages=["AWSCURRENT", *[f"label-{i}" for i in range(19)]])
    with pytest.raises(LimitExceeded, match="20"):
        sm.secret.update_stage("one-too-many", move_to=v1)
    with pytest.raises(ValidationError, match="at most 20"):
        sm.secret.put("two", stages=[f"l{i}" for i in range(21)])
    assert len(sm.secret.get().stages) == 20
    assert len(sm.secret.list_versions()) == 1


def test_unknown_version_or_mismatched_stage(sm) -> None:
    v1 = sm.secret.put("one")
    with pytest.raises(ResourceNotFound, match="VersionId"):
        sm.secret.get(version_id=str(uuid.uuid4()))
    with pytest.raises(ResourceNotFound):
        sm.secret.get(version_id=v1, version_stage="AWSPREVIOUS")
    with pytest.raises(ResourceNotFound, match="staging label: AWSPENDING"):
        sm.secret.get(version_stage="AWSPENDING")


def test_update_stage_rules(sm) -> None:
    v1 = sm.secret.put("one")
    v2 = sm.secret.put("two")
    # A label attached elsewhere must be named in remove_from.
    with pytest.raises(InvalidParameter, match="remove_from"):
        sm.secret.update_stage("AWSCURRENT", move_to=v1)
    with pytest.raises(InvalidParameter):
        sm.secret.update_stage("AWSCURRENT", move_to=v1, remove_from=v1)
    with pytest.raises(InvalidParameter, match="AWSCURRENT"):
        sm.secret.update_stage("AWSCURRENT", remove_from=v2)
    assert _stages(sm.secret) == {v2: ("AWSCURRENT",), v1: ("AWSPREVIOUS",)}
    # Rolling back: AWSCURRENT to v1, and AWSPREVIOUS follows to v2.
    sm.secret.update_stage("AWSCURRENT", move_to=v1, remove_from=v2)
    assert _stages(sm.secret) == {v1: ("AWSCURRENT",), v2: ("AWSPREVIOUS",)}
    assert sm.secret.get().value == "one"
    # Custom labels: add, then remove.
    sm.secret.update_stage("blue", move_to=v2)
    assert sm.secret.get(version_stage="blue").value == "two"
    sm.secret.update_stage("blue", remove_from=v2)
    with pytest.raises(ResourceNotFound):
        sm.secret.get(version_stage="blue")
    with pytest.raises(ResourceNotFound):
        sm.secret.update_stage("blue", move_to=str(uuid.uuid4()))
    with pytest.raises(ValidationError, match="move_to, remove_from"):
        sm.secret.update_stage("blue")


def test_rotation_runs_the_four_steps(sm) -> None:
    before = sm.rotating.put({"username": "app", "password": "initial"})
    new = sm.rotating.rotate()
    assert [s for s, _ in sm.handler.steps] == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    assert {t for _, t in sm.handler.steps} == {new}
    current = sm.rotating.get()
    assert current.version_id == new and current.stages == ("AWSCURRENT",)
    assert current.json()["username"] == "app"
    assert current.json()["password"] != "initial"
    assert sm.handler.external["password"] == current.json()["password"]
    assert sm.rotating.get(version_stage="AWSPREVIOUS").version_id == before
    assert sm.rotating.describe().last_rotated is not None


def test_failed_rotation_leaves_current_untouched_and_resumes(sm) -> None:
    v1 = sm.rotating.put({"username": "app", "password": "initial"})
    sm.handler.fail_at = "testSecret"
    with pytest.raises(RotationFailed, match="testSecret") as failure:
        sm.rotating.rotate()
    assert failure.value.step == "testSecret"
    assert isinstance(failure.value.__cause__, ConnectionError)
    assert sm.rotating.get().version_id == v1
    assert sm.rotating.get().json()["password"] == "initial"
    pending = sm.rotating.get(version_stage="AWSPENDING")
    assert sm.rotating.describe().last_rotated is None
    # The next rotation resumes with the same pending version.
    sm.handler.fail_at = None
    new = sm.rotating.rotate()
    assert new == pending.version_id
    assert sm.rotating.get().json()["password"] == pending.json()["password"]
    assert len(sm.rotating.list_versions()) == 2


def test_default_rotation_generates_a_password(sm) -> None:
    first = sm.default_rotating.rotate()  # no value yet: the rotation creates one
    value = sm.default_rotating.get()
    assert value.version_id == first and isinstance(value.value, str) and len(value.value) == 32
    second = sm.default_rotating.rotate()
    assert sm.default_rotating.get().value != value.value
    assert sm.default_rotating.get(version_stage="AWSPREVIOUS").version_id == first
    assert second != first
    # A secret without a schedule can still be rotated on demand with the default handler.
    sm.secret.put("plain")
    sm.secret.rotate()
    assert sm.secret.get().value != "plain"


def test_rotation_due_by_the_clock(sm) -> None:
    assert sm.secret.rotate_if_due() is False  # no schedule
    sm.rotating.put({"username": "app", "password": "p0"})
    assert sm.rotating.rotate_if_due() is False
    sm.advance(30 * DAY - 1)
    assert sm.rotating.rotate_if_due() is False
    sm.advance(1)
    assert sm.rotating.rotate_if_due() is True
    rotated = sm.rotating.describe()
    assert rotated.rotation_enabled and rotated.rotation_every_days == 30
    assert rotated.next_rotation is not None and rotated.last_rotated is not None
    assert (rotated.next_rotation - rotated.last_rotated).days == 30
    assert sm.rotating.rotate_if_due() is False
    sm.advance(30 * DAY)
    assert sm.rotating.rotate_if_due() is True


def test_restart_keeps_versions_and_labels(sm) -> None:
    v1 = sm.secret.put("one")
    v2 = sm.secret.put({"k": "two"})
    arn = sm.secret.arn
    sm.restart()
    assert sm.secret.arn == arn
    assert sm.secret.get().json() == {"k": "two"}
    assert _stages(sm.secret) == {v2: ("AWSCURRENT",), v1: ("AWSPREVIOUS",)}


def test_old_unlabelled_versions_are_pruned_beyond_100(sm) -> None:
    first = sm.secret.put("v0")
    for i in range(1, 102):
        sm.secret.put(f"v{i}")
    versions = sm.secret.list_versions(include_deprecated=True)
    assert len(versions) == 100
    assert first not in {v.version_id for v in versions}
    assert sm.secret.get().value == "v101"


def test_declaration_and_password_options_are_validated() -> None:
    app = App("bad")
    with pytest.raises(ValidationError, match="every_days"):
        RotationSchedule(every_days=0)
    with pytest.raises(ValidationError, match="RotationSchedule"):
        app.secret("s", rotation=30)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="description"):
        app.secret("t", description="x" * 2049)
    pw = random_password(64, exclude_punctuation=True)
    assert len(pw) == 64 and pw.isalnum()
    assert not set(random_password(50, exclude_characters="abc")) & set("abc")
    with pytest.raises(ValidationError):
        random_password(0)
