"""Product images: presigned uploads, resized variants, and the CDN-style path that serves them.

An admin asks for an upload URL (``POST /products/{id}/images``: content type and size,
at most 10 MB) and PUTs the original straight to the ``uploads`` bucket. The bucket's
notification runs :func:`process_upload`: an original larger than declared limits or not
an image is deleted; otherwise each variant (:mod:`~systems.ecommerce.domain.images`) goes
to the ``images`` bucket and the product lists it. ``GET /images/{product}/{image}/{variant}``
serves variants with a year-long immutable Cache-Control and an ETag (304 on a match),
as a CDN in front of S3 would.
"""

from __future__ import annotations

import logging
import re
import uuid
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote_plus

from stratus.errors import ConditionalCheckFailed
from stratus.resources.api import Request, Response
from stratus.resources.bucket import NoSuchKey, NotModified
from stratus.resources.table import Attr
from systems.ecommerce import shop_time
from systems.ecommerce.domain.images import VARIANTS, ImageError, make_variants
from systems.ecommerce.infra import images, products, uploads
from systems.ecommerce.models import MAX_IMAGE_BYTES, ImageUpload
from systems.ecommerce.web import check_id, field_error, invalid, is_id, not_found

log = logging.getLogger("ecommerce.images")

UPLOAD_SECONDS = 900
IMMUTABLE = "public, max-age=31536000, immutable"
_UPLOAD_KEY = re.compile(r"^uploads/([0-9a-f]{32})/([0-9a-f]{32})$")


def variant_key(product_id: str, image_id: str, variant: str) -> str:
    return f"{product_id}/{image_id}/{variant}.jpg"


def request_upload(request: Request, context: Any) -> Response:
    product_id = check_id(request, "id")
    if isinstance(product_id, Response):
        return product_id
    body: ImageUpload = request.model
    if products.get({"id": product_id}, projection="id") is None:
        return not_found("product")
    image_id = uuid.uuid4().hex
    key = f"uploads/{product_id}/{image_id}"
    url = uploads.presigned_url("PUT", key, expires_in=UPLOAD_SECONDS, content_type=body.content_type)
    return Response(
        201,
        {
            "image_id": image_id,
            "upload_url": url,
            "method": "PUT",
            "headers": {"content-type": body.content_type},
            "max_bytes": body.size,
            "expires_in": UPLOAD_SECONDS,
        },
    )


def process_upload(event: Any, context: Any) -> None:
    """Bucket notification: resize each uploaded original into the variants."""
    raw = getattr(event, "raw_event", event)
    for record in raw.get("Records") or []:
        key = unquote_plus(record["s3"]["object"]["key"])
        match = _UPLOAD_KEY.match(key)
        if match is None:
            continue
        product_id, image_id = match.groups()
        try:
            original = uploads.get(key)
        except NoSuchKey:
            continue  # processed (and removed) already
        if original.size > MAX_IMAGE_BYTES:
            log.warning("upload %s refused: %d bytes is over the limit", key, original.size)
            uploads.delete(key)
            continue
        try:
            variants = make_variants(original.body)
        except ImageError as error:
            log.warning("upload %s refused: %s", key, error)
            uploads.delete(key)
            continue
        paths = {}
        for name, data in variants.items():
            images.put(
                variant_key(product_id, image_id, name), data, content_type="image/jpeg", cache_control=IMMUTABLE
            )
            paths[name] = f"/images/{product_id}/{image_id}/{name}"
        try:
            products.update(
                {"id": product_id},
                "SET images.#image = :image, updated_at = :now",
                names={"#image": image_id},
                values={":image": {"variants": paths, "at": shop_time.iso()}, ":now": shop_time.iso()},
                condition=Attr("id").exists(),
            )
        except ConditionalCheckFailed:
            images.delete_many([variant_key(product_id, image_id, name) for name in variants])
        uploads.delete(key)


def serve_image(request: Request, context: Any) -> Response:
    params = request.path_params
    product_id, image_id, variant = params.get("product_id", ""), params.get("image_id", ""), params.get("variant", "")
    errors = [
        field_error(["path", n], "must be an id of 32 hexadecimal digits")
        for n, v in (("product_id", product_id), ("image_id", image_id))
        if not is_id(v)
    ]
    if variant not in VARIANTS:
        errors.append(field_error(["path", "variant"], f"must be one of {', '.join(VARIANTS)}"))
    if errors:
        return invalid(*errors)
    key = variant_key(product_id, image_id, variant)
    try:
        obj = images.get(key, if_none_match=request.header("if-none-match"))
    except NotModified:
        head = images.head(key)
        return Response(304, None, headers=_caching(head.etag, head.last_modified))
    except NoSuchKey:
        return not_found("image")
    return Response(200, obj.body, headers={"content-type": obj.content_type, **_caching(obj.etag, obj.last_modified)})


def _caching(etag: str, modified: Any) -> dict[str, str]:
    return {"etag": etag, "cache-control": IMMUTABLE, "last-modified": format_datetime(modified, usegmt=True)}
