"""Projections: the ProjectionExpression that picks attributes (and parts of documents) to return.

``Projection.of("a", "b.c", "d[1]")`` or ``parse_projection("a, #b.c, d[1]", names)``.
:meth:`Projection.apply` keeps the structure: projecting ``b.c`` returns ``{"b": {"c": ...}}``,
projecting ``d[1]`` and ``d[3]`` returns ``{"d": [d1, d3]}`` (the selected elements, in
index order), and paths that lead nowhere are left out.

Parsing (a comma-separated list of paths) reuses the shared hand-written tokenizer and
path grammar, and is cached by ``(text, names)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from stratus.resources.table.expressions.parser import Parser, check_names, check_text, check_unused
from stratus.resources.table.expressions.paths import MISSING, Path, check_disjoint
from stratus.resources.table.expressions.placeholders import Placeholders

KIND = "ProjectionExpression"

# A trie of path elements; None marks the end of a path (take the whole value).
_Trie = dict[str | int, "_Trie | None"]


def _project(value: Any, trie: _Trie) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for element, sub in trie.items():
            if isinstance(element, str) and element in value:
                picked = value[element] if sub is None else _project(value[element], sub)
                if picked is not MISSING:
                    out[element] = picked
        return out if out else MISSING
    if isinstance(value, list):
        picked_list = []
        for element in sorted(e for e in trie if isinstance(e, int)):
            if element < len(value):
                sub = trie[element]
                picked = value[element] if sub is None else _project(value[element], sub)
                if picked is not MISSING:
                    picked_list.append(picked)
        return picked_list if picked_list else MISSING
    return MISSING


class Projection:
    """The attributes (document paths) to return from a read."""

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        names_used: frozenset[str] = frozenset(),
        kind: str = KIND,
    ) -> None:
        self.paths: tuple[Path, ...] = tuple(paths)
        check_disjoint(self.paths, kind)
        self.names_used = names_used
        self.values_used: frozenset[str] = frozenset()
        trie: _Trie = {}
        for path in self.paths:
            node = trie
            for element in path.elements[:-1]:
                child = node.setdefault(element, {})
                assert child is not None
                node = child
            node[path.elements[-1]] = None
        self._trie = trie

    @classmethod
    def of(cls, *paths: str | Path | Sequence[str | int]) -> Projection:
        """A projection of the given paths (``"a.b[0]"`` strings, :class:`Path` or element sequences)."""
        return cls([Path(p) for p in paths])

    def top_level_names(self) -> set[str]:
        return {p.name for p in self.paths}

    def apply(self, item: Mapping[str, Any] | None) -> dict[str, Any]:
        """The projected copy of ``item`` (an empty dict when nothing matches)."""
        if not item:
            return {}
        result = _project(item, self._trie)
        return {} if result is MISSING else result

    def render(self, ph: Placeholders) -> str:
        return ", ".join(ph.path(p.elements) for p in self.paths)

    def __repr__(self) -> str:
        return f"Projection.of({', '.join(repr(str(p)) for p in self.paths)})"


class ProjectionParser(Parser):
    def projection(self) -> list[Path]:
        paths = [self.path()]
        while self.is_punct(","):
            self.advance()
            paths.append(self.path())
        self.expect_end()
        return paths


@lru_cache(maxsize=2048)
def _parse(text: str, names: tuple[tuple[str, str], ...]) -> Projection:
    parser = ProjectionParser(text, KIND, dict(names))
    paths = parser.projection()
    return Projection(paths, names_used=frozenset(parser.names_used))


def parse_projection(
    text: str,
    names: Mapping[str, str] | None = None,
    *,
    check_unused_keys: bool = True,
) -> Projection:
    """Parse a ProjectionExpression (see ``parse_condition`` for ``check_unused_keys``)."""
    check_text(text, KIND)
    checked_names = check_names(names)
    result = _parse(text, tuple(sorted(checked_names.items())))
    if check_unused_keys:
        check_unused(checked_names, None, result)
    return result
