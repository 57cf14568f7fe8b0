"""Template synthesis: a system's declarations → a SAM template and a build folder.

``synthesize(app, out)`` writes ``out/template.yaml`` (SAM), ``out/workflows/*.asl.json``
(state machine definitions) and ``out/build/code/`` (the function code: ``stratus`` and ``systems/<name>``) and
``out/build/layer/python/`` (the dependencies layer, unless ``layer=False``). Code and layer
are siblings so the layer is not zipped again into every function. ``template(app)`` returns
the template as a dict without touching the disk. Declarations AWS would refuse raise :class:`SynthError` naming them.

The shape is Chalice's packaging: typed resource models (the declared resources) are
dispatched to one generator per kind (``stratus.aws.synth.kinds``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratus.app import App
from stratus.aws.synth.build import copy_code, install_layer
from stratus.aws.synth.errors import SynthError
from stratus.aws.synth.synthesizer import DEPLOYMENTS, Synthesizer, SynthOptions

__all__ = ["DEPLOYMENTS", "SynthError", "SynthOptions", "SynthResult", "synthesize", "template"]


@dataclass
class SynthResult:
    template: dict[str, Any]
    template_path: Path
    build: Path
    files: dict[str, str]


def _synth(app: App, options: SynthOptions) -> Synthesizer:
    synth = Synthesizer(app, options)
    synth.run()
    return synth


def template(app: App, *, layer: bool = False, deployment: str | None = None) -> dict[str, Any]:
    """The SAM template of ``app`` as a dict (no files written)."""
    options = SynthOptions(layer_uri="build/layer" if layer else None, deployment=deployment)
    synth = Synthesizer(app, options)
    return synth.run()


def synthesize(
    app: App,
    out: Path | str,
    *,
    systems_root: Path | str,
    layer: bool = True,
    deployment: str | None = None,
) -> SynthResult:
    """Write the template, the workflow definitions and the build folder of ``app`` into ``out``."""
    out = Path(out)
    options = SynthOptions(layer_uri="build/layer" if layer else None, deployment=deployment)
    synth = Synthesizer(app, options)
    document = synth.run()  # validates everything before anything is written
    out.mkdir(parents=True, exist_ok=True)
    build = out / "build"
    copy_code(build / "code", app.name, Path(systems_root))
    if layer:
        install_layer(build / "layer")
    for relative, text in synth.files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    template_path = out / "template.yaml"
    template_path.write_text(dump(document), encoding="utf-8")
    return SynthResult(document, template_path, build, dict(synth.files))


def dump(document: dict[str, Any]) -> str:
    """The template as YAML (PyYAML when installed; otherwise JSON, which is valid YAML too)."""
    try:
        import yaml
    except ImportError:  # PyYAML comes with the dev tools, not with stratus itself
        return json.dumps(document, indent=2) + "\n"
    return str(yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=120))
