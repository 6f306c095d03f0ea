"""Builders for the API's record shapes, shared by the seed data and the write endpoints.

Every builder returns a plain dict exactly as the API answers it (see the spec components
``address``, ``inventory_as_warehouse``, ``product``, ``order``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

#: The field holding each kind's "last changed" timestamp.
UPDATED_FIELD = {
    "orders": "updated_date",
    "return_orders": "updated_date",
    "products": "updated",
    "purchase_orders": "updated",
    "suppliers": "updated",
}

ORDER_STATUSES = ("awaiting_fulfillment", "shipped", "cancelled", "dropshipment_requested")
PO_STATUSES = ("unsent", "sent", "partial", "received", "cancelled")
#: Purchase-order statuses whose unreceived quantities count as on order.
OPEN_PO_STATUSES = ("unsent", "sent", "partial")
#: Return-order statuses (the spec does not list them).
RETURN_STATUSES = ("open", "received", "restocked", "cancelled")

#: The user name the sandbox writes into comments it adds.
SANDBOX_USER = "api@sandbox.ordoro.invalid"

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
    "cart_address_id",
)

#: Inventory figures of one product in one warehouse that the sandbox computes.
COMPUTED_INVENTORY_FIELDS = (
    "physical_on_hand",
    "available",
    "committed",
    "allocated",
    "unallocated",
    "po_committed",
)


def address(address_id: int, **fields: Any) -> dict[str, Any]:
    """An address as the spec's ``address`` component: every field present, unknown ones null."""
    record: dict[str, Any] = {"id": address_id}
    for name in ADDRESS_FIELDS:
        record[name] = fields.get(name)
    record["validation"] = {"status": "unvalidated", "suggested": [], "additional_text": None}
    return record


def product_link(sku: str) -> str:
    """The product's API path, its SKU percent-encoded (SKUs may hold "/", "#", spaces)."""
    return f"/product/{quote(sku, safe='')}/"


def order_link(order_number: str) -> str:
    """The order's link as the v3 API writes it (the spec's examples: no /v3, no slash)."""
    return f"/order/{quote(order_number, safe='')}"


def id_link(kind: str, record_id: int) -> dict[str, Any]:
    """A ``{"id", "link"}`` reference as v3 orders carry them (``/cart/28``)."""
    return {"id": record_id, "link": f"/{kind}/{record_id}"}


def inventory_entry(
    warehouse: dict[str, Any],
    *,
    on_hand: int | float,
    created: str,
    location_in_warehouse: str = "",
    low_stock_threshold: int = 5,
    out_of_stock_threshold: int = 0,
) -> dict[str, Any]:
    """One warehouses[] entry of a product (spec ``inventory_as_warehouse``).

    ``cart`` is null as in live data (the spec says string). The computed figures start at
    the on-hand value and are set by the store's inventory recount.
    """
    entry: dict[str, Any] = {
        "id": warehouse["id"],
        "low_stock_threshold": low_stock_threshold,
        "out_of_stock_threshold": out_of_stock_threshold,
        "location_in_warehouse": location_in_warehouse,
        "on_hand": on_hand,
        "created": created,
        "updated": created,
        "always_dropship": False,
        "address": dict(warehouse["address"]),
        "cart": None,
        "is_configured_for_shipping": warehouse["is_configured_for_shipping"],
        "is_default_location": warehouse["is_default_location"],
    }
    entry.update(dict.fromkeys(COMPUTED_INVENTORY_FIELDS, 0))
    entry["physical_on_hand"] = on_hand
    entry["available"] = on_hand
    return entry


def product(
    *,
    product_id: int,
    company_id: int,
    sku: str,
    name: str,
    created: str,
    warehouses: list[dict[str, Any]],
    **fields: Any,
) -> dict[str, Any]:
    """A product as ``GET /product/{sku}/`` answers it; totals are set by the recount."""
    record: dict[str, Any] = {
        "id": product_id,
        "company_id": company_id,
        "sku": sku,
        "name": name,
        "type": fields.get("type", "Tangible"),
        "category": fields.get("category", ""),
        "cost": fields.get("cost", 0.0),
        "price": fields.get("price", 0.0),
        "weight": fields.get("weight", 0.0),
        "length": fields.get("length", 0),
        "width": fields.get("width", 0),
        "height": fields.get("height", 0),
        "taxable": fields.get("taxable", ""),
        "customer_text": fields.get("customer_text"),
        "internal_notes": fields.get("internal_notes"),
        "is_kit_parent": False,
        "archive_date": fields.get("archive_date"),
        "hs_code": fields.get("hs_code"),
        "country_of_origin": fields.get("country_of_origin"),
        "customs_description": fields.get("customs_description"),
        "created": created,
        "updated": fields.get("updated", created),
        "upc": fields.get("upc"),
        "asin": fields.get("asin"),
        "image_url": fields.get("image_url"),
        "default_image_id": None,
        "_link": product_link(sku),
        "tags": list(fields.get("tags", [])),
        "fulfillment_type": "in_house",
        "warehouses": warehouses,
        "kit_components": [],
        "carts": [],
        "suppliers": list(fields.get("suppliers", [])),
        "total_on_hand": 0,
        "total_committed": 0,
        "total_available": 0,
        "total_allocated": 0,
        "total_unallocated": 0,
        "po_total_committed": 0,
        "to_be_shipped": 0,
        "available_on_hand": 0,
        "on_pos": 0,
    }
    return record


def order_line(
    *,
    line_id: int,
    order_number: str,
    product_record: dict[str, Any],
    quantity: int,
    item_price: float,
    product_name: str | None = None,
    cart_order_id: str | None = None,
    cart_orderitem_id: str | None = None,
    details: str = "",
) -> dict[str, Any]:
    """One line of a v3 order (every field the spec's ``order`` requires, and the usual rest)."""
    return {
        "link": f"{order_link(order_number)}/line/{line_id}",
        "id": line_id,
        "quantity": quantity,
        "item_price": item_price,
        "supplier_price": None,
        "sku": product_record["sku"],
        "product_name": product_record["name"],
        "product_is_kit_parent": False,
        "product_serial_numbers": [],
        "order_line_product_name": product_name or product_record["name"],
        "product_link": product_link(product_record["sku"]).rstrip("/"),
        "product_category": product_record.get("category") or None,
        "cart_order_id": cart_order_id,
        "cart_orderitem_id": cart_orderitem_id,
        "cart_shipment_id": None,
        "cogs": product_record.get("cost", 0.0),
        "shippability": {"shippability": "shippable", "supplier_id": None, "is_dropship": False},
        "details": details,
        "upc": product_record.get("upc"),
        "sales_channel_location_id": None,
        "is_allocated": False,
    }


def order(
    *,
    order_id: int,
    order_number: str,
    created: str,
    order_placed_date: str,
    shipping_address: dict[str, Any],
    billing_address: dict[str, Any],
    warehouse_id: int,
    cart_id: int | None,
    lines: list[dict[str, Any]],
    financial: dict[str, Any],
    **fields: Any,
) -> dict[str, Any]:
    """A v3 order; it validates against the spec's ``order`` (additionalProperties: false).

    Manual orders (no sales channel) carry no ``sales_channel`` key: the spec's object is not
    nullable and the live shape for manual orders is not recorded.
    """
    record: dict[str, Any] = {
        "id": order_id,
        "order_number": order_number,
        "barcode": fields.get("barcode", f"{order_id:015d}"),
        "order_placed_date": order_placed_date,
        "created_date": created,
        "updated_date": fields.get("updated_date", created),
        "cancelled_date": None,
        "obscured_date": None,
        "status": fields.get("status", "awaiting_fulfillment"),
        "shippability": "shippable",
        "shipping_address": shipping_address,
        "billing_address": billing_address,
        "alternate_ship_from_address": None,
        "label_infos": [],
        "lines": lines,
        "weight": fields.get("weight", 0.0),
        "notes_from_customer": fields.get("notes_from_customer"),
        "internal_notes": fields.get("internal_notes"),
        "requested_shipping_method": fields.get("requested_shipping_method"),
        "deliver_by_date": fields.get("deliver_by_date"),
        "ship_by_date": fields.get("ship_by_date"),
        "warehouse": id_link("warehouse", warehouse_id),
        "shipping_info": {},
        "return_shipping_info": {},
        "dropshipping_info": {},
        "comments": list(fields.get("comments", [])),
        "tags": list(fields.get("tags", [])),
        "financial": financial,
        "link": order_link(order_number),
        "additional_cart_info": fields.get("additional_cart_info", {"is_prime": False}),
        "is_order_parent": False,
        "parent_order_number": None,
        "sibling_order_numbers": [],
        "audit_label": [],
        "return_order_reference_ids": [],
        "similar_open_addresses_count": 0,
        "allocation_status": "unallocated",
        "batch_reference_id": None,
        "has_revision": False,
        "revision_locked_fields": [],
    }
    if cart_id is not None:
        record["sales_channel"] = id_link("cart", cart_id)
    return record


def financial(
    *,
    product_amount: float,
    shipping_amount: float = 0.0,
    tax_amount: float = 0.0,
    discount_amount: float = 0.0,
    grand_total: float | None = None,
    credit_card_issuer: str | None = None,
) -> dict[str, Any]:
    """An order's ``financial`` block (spec ``order_financial``)."""
    if grand_total is None:
        grand_total = round(product_amount + shipping_amount + tax_amount - discount_amount, 2)
    return {
        "credit_card_issuer": credit_card_issuer,
        "discount_amount": discount_amount,
        "product_amount": product_amount,
        "shipping_amount": shipping_amount,
        "tax_amount": tax_amount,
        "grand_total": grand_total,
    }


def tracking_url(carrier_name: str | None, tracking_number: str) -> str | None:
    """A carrier's public tracking page for a tracking number, when the carrier is known."""
    pages = {
        "ups": "https://www.ups.com/track?tracknum={}",
        "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
        "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
        "dhl": "https://www.dhl.com/en/express/tracking.html?AWB={}",
    }
    page = pages.get((carrier_name or "").strip().lower())
    return page.format(quote(tracking_number, safe="")) if page else None


def shipping_info(
    *,
    tracking_number: str,
    carrier_name: str | None,
    ship_date: str,
    created_date: str,
    shipping_method: str | None = None,
    display_shipping_method: str | None = None,
    cost: float = 0.0,
    packages: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An order's ``shipping_info`` (spec ``shipping_info``) with its packages.

    ``packages`` lists every package with its own tracking number; a single-package shipment
    has one package carrying the shipment's tracking number.
    """
    if packages is None:
        packages = [package(tracking_number, carrier_name)]
    return {
        "tracking_number": tracking_number,
        "package_tracking": fields.get("package_tracking"),
        "tracking_url": fields.get("tracking_url") or tracking_url(carrier_name, tracking_number),
        "cost": cost,
        "shipping_method": shipping_method,
        "display_shipping_method": display_shipping_method or shipping_method,
        "ship_date": ship_date,
        "has_label": False,
        "created_date": created_date,
        "carrier_name": carrier_name,
        "carrier": None,
        "box_shape": None,
        "length": None,
        "width": None,
        "height": None,
        "insured_value": fields.get("insured_value"),
        "zone": fields.get("zone"),
        "status": None,
        "packages": packages,
    }


def package(
    tracking_number: str, carrier_name: str | None, weight: float | None = None
) -> dict[str, Any]:
    """One package of a shipment."""
    return {
        "tracking_number": tracking_number,
        "tracking_url": tracking_url(carrier_name, tracking_number),
        "weight": weight,
        "box_shape": "Parcel",
        "length": None,
        "width": None,
        "height": None,
    }


def comment(date: str, text: str, user: str) -> dict[str, str]:
    """One entry of a record's ``comments``."""
    return {"date": date, "text": text, "user": user}
