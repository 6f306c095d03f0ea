"""Request-body checks against the project's request schemas (``request_schemas/*.json``).

The schema files are derived from the spec's request components; their ``$comment`` names the
component and any deviation. A body that fails answers 400 with the offending top-level field
in ``param`` and the full location in ``error_message``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from ordoro_core import catalog
from ordoro_sandbox.errors import ApiError

#: The request schema files, by name (file name without ".json").
REQUEST_SCHEMAS = (
    "post_order",
    "put_order",
    "put_order_shipping_info",
    "post_product",
    "put_product",
    "put_product_warehouse",
    # Order changes after creation (target-ordoro follows an order's life).
    "put_order_address",
    "post_order_tag",
    "post_order_line",
    "put_order_line",
)


def load_request_schema(name: str) -> dict[str, Any]:
    """One of the project's request schemas, as a dict."""
    if name not in REQUEST_SCHEMAS:
        raise KeyError(f"no request schema named {name!r}")
    path = resources.files("ordoro_sandbox").joinpath("request_schemas", f"{name}.json")
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def request_validator(name: str) -> Draft202012Validator:
    """A (cached) validator for one request schema."""
    schema = load_request_schema(name)
    catalog.SchemaValidator.check_schema(schema)
    # Formats are not checked here: the handlers parse timestamps themselves and accept
    # values without an offset (as UTC), as the spec's own examples send them.
    return catalog.validator(schema, check_formats=False)


def parse_json_body(data: bytes) -> Any:
    """The request body as JSON; 400 when it is empty or not JSON."""
    if not data.strip():
        raise ApiError(400, "A JSON request body is required")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"The request body is not valid JSON: {error}") from None


def validate_body(name: str, body: Any) -> dict[str, Any]:
    """Check ``body`` against request schema ``name``; 400 ApiError naming the field otherwise."""
    error = best_match(request_validator(name).iter_errors(body))
    if error is None:
        return body
    raise ApiError(400, catalog.describe_error(error), offending_field(error, body))


def offending_field(error: ValidationError, body: Any) -> str | None:
    """The top-level field an error is about, or None when it is about the whole body."""
    if error.absolute_path:
        return str(error.absolute_path[0])
    if not isinstance(body, dict):
        return None
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in body]
        return missing[0] if missing else None
    if error.validator == "additionalProperties":
        allowed = error.schema.get("properties", {})
        extra = sorted(name for name in body if name not in allowed)
        return extra[0] if extra else None
    schema_path = list(error.absolute_schema_path)
    if len(schema_path) >= 2 and schema_path[0] == "dependentSchemas":
        return str(schema_path[1])
    return None
