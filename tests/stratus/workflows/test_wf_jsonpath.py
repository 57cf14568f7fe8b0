"""JSONPath as Step Functions evaluates it (stratus.workflows.jsonpath)."""

from __future__ import annotations

import pytest

from stratus.workflows.jsonpath import JsonPathSyntaxError, PathNotFound, compile_path

DOC = {
    "a": {"b": [10, 20, 30], "c": None},
    "users": [{"name": "x", "age": 30}, {"name": "y", "age": 12}, {"name": "z"}],
    "key with space": 1,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$", DOC),
        ("$.a.b", [10, 20, 30]),
        ("$.a.b[1]", 20),
        ("$.a.b[-1]", 30),
        ("$['a']['c']", None),
        ("$['key with space']", 1),
        ("$.a.b.length()", 3),
    ],
)
def test_definite_paths_yield_one_value(text: str, expected: object) -> None:
    path = compile_path(text)
    assert path.definite
    assert path.get(DOC) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$.a.b[*]", [10, 20, 30]),
        ("$.a.b[0:2]", [10, 20]),
        ("$.a.b[1:]", [20, 30]),
        ("$.a.b[0,2]", [10, 30]),
        ("$.users[*].name", ["x", "y", "z"]),
        ("$.users[?(@.age > 18)].name", ["x"]),
        ("$.users[?(@.age)].name", ["x", "y"]),
        ("$.users[?(@.name == 'y' || @.age == 30)].name", ["x", "y"]),
        ("$.users[?(@.name != 'y' && @.age < 100)].name", ["x"]),
        ("$..age", [30, 12]),
        ("$.missing[*]", []),
    ],
)
def test_indefinite_paths_yield_a_list(text: str, expected: object) -> None:
    path = compile_path(text)
    assert not path.definite
    assert path.get(DOC) == expected


def test_missing_leaf_and_missing_parent_are_reported_as_jayway_does() -> None:
    with pytest.raises(PathNotFound, match=r"No results for path: \$\['a'\]\['zzz'\]"):
        compile_path("$.a.zzz").get(DOC)
    with pytest.raises(PathNotFound, match=r"Missing property in path \$\['no'\]"):
        compile_path("$.no.such.path").get(DOC)


def test_roots_context_and_variables() -> None:
    assert compile_path("$$.Execution.Id").root == "$$"
    var = compile_path("$myVar.field[0]")
    assert (var.root, var.variable) == ("var", "myVar")


def test_set_writes_into_a_copy_creating_objects() -> None:
    doc = {"x": 1}
    path = compile_path("$.result.inner")
    assert path.set(doc, 5) == {"x": 1, "result": {"inner": 5}}
    assert doc == {"x": 1}
    assert compile_path("$").set(doc, [1]) == [1]


@pytest.mark.parametrize("text", ["a.b", "$.a[", "$.a[?(@.x == )]", "$..", "$.a[1:2:3:4]"])
def test_bad_paths_are_syntax_errors(text: str) -> None:
    with pytest.raises(JsonPathSyntaxError):
        compile_path(text)
