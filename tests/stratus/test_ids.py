"""Random ids: distinct, and version-4 UUIDs in their usual text form."""

from __future__ import annotations

import uuid

from stratus.ids import uuid4_text


def test_ids_are_distinct_uuid4s_in_canonical_text() -> None:
    ids = [uuid4_text() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
