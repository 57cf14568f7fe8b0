"""Catalog, images, search and the read-through cache, end to end."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.systems.ecommerce.conftest import Shop, jpeg


def test_admins_write_the_catalog_and_everyone_reads_it(shop: Shop) -> None:
    customer = shop.sign_up()
    body = {"name": "Lamp", "category": "home", "price": 4999, "stock": 2}
    assert shop.call("POST", "/products", json=body).status_code == 401
    assert shop.call("POST", "/products", customer, json=body).status_code == 403
    lamp = shop.product(**body)
    assert shop.call("GET", f"/products/{lamp['id']}").json()["name"] == "Lamp"
    changed = shop.call("PATCH", f"/products/{lamp['id']}", shop.admin_token, json={"price": 3999})
    assert changed.status_code == 200 and changed.json()["price"] == 3999
    assert shop.call("GET", f"/products/{lamp['id']}").json()["price"] == 3999  # the cache was invalidated
    assert shop.call("DELETE", f"/products/{lamp['id']}", shop.admin_token).status_code == 204
    assert shop.call("GET", f"/products/{lamp['id']}").status_code == 404
    assert shop.call("DELETE", f"/products/{lamp['id']}", shop.admin_token).status_code == 404
    assert shop.call("PATCH", f"/products/{'a' * 32}", shop.admin_token, json={"price": 1}).status_code == 404


def test_listing_pages_with_a_cursor_and_filters_by_category(shop: Shop) -> None:
    made = {shop.product(name=f"Cup {i}", category="cups")["id"] for i in range(5)}
    shop.product(name="Chair", category="chairs")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"category": "cups", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = shop.call("GET", "/products", params=params).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(made)
    assert shop.call("GET", "/products", params={"cursor": "garbage"}).status_code == 400
    shop.settle()
    categories = {c["category"]: c["products"] for c in shop.call("GET", "/categories").json()["items"]}
    assert categories == {"cups": 5, "chairs": 1}


def test_search_follows_product_changes(shop: Shop) -> None:
    kettle = shop.product(name="Steel kettle", category="kitchen", price=3500, stock=0)
    shop.product(name="Copper kettle", category="kitchen", price=9000, stock=3)
    shop.product(name="Garden hose", category="garden", price=2000, stock=3)
    shop.settle()
    found = shop.call("GET", "/search", params={"q": "kettle"}).json()
    assert found["total"] == 2 and found["facets"]["category"] == {"kitchen": 2}
    in_stock = shop.call("GET", "/search", params={"q": "kettle", "in_stock": "true"}).json()
    assert [i["name"] for i in in_stock["items"]] == ["Copper kettle"]
    cheap = shop.call("GET", "/search", params={"max_price": 4000, "sort": "price"}).json()
    assert [i["name"] for i in cheap["items"]] == ["Garden hose", "Steel kettle"]
    shop.call("PATCH", f"/products/{kettle['id']}", shop.admin_token, json={"name": "Steel teapot"})
    shop.call("PUT", f"/products/{kettle['id']}/stock", shop.admin_token, json={"stock": 4})
    shop.settle()
    assert shop.call("GET", "/search", params={"q": "teapot"}).json()["items"][0]["in_stock"] is True
    assert shop.call("GET", "/search", params={"q": "kettle"}).json()["total"] == 1
    shop.call("DELETE", f"/products/{kettle['id']}", shop.admin_token)
    shop.settle()
    assert shop.call("GET", "/search", params={"q": "teapot"}).json()["total"] == 0
    bad = shop.call("GET", "/search", params={"size": 500, "sort": "cheapest"})
    assert bad.status_code == 400 and {e["loc"][0] for e in bad.json()["errors"]} == {"size", "sort"}
    assert shop.call("GET", "/search", params={"min_price": 10, "max_price": 5}).status_code == 400


def test_images_are_resized_and_served_with_caching_headers(shop: Shop) -> None:
    mug = shop.product()
    ticket = shop.call(
        "POST", f"/products/{mug['id']}/images", shop.admin_token, json={"content_type": "image/jpeg", "size": 200_000}
    )
    assert ticket.status_code == 201, ticket.text
    url = urlsplit(ticket.json()["upload_url"])
    put = shop.http.put(f"{url.path}?{url.query}", content=jpeg(), headers={"content-type": "image/jpeg"})
    assert put.status_code == 200, put.text
    shop.settle()
    product = shop.call("GET", f"/products/{mug['id']}").json()
    variants = product["images"][0]["variants"]
    assert set(variants) == {"thumbnail", "medium", "large"}
    served = shop.call("GET", variants["thumbnail"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert "immutable" in served.headers["cache-control"] and served.headers["etag"]
    from io import BytesIO

    from PIL import Image

    assert max(Image.open(BytesIO(served.content)).size) == 150
    again = shop.call("GET", variants["thumbnail"], headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert shop.call("GET", f"/images/{mug['id']}/{'b' * 32}/large").status_code == 404
    assert shop.call("GET", f"/images/{mug['id']}/{'b' * 32}/huge").status_code == 400


def test_oversized_and_broken_uploads_are_refused(shop: Shop) -> None:
    mug = shop.product()
    too_big = shop.call(
        "POST",
        f"/products/{mug['id']}/images",
        shop.admin_token,
        json={"content_type": "image/jpeg", "size": 50 * 1024 * 1024},
    )
    assert too_big.status_code == 400 and too_big.json()["errors"][0]["loc"] == ["size"]
    assert (
        shop.call(
            "POST", f"/products/{mug['id']}/images", shop.admin_token, json={"content_type": "text/html", "size": 10}
        ).status_code
        == 400
    )
    ticket = shop.call(
        "POST", f"/products/{mug['id']}/images", shop.admin_token, json={"content_type": "image/png", "size": 10}
    ).json()
    url = urlsplit(ticket["upload_url"])
    shop.http.put(f"{url.path}?{url.query}", content=b"not an image", headers={"content-type": "image/png"})
    shop.settle()
    assert shop.call("GET", f"/products/{mug['id']}").json()["images"] == []
    from systems.ecommerce.infra import uploads

    assert list(uploads.iterate("uploads/")) == []  # the refused original is gone


def test_an_upload_larger_than_the_limit_is_refused_when_processed(shop: Shop, monkeypatch: Any) -> None:
    from systems.ecommerce import product_images

    mug = shop.product()
    ticket = shop.call(
        "POST", f"/products/{mug['id']}/images", shop.admin_token, json={"content_type": "image/jpeg", "size": 100}
    ).json()
    monkeypatch.setattr(product_images, "MAX_IMAGE_BYTES", 1000)  # the presigned PUT cannot enforce a size
    url = urlsplit(ticket["upload_url"])
    shop.http.put(f"{url.path}?{url.query}", content=jpeg(), headers={"content-type": "image/jpeg"})
    shop.settle()
    assert shop.call("GET", f"/products/{mug['id']}").json()["images"] == []
