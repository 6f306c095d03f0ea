"""The JSON-schema catalog that tap-ordoro emits and target-ordoro accepts.

Layout (``ordoro_core/schemas/``):

* ``<stream>.json``: one draft-07 style schema per stream in :data:`STREAM_NAMES`.
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
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError

__all__ = [
    "DEFINITIONS_PATH",
    "FORMAT_CHECKER",
    "KEY_PROPERTIES",
    "REPLICATION_KEYS",
    "SCHEMA_DIR",
    "STREAM_NAMES",
    "WRITE_SCHEMA_DIR",
    "WRITE_STREAM_NAMES",
    "definition_schema",
    "describe_error",
    "is_date_time",
    "iter_errors",
    "schema_path",
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

#: The tap's streams, in the order of the public interface.
STREAM_NAMES: tuple[str, ...] = (
    "orders",
    "shipments",
    "products",
    "inventory",
    "warehouses",
    "sales_channels",
    "suppliers",
    "purchase_orders",
    "return_orders",
)

#: The streams target-ordoro writes, each with a ``write/<stream>.json``.
WRITE_STREAM_NAMES: tuple[str, ...] = ("orders", "products", "inventory", "shipments")

#: Primary key(s) of each stream.
KEY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "orders": ("order_number",),
    "shipments": ("order_number",),
    "products": ("sku",),
    "inventory": ("sku", "warehouse_id"),
    "warehouses": ("id",),
    "sales_channels": ("id",),
    "suppliers": ("id",),
    "purchase_orders": ("po_id",),
    "return_orders": ("reference_id",),
}

#: Replication key of each stream (None: full table).
REPLICATION_KEYS: dict[str, str | None] = {
    "orders": "updated_date",
    "shipments": "updated_date",
    "products": "updated",
    "inventory": "updated",
    "warehouses": None,
    "sales_channels": None,
    "suppliers": None,
    "purchase_orders": "updated",
    "return_orders": "updated_date",
}

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
    return SCHEMA_DIR / f"{name}.json"


def write_schema_path(name: str) -> Path:
    """Return the path of the write requirements of ``name`` (KeyError if it has none)."""
    _check_name(name, WRITE_STREAM_NAMES, "write stream")
    return WRITE_SCHEMA_DIR / f"{name}.json"


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


#: Draft 7's format checks, with ``date-time`` checked by :func:`is_date_time`.
FORMAT_CHECKER: FormatChecker = FormatChecker(Draft7Validator.FORMAT_CHECKER.checkers)
FORMAT_CHECKER.checks("date-time")(is_date_time)


def validator(schema: dict[str, Any]) -> Draft7Validator:
    """Return a Draft 7 validator for ``schema`` that also checks ``date-time`` formats."""
    return Draft7Validator(schema, format_checker=FORMAT_CHECKER)


def describe_error(error: ValidationError) -> str:
    """Explain a validation error in one line: where, what the schema wants, what failed.

    The "what it wants" part is the ``description`` of the failing (sub)schema, so a write
    requirement's description ("lines: at least one order line") explains its own failure.
    """
    where = "/".join(str(part) for part in error.absolute_path) or "record"
    schema = error.schema if isinstance(error.schema, dict) else {}
    description = schema.get("description")
    details = f"{description} ({error.message})" if description else error.message
    return f"{where}: {details}"


def iter_errors(schema: dict[str, Any], instance: Any) -> Iterator[ValidationError]:
    """Yield the validation errors of ``instance`` against ``schema``, shallowest first."""
    errors = validator(schema).iter_errors(instance)
    yield from sorted(errors, key=lambda e: (len(e.path), [str(part) for part in e.path]))
