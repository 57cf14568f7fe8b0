"""Keep a search index in step with a table: apply DynamoDB Streams records to it.

The usual way to search a DynamoDB table is a function on the table's change stream
that indexes every INSERT/MODIFY and deletes on REMOVE. :func:`apply_stream_record` is
that function's body. Records are in the DynamoDB Streams shape
(``eventName``, ``dynamodb.Keys/NewImage/OldImage`` in typed DynamoDB JSON), which is
what both the local dispatcher and AWS Lambda deliver.

The typed-JSON decoder is a few lines written here rather than boto3's
``TypeDeserializer`` because a search document needs JSON values (numbers as int/float,
sets as sorted lists), not ``Decimal`` and ``set``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from stratus.errors import ValidationError

if TYPE_CHECKING:
    from stratus.resources.search import SearchIndex

Action = Literal["indexed", "deleted", "skipped"]


def decode_value(value: Any) -> Any:
    """One attribute value in typed DynamoDB JSON (``{"S": "x"}``, ``{"N": "1.5"}``...) as a JSON value."""
    if not isinstance(value, dict) or len(value) != 1:
        raise ValidationError(f"a DynamoDB attribute value is a one-key dict like {{'S': 'x'}}, got {value!r}")
    ((tag, data),) = value.items()
    if tag == "S":
        return data
    if tag == "N":
        return _number(data)
    if tag == "BOOL":
        return bool(data)
    if tag == "NULL":
        return None
    if tag == "B":
        return _binary(data)
    if tag == "M":
        return decode_image(data)
    if tag == "L":
        return [decode_value(v) for v in data]
    if tag == "SS":
        return sorted(data)
    if tag == "NS":
        return sorted(_number(v) for v in data)
    if tag == "BS":
        return sorted(_binary(v) for v in data)
    raise ValidationError(f"unknown DynamoDB attribute type {tag!r}")


def decode_image(image: Any) -> dict[str, Any]:
    """An item image (``{"id": {"S": "p1"}, ...}``) as a plain dict."""
    if not isinstance(image, dict):
        raise ValidationError(f"a DynamoDB item image is a dict of attribute values, got {type(image).__name__}")
    return {name: decode_value(v) for name, v in image.items()}


def _number(text: Any) -> int | float:
    if not isinstance(text, str | int | float) or isinstance(text, bool):
        raise ValidationError(f"a DynamoDB number is a string of digits, got {text!r}")
    text = str(text)
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise ValidationError(f"{text!r} is not a DynamoDB number") from None


def _binary(data: Any) -> str:
    """Binary values become base64 text, as DynamoDB JSON writes them, so documents stay JSON."""
    if isinstance(data, bytes | bytearray):
        return base64.b64encode(bytes(data)).decode()
    if isinstance(data, str):
        return data
    raise ValidationError(f"a DynamoDB binary value is bytes or base64 text, got {type(data).__name__}")


def apply_stream_record(
    index: SearchIndex,
    record: dict[str, Any],
    *,
    id_attribute: str,
    to_document: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
) -> Action:
    """Index or delete the document a stream record describes; returns what was done.

    INSERT and MODIFY index ``to_document(new_item)`` (the item itself by default) under the
    item's ``id_attribute``; a ``to_document`` that returns None removes the document (the
    item no longer belongs in the index). REMOVE deletes it. The stream must carry new
    images (``NEW_IMAGE`` or ``NEW_AND_OLD_IMAGES``).
    """
    if not isinstance(record, dict):
        raise ValidationError(f"a stream record is a dict, got {type(record).__name__}")
    event = record.get("eventName")
    data = record.get("dynamodb")
    if event not in ("INSERT", "MODIFY", "REMOVE"):
        raise ValidationError(f"stream record eventName must be INSERT, MODIFY or REMOVE, got {event!r}")
    if not isinstance(data, dict):
        raise ValidationError("stream record has no 'dynamodb' section")
    if event == "REMOVE":
        source = {**decode_image(data.get("OldImage") or {}), **decode_image(data.get("Keys") or {})}
        doc_id = _doc_id(source, id_attribute)
        return "deleted" if index.delete(doc_id) else "skipped"
    if "NewImage" not in data:
        raise ValidationError(
            f"{event} record has no NewImage; the table's stream view type must be NEW_IMAGE or NEW_AND_OLD_IMAGES"
        )
    item = decode_image(data["NewImage"])
    doc_id = _doc_id(item, id_attribute)
    document = to_document(item) if to_document is not None else item
    if document is None:
        return "deleted" if index.delete(doc_id) else "skipped"
    index.index(doc_id, document)
    return "indexed"


def _doc_id(item: dict[str, Any], id_attribute: str) -> str:
    if id_attribute not in item or item[id_attribute] is None:
        raise ValidationError(f"stream record has no {id_attribute!r} attribute to use as the document id")
    value = item[id_attribute]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError(f"attribute {id_attribute!r} must be a string or number to be a document id")
    return str(value)
