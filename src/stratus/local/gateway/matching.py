"""Choosing the route for a request, with HTTP APIs' precedence.

Static routes are looked up in a dict; the rest are tried in order of specificity (per
segment: literal over ``{param}`` over ``{proxy+}``), and for equal paths a method route
wins over ``ANY``. ``$default`` answers what nothing else matches.
"""

from __future__ import annotations

from stratus.resources.api import Route
from stratus.resources.api_paths import ANY, split_path


class RouteTable:
    """The compiled routes of one HTTP API."""

    def __init__(self, routes: list[Route]) -> None:
        self.static: dict[tuple[str, str], Route] = {}
        self.dynamic: list[Route] = []
        self.default: Route | None = None
        for route in routes:
            if route.template is None:
                self.default = route
            elif route.template.is_static:
                self.static[(route.method, route.path)] = route
            else:
                self.dynamic.append(route)

    def match(self, method: str, raw_path: str) -> tuple[Route, list[str]] | None:
        """The route for ``method raw_path`` and the raw path segments, or None."""
        route = self.static.get((method, raw_path)) or self.static.get((ANY, raw_path))
        parts = split_path(raw_path)
        if route is not None:
            return route, parts
        best: tuple[int, tuple[int, ...], int, Route] | None = None
        for candidate in self.dynamic:
            if candidate.method != method and candidate.method != ANY:
                continue
            assert candidate.template is not None
            score = candidate.template.match(parts)
            if score is None:
                continue
            greedy = 0 if score and score[-1] == 0 else 1  # greedy routes are tried last
            rank = (greedy, score, 1 if candidate.method == method else 0, candidate)
            if best is None or rank[:3] > best[:3]:
                best = rank
        if best is not None:
            return best[3], parts
        if self.default is not None:
            return self.default, parts
        return None

    def keys(self) -> list[str]:
        routes = [*self.static.values(), *self.dynamic]
        if self.default is not None:
            routes.append(self.default)
        return [r.key for r in routes]
