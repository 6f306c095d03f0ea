"""tap-ordoro's streams that need a class of their own, grouped by domain.

What names a stream (path, list key, keys, replication key, schema) is its declaration in
``ordoro_core.catalog.STREAMS``; a class here only says how its paging or records differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from typing_extensions import override

from ordoro_core.order_numbers import strip_order_prefix
from tap_ordoro.client import OrdoroStream

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

# Orders and shipping


class ShipmentsStream(OrdoroStream):
    """One record per shipped order, built from the order's ``shipping_info``.

    Reads ``GET /v3/order?status=shipped`` on its own cursor (the order's ``updated_date``), so
    selecting shipments alone neither needs nor re-reads the orders stream's bookmark.
    """

    @override
    def read(self, context: Context | None) -> Iterable[dict[str, Any]]:
        orders = self.iter_by_cursor(
            "updated_date", self.starting_instant(context), {"status": "shipped"}
        )
        for order in orders:
            shipment = shipment_from_order(order)
            if shipment is not None:
                yield shipment


def shipment_from_order(order: dict[str, Any]) -> dict[str, Any] | None:
    """The shipment record of a shipped order, or None when it carries no tracking."""
    info = order.get("shipping_info") or {}
    if not info.get("tracking_number"):
        return None
    packages = info.get("packages") or []
    order_number = order["order_number"]
    return {
        "order_number": order_number,
        "order_id": strip_order_prefix(order_number),
        "tracking_number": info.get("tracking_number"),
        "package_tracking_numbers": [
            package["tracking_number"]
            for package in packages
            if isinstance(package, dict) and package.get("tracking_number")
        ],
        "carrier_name": info.get("carrier_name"),
        "shipping_method": info.get("shipping_method"),
        "display_shipping_method": info.get("display_shipping_method"),
        "ship_date": info.get("ship_date"),
        "cost": info.get("cost"),
        "status": order.get("status"),
        "tracking_url": info.get("tracking_url"),
        "lines": [
            {
                "sku": line.get("sku"),
                "quantity": line.get("quantity"),
                "product_name": line.get("product_name"),
            }
            for line in order.get("lines") or []
        ],
        "created_date": info.get("created_date"),
        "updated_date": order["updated_date"],
        "sales_channel_id": (order.get("sales_channel") or {}).get("id"),
        "warehouse_id": (order.get("warehouse") or {}).get("id"),
    }


class ReturnOrdersStream(OrdoroStream):
    """Return orders (``GET /v3/return_order``).

    The API has no ``updated_after`` filter here, so the list is read in creation order and the
    bookmark filters on this side: incremental for what is emitted, not for what is read.
    """

    is_sorted = False

    @override
    def read(self, context: Context | None) -> Iterable[dict[str, Any]]:
        return self.iter_in_stable_order(
            "created_date", self.starting_instant(context), server_filter=False
        )


# Catalog and stock


class ProductsStream(OrdoroStream):
    """Products (``GET /product/``; Ordoro's list key is ``product``, the spec says ``products``).

    The product list cannot be sorted by ``updated``, so it is read in creation order with the
    server's ``updated_after`` filter (see the module docstring of ``tap_ordoro.client``).
    """

    is_sorted = False

    def warehouse_params(self) -> dict[str, Any]:
        """The ``warehouse_id`` filter when the tap is limited to one warehouse."""
        warehouse_id = self.config.get("warehouse_id")
        return {} if warehouse_id is None else {"warehouse_id": warehouse_id}

    def iter_products(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Products updated since the bookmark, in creation order."""
        return self.iter_in_stable_order(
            "created", self.starting_instant(context), self.warehouse_params()
        )

    @override
    def read(self, context: Context | None) -> Iterable[dict[str, Any]]:
        warehouse_id = self.config.get("warehouse_id")
        for product in self.iter_products(context):
            if warehouse_id is not None:
                product = {
                    **product,
                    "warehouses": [
                        entry
                        for entry in product.get("warehouses") or []
                        if entry.get("id") == warehouse_id
                    ],
                }
            yield product


class InventoryStream(ProductsStream):
    """Stock per SKU and warehouse, one record per product x warehouse entry.

    ``updated`` is the product's ``updated`` (the replication key, as the list is filtered on
    it); the warehouse entry's own timestamp is ``warehouse_updated``.
    """

    @override
    def read(self, context: Context | None) -> Iterable[dict[str, Any]]:
        warehouse_id = self.config.get("warehouse_id")
        for product in self.iter_products(context):
            for entry in product.get("warehouses") or []:
                if warehouse_id is not None and entry.get("id") != warehouse_id:
                    continue
                yield inventory_record(product, entry)


def inventory_record(product: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """The inventory record of one product in one warehouse."""
    return {
        "sku": product["sku"],
        "warehouse_id": entry["id"],
        "on_hand": entry.get("on_hand"),
        "available": entry.get("available"),
        "committed": entry.get("committed"),
        "allocated": entry.get("allocated"),
        "unallocated": entry.get("unallocated"),
        "physical_on_hand": entry.get("physical_on_hand"),
        "po_committed": entry.get("po_committed"),
        "location_in_warehouse": entry.get("location_in_warehouse"),
        "low_stock_threshold": entry.get("low_stock_threshold"),
        "out_of_stock_threshold": entry.get("out_of_stock_threshold"),
        "is_default_location": entry.get("is_default_location"),
        "warehouse_updated": entry.get("updated"),
        "updated": product["updated"],
    }


#: The streams whose paging or record shape differs from :class:`OrdoroStream`'s defaults
#: (a full table, or keyset-like paging on the replication key). Every other stream of the
#: catalog (orders, purchase orders, warehouses, sales channels, suppliers) is a plain
#: ``OrdoroStream`` of its :class:`~ordoro_core.catalog.StreamSpec`.
STREAM_CLASSES: dict[str, type[OrdoroStream]] = {
    "shipments": ShipmentsStream,
    "products": ProductsStream,
    "inventory": InventoryStream,
    "return_orders": ReturnOrdersStream,
}
