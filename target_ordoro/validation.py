"""Friendly coercion and validation of incoming records, before any request is sent.

CSV and spreadsheet taps send every value as a string. Before validating, the numbers the
target writes are coerced (``"12"`` -> 12, ``"12.50"`` -> 12.5, ``""`` -> absent), integer
fields accept integral numbers (``12.0`` -> 12), and identifiers sent as numbers become
strings (SKU ``12345`` -> ``"12345"``). Anything else is left as it is, so ``"abc"`` stays
invalid. Top-level nulls are dropped: a null is "not given" for every write.

The coerced record is then checked against the catalog's stream schema *and* the stream's
write requirements (``ordoro_core.catalog.write_schema``); the first problems become one short
reason naming the field ("on_hand: -3 is less than the minimum of 0").

Before any of that, :func:`too_deep` measures how deeply a record nests, without recursing:
copying and validating recurse once per level, so a record nested hundreds of levels deep would
end the run with a ``RecursionError``. Such a record is dead-lettered instead.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ordoro_core import catalog
from ordoro_core.errors import clip
from target_ordoro.reading import UnparsedRecord

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

#: At most this many problems are named in one reason.
MAX_PROBLEMS = 3
#: How many levels of objects and lists a record may nest (the record itself is level 1).
#: Ordoro's records nest a few levels (an order's lines' products); the recursive steps after
#: the check (copying, JSON Schema validation) stay far below Python's recursion limit.
MAX_DEPTH = 100
#: How much of a field name a reason quotes at most.
MAX_FIELD_CHARS = 60

# Which fields to coerce, per stream. A path is a tuple of keys; "*" walks every list item.
_NUMBER_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "orders": (
        ("product_amount",),
        ("shipping_amount",),
        ("tax_amount",),
        ("discount_amount",),
        ("grand_total",),
        ("financial", "product_amount"),
        ("financial", "shipping_amount"),
        ("financial", "tax_amount"),
        ("financial", "discount_amount"),
        ("financial", "grand_total"),
        ("lines", "*", "item_price"),
        ("lines", "*", "total_price"),
    ),
    "products": (
        ("price",),
        ("cost",),
        ("weight",),
        ("length",),
        ("width",),
        ("height",),
        ("declared_value",),
    ),
    "inventory": (("on_hand",),),
    "shipments": (("cost",),),
}
_INTEGER_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "orders": (("warehouse_id",), ("lines", "*", "quantity")),
    "products": (),
    "inventory": (("warehouse_id",), ("low_stock_threshold",), ("out_of_stock_threshold",)),
    "shipments": (),
}
_STRING_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "orders": (
        ("order_id",),
        ("order_number",),
        ("cart_order_id",),
        ("lines", "*", "sku"),
        ("lines", "*", "product", "sku"),
        ("shipping_address", "zip"),
        ("billing_address", "zip"),
        ("shipping_address", "phone"),
        ("billing_address", "phone"),
    ),
    "products": (("sku",), ("upc",), ("asin",), ("hs_code",)),
    "inventory": (("sku",),),
    "shipments": (
        ("order_id",),
        ("order_number",),
        ("ordoro_order_number",),
        ("tracking_number",),
    ),
}


def _to_number(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        if _NUMBER.match(text):
            number = float(text)
            if math.isfinite(number):
                return int(number) if number.is_integer() and "." not in text else number
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _to_integer(value: Any) -> Any:
    value = _to_number(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _to_string(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _apply(node: Any, path: tuple[str, ...], convert: Callable[[Any], Any]) -> None:
    """Convert the value at ``path`` inside ``node`` in place (missing parts: nothing)."""
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(node, list) and rest:
            for item in node:
                _apply(item, rest, convert)
        return
    if not isinstance(node, dict) or head not in node:
        return
    if rest:
        _apply(node[head], rest, convert)
        return
    converted = convert(node[head])
    if converted is None:
        del node[head]
    else:
        node[head] = converted


def plain_json(value: Any) -> Any:
    """A deep copy of ``value`` with every ``Decimal`` made an int (when integral) or a float.

    The SDK's message reader parses JSON numbers as ``Decimal``; Ordoro bodies, comparisons and
    fingerprints want plain numbers. Recursive: for values :func:`shape_problem` accepted.
    """
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return int(value)
        return float(value)
    return copy.copy(value)


def too_deep(record: Any, limit: int = MAX_DEPTH) -> str | None:
    """A short reason when ``record`` nests more than ``limit`` levels of objects and lists
    (naming the top-level field where it does), else None. Iterative: safe at any depth.

    >>> too_deep({"notes": [[["deep"]]]}, limit=3)
    'notes: nested more than 3 levels deep'
    >>> too_deep({"notes": [["fine"]]}, limit=3) is None
    True
    """
    if not isinstance(record, (dict, list)):
        return None
    # (container, its level, the top-level field it is under)
    stack: list[tuple[Any, int, str | None]] = [(record, 1, None)]
    while stack:
        node, level, field = stack.pop()
        if level > limit:
            where = clip(field, MAX_FIELD_CHARS) if field is not None else "record"
            return f"{where}: nested more than {limit} levels deep"
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, item in items:
            if isinstance(item, (dict, list)):
                top = field if field is not None else (key if isinstance(key, str) else None)
                stack.append((item, level + 1, top))
    return None


def shape_problem(record: Any) -> str | None:
    """Why ``record`` cannot even be coerced (not a JSON object, or nested too deeply), or None.

    >>> shape_problem(["a", "list"])
    "record: ['a', 'list'] is not a JSON object"
    """
    if isinstance(record, UnparsedRecord):
        return UnparsedRecord.reason
    if not isinstance(record, dict):
        return f"record: {catalog.short_repr(record)} is not a JSON object"
    return too_deep(record)


def coerce_record(stream: str, record: dict[str, Any]) -> dict[str, Any]:
    """Return a coerced deep copy of ``record`` (see the module docstring); check
    :func:`shape_problem` first."""
    coerced = {key: value for key, value in plain_json(record).items() if value is not None}
    for path in _NUMBER_PATHS.get(stream, ()):
        _apply(coerced, path, _to_number)
    for path in _INTEGER_PATHS.get(stream, ()):
        _apply(coerced, path, _to_integer)
    for path in _STRING_PATHS.get(stream, ()):
        _apply(coerced, path, _to_string)
    return coerced


class RecordChecker:
    """Validates coerced records of one stream against its stream and write schemas."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        schema = {"allOf": [catalog.stream_schema(stream), catalog.write_schema(stream)]}
        self._validator = catalog.validator(schema)

    def problem(self, record: Any) -> str | None:
        """One short reason why ``record`` cannot be written, or None when it is valid."""
        if not isinstance(record, dict):
            return f"record: {catalog.short_repr(record)} is not a JSON object"
        reasons: list[str] = []
        for error in catalog.sorted_errors(self._validator.iter_errors(record)):
            reason = catalog.describe_error(error)
            if reason not in reasons:
                reasons.append(reason)
        if not reasons:
            return None
        extra = len(reasons) - MAX_PROBLEMS
        text = "; ".join(reasons[:MAX_PROBLEMS])
        return f"{text} (and {extra} more)" if extra > 0 else text
