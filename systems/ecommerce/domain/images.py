"""Product image variants: EXIF orientation applied, metadata stripped, resized to fixed boxes (Pillow)."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

VARIANTS = {"thumbnail": 150, "medium": 600, "large": 1200}
MAX_PIXELS = 40_000_000  # refuse decompression bombs


class ImageError(ValueError):
    """Bytes that are not an image Pillow can read (or one too large to process)."""


def make_variants(data: bytes) -> dict[str, bytes]:
    """JPEG bytes per variant, each fitting its square box without upscaling and without metadata."""
    try:
        with Image.open(io.BytesIO(data)) as source:
            if source.width * source.height > MAX_PIXELS:
                raise ImageError("image is too large to process")
            upright = ImageOps.exif_transpose(source)
            rgb = upright.convert("RGB")
    except (UnidentifiedImageError, OSError) as error:
        raise ImageError(f"not a readable image: {error}") from None
    out: dict[str, bytes] = {}
    for name, box in VARIANTS.items():
        copy = rgb.copy()
        copy.thumbnail((box, box))
        buffer = io.BytesIO()
        copy.save(buffer, format="JPEG", quality=85, optimize=True)  # no exif= → no metadata carried over
        out[name] = buffer.getvalue()
    return out
