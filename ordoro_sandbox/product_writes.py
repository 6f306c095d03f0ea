"""The sandbox store's product writes: create and update products and their per-warehouse
entries (on-hand, location, thresholds). A part of :class:`~ordoro_sandbox.store.Store`.
"""

from __future__ import annotations

from typing import Any

from ordoro_core.values import whole
from ordoro_sandbox import records
from ordoro_sandbox.errors import ApiError, not_found


class ProductWrites:
    """The product half of :class:`~ordoro_sandbox.store.Store` (its attributes, lock and clock)."""

    # -- products ----------------------------------------------------------------------

    def get_product(self, sku: str) -> dict[str, Any]:
        """The product, or a 404 ApiError."""
        try:
            return self.products[sku]
        except KeyError:
            raise not_found("product", sku, "sku") from None

    def create_product(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /product/ with a valid post_product body; on-hand 0 in every warehouse.

        ``physical_on_hand``, ``location_in_warehouse`` and the stock thresholds of the body
        apply to the default warehouse.
        """
        with self.lock:
            sku = body["sku"]
            if sku in self.products:
                raise ApiError(400, f"A product with sku {sku!r} already exists", "sku")
            now = self.clock.now_iso()
            default_id = self.default_warehouse()["id"]
            entries = []
            for warehouse in self.warehouses.values():
                entry = records.inventory_entry(warehouse, on_hand=0, created=now)
                if warehouse["id"] == default_id:
                    _apply_warehouse_settings(entry, body)
                    if "physical_on_hand" in body:
                        entry["on_hand"] = whole(body["physical_on_hand"])
                entries.append(entry)
            product = records.product(
                product_id=self.next_id("product"),
                company_id=self.company_id,
                sku=sku,
                name=body["name"],
                created=now,
                warehouses=entries,
                **_product_fields(body),
            )
            self.products[sku] = product
            self.recount_inventory()
            return product

    def update_product(self, sku: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT /product/{sku}/ with a valid put_product body."""
        with self.lock:
            product = self.get_product(sku)
            fields = _product_fields(body)
            if "name" in body:
                fields["name"] = body["name"]
            product.update(fields)
            self.touch("products", sku)
            return product

    def update_product_warehouse(
        self, sku: str, warehouse_key: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """PUT /product/{sku}/warehouse/{warehouse_id}/: set (on_hand) or add (adjustment)."""
        with self.lock:
            product = self.get_product(sku)
            warehouse_id = _int_or_none(warehouse_key)
            if warehouse_id not in self.warehouses:
                raise not_found("warehouse", warehouse_key, "warehouse_id")
            entry = next((e for e in product["warehouses"] if e["id"] == warehouse_id), None)
            now = self.clock.now_iso()
            if entry is None:
                entry = records.inventory_entry(
                    self.warehouses[warehouse_id], on_hand=0, created=now
                )
                product["warehouses"].append(entry)
            if "on_hand" in body:
                entry["on_hand"] = whole(body["on_hand"])
            if "adjustment" in body:
                entry["on_hand"] = whole(entry["on_hand"] + body["adjustment"])
            _apply_warehouse_settings(entry, body)
            entry["updated"] = now
            self.touch("products", sku)
            self.recount_inventory()
            return product


_PLAIN_PRODUCT_FIELDS = (
    "category",
    "hs_code",
    "country_of_origin",
    "customs_description",
    "price",
    "weight",
    "length",
    "width",
    "height",
    "taxable",
    "cost",
    "type",
    "upc",
    "asin",
    "internal_notes",
    "tags",
)


def _product_fields(body: dict[str, Any]) -> dict[str, Any]:
    fields = {name: body[name] for name in _PLAIN_PRODUCT_FIELDS if name in body}
    images = body.get("images")
    if images:
        default = next((image for image in images if image.get("is_default")), images[0])
        fields["image_url"] = default.get("url")
    return fields


def _apply_warehouse_settings(entry: dict[str, Any], body: dict[str, Any]) -> None:
    for name in ("low_stock_threshold", "out_of_stock_threshold"):
        if name in body:
            entry[name] = whole(body[name]) if body[name] is not None else 0
    if "location_in_warehouse" in body:
        entry["location_in_warehouse"] = body["location_in_warehouse"]


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None
