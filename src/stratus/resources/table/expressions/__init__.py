"""DynamoDB expressions: conditions, filters, key conditions, updates and projections.

Two ways in, one tree: build expressions in Python (``Attr("a").eq(1)``,
``Key("pk").eq("x")``, ``Update().set("n", Attr("n") + 1)``, ``Projection.of("a.b")``)
or parse DynamoDB's expression text with placeholders (``parse_condition``,
``parse_key_condition``, ``parse_update``, ``parse_projection``). Either evaluates
against plain-Python items with DynamoDB's semantics, and renders back to expression
text with :class:`Placeholders` for the AWS API.
"""

from stratus.resources.table.expressions.condition_parser import parse_condition, parse_filter
from stratus.resources.table.expressions.conditions import Attr, Bound, Condition
from stratus.resources.table.expressions.keys import Key, KeyCondition, SortCondition, parse_key_condition
from stratus.resources.table.expressions.operands import Operand
from stratus.resources.table.expressions.parser import check_unused
from stratus.resources.table.expressions.paths import MISSING, Path
from stratus.resources.table.expressions.placeholders import Placeholders
from stratus.resources.table.expressions.projections import Projection, parse_projection
from stratus.resources.table.expressions.reserved import RESERVED_WORDS, is_reserved
from stratus.resources.table.expressions.updates import (
    Update,
    if_not_exists,
    list_append,
    parse_update,
    updated_attributes,
)

__all__ = [
    "MISSING",
    "RESERVED_WORDS",
    "Attr",
    "Bound",
    "Condition",
    "Key",
    "KeyCondition",
    "Operand",
    "Path",
    "Placeholders",
    "Projection",
    "SortCondition",
    "Update",
    "check_unused",
    "if_not_exists",
    "is_reserved",
    "list_append",
    "parse_condition",
    "parse_filter",
    "parse_key_condition",
    "parse_projection",
    "parse_update",
    "updated_attributes",
]
