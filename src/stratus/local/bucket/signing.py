"""Presigned URLs: HMAC-SHA256 over what the URL grants, with a secret kept in the state folder.

The string signed is the method, the bucket's name, the key, the expiry in seconds, the
signing time and the signed content type (when the URL was made for one), one per line,
as SigV4 signs a canonical request. The secret is 32 random bytes created once per state
folder in a file readable only by its owner (mode 0600); it is never logged and never
leaves this module except as signatures.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from stratus.resources.bucket.errors import BucketAccessDenied, SignatureDoesNotMatch

DATE_FORMAT = "%Y%m%dT%H%M%SZ"
KEY_FILE = "signing.key"


class Signer:
    """Signs and checks presigned URLs for every bucket of one state folder."""

    def __init__(self, folder: Path) -> None:
        self._secret = _load_or_create(folder / KEY_FILE)

    def __repr__(self) -> str:
        return "<Signer secret=***>"

    def _signature(self, method: str, bucket: str, key: str, expires: str, date: str, content_type: str) -> str:
        text = "\n".join((method, bucket, key, expires, date, content_type))
        return hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def url(
        self,
        base_url: str,
        method: str,
        bucket: str,
        key: str,
        *,
        expires_in: int,
        now: float,
        content_type: str | None,
    ) -> str:
        date = datetime.fromtimestamp(now, tz=UTC).strftime(DATE_FORMAT)
        params = {"X-Amz-Expires": str(expires_in), "X-Amz-Date": date}
        if content_type:
            params["X-Amz-SignedHeaders"] = "content-type"
        params["X-Amz-Signature"] = self._signature(method, bucket, key, str(expires_in), date, content_type or "")
        return f"{base_url.rstrip('/')}/_s3/{bucket}/{quote(key, safe='/~')}?{urlencode(params)}"

    def verify(
        self, method: str, bucket: str, key: str, query: dict[str, str], *, now: float, content_type: str | None
    ) -> None:
        """Raise SignatureDoesNotMatch for a URL we did not sign as presented, AccessDenied once it expired."""
        missing = [p for p in ("X-Amz-Expires", "X-Amz-Date", "X-Amz-Signature") if not query.get(p)]
        if missing:
            raise BucketAccessDenied(
                "Query-string authentication requires the X-Amz-Date, X-Amz-Expires and X-Amz-Signature "
                f"parameters; missing {', '.join(missing)}"
            )
        signed_type = (content_type or "") if query.get("X-Amz-SignedHeaders") == "content-type" else ""
        expected = self._signature(method, bucket, key, query["X-Amz-Expires"], query["X-Amz-Date"], signed_type)
        if not hmac.compare_digest(expected, query["X-Amz-Signature"]):
            raise SignatureDoesNotMatch()
        try:
            signed_at = datetime.strptime(query["X-Amz-Date"], DATE_FORMAT).replace(tzinfo=UTC).timestamp()
            expires = int(query["X-Amz-Expires"])
        except ValueError:
            raise SignatureDoesNotMatch() from None
        if now > signed_at + expires:
            raise BucketAccessDenied("Request has expired")


def _load_or_create(path: Path) -> bytes:
    """Read the secret, creating it on first use (mode 0600, written whole, never half-visible)."""
    damaged = False
    try:
        data = path.read_bytes()
        if len(data) == 32:
            return data
        damaged = True  # e.g. emptied by a power loss: a new secret only invalidates old URLs
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(32))
    finally:
        os.close(fd)
    try:
        if damaged:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # atomic, and never replaces a secret another opener created first
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()
