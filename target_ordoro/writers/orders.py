"""Orders: created once (``POST /v3/order``); a replay updates what Ordoro lets change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ordoro_core import catalog
from ordoro_core.client import OrdoroAPIError, OrdoroClient, build_path
from ordoro_core.order_numbers import strip_order_prefix
from ordoro_core.values import is_number
from target_ordoro.writers.base import Writer, instant_text, pick, same_instant
from target_ordoro.writers.results import WritePlan, WriteResult

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


def address_body(source: Mapping[str, Any]) -> dict[str, Any]:
    """An address reduced to the fields of Ordoro's ``v1_address``."""
    return pick(source, ADDRESS_FIELDS, str)


def order_line_body(line: Mapping[str, Any]) -> dict[str, Any]:
    """A line of ``post_order_v1``: quantity, prices, and the product by SKU (with a name)."""
    nested = line.get("product") if isinstance(line.get("product"), Mapping) else {}
    sku = line.get("sku") or nested.get("sku")
    name = line.get("product_name") or nested.get("name") or sku
    product: dict[str, Any] = {"sku": sku, "name": name}
    product.update(pick(nested, LINE_PRODUCT_TEXT_FIELDS, str))
    product.update(pick(nested, LINE_PRODUCT_NUMBER_FIELDS, (int, float)))
    body: dict[str, Any] = {"product": product, "quantity": line["quantity"]}
    body.update(pick(line, ("item_price", "total_price"), (int, float)))
    body.update(pick(line, LINE_TEXT_FIELDS, str))
    if "selected_option" not in body and isinstance(line.get("details"), str) and line["details"]:
        body["selected_option"] = line["details"]
    return body


def find_order(client: OrdoroClient, order_number: str) -> dict[str, Any] | None:
    """``GET /v3/order/{order_number}``, or None when Ordoro has no such order."""
    return client.get_or_none(build_path("v3", "order", order_number))


class OrdersWriter(Writer):
    """Creates an order once (``POST /v3/order``); a replay updates what Ordoro allows."""

    spec = catalog.STREAMS["orders"]

    def plan(self, record: dict[str, Any]) -> WritePlan:
        """Body: exactly the fields of ``post_order_v1`` (it allows no others)."""
        order_number = record.get("order_number")
        order_id = record.get("order_id") or strip_order_prefix(order_number)
        body: dict[str, Any] = {"order_id": order_id}
        if self.settings.sales_channel_id is not None:
            body["cart"] = self.settings.sales_channel_id
        for name in ("shipping_address", "billing_address", "alternate_ship_from_address"):
            if isinstance(record.get(name), Mapping):
                body[name] = address_body(record[name])
        body["lines"] = [order_line_body(line) for line in record["lines"]]
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
            body["order_date"] = instant_text(placed, "order_date")
        for name in ORDER_DATE_FIELDS:
            if record.get(name) is not None:
                body[name] = instant_text(record[name], name)
        body.update(pick(record, ORDER_TEXT_FIELDS, str))
        shipping_type = record.get("shipping_type") or record.get("requested_shipping_method")
        if isinstance(shipping_type, str):
            body["shipping_type"] = shipping_type
        financial = record.get("financial") if isinstance(record.get("financial"), Mapping) else {}
        for name in ORDER_AMOUNT_FIELDS:
            value = record.get(name, financial.get(name))
            if is_number(value):
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
            existing = find_order(self.client, mapped)
            if existing is not None:
                return self._update_existing(plan, mapped, existing)
        expected = self.numbering.order_number(plan.key)
        try:
            created = self.client.post(
                build_path("v3", "order"),
                plan.body,
                verify=lambda: find_order(self.client, expected),
            )
        except OrdoroAPIError as error:
            if not (error.status == 400 and error.param == "order_id"):
                return WriteResult.rejected(error)
            existing = find_order(self.client, expected)
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
            return same_instant(current, wanted)
        return current == wanted

    def _mapped(self, plan: WritePlan) -> str | None:
        for source_key in plan.details["source_keys"]:
            number = self.ledger.order_number_for(source_key)
            if number:
                return number
        return None
