"""Finding the systems: every ``systems/<name>/app.py`` that defines an ``app``.

The systems folder is ``./systems`` (or ``$STRATUS_SYSTEMS``); its parent is put on
``sys.path`` so each system imports as ``systems.<name>``, the same name it has when
packaged for AWS.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from stratus.app import App
from stratus.errors import ResourceNotFound, ValidationError


def systems_folder(path: Path | str | None = None) -> Path:
    folder = Path(path or os.environ.get("STRATUS_SYSTEMS", "systems")).resolve()
    if not folder.is_dir():
        raise ResourceNotFound(f"no systems folder at {folder} (set STRATUS_SYSTEMS or run from the project root)")
    return folder


def available(folder: Path | None = None) -> list[str]:
    """Names of the systems in the folder (sub-folders with an app.py), sorted."""
    root = folder or systems_folder()
    return sorted(p.parent.name for p in root.glob("*/app.py") if not p.parent.name.startswith(("_", ".")))


def load(name: str, folder: Path | None = None) -> App:
    """Import ``systems.<name>.app`` and return its ``app``."""
    root = folder or systems_folder()
    if name not in available(root):
        raise ResourceNotFound(f"no system named {name!r} in {root} (have: {', '.join(available(root)) or 'none'})")
    parent = str(root.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    module = importlib.import_module(f"{root.name}.{name}.app")
    app = getattr(module, "app", None)
    if not isinstance(app, App):
        raise ValidationError(f"{root / name / 'app.py'} must define `app = App(...)`")
    return app


def load_all(names: list[str] | None = None, folder: Path | None = None) -> list[App]:
    root = folder or systems_folder()
    return [load(n, root) for n in (names or available(root))]
