"""Document paths and placeholders."""

from __future__ import annotations

import pytest

from stratus.errors import ValidationError
from stratus.resources.table.expressions import MISSING, Path, Placeholders
from stratus.resources.table.expressions.paths import overlap


def test_parse_and_print() -> None:
    path = Path("a.b[0].c[12][3]")
    assert path.elements == ("a", "b", 0, "c", 12, 3)
    assert str(path) == "a.b[0].c[12][3]"
    assert path.name == "a"
    assert path.describe() == "[a, b, [0], c, [12], [3]]"
    assert Path(["a.b", 0]).elements == ("a.b", 0)
    assert Path(path) == path and hash(Path("a.b")) == hash(Path(["a", "b"]))
    assert path.child("x").elements[-1] == "x"


@pytest.mark.parametrize("bad", ["", "[0]", "a..b", ".a", "a[x]", "a[-1]", "a]", "a[0"])
def test_bad_path_text(bad: str) -> None:
    with pytest.raises(ValidationError):
        Path(bad)


@pytest.mark.parametrize("bad", [[], [0], ["a", -1], ["a", ""], ["a", True], ["a", 1.5]])
def test_bad_path_elements(bad: list) -> None:
    with pytest.raises(ValidationError):
        Path(bad)


def test_depth_limit() -> None:
    Path(["a"] * 32)
    with pytest.raises(ValidationError, match=r"too many nesting levels; nesting levels: 33"):
        Path(["a"] * 33)


def test_get() -> None:
    item = {"a": {"b": [10, {"c": "x"}]}, "n": None}
    assert Path("a.b[1].c").get(item) == "x"
    assert Path("a.b[0]").get(item) == 10
    assert Path("n").get(item) is None  # NULL is a value, not an absence
    assert Path("a.b[2]").get(item) is MISSING
    assert Path("a.c").get(item) is MISSING
    assert Path("a[0]").get(item) is MISSING  # a map is not a list
    assert Path("a.b.c").get(item) is MISSING  # a list is not a map
    assert Path("z").get(None) is MISSING
    assert not MISSING and repr(MISSING) == "MISSING"


def test_overlap() -> None:
    assert overlap(Path("a"), Path("a.b")) == "overlap"
    assert overlap(Path("a.b"), Path("a.b")) == "overlap"
    assert overlap(Path("a[0]"), Path("a.b")) == "conflict"
    assert overlap(Path("a.b"), Path("a.c")) is None
    assert overlap(Path("a[0]"), Path("a[1]")) is None


def test_placeholders_reuse_names_not_values() -> None:
    ph = Placeholders()
    assert ph.name("a") == "#n0"
    assert ph.name("b") == "#n1"
    assert ph.name("a") == "#n0"
    assert ph.value(1) == ":v0"
    assert ph.value(1) == ":v1"
    assert ph.path(("a", 3, "weird name")) == "#n0[3].#n2"
    assert ph.names == {"#n0": "a", "#n1": "b", "#n2": "weird name"}
    assert ph.values == {":v0": 1, ":v1": 1}
