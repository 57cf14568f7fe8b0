"""ListObjectsV2 against a model: every page sequence equals the sorted, rolled-up key list."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stratus import App
from stratus.testing import local

ALPHABET = ["a", "b", "/", "-", "é", "\U0001f600"]
keys_strategy = st.sets(st.text(alphabet=ALPHABET, min_size=1, max_size=5), max_size=25)
prefix_strategy = st.text(alphabet=ALPHABET, max_size=2)
delimiter_strategy = st.one_of(st.none(), st.sampled_from(["/", "-", "a/"]))


def model(keys: set[str], prefix: str, delimiter: str | None, start_after: str | None) -> list[tuple[str, bool]]:
    entries: list[tuple[str, bool]] = []
    for key in sorted(keys, key=lambda k: k.encode()):
        if not key.startswith(prefix) or (start_after is not None and key.encode() <= start_after.encode()):
            continue
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                common = key[: cut + len(delimiter)]
                if not entries or entries[-1] != (common, True):
                    entries.append((common, True))
                continue
        entries.append((key, False))
    return entries


def test_listing_matches_the_model() -> None:
    app = App("model")
    bucket = app.bucket("keys")
    with local(app):

        @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            keys=keys_strategy,
            prefix=prefix_strategy,
            delimiter=delimiter_strategy,
            page=st.integers(1, 4),
            start_after=st.one_of(st.none(), prefix_strategy),
        )
        def check(keys: set[str], prefix: str, delimiter: str | None, page: int, start_after: str | None) -> None:
            existing = [o.key for o in bucket.iterate()]
            if existing:
                bucket.delete_many(existing)
            for key in keys:
                bucket.put(key, b"")
            got: list[tuple[str, bool]] = []
            token = None
            first = True
            while True:
                listing = bucket.list(
                    prefix,
                    delimiter=delimiter,
                    max_keys=page,
                    continuation_token=token,
                    start_after=start_after if first else None,
                )
                first = False
                assert listing.key_count <= page
                # Within a page S3 reports keys and prefixes separately; merge them back in order.
                merged = [(o.key, False) for o in listing.objects] + [(p, True) for p in listing.common_prefixes]
                got += sorted(merged, key=lambda e: e[0].encode())
                if not listing.is_truncated:
                    break
                token = listing.next_continuation_token
            assert got == model(keys, prefix, delimiter, start_after or None)

        check()
