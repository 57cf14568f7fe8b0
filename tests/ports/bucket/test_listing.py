"""ListObjectsV2: UTF-8 binary order, prefixes, delimiters, pagination."""

from __future__ import annotations

import pytest

from stratus.resources.bucket import Bucket, InvalidArgument

KEYS = [
    "photos/2024/jan/a.jpg",
    "photos/2024/jan/b.jpg",
    "photos/2024/feb/c.jpg",
    "photos/2025/d.jpg",
    "photos/index.html",
    "readme.md",
    "videos/x.mp4",
]


@pytest.fixture
def filled(bucket: Bucket) -> Bucket:
    for k in KEYS:
        bucket.put(k, k.encode())
    return bucket


def keys(listing) -> list[str]:
    return [o.key for o in listing.objects]


def test_lists_everything_in_order_with_sizes_and_etags(filled: Bucket) -> None:
    page = filled.list()
    assert keys(page) == sorted(KEYS)
    assert page.objects[0].size == len(sorted(KEYS)[0])
    assert page.objects[0].etag == filled.head(sorted(KEYS)[0]).etag
    assert page.is_truncated is False and page.next_continuation_token is None
    assert page.common_prefixes == []


def test_prefix(filled: Bucket) -> None:
    assert keys(filled.list("photos/2024/")) == [
        "photos/2024/feb/c.jpg",
        "photos/2024/jan/a.jpg",
        "photos/2024/jan/b.jpg",
    ]
    assert keys(filled.list("nothing")) == []


def test_delimiter_rolls_up_common_prefixes(filled: Bucket) -> None:
    top = filled.list(delimiter="/")
    assert keys(top) == ["readme.md"]
    assert top.common_prefixes == ["photos/", "videos/"]
    inner = filled.list("photos/", delimiter="/")
    assert keys(inner) == ["photos/index.html"]
    assert inner.common_prefixes == ["photos/2024/", "photos/2025/"]
    assert inner.key_count == 3


def test_multi_character_delimiter(bucket: Bucket) -> None:
    for k in ("a--b", "a--c", "a-d", "e"):
        bucket.put(k, b"")
    page = bucket.list(delimiter="--")
    assert page.common_prefixes == ["a--"]
    assert keys(page) == ["a-d", "e"]


def test_pagination_counts_prefixes_and_keys(filled: Bucket) -> None:
    seen_keys: list[str] = []
    seen_prefixes: list[str] = []
    token = None
    pages = 0
    while True:
        page = filled.list("photos/", delimiter="/", max_keys=1, continuation_token=token)
        pages += 1
        assert page.key_count == 1
        seen_keys += keys(page)
        seen_prefixes += page.common_prefixes
        if not page.is_truncated:
            assert page.next_continuation_token is None
            break
        token = page.next_continuation_token
    assert pages == 3
    assert seen_prefixes == ["photos/2024/", "photos/2025/"]
    assert seen_keys == ["photos/index.html"]


def test_pages_without_delimiter(filled: Bucket) -> None:
    first = filled.list(max_keys=3)
    assert keys(first) == sorted(KEYS)[:3] and first.is_truncated
    second = filled.list(max_keys=3, continuation_token=first.next_continuation_token)
    assert keys(second) == sorted(KEYS)[3:6] and second.is_truncated
    third = filled.list(max_keys=3, continuation_token=second.next_continuation_token)
    assert keys(third) == sorted(KEYS)[6:] and not third.is_truncated


def test_exact_page_boundary_is_not_truncated(bucket: Bucket) -> None:
    for k in ("a", "b"):
        bucket.put(k, b"")
    page = bucket.list(max_keys=2)
    assert keys(page) == ["a", "b"] and not page.is_truncated


def test_start_after(filled: Bucket) -> None:
    assert keys(filled.list(start_after="photos/index.html")) == ["readme.md", "videos/x.mp4"]
    assert keys(filled.list("photos/2024/", start_after="a")) == [
        "photos/2024/feb/c.jpg",
        "photos/2024/jan/a.jpg",
        "photos/2024/jan/b.jpg",
    ]


def test_iterate_walks_every_page(bucket: Bucket) -> None:
    for i in range(25):
        bucket.put(f"logs/{i:03}", b"")
    bucket.put("other", b"")
    assert [o.key for o in bucket.iterate("logs/", page_size=7)] == [f"logs/{i:03}" for i in range(25)]


def test_order_is_utf8_binary(bucket: Bucket) -> None:
    # Code point order == UTF-8 byte order; upper case before lower case; 'é' (U+00E9) after 'z'.
    names = ["z", "é", "Z", "a", "日", "\U0001f600", "a/b", "a-b", "\uffef"]
    for k in names:
        bucket.put(k, b"")
    assert keys(bucket.list()) == sorted(names, key=lambda s: s.encode("utf-8"))


def test_deleted_keys_are_not_listed(filled: Bucket) -> None:
    filled.delete("readme.md")
    assert "readme.md" not in keys(filled.list())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_keys": 1001}, "max_keys"),
        ({"max_keys": -1}, "max_keys"),
        ({"delimiter": ""}, "delimiter"),
        ({"continuation_token": "not-a-token!"}, "continuation token"),
    ],
)
def test_bad_listing_arguments(filled: Bucket, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        filled.list(**kwargs)
