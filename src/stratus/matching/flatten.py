"""Flattening an event (or message body) into the leaf values at each dotted path, as AWS sees it.

AWS matches on leaves: strings, numbers, booleans and nulls, keyed by the dotted path of object keys
leading to them (a key that itself contains dots joins the same way, so ``{"a.b": 1}`` and
``{"a": {"b": 1}}`` both give ``a.b``). Arrays contribute each element at the array's own path (nested
arrays too); empty arrays and objects contribute nothing, which is why ``{"exists": true}`` is false for
``[]`` and for an object.

Only paths some rule names are walked, guided by a :class:`PathTrie`, so a large ``detail`` costs
nothing beyond the fields the rules read. :func:`flatten` is the fast form; it also says whether a leaf
sat inside an array, and then :func:`flatten_members` gives each value's array positions, which matching
uses so that several fields matched inside an array of objects come from the same element (AWS's rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Membership = tuple[tuple[int, int], ...]


class PathTrie:
    """The dotted paths rules read, as a tree of key segments (``path`` is set where a rule path ends)."""

    __slots__ = ("children", "path")

    def __init__(self, path: str = "") -> None:
        self.children: dict[str, PathTrie] = {}
        self.path = path

    @classmethod
    def of(cls, paths: Iterable[str]) -> PathTrie:
        root = cls()
        for path in paths:
            node = root
            parts = path.split(".")
            for i, part in enumerate(parts):
                child = node.children.get(part)
                if child is None:
                    child = node.children[part] = cls(".".join(parts[: i + 1]))
                node = child
        return root

    def step(self, key: str) -> PathTrie | None:
        """The node for event key ``key`` below this one (a dotted key walks several segments)."""
        node = self.children.get(key)
        if node is not None or "." not in key:
            return node
        current: PathTrie | None = self
        for part in key.split("."):
            current = current.children.get(part) if current is not None else None
        return current


def flatten(event: dict[str, Any], trie: PathTrie) -> tuple[dict[str, list[Any]], bool]:
    """Leaf values by path (rule paths only), and whether any of them came from inside an array."""
    out: dict[str, list[Any]] = {}
    in_array = False
    stack: list[tuple[dict[str, Any], PathTrie]] = [(event, trie)]
    while stack:
        obj, node = stack.pop()
        children = node.children
        for key, value in obj.items():
            child = children.get(key)
            if child is None:
                if "." not in key:
                    continue
                child = node.step(key)
                if child is None:
                    continue
            t = type(value)
            if t is dict:
                if child.children:
                    stack.append((value, child))
            elif t is list:
                if value:
                    in_array = True
                    _array(value, child, out, stack)
            else:
                got = out.get(child.path)
                if got is None:
                    out[child.path] = [value]
                else:
                    got.append(value)
    return out, in_array


def _array(
    items: list[Any], node: PathTrie, out: dict[str, list[Any]], stack: list[tuple[dict[str, Any], PathTrie]]
) -> None:
    for item in items:
        t = type(item)
        if t is dict:
            if node.children:
                stack.append((item, node))
        elif t is list:
            _array(item, node, out, stack)
        else:
            out.setdefault(node.path, []).append(item)


def flatten_members(event: dict[str, Any], trie: PathTrie) -> dict[str, list[tuple[Any, Membership]]]:
    """Leaf values by path with, for each, the (array, index) positions that lead to it."""
    out: dict[str, list[tuple[Any, Membership]]] = {}
    counter = [0]

    def walk(value: Any, node: PathTrie, members: Membership) -> None:
        t = type(value)
        if t is dict:
            for key, child_value in value.items():
                child = node.step(key)
                if child is not None:
                    walk(child_value, child, members)
        elif t is list:
            counter[0] += 1
            array_id = counter[0]
            for index, item in enumerate(value):
                walk(item, node, (*members, (array_id, index)))
        elif node is not trie:
            out.setdefault(node.path, []).append((value, members))

    walk(event, trie, ())
    return out
