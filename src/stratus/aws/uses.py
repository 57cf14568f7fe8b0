"""Which declared resources a function uses, found by reading its code objects.

Least privilege needs, per function, the resources its handler touches. A handler uses
resources as module-level handles (``orders.put(...)``), so the names its bytecode loads
(``co_names``), its closure cells and the nested code objects (lambdas, comprehensions,
inner functions) tell us which. Module-level helper functions the handler calls are
followed, and so are attributes of system modules it references (``domain.save``), the
methods of the system's classes it names, and the attributes of module-level instances of
those classes (``repository = Repository(orders)``).
Alongside the resources we collect every attribute name loaded anywhere on the way, so
the policy can narrow a resource to the operations called (``get``/``query`` → read only).

No library does this: ``inspect.getclosurevars`` looks at one code object and neither
follows helpers nor nested code. What it cannot see — a handle passed in through an
object from a framework module, ``getattr`` with a computed name — is documented as a
limit; the function's ``uses`` setting (when the lead adds it) covers those cases.
"""

from __future__ import annotations

import sys
import sysconfig
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratus.resources.base import Resource

_LIBRARY_ROOTS = tuple(
    str(Path(p).resolve()) for p in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]}
)


class ForeignResource(Exception):
    """A handler references a resource declared on another App."""

    def __init__(self, resource: Resource[Any], where: str) -> None:
        super().__init__(f"{where} references {resource!r}, which belongs to app {resource.app.name!r}")
        self.resource = resource
        self.where = where


@dataclass
class Usage:
    """What a function's code reaches: resources (in first-seen order) and loaded attribute names."""

    resources: list[Resource[Any]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    def add(self, resource: Resource[Any]) -> None:
        if not any(r is resource for r in self.resources):
            self.resources.append(resource)


def _is_user_code(fn: types.FunctionType) -> bool:
    """Follow the system's own functions, not the framework's, the stdlib's or a library's."""
    module = fn.__globals__.get("__name__", "") or ""
    if module == "stratus" or module.startswith("stratus."):
        return False
    filename = fn.__code__.co_filename
    if filename.startswith("<"):
        return True
    return not str(Path(filename).resolve()).startswith(_LIBRARY_ROOTS)


def _is_user_class(cls: type) -> bool:
    """A class of the system's own code (its methods are followed like helper functions)."""
    module_name = getattr(cls, "__module__", "") or ""
    if module_name == "stratus" or module_name.startswith("stratus.") or module_name == "builtins":
        return False
    module = sys.modules.get(module_name)
    filename = getattr(module, "__file__", None)
    if filename is None:
        return module_name.startswith(("systems.", "__main__"))
    return not str(Path(filename).resolve()).startswith(_LIBRARY_ROOTS)


def _class_functions(cls: type) -> list[Any]:
    out: list[Any] = []
    for klass in cls.__mro__:
        if klass is object or not _is_user_class(klass):
            continue
        for member in vars(klass).values():
            if isinstance(member, staticmethod | classmethod):
                out.append(member.__func__)
            elif isinstance(member, property):
                out.extend(f for f in (member.fget, member.fset, member.fdel) if f is not None)
            elif isinstance(member, types.FunctionType):
                out.append(member)
    return out


def _unwrap(fn: Any) -> Any:
    seen = set()
    while hasattr(fn, "__wrapped__") and id(fn) not in seen:
        seen.add(id(fn))
        fn = fn.__wrapped__
    return fn


def _codes(code: types.CodeType) -> list[types.CodeType]:
    out = [code]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out.extend(_codes(const))
    return out


def _user_module(module: types.ModuleType, root_package: str) -> bool:
    name = getattr(module, "__name__", "")
    return bool(root_package) and (name == root_package or name.startswith(root_package + "."))


def find_usage(function: Any) -> Usage:
    """The resources ``function`` (a declared Function) uses, from its handler and ``init``.

    Raises :class:`ForeignResource` if the code references a resource of another App.
    """
    app = function.app
    where = f"function {function.name!r} of app {app.name!r}"
    handler = _unwrap(function.handler)
    root_package = (getattr(handler, "__module__", "") or "").rsplit(".", 1)[0]
    if root_package.startswith("systems."):
        root_package = ".".join(root_package.split(".")[:2])
    usage = Usage()
    seen: set[int] = set()
    seen_classes: set[int] = set()

    def consider(obj: Any, pending: list[Any]) -> None:
        if isinstance(obj, Resource):
            if obj.app is not app:
                raise ForeignResource(obj, where)
            if obj is not function:
                usage.add(obj)
        elif isinstance(obj, types.FunctionType | types.MethodType):
            pending.append(obj)
        elif isinstance(obj, list | tuple | set | frozenset | dict):
            # A collection of handles (``TABLES = [a, b]``): one level deep.
            for item in obj.values() if isinstance(obj, dict) else obj:
                if isinstance(item, Resource):
                    consider(item, pending)
        elif isinstance(obj, type):
            # A class of the system (``Repository(orders).save(...)``): its methods are code the handler runs.
            if id(obj) not in seen_classes and _is_user_class(obj):
                seen_classes.add(id(obj))
                pending.extend(_class_functions(obj))
        elif _is_user_class(type(obj)) and id(obj) not in seen_classes:
            # A module-level instance of a system class: its attributes may hold handles.
            seen_classes.add(id(obj))
            consider(type(obj), pending)
            for value in getattr(obj, "__dict__", {}).values():
                if isinstance(value, Resource | list | tuple | dict):
                    consider(value, pending)

    # Declared on the function (``uses=[...]``, when Function has the setting): what code reading misses.
    for declared in getattr(function, "uses", None) or ():
        consider(declared, [])
    pending: list[Any] = [handler]
    if function.init is not None:
        pending.append(function.init)
    while pending:
        fn = _unwrap(pending.pop())
        if isinstance(fn, types.MethodType):
            fn = fn.__func__
        if not isinstance(fn, types.FunctionType) or id(fn) in seen:
            continue
        seen.add(id(fn))
        if fn is not handler and not _is_user_code(fn):
            continue
        namespace = fn.__globals__
        builtins = namespace.get("__builtins__", {})
        for cell in fn.__closure__ or ():
            try:
                consider(cell.cell_contents, pending)
            except ValueError:  # an empty cell
                continue
        modules: list[types.ModuleType] = []
        names: set[str] = set()
        for code in _codes(fn.__code__):
            names.update(code.co_names)
        usage.names.update(names)
        for name in names:
            if name in namespace:
                value = namespace[name]
            elif isinstance(builtins, dict) and name in builtins:
                continue
            else:
                continue
            if isinstance(value, types.ModuleType):
                if _user_module(value, root_package) or value.__name__.startswith("systems."):
                    modules.append(value)
                continue
            consider(value, pending)
        for module in modules:
            for name in names:
                if name in vars(module):
                    consider(vars(module)[name], pending)
    return usage
