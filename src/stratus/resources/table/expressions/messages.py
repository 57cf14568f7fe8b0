"""The wording of expression errors, as DynamoDB words them.

Every expression error is a :class:`~stratus.errors.ValidationError`. Messages about
one expression start with ``Invalid <kind>:`` where ``kind`` is the request parameter
that held it (``ConditionExpression``, ``FilterExpression``, ``KeyConditionExpression``,
``UpdateExpression`` or ``ProjectionExpression``), so a caller can tell which one failed.
"""

from __future__ import annotations

from typing import Literal

from stratus.errors import ValidationError

Kind = Literal[
    "ConditionExpression",
    "FilterExpression",
    "KeyConditionExpression",
    "UpdateExpression",
    "ProjectionExpression",
]

KINDS: tuple[str, ...] = (
    "ConditionExpression",
    "FilterExpression",
    "KeyConditionExpression",
    "UpdateExpression",
    "ProjectionExpression",
)

#: The longest expression DynamoDB accepts, in bytes.
MAX_EXPRESSION_BYTES = 4096

# Runtime messages of UpdateItem (no "Invalid UpdateExpression" prefix, as on AWS).
MISSING_ATTRIBUTE = "The provided expression refers to an attribute that does not exist in the item"
WRONG_TYPE = "An operand in the update expression has an incorrect data type"
INVALID_PATH = "The document path provided in the update expression is invalid for update"

# DynamoDB's names for types in operand-type errors of ADD and DELETE.
TYPE_WORDS = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "M": "MAP",
    "L": "LIST",
    "SS": "SET",
    "NS": "SET",
    "BS": "SET",
}


def invalid(kind: str, message: str) -> ValidationError:
    """``Invalid <kind>: <message>``."""
    return ValidationError(f"Invalid {kind}: {message}")


def syntax_error(kind: str, token: str, near: str) -> ValidationError:
    return invalid(kind, f'Syntax error; token: "{token}", near: "{near}"')


def undefined_value(kind: str, name: str) -> ValidationError:
    return invalid(kind, f"An expression attribute value used in expression is not defined; attribute value: {name}")


def undefined_name(kind: str, name: str) -> ValidationError:
    return invalid(
        kind, f"An expression attribute name used in the document path is not defined; attribute name: {name}"
    )


def reserved_word(kind: str, word: str) -> ValidationError:
    return invalid(kind, f"Attribute name is a reserved keyword; reserved keyword: {word}")


def operand_type(kind: str, function: str, type_: str) -> ValidationError:
    return invalid(
        kind,
        f"Incorrect operand type for operator or function; operator or function: {function}, operand type: {type_}",
    )


def unused(what: str, keys: set[str] | list[str]) -> ValidationError:
    return ValidationError(f"Value provided in {what} unused in expressions: keys: {{{', '.join(sorted(keys))}}}")
