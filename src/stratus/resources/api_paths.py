"""Route keys of HTTP APIs: ``METHOD /path/{param}/{proxy+}``, ``ANY /path`` and ``$default``.

Parsed once at declaration (bad templates fail there, naming the route) into segments the
gateway matches with API Gateway's precedence: a static segment beats a ``{param}``, which
beats a greedy ``{proxy+}``; a method route beats ``ANY``; ``$default`` comes last.
Hand-written because the precedence and the template grammar are API Gateway's own and
no routing library orders matches this way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from stratus.errors import ValidationError
from stratus.resources.api_settings import HTTP_METHODS

DEFAULT_ROUTE = "$default"
ANY = "ANY"
_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$")
_STATIC = re.compile(r"^[A-Za-z0-9._~!$&'()*,;=:@%-]+$")

STATIC, PARAM, GREEDY = 2, 1, 0


class BadPath(ValidationError):
    """A request path the gateway refuses (bad percent-encoding, traversal): a 400."""


@dataclass(frozen=True)
class Segment:
    kind: int  # STATIC, PARAM or GREEDY
    value: str  # the literal, or the parameter name


@dataclass(frozen=True)
class PathTemplate:
    """A parsed route path."""

    text: str
    segments: tuple[Segment, ...]

    @property
    def params(self) -> list[str]:
        return [s.value for s in self.segments if s.kind != STATIC]

    @property
    def is_static(self) -> bool:
        return all(s.kind == STATIC for s in self.segments)

    def match(self, parts: list[str]) -> tuple[int, ...] | None:
        """The specificity of matching the raw path ``parts``, or None when it does not match."""
        segments = self.segments
        if len(parts) < len(segments) or (len(parts) > len(segments) and (not segments or segments[-1].kind != GREEDY)):
            return None
        score: list[int] = []
        for i, segment in enumerate(segments):
            if segment.kind == STATIC:
                if parts[i] != segment.value:
                    return None
            elif (segment.kind == PARAM and parts[i] == "") or (segment.kind == GREEDY and not any(parts[i:])):
                return None  # a parameter never matches an empty segment
            score.append(segment.kind)
        return tuple(score)

    def bind(self, parts: list[str]) -> dict[str, str]:
        """The path parameters of matching raw ``parts`` (percent-decoded, checked)."""
        params: dict[str, str] = {}
        for i, segment in enumerate(self.segments):
            if segment.kind == PARAM:
                params[segment.value] = decode_segment(parts[i], allow_slash=False)
            elif segment.kind == GREEDY:
                params[segment.value] = "/".join(decode_segment(p, allow_slash=False) for p in parts[i:])
        return params


def decode_segment(raw: str, *, allow_slash: bool) -> str:
    """Percent-decode one path segment; BadPath for bad escapes, NUL, encoded '/' or dot segments."""
    if "%" in raw:
        try:
            value = unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise BadPath("path segment is not valid UTF-8 after percent-decoding") from None
        if re.search(r"%(?![0-9A-Fa-f]{2})", raw):
            raise BadPath("path has a malformed percent-encoding")
    else:
        value = raw
    if value in (".", "..") or "\x00" in value or (not allow_slash and ("/" in value or "\\" in value)):
        raise BadPath("path contains a traversal or forbidden character")
    return value


def parse_path(route: str, path: str) -> PathTemplate:
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValidationError(f"route {route!r}: path must start with '/'")
    if len(path) > 8192:
        raise ValidationError(f"route {route!r}: path is too long")
    if path == "/":
        return PathTemplate(path, ())
    if path.endswith("/") or "//" in path:
        raise ValidationError(f"route {route!r}: path has an empty segment")
    segments: list[Segment] = []
    names: set[str] = set()
    parts = path[1:].split("/")
    for i, part in enumerate(parts):
        m = _PARAM.match(part)
        if m:
            name, greedy = m.group(1), bool(m.group(2))
            if name in names:
                raise ValidationError(f"route {route!r}: path parameter {name!r} appears twice")
            names.add(name)
            if greedy and i != len(parts) - 1:
                raise ValidationError(f"route {route!r}: greedy parameter {{{name}+}} must be the last segment")
            segments.append(Segment(GREEDY if greedy else PARAM, name))
        elif "{" in part or "}" in part:
            raise ValidationError(f"route {route!r}: segment {part!r} must be a literal or a whole {{param}}")
        elif part in (".", "..") or not _STATIC.match(part):
            raise ValidationError(f"route {route!r}: segment {part!r} has characters not allowed in a path")
        else:
            segments.append(Segment(STATIC, part))
    return PathTemplate(path, tuple(segments))


def parse_route_key(method: str, path: str) -> tuple[str, PathTemplate | None]:
    """Validate ``method`` and ``path``; returns the canonical method and the template (None for $default)."""
    if path == DEFAULT_ROUTE:
        return ANY, None
    if not isinstance(method, str):
        raise ValidationError(f"route method must be a string, got {method!r}")
    upper = method.upper()
    if upper != ANY and upper not in HTTP_METHODS:
        raise ValidationError(f"route {method} {path}: method must be one of {', '.join(HTTP_METHODS)} or ANY")
    return upper, parse_path(f"{upper} {path}", path)


def split_path(raw: str) -> list[str]:
    """The raw (still percent-encoded) segments of a request path."""
    if raw == "/" or raw == "":
        return []
    return raw[1:].split("/")
