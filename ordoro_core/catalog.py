"""The JSON-schema catalog that tap-ordoro emits and target-ordoro accepts.

Layout (``ordoro_core/schemas/``):

* ``<stream>.json``: one schema per stream of :data:`STREAMS` (its ``schema_file``).
* ``definitions.json``: ``$defs`` for every nested shape that repeats (address, tag, comment,
  order line, shipping info, product, supplier, warehouse, per-warehouse inventory, ...).
  Stream files point at them with ``{"$ref": "definitions.json#/$defs/<name>"}``; inside
  ``definitions.json`` they point at each other with ``"#/$defs/<name>"``.
* ``write/<stream>.json``: what target-ordoro additionally requires of a record before it
  writes anything to Ordoro (orders, products, inventory, shipments).

The rules the schema files follow, and why:

* **References are inlined.** A Singer SCHEMA message must be self-contained: targets resolve no
  ``$ref`` into files they never saw. :func:`stream_schema` and :func:`write_schema` therefore
  return each schema with every reference replaced by (a copy of) what it points at. The
  files keep the references so that each shape is written once.
* **Everything Ordoro may send as null is nullable** (``{"type": ["string", "null"]}``). The
  live API sends nulls where the published spec promises strings (address fields, a
  warehouse's ``cart``, a purchase order's ``shipping_method``); a schema stricter than the
  data makes a target reject real records. Only the primary keys and the replication keys
  the API always sends are non-nullable.
* **No required fields, no ``additionalProperties: false``.** Unknown extra fields are
  tolerated (Ordoro adds fields over time), and the target's write forms name an order by
  ``order_id`` *or* ``order_number``, so even a key may be absent from a stream record; the
  write schemas say what a record must carry.
* **No oneOf/anyOf/allOf in stream schemas.** Singer targets map each property to one column
  type and handle combinators badly; the spec's ``allOf`` are flattened into plain
  ``properties``. (The write schemas use ``anyOf`` for "order_id or order_number": they are
  only ever used for validation.)
* Timestamps declare ``"format": "date-time"``; :func:`validator` checks that format (RFC 3339
  with a UTC offset) itself, since jsonschema's own check needs an optional package.
* One JSON Schema draft (2020-12) and one error formatter (:func:`describe_error`) serve the
  catalog, the target's record checks and the sandbox's request checks.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

__all__ = [
    "DEFINITIONS_PATH",
    "FORMAT_CHECKER",
    "SCHEMA_DIR",
    "STREAMS",
    "STREAM_NAMES",
    "WRITE_SCHEMA_DIR",
    "WRITE_STREAM_NAMES",
    "SchemaValidator",
    "StreamSpec",
    "definition_schema",
    "describe_error",
    "field_path",
    "is_date_time",
    "iter_errors",
    "schema_path",
    "short_repr",
    "sorted_errors",
    "stream_schema",
    "validator",
    "write_schema",
    "write_schema_path",
]

#: Directory of the stream schemas and ``definitions.json``.
SCHEMA_DIR: Path = Path(__file__).resolve().parent / "schemas"
#: Directory of the target's write requirements.
WRITE_SCHEMA_DIR: Path = SCHEMA_DIR / "write"
#: The shared ``$defs``.
DEFINITIONS_PATH: Path = SCHEMA_DIR / "definitions.json"


@dataclass(frozen=True)
class StreamSpec:
    """Everything about one stream that the tap, the target and the tests share.

    This is the one declaration of a stream: its name, the Ordoro list endpoint it reads
    (``path``) and that list's envelope key (``list_key``, Ordoro's singular model name), its
    primary key, its replication key (None: full table) and its schema file in
    ``schemas/``. ``write_schema_file`` names the target's write requirements in
    ``schemas/write/`` for the streams target-ordoro writes (None: read-only).

    Streams derived from another endpoint's records (shipments from orders, inventory from
    products) name that endpoint as their ``path``.
    """

    name: str
    path: str
    list_key: str
    key_properties: tuple[str, ...]
    replication_key: str | None
    schema_file: str
    write_schema_file: str | None = None

    @property
    def is_incremental(self) -> bool:
        """Whether the stream has a replication key."""
        return self.replication_key is not None

    @property
    def is_writable(self) -> bool:
        """Whether target-ordoro writes this stream."""
        return self.write_schema_file is not None

    def schema(self) -> dict[str, Any]:
        """The stream's schema, self-contained (see :func:`stream_schema`)."""
        return stream_schema(self.name)


#: Every stream, in the order of the public interface.
STREAMS: dict[str, StreamSpec] = {
    spec.name: spec
    for spec in (
        StreamSpec(
            name="orders",
            path="/v3/order",
            list_key="order",
            key_properties=("order_number",),
            replication_key="updated_date",
            schema_file="orders.json",
            write_schema_file="orders.json",
        ),
        StreamSpec(
            name="shipments",
            path="/v3/order",
            list_key="order",
            key_properties=("order_number",),
            replication_key="updated_date",
            schema_file="shipments.json",
            write_schema_file="shipments.json",
        ),
        StreamSpec(
            name="products",
            # The live API's list key is "product"; the spec's product_list says "products".
            path="/product/",
            list_key="product",
            key_properties=("sku",),
            replication_key="updated",
            schema_file="products.json",
            write_schema_file="products.json",
        ),
        StreamSpec(
            name="inventory",
            path="/product/",
            list_key="product",
            key_properties=("sku", "warehouse_id"),
            replication_key="updated",
            schema_file="inventory.json",
            write_schema_file="inventory.json",
        ),
        StreamSpec(
            name="warehouses",
            path="/warehouse/",
            list_key="warehouse",
            key_properties=("id",),
            replication_key=None,
            schema_file="warehouses.json",
        ),
        StreamSpec(
            name="sales_channels",
            path="/cart/",
            list_key="cart",
            key_properties=("id",),
            replication_key=None,
            schema_file="sales_channels.json",
        ),
        StreamSpec(
            name="suppliers",
            path="/supplier/",
            list_key="supplier",
            key_properties=("id",),
            replication_key=None,
            schema_file="suppliers.json",
        ),
        StreamSpec(
            name="purchase_orders",
            path="/purchase_order/",
            list_key="purchase_order",
            key_properties=("po_id",),
            replication_key="updated",
            schema_file="purchase_orders.json",
        ),
        StreamSpec(
            name="return_orders",
            path="/v3/return_order",
            list_key="return_order",
            key_properties=("reference_id",),
            replication_key="updated_date",
            schema_file="return_orders.json",
        ),
    )
}

#: The streams' names, in the order of the public interface.
STREAM_NAMES: tuple[str, ...] = tuple(STREAMS)
#: The streams target-ordoro writes.
WRITE_STREAM_NAMES: tuple[str, ...] = tuple(
    name for name, spec in STREAMS.items() if spec.is_writable
)

_REF = "$ref"
#: Keywords that may sit next to a ``$ref`` (draft-07 ignores them; we keep them as notes).
_REF_SIBLINGS = frozenset({"description", "title", "$comment"})


# ----------------------------------------------------------------------------- file lookup


def _check_name(name: str, known: tuple[str, ...], what: str) -> None:
    if name not in known:
        raise KeyError(f"unknown {what} {name!r}; known: {', '.join(known)}")


def schema_path(name: str) -> Path:
    """Return the path of the stream schema ``name`` (KeyError for an unknown stream)."""
    _check_name(name, STREAM_NAMES, "stream")
    return SCHEMA_DIR / STREAMS[name].schema_file


def write_schema_path(name: str) -> Path:
    """Return the path of the write requirements of ``name`` (KeyError if it has none)."""
    _check_name(name, WRITE_STREAM_NAMES, "write stream")
    return WRITE_SCHEMA_DIR / str(STREAMS[name].write_schema_file)


@functools.cache
def _load(path: Path) -> Any:
    """Parse a schema file once. Callers must not mutate the result."""
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


# ---------------------------------------------------------------------------- $ref inlining


def _resolve_pointer(document: Any, pointer: str, ref: str) -> Any:
    """Follow a JSON pointer ("/$defs/address") into a parsed document."""
    node = document
    for raw in pointer.split("/")[1:] if pointer else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"$ref {ref!r} points at nothing")
        node = node[part]
    return node


def _inline(node: Any, base: Path, active: tuple[str, ...]) -> Any:
    """Return ``node`` with every ``$ref`` replaced by a copy of its (inlined) target.

    A reference is ``"<file>#<pointer>"`` (the file relative to ``base``'s directory) or
    ``"#<pointer>"`` (inside ``base`` itself). ``active`` holds the references being inlined,
    so a recursive definition raises instead of recursing forever.
    """
    if isinstance(node, list):
        return [_inline(item, base, active) for item in node]
    if not isinstance(node, dict):
        return node
    if _REF not in node:
        return {key: _inline(value, base, active) for key, value in node.items()}

    ref = node[_REF]
    extra = set(node) - {_REF} - _REF_SIBLINGS
    if extra:
        raise ValueError(f"$ref {ref!r} in {base.name} has sibling keywords {sorted(extra)}")
    file_part, _, pointer = ref.partition("#")
    target_file = (base.parent / file_part).resolve() if file_part else base
    key = f"{target_file}#{pointer}"
    if key in active:
        raise ValueError(f"recursive $ref {ref!r} in {base.name}")
    target = _resolve_pointer(_load(target_file), pointer, ref)
    inlined = _inline(target, target_file, (*active, key))
    if not isinstance(inlined, dict):
        raise ValueError(f"$ref {ref!r} does not point at a schema object")
    # Notes written next to the reference describe this use of the shape; they win.
    inlined.update({k: v for k, v in node.items() if k != _REF})
    return inlined


@functools.cache
def _inlined(path: Path) -> dict[str, Any]:
    return _inline(_load(path), path, ())


def stream_schema(name: str) -> dict[str, Any]:
    """Return the schema of stream ``name``, self-contained (every ``$ref`` inlined).

    Each call returns a fresh deep copy that the caller may change. Raises KeyError naming the
    known streams for an unknown name.
    """
    return copy.deepcopy(_inlined(schema_path(name)))


def definition_schema(name: str) -> dict[str, Any]:
    """Return the shared shape ``name`` of ``definitions.json`` (a fresh copy, refs inlined).

    For checking a nested value on its own (an address, a tag, a shipping_info).
    """
    known = tuple(_load(DEFINITIONS_PATH)["$defs"])
    _check_name(name, known, "definition")
    return copy.deepcopy(_inlined_definition(name))


@functools.cache
def _inlined_definition(name: str) -> dict[str, Any]:
    return _inline({_REF: f"#/$defs/{name}"}, DEFINITIONS_PATH, ())


def write_schema(name: str) -> dict[str, Any]:
    """Return target-ordoro's write requirements for ``name`` (a fresh copy, refs inlined).

    They are checked on top of :func:`stream_schema`; only orders, products, inventory and
    shipments have them (KeyError otherwise).
    """
    return copy.deepcopy(_inlined(write_schema_path(name)))


# ------------------------------------------------------------------------------ validation

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def is_date_time(value: object) -> bool:
    """Tell whether ``value`` is an RFC 3339 date-time: date, time and a UTC offset (or Z).

    Non-strings pass (the ``type`` keyword judges them), as JSON Schema formats require.
    """
    if not isinstance(value, str):
        return True
    match = _RFC3339.match(value)
    if match is None:
        return False
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if offset in ("Z", "z"):
        offset = "+00:00"
    # fromisoformat of Python 3.10 takes 3 or 6 fraction digits only: normalise to 6.
    micros = (fraction[1:] + "000000")[:6] if fraction else "000000"
    second = min(int(second), 59)  # RFC 3339 allows a leap second (":60")
    text = f"{year}-{month}-{day}T{hour}:{minute}:{second:02d}.{micros}{offset}"
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


#: The one JSON Schema draft of the project: 2020-12, as singer-sdk's own validator and the
#: sandbox's OpenAPI-derived request schemas use. The catalog's schemas only use keywords that
#: mean the same in draft 7, which Singer targets read.
SchemaValidator = Draft202012Validator

#: The draft's format checks, with ``date-time`` checked by :func:`is_date_time`.
FORMAT_CHECKER: FormatChecker = FormatChecker(SchemaValidator.FORMAT_CHECKER.checkers)
FORMAT_CHECKER.checks("date-time")(is_date_time)


def validator(schema: dict[str, Any], *, check_formats: bool = True) -> Draft202012Validator:
    """Return a validator for ``schema``; it checks ``date-time`` formats unless told not to."""
    return SchemaValidator(schema, format_checker=FORMAT_CHECKER if check_formats else None)


def iter_errors(schema: dict[str, Any], instance: Any) -> Iterator[ValidationError]:
    """Yield the validation errors of ``instance`` against ``schema``, shallowest first."""
    yield from sorted_errors(validator(schema).iter_errors(instance))


def sorted_errors(errors: Iterable[ValidationError]) -> list[ValidationError]:
    """Errors ordered shallowest first, then by place, so the first one is the most telling."""
    return sorted(errors, key=lambda e: (len(e.absolute_path), field_path(e.absolute_path)))


#: How :func:`describe_error` names JSON types.
_TYPE_WORDS = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "object": "an object",
    "array": "a list",
    "boolean": "true or false",
    "null": "null",
}
#: Keywords whose own message says little; the failing schema's ``description`` explains them.
_DESCRIBED_KEYWORDS = frozenset({"anyOf", "oneOf", "allOf", "not", "minItems"})


def field_path(parts: Iterable[Any]) -> str:
    """A place in a record, as users write it: ``lines[0].product.sku``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_error(error: ValidationError) -> str:
    """Explain a validation error in one short line that names the field.

    "on_hand: -3 is less than the minimum of 0", "shipping_address is required",
    "lines[0]: the line needs sku or product.sku". For keywords whose own message says little
    (anyOf, minItems, ...) the ``description`` of the failing schema explains the requirement,
    so a write requirement's description ("lines: an order needs at least one line") is its
    own error message.
    """
    where = field_path(error.absolute_path)
    prefix = f"{where}: " if where else ""
    keyword = str(error.validator)
    if keyword == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{field_path([*error.absolute_path, missing])} is required"
    if keyword == "type":
        wanted = error.validator_value
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        words = [_TYPE_WORDS.get(name, name) for name in wanted if name != "null"]
        return f"{prefix}{short_repr(error.instance)} is not {' or '.join(words)}"
    if keyword == "minLength" and error.validator_value == 1:
        return f"{prefix}must not be empty"
    if keyword == "format" and error.validator_value == "date-time":
        value = short_repr(error.instance)
        return f"{prefix}{value} is not an ISO 8601 date-time with a UTC offset"
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if keyword in _DESCRIBED_KEYWORDS and isinstance(description, str):
        # A description that starts with its own field's name ("lines: ...") says it once.
        last = error.absolute_path[-1] if error.absolute_path else None
        text = description.removeprefix(f"{last}: ") if isinstance(last, str) else description
        return f"{prefix}{text}"
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return f"{prefix}{message}"
