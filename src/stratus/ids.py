"""Random ids that name things but guard nothing: request ids, message ids, execution names.

From Python's PRNG rather than ``uuid.uuid4`` (a system call per id, slow on a busy machine), and
formatted by hand (building a ``uuid.UUID`` costs more than the rest). Anything that stands for a
capability (task tokens, API keys, sessions) uses ``secrets`` instead.
"""

from __future__ import annotations

import random

_random = random.Random()

#: The bits a version-4 UUID fixes: version 4 and the RFC 4122 variant (what ``uuid.UUID(version=4)`` sets).
_CLEAR = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_SET = (0x8000 << 48) | (4 << 76)


def uuid4_text() -> str:
    """A random version-4 UUID in its usual text form (``0f8a6f7e-3e7b-4d7e-8b64-3e6f2d2b7a11``)."""
    text = f"{_random.getrandbits(128) & _CLEAR | _SET:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
