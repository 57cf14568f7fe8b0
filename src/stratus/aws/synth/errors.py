"""SynthError: a declaration AWS would refuse, found before anything is deployed."""

from __future__ import annotations

from stratus.errors import ValidationError


class SynthError(ValidationError):
    """A declaration cannot be synthesized; the message names the declaration and what is wrong."""

    code = "SynthError"
