"""Placeholders: how an expression built in Python is written out for the AWS API.

Rendering never splices user data into expression text: every attribute name becomes
``#n0``, ``#n1``... and every value ``:v0``, ``:v1``..., collected in :attr:`names`
and :attr:`values` for ``ExpressionAttributeNames`` / ``ExpressionAttributeValues``.
One :class:`Placeholders` can serve several expressions of one request (a key
condition, a filter and a projection share the two maps).
"""

from __future__ import annotations

from typing import Any


class Placeholders:
    """Hands out ``#n<i>`` for names (one per distinct name) and ``:v<i>`` for values."""

    def __init__(self, *, name_prefix: str = "#n", value_prefix: str = ":v") -> None:
        self._name_prefix = name_prefix
        self._value_prefix = value_prefix
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self._by_name: dict[str, str] = {}

    def name(self, name: str) -> str:
        """The placeholder standing for attribute name ``name``."""
        placeholder = self._by_name.get(name)
        if placeholder is None:
            placeholder = f"{self._name_prefix}{len(self._by_name)}"
            self._by_name[name] = placeholder
            self.names[placeholder] = name
        return placeholder

    def value(self, value: Any) -> str:
        """A new placeholder standing for ``value``."""
        placeholder = f"{self._value_prefix}{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def path(self, elements: Any) -> str:
        """A document path written with name placeholders: ``#n0.#n1[2]``."""
        out: list[str] = []
        for element in elements:
            if isinstance(element, int):
                out.append(f"[{element}]")
            else:
                out.append(("." if out else "") + self.name(element))
        return "".join(out)
