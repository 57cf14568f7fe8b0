"""Document paths: ``a.b[0].c`` as a tuple of map keys and list indexes, and how to walk items by them.

A :class:`Path` is what every expression reads or writes. Its elements are ``str``
(a map key or top-level attribute name, used as written: no reserved-word check, no
placeholders) and ``int`` (a list index). Expression text goes through the parser
instead, which resolves ``#name`` placeholders into the same :class:`Path`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from stratus.errors import ValidationError

#: How many levels a document path may have.
MAX_PATH_DEPTH = 32


class _Missing:
    """The value of a path that leads nowhere (distinct from ``None``, which is DynamoDB's NULL)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

_ELEMENT = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def _parse(text: str) -> tuple[str | int, ...]:
    if not text:
        raise ValidationError("A document path must not be empty")
    elements: list[str | int] = []
    pos = 0
    while pos < len(text):
        match = _ELEMENT.match(text, pos)
        if (
            match is None
            or (pos == 0 and match.group(0).startswith("."))
            or (pos and match.group(2) and not match.group(0).startswith("."))
        ):
            raise ValidationError(f"Invalid document path {text!r} at position {pos}")
        index, name = match.groups()
        if index is not None:
            if not elements:
                raise ValidationError(f"Invalid document path {text!r}: it must start with an attribute name")
            elements.append(int(index))
        else:
            elements.append(name)
        pos = match.end()
    return tuple(elements)


class Path:
    """A document path: ``Path("a.b[0].c")`` or ``Path(["a", "b", 0, "c"])``.

    A string is split on ``.`` and ``[n]``; to name an attribute whose name contains a
    dot or a bracket, pass a sequence of elements.
    """

    __slots__ = ("elements",)

    def __init__(self, spec: str | Path | Sequence[str | int]) -> None:
        if isinstance(spec, Path):
            elements = spec.elements
        elif isinstance(spec, str):
            elements = _parse(spec)
        else:
            elements = tuple(spec)
            if not elements or not isinstance(elements[0], str):
                raise ValidationError(f"A document path must start with an attribute name, got {list(elements)!r}")
            for element in elements:
                if isinstance(element, bool) or not isinstance(element, (str, int)):
                    raise ValidationError(f"Document path elements are names or list indexes, got {element!r}")
                if isinstance(element, int) and element < 0:
                    raise ValidationError(f"List indexes in a document path must not be negative, got {element}")
                if isinstance(element, str) and not element:
                    raise ValidationError("Names in a document path must not be empty")
        if len(elements) > MAX_PATH_DEPTH:
            raise ValidationError(
                f"The document path has too many nesting levels; nesting levels: {len(elements)} "
                f"(at most {MAX_PATH_DEPTH})"
            )
        self.elements: tuple[str | int, ...] = elements

    @property
    def name(self) -> str:
        """The top-level attribute this path starts at."""
        first = self.elements[0]
        assert isinstance(first, str)
        return first

    def __iter__(self) -> Iterator[str | int]:
        return iter(self.elements)

    def __len__(self) -> int:
        return len(self.elements)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Path) and other.elements == self.elements

    def __hash__(self) -> int:
        return hash(self.elements)

    def __str__(self) -> str:
        out = []
        for element in self.elements:
            if isinstance(element, int):
                out.append(f"[{element}]")
            else:
                out.append(("." if out else "") + element)
        return "".join(out)

    def __repr__(self) -> str:
        return f"Path({str(self)!r})"

    def describe(self) -> str:
        """The path as DynamoDB prints it in messages: ``[a, b, [0]]``."""
        return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in self.elements) + "]"

    def child(self, element: str | int) -> Path:
        return Path((*self.elements, element))

    def get(self, item: Mapping[str, Any] | None) -> Any:
        """The value at this path in ``item``, or :data:`MISSING`."""
        current: Any = item
        if current is None:
            return MISSING
        for element in self.elements:
            if isinstance(element, int):
                if isinstance(current, list) and element < len(current):
                    current = current[element]
                else:
                    return MISSING
            elif (type(current) is dict or isinstance(current, Mapping)) and element in current:
                current = current[element]
            else:
                return MISSING
        return current


def overlap(a: Path, b: Path) -> str | None:
    """How two paths collide: ``"overlap"`` (one is a prefix of the other), ``"conflict"``, or None.

    Paths conflict when, at the first element where they differ, one indexes a list
    and the other names a map key: they cannot both be valid in one item.
    """
    for x, y in zip(a.elements, b.elements, strict=False):
        if x == y and type(x) is type(y):
            continue
        if isinstance(x, int) != isinstance(y, int):
            return "conflict"
        return None
    return "overlap"


def check_disjoint(paths: Iterable[Path], kind: str) -> None:
    """Refuse paths that overlap or conflict, with DynamoDB's message."""
    from stratus.resources.table.expressions.messages import invalid

    seen: list[Path] = []
    for path in paths:
        for other in seen:
            how = overlap(other, path)
            if how == "overlap":
                raise invalid(
                    kind,
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; "
                    f"path one: {other.describe()}, path two: {path.describe()}",
                )
            if how == "conflict":
                raise invalid(
                    kind,
                    "Two document paths conflict with each other; must remove or rewrite one of these paths; "
                    f"path one: {other.describe()}, path two: {path.describe()}",
                )
        seen.append(path)
