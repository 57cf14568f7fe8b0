"""The shape every declared resource shares: a name, an owning App, and a bound backend.

A resource is declared once in a system's ``app.py`` and used from handlers as a
module-level handle. Declaring does not touch any storage: a runtime (the local cloud,
the test harness, or the Lambda entrypoint on AWS) later *binds* a backend to it, and
every method of the handle delegates to that backend.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from stratus.errors import NotBound, ValidationError

if TYPE_CHECKING:
    from stratus.app import App

B = TypeVar("B")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def validate_name(kind: str, name: object, *, max_length: int = 64, pattern: re.Pattern[str] = _NAME) -> str:
    """Check a resource name against the rules shared by AWS services; return it."""
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{kind} name must be a non-empty string, got {name!r}")
    if len(name) > max_length:
        raise ValidationError(f"{kind} name {name!r} is longer than {max_length} characters")
    if not pattern.match(name):
        raise ValidationError(f"{kind} name {name!r} has invalid characters (allowed: letters, digits, '_', '-', '.')")
    return name


class _Declared(type):
    """Registers a resource with its App only once its constructor has fully succeeded.

    So a declaration that fails validation leaves nothing behind on the App.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        resource = super().__call__(*args, **kwargs)
        resource.app._register(resource)
        return resource


class Resource(Generic[B], metaclass=_Declared):
    """A declared resource of an :class:`~stratus.app.App`.

    Subclasses set ``kind`` (``"table"``, ``"bucket"``...) and take ``(app, name, *,
    settings...)`` in their constructor, calling ``super().__init__(app, name)`` first.
    """

    kind: ClassVar[str] = "resource"
    #: Longest name AWS accepts for this kind.
    max_name_length: ClassVar[int] = 64

    def __init__(self, app: App, name: str) -> None:
        self.app = app
        self.name = validate_name(self.kind, name, max_length=self.max_name_length)
        #: The name that is unique across every system: ``<app>-<resource>``.
        self.qualified_name = f"{app.name}-{name}"
        self._backend: B | None = None
        if (self.kind, name) in app._resources:
            raise ValidationError(f"app {app.name!r} already declares a {self.kind} named {name!r}")

    @property
    def backend(self) -> B:
        backend = self._backend
        if backend is None:
            raise NotBound(
                f"{self.kind} {self.name!r} of app {self.app.name!r} is not bound to an adapter; "
                "run the app with `stratus up` or stratus.testing.local(app)"
            )
        return backend

    @property
    def is_bound(self) -> bool:
        return self._backend is not None

    def bind(self, backend: B) -> None:
        """Attach the adapter that will serve this handle's calls."""
        self._backend = backend

    def unbind(self) -> None:
        self._backend = None

    def settings(self) -> dict[str, Any]:
        """The declared settings, for template synthesis and the console."""
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.qualified_name}>"
