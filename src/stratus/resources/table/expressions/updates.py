"""Update expressions: SET, REMOVE, ADD and DELETE, built with ``Update()`` or parsed.

:meth:`Update.apply` computes the new item without touching the old one. As on
DynamoDB, every operand is read from the item as it was before the update; SET on a
list index past the end appends; REMOVE of something absent does nothing; ADD works on
numbers (adding to an absent attribute starts from zero) and sets (union); DELETE
removes elements from a set and drops the attribute when the set becomes empty.
Runtime errors carry DynamoDB's messages; paths that overlap or conflict are refused
when the expression is built or parsed.

The parser is hand-written on the shared tokenizer (see
:mod:`~stratus.resources.table.expressions.parser` for why); its parse is cached by
``(text, names)`` and values are bound per call.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from stratus.errors import ValidationError
from stratus.resources.table.expressions.condition_parser import CONDITION_FUNCTIONS, OPERAND_FUNCTIONS
from stratus.resources.table.expressions.messages import (
    INVALID_PATH,
    TYPE_WORDS,
    WRONG_TYPE,
    invalid,
)
from stratus.resources.table.expressions.operands import (
    Arithmetic,
    IfNotExists,
    ListAppend,
    Literal,
    Operand,
    PathOperand,
    Values,
    as_path_operand,
    to_operand,
)
from stratus.resources.table.expressions.parser import (
    Parser,
    bind_values,
    check_names,
    check_text,
    check_unused,
)
from stratus.resources.table.expressions.paths import MISSING, Path, check_disjoint
from stratus.resources.table.expressions.placeholders import Placeholders
from stratus.resources.table.values import add_numbers, type_of

KIND = "UpdateExpression"
SECTIONS = ("SET", "REMOVE", "ADD", "DELETE")
_EMPTY: Mapping[str, Any] = {}

PathLike = str | Path | Sequence[str | int] | PathOperand


@dataclass(frozen=True)
class Action:
    """One action of an update: ``section`` is SET, REMOVE, ADD or DELETE; REMOVE has no operand."""

    section: str
    path: Path
    operand: Operand | None = None

    def render(self, ph: Placeholders, values: Values) -> str:
        target = ph.path(self.path.elements)
        if self.operand is None:
            return target
        operand = self.operand.render(ph, values)
        return f"{target} = {operand}" if self.section == "SET" else f"{target} {operand}"

    def refs(self) -> Iterator[str]:
        if self.operand is not None:
            yield from self.operand.refs()

    def check(self, values: Values, kind: str) -> None:
        if self.operand is None:
            return
        self.operand.check(values, kind)
        if self.section in ("ADD", "DELETE"):
            known = self.operand.static_type(values)
            allowed = ("N", "SS", "NS", "BS") if self.section == "ADD" else ("SS", "NS", "BS")
            if known is not None and known not in allowed:
                raise invalid(
                    kind,
                    "Incorrect operand type for operator or function; "
                    f"operator: {self.section}, operand type: {TYPE_WORDS[known]}",
                )


#: Immutable attribute values: copying an item copies everything else.
_IMMUTABLE = frozenset({str, Decimal, bytes, bool, int, type(None)})


def _copy(value: Any) -> Any:
    if type(value) in _IMMUTABLE:
        return value
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, set):
        return set(value)
    return value


def _parent(item: dict[str, Any], path: Path) -> Any:
    """The container holding the last element of ``path``; raises when the path cannot be written."""
    parent: Any = item
    for element in path.elements[:-1]:
        if isinstance(element, int):
            if not isinstance(parent, list) or element >= len(parent):
                raise ValidationError(INVALID_PATH)
        elif not isinstance(parent, dict) or element not in parent:
            raise ValidationError(INVALID_PATH)
        parent = parent[element]
    last = path.elements[-1]
    if isinstance(last, int) != isinstance(parent, list) or not isinstance(parent, (list, dict)):
        raise ValidationError(INVALID_PATH)
    return parent


def _assign(item: dict[str, Any], path: Path, value: Any) -> None:
    parent = _parent(item, path)
    last = path.elements[-1]
    if isinstance(last, int):
        if last < len(parent):
            parent[last] = value
        else:
            parent.append(value)
    else:
        parent[last] = value


def _remove(item: dict[str, Any], path: Path) -> None:
    parent = _parent(item, path)
    last = path.elements[-1]
    if isinstance(last, int):
        if last < len(parent):
            del parent[last]
    else:
        parent.pop(last, None)


class Update:
    """An update expression: ``Update().set("a", 1).remove("b").add("n", 1).delete("tags", {"x"})``.

    Each builder method returns a new :class:`Update`; the one it was called on is unchanged.
    """

    def __init__(
        self,
        actions: Sequence[Action] = (),
        values: Values = _EMPTY,
        *,
        names_used: frozenset[str] = frozenset(),
        values_used: frozenset[str] = frozenset(),
        kind: str = KIND,
    ) -> None:
        self.actions: tuple[Action, ...] = tuple(actions)
        self.values = values
        self.names_used = names_used
        self.values_used = values_used
        check_disjoint((a.path for a in self.actions), kind)

    # -- builder -------------------------------------------------------------------------------

    def _with(self, action: Action) -> Update:
        if self.values:
            raise ValidationError("A parsed update expression cannot be extended; build it with Update() instead")
        action.check(_EMPTY, KIND)
        return Update((*self.actions, action))

    def set(self, path: PathLike, value: Any) -> Update:
        """``SET path = value``; ``value`` is a plain value or an operand (``Attr("n") + 1``, ``if_not_exists``)."""
        target = as_path_operand(path).path
        return self._with(Action("SET", target, to_operand(value, path=str(target))))

    def remove(self, path: PathLike) -> Update:
        """``REMOVE path``."""
        return self._with(Action("REMOVE", as_path_operand(path).path))

    def add(self, path: PathLike, value: Any) -> Update:
        """``ADD path value``: add to a number, or add elements to a set."""
        return self._with(Action("ADD", as_path_operand(path).path, Literal(_literal(value, path))))

    def delete(self, path: PathLike, value: Any) -> Update:
        """``DELETE path value``: remove elements from a set."""
        return self._with(Action("DELETE", as_path_operand(path).path, Literal(_literal(value, path))))

    # -- introspection -------------------------------------------------------------------------

    def paths(self) -> list[Path]:
        """Every path the update writes (SET, REMOVE, ADD and DELETE targets)."""
        return [a.path for a in self.actions]

    def top_level_names(self) -> builtins.set[str]:
        """The top-level attributes the update writes."""
        return {a.path.name for a in self.actions}

    # -- evaluation ----------------------------------------------------------------------------

    def apply(self, item: Mapping[str, Any] | None, key: Mapping[str, Any]) -> dict[str, Any]:
        """The item after the update; ``item=None`` updates a new item made of ``key``.

        The input is not modified. Raises :class:`~stratus.errors.ValidationError` with
        DynamoDB's runtime messages when an operand is missing or of the wrong type.
        """
        before: Mapping[str, Any] = dict(key) if item is None else item
        values = self.values
        after: dict[str, Any] = {name: _copy(value) for name, value in before.items()}
        actions = self.actions
        sets = [(a, a.operand.update_value(before, values)) for a in actions if a.section == "SET" and a.operand]
        for action, value in sets:
            elements = action.path.elements
            if len(elements) == 1:  # a top-level attribute: always writable
                after[elements[0]] = _copy(value)  # type: ignore[index]
            else:
                _assign(after, action.path, _copy(value))
        if len(sets) == len(actions):
            return after
        removes = [a.path for a in actions if a.section == "REMOVE"]
        # Indexes refer to the list as it was: remove from the end so earlier ones stay valid.
        for path in sorted(removes, key=lambda p: p.elements, reverse=True):
            _remove(after, path)
        # Sections apply in a fixed order (SET, REMOVE, ADD, DELETE) whatever order they were written in.
        for action in actions:
            if action.section == "ADD":
                assert action.operand is not None
                self._add(after, action.path, action.operand.update_value(before, values))
        for action in actions:
            if action.section == "DELETE":
                assert action.operand is not None
                self._delete(after, action.path, action.operand.update_value(before, values))
        return after

    @staticmethod
    def _add(item: dict[str, Any], path: Path, value: Any) -> None:
        current = path.get(item)
        kind = type_of(value)
        if current is MISSING:
            _assign(item, path, _copy(value))
            return
        if kind != type_of(current):
            raise ValidationError(WRONG_TYPE)
        if kind == "N":
            _assign(item, path, add_numbers(current, value))
        elif kind in ("SS", "NS", "BS"):
            _assign(item, path, current | value)
        else:
            raise ValidationError(WRONG_TYPE)

    @staticmethod
    def _delete(item: dict[str, Any], path: Path, value: Any) -> None:
        current = path.get(item)
        if current is MISSING:
            return
        kind = type_of(value)
        if kind not in ("SS", "NS", "BS") or kind != type_of(current):
            raise ValidationError(WRONG_TYPE)
        remaining = current - value
        if remaining:
            _assign(item, path, remaining)
        else:
            _remove(item, path)

    # -- rendering -----------------------------------------------------------------------------

    def render(self, ph: Placeholders) -> str:
        """The update as expression text, with every name and value in ``ph``."""
        parts = []
        for section in SECTIONS:
            actions = [a for a in self.actions if a.section == section]
            if actions:
                parts.append(f"{section} " + ", ".join(a.render(ph, self.values) for a in actions))
        return " ".join(parts)

    def __bool__(self) -> bool:
        return bool(self.actions)

    def __repr__(self) -> str:
        ph = Placeholders()
        return f"<Update {self.render(ph)!r} names={ph.names!r} values={ph.values!r}>"


def _literal(value: Any, path: PathLike) -> Any:
    operand = to_operand(value, path=str(as_path_operand(path).path))
    if not isinstance(operand, Literal):
        raise ValidationError("ADD and DELETE take a value, not an operand")
    return operand.literal


def if_not_exists(path: PathLike, default: Any) -> Operand:
    """``if_not_exists(path, default)``: the value at ``path``, or ``default`` when it is absent."""
    return IfNotExists(as_path_operand(path), to_operand(default))


def list_append(first: Any, second: Any) -> Operand:
    """``list_append(a, b)``: lists ``a`` then ``b`` (each a list value or an operand such as ``Attr``)."""
    node = ListAppend(to_operand(first), to_operand(second))
    node.check(_EMPTY, KIND)
    return node


def updated_attributes(
    old: Mapping[str, Any] | None, new: Mapping[str, Any], update: Update
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(UPDATED_OLD, UPDATED_NEW)``: the paths the update wrote, as they were and as they are."""
    from stratus.resources.table.expressions.projections import Projection

    projection = Projection.of(*update.paths())
    return projection.apply(old or {}), projection.apply(new)


# -- parsing -------------------------------------------------------------------------------------


class UpdateParser(Parser):
    def update(self) -> list[Action]:
        actions: list[Action] = []
        seen: set[str] = set()
        while True:
            token = self.peek()
            word = token.text.upper() if token.kind == "name" else ""
            if word not in SECTIONS:
                raise self.error()
            if word in seen:
                raise invalid(self.kind, f'The "{word}" section can only be used once in an update expression;')
            seen.add(word)
            self.advance()
            actions.append(self.action(word))
            while self.is_punct(","):
                self.advance()
                actions.append(self.action(word))
            if self.peek().kind == "eof":
                return actions

    def action(self, section: str) -> Action:
        path = self.path()
        if section == "REMOVE":
            return Action(section, path)
        if section == "SET":
            token = self.peek()
            if token.kind != "op" or token.text != "=":
                raise self.error()
            self.advance()
            return Action(section, path, self.set_value())
        if self.peek().kind != "valuevar":
            raise self.error()
        return Action(section, path, self.value_ref())

    def set_value(self) -> Operand:
        left = self.operand()
        if self.is_punct("+") or self.is_punct("-"):
            op = self.advance().text
            return Arithmetic(op, left, self.operand())
        return left

    def operand(self) -> Operand:
        token = self.peek()
        if self.is_call():
            name = token.text
            if name == "if_not_exists":
                self.advance()
                self.expect_punct("(")
                target = self.operand()
                self.expect_punct(",")
                default = self.operand()
                self.expect_punct(")")
                if not isinstance(target, PathOperand):
                    raise invalid(
                        self.kind, "Operator or function requires a document path; operator or function: if_not_exists"
                    )
                return IfNotExists(target, default)
            if name == "list_append":
                self.advance()
                self.expect_punct("(")
                first = self.operand()
                self.expect_punct(",")
                second = self.operand()
                self.expect_punct(")")
                return ListAppend(first, second)
            if name in CONDITION_FUNCTIONS or name in OPERAND_FUNCTIONS:
                raise invalid(self.kind, f"The function is not allowed in an update expression; function: {name}")
            raise invalid(self.kind, f"Invalid function name; function: {name}")
        if token.kind == "valuevar":
            return self.value_ref()
        return self.path_operand()


@lru_cache(maxsize=2048)
def _parse(text: str, names: tuple[tuple[str, str], ...]) -> tuple[tuple[Action, ...], frozenset[str], tuple[str, ...]]:
    parser = UpdateParser(text, KIND, dict(names))
    actions = parser.update()
    check_disjoint((a.path for a in actions), KIND)
    return tuple(actions), frozenset(parser.names_used), tuple(parser.values_used)


def parse_update(
    text: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    *,
    check_unused_keys: bool = True,
) -> Update:
    """Parse an UpdateExpression and bind its values (see ``parse_condition`` for ``check_unused_keys``)."""
    check_text(text, KIND)
    checked_names = check_names(names)
    actions, names_used, values_used = _parse(text, tuple(sorted(checked_names.items())))
    bound = bind_values(KIND, values_used, values)
    for action in actions:
        action.check(bound, KIND)
    result = Update.__new__(Update)
    result.actions = actions
    result.values = bound
    result.names_used = names_used
    result.values_used = frozenset(values_used)
    if check_unused_keys:
        check_unused(checked_names, bound, result)
    return result
