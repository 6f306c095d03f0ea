"""The Ordoro write logic of each stream, through the shared API client.

A writer works in two steps:

* :meth:`Writer.plan` turns a validated record into a :class:`WritePlan`: the request body and
  the key that identifies the write (a SKU, a SKU in a warehouse, an order, an order's
  tracking). It sends nothing and raises :class:`RecordInvalid` when the record cannot be
  written (e.g. no warehouse). Sinks call it before queueing a record.
* :meth:`Writer.write` applies a plan and returns a :class:`WriteResult`. A plan whose body the
  ledger saw written for the same key recently is "unchanged" without any request (see
  :mod:`target_ordoro.ledger`); otherwise :meth:`Writer.apply` talks to Ordoro.

Every write is idempotent on its own, so a retried or replayed record never doubles anything:

* orders: ``POST /v3/order`` only after failures that certainly did not reach Ordoro, or once
  ``GET /v3/order/{expected order_number}`` says the order is not there; an order that exists
  gets its updatable fields ``PUT`` only when they differ;
* products: ``PUT /product/{sku}/``, or ``POST /product/`` when the SKU is new;
* inventory: ``PUT /product/{sku}/warehouse/{id}/`` with the absolute ``on_hand``;
* shipments: the order's current tracking is compared first; ``POST`` adds tracking (verified
  by reading the order back after an ambiguous failure), ``PUT`` changes it.

Ordoro's transient failures are retried by the client; what is still failing
(``OrdoroTransientError``) and refused credentials (``OrdoroAuthError``, which :meth:`Writer.write`
re-raises wherever it was caught) end the run. Other error answers become "rejected" results
with the status and body.
"""

from __future__ import annotations

import json
import math
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

from ordoro_core.client import OrdoroAPIError, OrdoroAuthError, OrdoroClient, build_path
from ordoro_core.timestamps import parse_instant
from target_ordoro.errors import SettingsError
from target_ordoro.ledger import Ledger, fingerprint

#: An Ordoro order number is the sales channel's index (or "M" for manual orders), a dash and
#: the order id given at creation.
ORDER_NUMBER_PREFIX = re.compile(r"^(?:\d+|M)-")

#: Prefix of manual orders (no sales channel).
MANUAL_PREFIX = "M"


class RecordInvalid(Exception):
    """The record cannot be written as it is; ``reason`` says why in one short sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Outcome(str, Enum):
    """What became of one write."""

    WRITTEN = "written"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    NOT_FOUND = "not_found"
    """What the record refers to (a SKU, an order) is not in Ordoro (yet)."""


@dataclass(frozen=True)
class WritePlan:
    """What one record asks Ordoro to hold.

    ``body`` is fingerprinted by the ledger; ``details`` carries what the write needs beyond it
    (e.g. the input order's keys) and is not.
    """

    key: str
    label: str
    body: dict[str, Any]
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one write, with the Ordoro answer where there was an error."""

    outcome: Outcome
    action: str | None = None
    reason: str | None = None
    status: int | None = None
    response: Any = None
    order_number: str | None = None
    error: OrdoroAPIError | None = field(default=None, repr=False, compare=False)

    @classmethod
    def written(cls, action: str, order_number: str | None = None) -> WriteResult:
        """Ordoro now holds what the record says."""
        return cls(Outcome.WRITTEN, action=action, order_number=order_number)

    @classmethod
    def unchanged(cls, reason: str, order_number: str | None = None) -> WriteResult:
        """Ordoro already held what the record says; nothing was changed."""
        return cls(Outcome.UNCHANGED, action="unchanged", reason=reason, order_number=order_number)

    @classmethod
    def rejected(cls, error: OrdoroAPIError, reason: str | None = None) -> WriteResult:
        """Ordoro refused the write."""
        return cls(
            Outcome.REJECTED,
            reason=reason or str(error),
            status=error.status,
            response=error.body,
            error=error,
        )

    @classmethod
    def not_found(cls, reason: str, error: OrdoroAPIError | None = None) -> WriteResult:
        """What the record refers to is not in Ordoro."""
        return cls(
            Outcome.NOT_FOUND,
            reason=reason,
            status=error.status if error else None,
            response=error.body if error else None,
            error=error,
        )


@dataclass(frozen=True)
class WriteSettings:
    """The target settings that shape what is written."""

    sales_channel_id: int | None = None
    warehouse_id: int | None = None
    notify: bool = False


class OrderNumbering:
    """Knows the order_number Ordoro gives an order_id: "<cart index>-<order_id>" or "M-…".

    The sales channel's index is read once (``GET /cart/{id}/``) and cached.
    """

    def __init__(self, client: OrdoroClient, sales_channel_id: int | None) -> None:
        self.client = client
        self.sales_channel_id = sales_channel_id
        self._prefix: str | None = None
        self._lock = threading.Lock()

    def prefix(self) -> str:
        """The prefix of new orders' numbers; SettingsError for an unknown sales channel."""
        with self._lock:
            if self._prefix is None:
                self._prefix = self._read_prefix()
            return self._prefix

    def order_number(self, order_id: str) -> str:
        """The order_number of ``order_id`` created under the configured sales channel."""
        return f"{self.prefix()}-{order_id}"

    def _read_prefix(self) -> str:
        if self.sales_channel_id is None:
            return MANUAL_PREFIX
        try:
            cart = self.client.get(build_path("cart", self.sales_channel_id))
        except OrdoroAPIError as error:
            if error.status == 404:
                raise SettingsError(
                    f"sales_channel_id {self.sales_channel_id}: Ordoro has no sales channel "
                    "(cart) with this id"
                ) from None
            raise
        index = cart.get("index") if isinstance(cart, dict) else None
        if index is None:
            raise SettingsError(
                f"sales_channel_id {self.sales_channel_id}: Ordoro's answer has no cart index"
            )
        return str(index)


def strip_order_prefix(order_number: str) -> str:
    """The order_id part of an order number ("1-1001" -> "1001", "M-7" -> "7")."""
    return ORDER_NUMBER_PREFIX.sub("", order_number, count=1)


def _instant_text(value: Any, name: str) -> str:
    """A timestamp as ISO 8601 with its offset (naive values are UTC, as Ordoro reads them)."""
    try:
        return parse_instant(value).isoformat()
    except (TypeError, ValueError):
        raise RecordInvalid(f"{name}: {value!r} is not an ISO 8601 date-time") from None


def _same_instant(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is right
    try:
        return parse_instant(left) == parse_instant(right)
    except (TypeError, ValueError):
        return left == right


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same_number(left: Any, right: Any) -> bool:
    if not (_is_number(left) and _is_number(right)):
        return left == right
    return math.isclose(left, right, abs_tol=0.005)


def _whole(value: Any) -> Any:
    """Integral numbers as ints (Ordoro's integer fields reject 12.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _pick(source: Mapping[str, Any], names: tuple[str, ...], kind: type | tuple) -> dict:
    """The fields of ``names`` that ``source`` holds with a value of type ``kind``.

    Booleans are not numbers here (``True`` is an ``int`` to Python, not to Ordoro).
    """
    picked = {}
    for name in names:
        value = source.get(name)
        if isinstance(value, kind) and not isinstance(value, bool):
            picked[name] = value
    return picked


class Writer(ABC):
    """Writes the records of one stream to Ordoro (thread-safe: one instance per stream)."""

    stream: ClassVar[str]

    def __init__(
        self,
        client: OrdoroClient,
        ledger: Ledger,
        settings: WriteSettings,
        numbering: OrderNumbering,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.settings = settings
        self.numbering = numbering

    @abstractmethod
    def plan(self, record: dict[str, Any]) -> WritePlan:
        """The write a validated record asks for; RecordInvalid when it cannot be written."""

    @abstractmethod
    def apply(self, plan: WritePlan) -> WriteResult:
        """Send the write to Ordoro."""

    def write(self, plan: WritePlan) -> WriteResult:
        """Apply ``plan`` unless the ledger saw the same body written recently."""
        body_fingerprint = fingerprint(plan.body)
        if self.ledger.is_unchanged(self.stream, plan.key, body_fingerprint):
            return self.unchanged_in_ledger(plan)
        result = self.apply(plan)
        if isinstance(result.error, OrdoroAuthError):
            # Refused credentials are never one record's fault: they end the run.
            raise result.error
        if result.outcome in (Outcome.WRITTEN, Outcome.UNCHANGED):
            self.ledger.remember(self.stream, plan.key, body_fingerprint)
        return result

    def unchanged_in_ledger(self, plan: WritePlan) -> WriteResult:
        """The result for a plan the ledger saw written recently."""
        _ = plan
        return WriteResult.unchanged("written with the same values before (ledger)")


# Products

#: Fields of post_product/put_product copied from a record when present.
PRODUCT_TEXT_FIELDS = (
    "name",
    "category",
    "hs_code",
    "country_of_origin",
    "customs_description",
    "taxable",
    "type",
    "upc",
    "asin",
    "internal_notes",
)
PRODUCT_NUMBER_FIELDS = ("price", "cost", "weight", "declared_value")
#: Ordoro takes the dimensions as whole inches.
PRODUCT_DIMENSION_FIELDS = ("length", "width", "height")


class ProductsWriter(Writer):
    """Creates or updates a product by SKU: ``PUT /product/{sku}/``, else ``POST /product/``."""

    stream = "products"

    def plan(self, record: dict[str, Any]) -> WritePlan:
        """Body: the updatable product fields the record carries (never stock)."""
        sku = record["sku"]
        body: dict[str, Any] = _pick(record, PRODUCT_TEXT_FIELDS, str)
        body.update(_pick(record, PRODUCT_NUMBER_FIELDS, (int, float)))
        body.update(
            {
                name: _whole(value)
                for name, value in _pick(record, PRODUCT_DIMENSION_FIELDS, (int, float)).items()
            }
        )
        return WritePlan(key=sku, label=f"SKU {sku!r}", body=body)

    def apply(self, plan: WritePlan) -> WriteResult:
        """Update the product, or create it when Ordoro does not know the SKU."""
        sku = plan.key
        try:
            self.client.put(build_path("product", sku), plan.body)
            return WriteResult.written("updated")
        except OrdoroAPIError as error:
            if error.status != 404:
                return WriteResult.rejected(error)
        if "name" not in plan.body:
            return WriteResult(
                Outcome.REJECTED, reason=f"name is required to create SKU {sku!r} (it is new)"
            )
        try:
            self.client.post(
                build_path("product"), {"sku": sku, **plan.body}, verify=lambda: self._find(sku)
            )
            return WriteResult.written("created")
        except OrdoroAPIError as error:
            if not (error.status == 400 and error.param == "sku"):
                return WriteResult.rejected(error)
        # Created by someone else between our PUT and POST: update it after all.
        try:
            self.client.put(build_path("product", sku), plan.body)
            return WriteResult.written("updated")
        except OrdoroAPIError as error:
            return WriteResult.rejected(error)

    def _find(self, sku: str) -> dict[str, Any] | None:
        try:
            return self.client.get(build_path("product", sku))
        except OrdoroAPIError as error:
            if error.status == 404:
                return None
            raise


# Inventory


class InventoryWriter(Writer):
    """Sets a SKU's on-hand stock in one warehouse (never creates the product)."""

    stream = "inventory"

    def plan(self, record: dict[str, Any]) -> WritePlan:
        """Body: the absolute ``on_hand``, plus location and thresholds when given."""
        sku = record["sku"]
        warehouse_id = record.get("warehouse_id", self.settings.warehouse_id)
        if warehouse_id is None:
            raise RecordInvalid("warehouse_id missing and no default configured")
        body: dict[str, Any] = {"on_hand": _whole(record["on_hand"])}
        if isinstance(record.get("location_in_warehouse"), str):
            body["location_in_warehouse"] = record["location_in_warehouse"]
        for name in ("low_stock_threshold", "out_of_stock_threshold"):
            if _is_number(record.get(name)):
                body[name] = _whole(record[name])
        return WritePlan(
            key=json.dumps([sku, warehouse_id]),
            label=f"SKU {sku!r} in warehouse {warehouse_id}",
            body=body,
            details={"sku": sku, "warehouse_id": warehouse_id},
        )

    def apply(self, plan: WritePlan) -> WriteResult:
        """``PUT /product/{sku}/warehouse/{warehouse_id}/``."""
        sku, warehouse_id = plan.details["sku"], plan.details["warehouse_id"]
        try:
            self.client.put(build_path("product", sku, "warehouse", warehouse_id), plan.body)
            return WriteResult.written("set")
        except OrdoroAPIError as error:
            if error.status == 404 and error.param == "warehouse_id":
                return WriteResult.rejected(error, f"unknown warehouse {warehouse_id}")
            if error.status == 404:
                return WriteResult.not_found(f"unknown SKU {sku!r}", error)
            return WriteResult.rejected(error)


# Orders

ADDRESS_FIELDS = (
    "name",
    "company",
    "street1",
    "street2",
    "city",
    "state",
    "zip",
    "country",
    "email",
    "phone",
    "fax",
    "reference_number",
    "cart_address_id",
)
ORDER_AMOUNT_FIELDS = (
    "product_amount",
    "shipping_amount",
    "tax_amount",
    "discount_amount",
    "grand_total",
)
ORDER_TEXT_FIELDS = (
    "notes_from_customer",
    "internal_notes",
    "cart_order_id",
    "cart_shipment_id",
)
ORDER_DATE_FIELDS = ("ship_by_date", "deliver_by_date")
#: Where an order's placement date may come from, most specific first.
ORDER_PLACED_FIELDS = ("order_date", "order_placed_date", "created_date")
#: The statuses POST /v3/order accepts.
CREATE_STATUSES = ("awaiting_fulfillment", "shipped")
#: The fields PUT /v3/order/{order_number} can change on an existing order.
ORDER_UPDATABLE_FIELDS = (
    "notes_from_customer",
    "internal_notes",
    "ship_by_date",
    "deliver_by_date",
)
LINE_TEXT_FIELDS = ("product_name", "selected_option", "cart_orderitem_id")
LINE_PRODUCT_TEXT_FIELDS = ("category",)
LINE_PRODUCT_NUMBER_FIELDS = ("price", "cost", "weight")


def _address(source: Mapping[str, Any]) -> dict[str, Any]:
    """An address reduced to the fields of Ordoro's ``v1_address``."""
    return _pick(source, ADDRESS_FIELDS, str)


def _order_line(line: Mapping[str, Any]) -> dict[str, Any]:
    """A line of ``post_order_v1``: quantity, prices, and the product by SKU (with a name)."""
    nested = line.get("product") if isinstance(line.get("product"), Mapping) else {}
    sku = line.get("sku") or nested.get("sku")
    name = line.get("product_name") or nested.get("name") or sku
    product: dict[str, Any] = {"sku": sku, "name": name}
    product.update(_pick(nested, LINE_PRODUCT_TEXT_FIELDS, str))
    product.update(_pick(nested, LINE_PRODUCT_NUMBER_FIELDS, (int, float)))
    body: dict[str, Any] = {"product": product, "quantity": line["quantity"]}
    body.update(_pick(line, ("item_price", "total_price"), (int, float)))
    body.update(_pick(line, LINE_TEXT_FIELDS, str))
    if "selected_option" not in body and isinstance(line.get("details"), str) and line["details"]:
        body["selected_option"] = line["details"]
    return body


class OrdersWriter(Writer):
    """Creates an order once (``POST /v3/order``); a replay updates what Ordoro allows."""

    stream = "orders"

    def plan(self, record: dict[str, Any]) -> WritePlan:
        """Body: exactly the fields of ``post_order_v1`` (it allows no others)."""
        order_number = record.get("order_number")
        order_id = record.get("order_id") or strip_order_prefix(order_number)
        body: dict[str, Any] = {"order_id": order_id}
        if self.settings.sales_channel_id is not None:
            body["cart"] = self.settings.sales_channel_id
        for name in ("shipping_address", "billing_address", "alternate_ship_from_address"):
            if isinstance(record.get(name), Mapping):
                body[name] = _address(record[name])
        body["lines"] = [_order_line(line) for line in record["lines"]]
        tags = [
            {"text": text, **({"color": tag["color"]} if isinstance(tag.get("color"), str) else {})}
            for tag in record.get("tags") or []
            if isinstance(tag, Mapping)
            and isinstance(text := tag.get("text") or tag.get("name"), str)
            and text
        ]
        if tags:
            body["tags"] = tags
        placed = next((record[name] for name in ORDER_PLACED_FIELDS if record.get(name)), None)
        if placed is not None:
            body["order_date"] = _instant_text(placed, "order_date")
        for name in ORDER_DATE_FIELDS:
            if record.get(name) is not None:
                body[name] = _instant_text(record[name], name)
        body.update(_pick(record, ORDER_TEXT_FIELDS, str))
        shipping_type = record.get("shipping_type") or record.get("requested_shipping_method")
        if isinstance(shipping_type, str):
            body["shipping_type"] = shipping_type
        financial = record.get("financial") if isinstance(record.get("financial"), Mapping) else {}
        for name in ORDER_AMOUNT_FIELDS:
            value = record.get(name, financial.get(name))
            if _is_number(value):
                body[name] = value
        issuer = record.get("credit_card_issuer") or financial.get("credit_card_issuer")
        if isinstance(issuer, str):
            body["credit_card_issuer"] = issuer
        if isinstance(record.get("warehouse_id"), int):
            body["warehouse_id"] = record["warehouse_id"]
        if record.get("status") in CREATE_STATUSES:
            body["status"] = record["status"]
        cart_info = record.get("additional_cart_info")
        if isinstance(cart_info, Mapping) and isinstance(cart_info.get("is_prime"), bool):
            body["additional_cart_info"] = {"is_prime": cart_info["is_prime"]}
        source_keys = [f"order_id:{order_id}"]
        if order_number:
            source_keys.insert(0, f"order_number:{order_number}")
        return WritePlan(
            key=order_id,
            label=f"order {order_number or order_id}",
            body=body,
            details={"source_keys": source_keys, "order_number": order_number},
        )

    def unchanged_in_ledger(self, plan: WritePlan) -> WriteResult:
        """Unchanged, with the order_number the order was written to."""
        number = self._mapped(plan) or self.numbering.order_number(plan.key)
        return WriteResult.unchanged("written with the same values before (ledger)", number)

    def apply(self, plan: WritePlan) -> WriteResult:
        """Create the order, or bring an existing one's updatable fields up to date."""
        mapped = self._mapped(plan)
        if mapped:
            existing = self._find(mapped)
            if existing is not None:
                return self._update_existing(plan, mapped, existing)
        expected = self.numbering.order_number(plan.key)
        try:
            created = self.client.post(
                build_path("v3", "order"), plan.body, verify=lambda: self._find(expected)
            )
        except OrdoroAPIError as error:
            if not (error.status == 400 and error.param == "order_id"):
                return WriteResult.rejected(error)
            existing = self._find(expected)
            if existing is None:
                return WriteResult.rejected(error)
            return self._update_existing(plan, expected, existing)
        number = created.get("order_number") if isinstance(created, dict) else None
        number = number or expected
        self.ledger.remember_order_number(plan.details["source_keys"], number)
        return WriteResult.written("created", number)

    def _update_existing(
        self, plan: WritePlan, order_number: str, existing: Mapping[str, Any]
    ) -> WriteResult:
        """PUT the updatable fields that differ from the existing order's."""
        self.ledger.remember_order_number(plan.details["source_keys"], order_number)
        changes = {
            name: plan.body[name]
            for name in ORDER_UPDATABLE_FIELDS
            if name in plan.body and not self._same_field(name, existing.get(name), plan.body[name])
        }
        if not changes:
            return WriteResult.unchanged("the order exists with the same values", order_number)
        try:
            self.client.put(build_path("v3", "order", order_number), changes)
        except OrdoroAPIError as error:
            return WriteResult.rejected(error)
        return WriteResult.written("updated", order_number)

    @staticmethod
    def _same_field(name: str, current: Any, wanted: Any) -> bool:
        if name in ORDER_DATE_FIELDS:
            return _same_instant(current, wanted)
        return current == wanted

    def _mapped(self, plan: WritePlan) -> str | None:
        for source_key in plan.details["source_keys"]:
            number = self.ledger.order_number_for(source_key)
            if number:
                return number
        return None

    def _find(self, order_number: str) -> dict[str, Any] | None:
        return find_order(self.client, order_number)


def find_order(client: OrdoroClient, order_number: str) -> dict[str, Any] | None:
    """``GET /v3/order/{order_number}``, or None when Ordoro has no such order."""
    try:
        return client.get(build_path("v3", "order", order_number))
    except OrdoroAPIError as error:
        if error.status == 404:
            return None
        raise


# Shipments


class ShipmentsWriter(Writer):
    """Adds tracking to an order once, or changes it when it differs."""

    stream = "shipments"

    def plan(self, record: dict[str, Any]) -> WritePlan:
        """Body: tracking_number, carrier_name, ship_date, and shipping_method/cost if given."""
        order_number = record.get("order_number")
        order_id = record.get("order_id")
        body: dict[str, Any] = {
            "tracking_number": record["tracking_number"],
            "carrier_name": record["carrier_name"],
            "ship_date": _instant_text(record["ship_date"], "ship_date"),
        }
        if isinstance(record.get("shipping_method"), str):
            body["shipping_method"] = record["shipping_method"]
        if _is_number(record.get("cost")):
            body["cost"] = record["cost"]
        key = f"order_number:{order_number}" if order_number else f"order_id:{order_id}"
        return WritePlan(
            key=key,
            label=f"order {order_number or order_id}",
            body=body,
            details={"order_number": order_number, "order_id": order_id},
        )

    def apply(self, plan: WritePlan) -> WriteResult:
        """Compare with the order's tracking; POST when it has none, PUT when it differs."""
        found = self._resolve(plan)
        if found is None:
            return WriteResult.not_found(f"unknown order {plan.label.removeprefix('order ')}")
        order_number, order = found
        if self._same(order.get("shipping_info"), plan.body):
            return WriteResult.unchanged("the order has this tracking already", order_number)
        notify = self.settings.notify
        body = {
            **plan.body,
            "notify_bill_to": notify,
            "notify_ship_to": notify,
            "notify_cart": notify,
        }
        path = build_path("v3", "order", order_number, "shipping_info")
        current = order.get("shipping_info") or {}
        try:
            if current.get("tracking_number"):
                self.client.put(path, body)
                return WriteResult.written("changed", order_number)
            self.client.post(path, body, verify=lambda: self._added(order_number, plan.body))
            return WriteResult.written("added", order_number)
        except OrdoroAPIError as error:
            return WriteResult.rejected(error)

    def _resolve(self, plan: WritePlan) -> tuple[str, dict[str, Any]] | None:
        """The destination order: mapped by this target before, as given, or by order_id."""
        order_number, order_id = plan.details["order_number"], plan.details["order_id"]
        candidates: list[str] = []
        source_keys = []
        if order_number:
            source_keys.append(f"order_number:{order_number}")
        if order_id:
            source_keys.append(f"order_id:{order_id}")
        for source_key in source_keys:
            mapped = self.ledger.order_number_for(source_key)
            if mapped:
                candidates.append(mapped)
        if order_number:
            candidates.append(order_number)
        bare_id = order_id or (strip_order_prefix(order_number) if order_number else None)
        if bare_id:
            candidates.append(self.numbering.order_number(bare_id))
        for candidate in dict.fromkeys(candidates):
            order = find_order(self.client, candidate)
            if order is not None:
                return candidate, order
        return None

    def _added(self, order_number: str, wanted: dict[str, Any]) -> dict[str, Any] | None:
        """After an ambiguous POST: the order's tracking if it is the one we sent."""
        order = find_order(self.client, order_number)
        info = (order or {}).get("shipping_info")
        return info if self._same(info, wanted) else None

    @staticmethod
    def _same(info: Any, wanted: Mapping[str, Any]) -> bool:
        """Whether the order's shipping_info already says what ``wanted`` says."""
        if not isinstance(info, Mapping) or not info.get("tracking_number"):
            return False
        return (
            info.get("tracking_number") == wanted["tracking_number"]
            and info.get("carrier_name") == wanted["carrier_name"]
            and _same_instant(info.get("ship_date"), wanted["ship_date"])
            and (
                "shipping_method" not in wanted
                or info.get("shipping_method") == wanted["shipping_method"]
            )
            and ("cost" not in wanted or _same_number(info.get("cost"), wanted["cost"]))
        )


WRITER_TYPES: dict[str, type[Writer]] = {
    writer.stream: writer
    for writer in (ProductsWriter, InventoryWriter, OrdersWriter, ShipmentsWriter)
}
