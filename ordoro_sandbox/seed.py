"""Reproducible sample data for the sandbox's account.

Everything comes from one ``random.Random(seed)`` and fixed word lists, so the same options
give byte-identical data. Timestamps lie between 2024-10-15 and 2024-11-20, account local time
(America/Chicago), so they span the fall-back change of 2024-11-03; several orders and
products are pinned inside the repeated hour 01:00-02:00 of that day with both offsets
(01:30-05:00 is 40 minutes EARLIER than 01:10-06:00, though its text sorts later).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from ordoro_core.timestamps import to_account_iso
from ordoro_sandbox import records
from ordoro_sandbox.options import SandboxOptions
from ordoro_sandbox.records import PO_STATUSES, RETURN_STATUSES
from ordoro_sandbox.seed_orders import OrderSeeding
from ordoro_sandbox.seed_words import (
    ADJECTIVES,
    AWKWARD_SKUS,
    CATEGORIES,
    CITIES,
    COLORS,
    COMPANY_KINDS,
    COMPANY_WORDS,
    FIRST_NAMES,
    LAST_NAMES,
    PRODUCT_TAGS,
    REPEATED_HOUR_INSTANTS,
    RETURN_CODES,
    SEED_END,
    SEED_START,
    STREET_KINDS,
    STREETS,
)
from ordoro_sandbox.store import Store


def build_store(options: SandboxOptions) -> Store:
    """A store filled with the seeded account that ``options`` describe."""
    rng = random.Random(options.seed)
    store = Store(company_id=rng.randint(100_000, 999_999))
    seeder = _Seeder(rng, store)
    seeder.warehouses()
    seeder.carts()
    if not options.empty:
        seeder.suppliers(options.suppliers)
        seeder.products(options.products)
        seeder.orders(options.orders)
        store.recount_inventory()
        seeder.purchase_orders(options.purchase_orders)
        seeder.return_orders(options.return_orders)
    store.recount_inventory()
    add_identity_scenarios(store, options)
    return store


#: The first order_id of the ``shared_order_ids`` scenario (above what the seed numbers use).
SHARED_ORDER_ID_BASE = 8001
#: The SKU decoy and shared orders sell when the account has no product of its own.
SCENARIO_SKU = "SCENARIO-MUG"


def add_identity_scenarios(store: Store, options: SandboxOptions) -> None:
    """Add the order identity scenarios ``options`` ask for (nothing by default).

    * ``shared_order_ids``: for each of N order_ids (8001, 8002, ...) an order in every sales
      channel and a manual one ("1-8001", "2-8001", "M-8001"), three customers' orders, each
      shipped with its own tracking number. A copy to another account must keep them apart.
    * ``decoy_orders``: orders of this account with exactly these numbers, unshipped, for
      customers of their own, with a cart_order_id of their channel (none for manual ones). A
      target that looks a copied order up by its source number finds them instead of the copy.

    They draw from a random generator of their own, so the rest of the seeded data is the same
    with or without them.
    """
    if not options.shared_order_ids and not options.decoy_orders:
        return
    scenarios = _Seeder(random.Random(f"identity-{options.seed}"), store)
    carts = sorted(store.carts.values(), key=lambda cart: cart["index"])
    for position in range(options.shared_order_ids):
        order_id = str(SHARED_ORDER_ID_BASE + position)
        for cart in (*carts, None):
            number = f"{cart['index'] if cart else 'M'}-{order_id}"
            scenarios.scenario_order(number, cart, shipped=True)
    by_index = {str(cart["index"]): cart for cart in carts}
    for number in options.decoy_orders:
        prefix = number.split("-", 1)[0]
        if prefix != "M" and prefix not in by_index:
            raise ValueError(f"decoy order {number!r}: no sales channel with index {prefix}")
        scenarios.scenario_order(number, by_index.get(prefix), shipped=False)
    store.recount_inventory()


class _Seeder(OrderSeeding):
    """Fills a store from one random generator; methods must run in a fixed order."""

    def __init__(self, rng: random.Random, store: Store) -> None:
        self.rng = rng
        self.store = store

    # -- small pieces ------------------------------------------------------------------

    def instant_between(self, start: datetime, end: datetime) -> datetime:
        span = int((end - start) / timedelta(microseconds=1))
        return start + timedelta(microseconds=self.rng.randrange(max(span, 1)))

    def person_address(self, *, company_share: float = 0.3) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        city, state, zip_prefix = rng.choice(CITIES)
        company = None
        if rng.random() < company_share:
            company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
        return records.address(
            self.store.next_id("address"),
            name=f"{first} {last}",
            company=company,
            street1=f"{rng.randint(100, 9999)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}",
            street2=f"Apt {rng.randint(1, 40)}" if rng.random() < 0.2 else "",
            city=city,
            state=state,
            zip=f"{zip_prefix}{rng.randint(0, 99):02d}",
            country="US",
            email=f"{first.lower()}.{last.lower()}@example.com",
            phone=f"512-555-{rng.randint(100, 199):04d}",
        )

    def copy_address(self, address: dict[str, Any]) -> dict[str, Any]:
        copied = dict(address, id=self.store.next_id("address"))
        copied["validation"] = dict(address["validation"])
        return copied

    def digits(self, count: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(count))

    def tracking_number(self, carrier_name: str) -> str:
        if carrier_name == "UPS":
            alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
            return "1Z" + "".join(self.rng.choice(alphabet) for _ in range(16))
        if carrier_name == "USPS":
            return "9400" + self.digits(18)
        return self.digits(12)

    # -- accounts ----------------------------------------------------------------------

    def warehouses(self) -> None:
        sites = (
            ("Main Warehouse", "4500 Industrial Blvd", "Austin", "TX", "78744"),
            ("East Coast DC", "210 Freight Way", "Nashville", "TN", "37210"),
            ("West Coast DC", "77 Depot Rd", "Reno", "NV", "89502"),
        )
        base = self.rng.randint(10, 99) * 1000
        for position, (name, street, city, state, zip_code) in enumerate(sites):
            warehouse_id = base + position + 1
            self.store.warehouses[warehouse_id] = {
                "_link": f"/warehouse/{warehouse_id}/",
                "id": warehouse_id,
                "address": records.address(
                    self.store.next_id("address"),
                    name=name,
                    company="Sandbox Goods Co",
                    street1=street,
                    street2="",
                    city=city,
                    state=state,
                    zip=zip_code,
                    country="US",
                    email="warehouse@example.com",
                    phone="512-555-0100",
                ),
                "cart": None,
                "is_configured_for_shipping": True,
                "is_default_location": position == 0,
            }

    def carts(self) -> None:
        base = self.rng.randint(100, 999) * 100
        default = self.store.default_warehouse()
        channels = (
            (
                "sandbox-goods.myshopify.com",
                "shopify",
                "Shopify",
                ["unfulfilled"],
                {
                    "shop_url": "https://sandbox-goods.myshopify.com",
                    "access_token": "shpat_sandbox_not_a_real_token",
                    "plan_name": "basic",
                    "multi_location_enabled": False,
                    "locations": [{"id": default["id"], "name": default["address"]["name"]}],
                    "primary_location": default["id"],
                    "use_shopify_notify_customer": True,
                },
            ),
            (
                "Sandbox Goods on Amazon",
                "amazon",
                "Amazon",
                ["Unshipped", "PartiallyShipped"],
                {"selling_partner_id": "A1SANDBOXSELLER", "marketplace_id": "ATVPDKIKX0DER"},
            ),
        )
        for index, (name, vendor, display, statuses, config) in enumerate(channels, start=1):
            cart_id = base + index
            self.store.carts[cart_id] = {
                "_link": f"/cart/{cart_id}/",
                "name": name,
                "vendor": vendor,
                "vendor_display": display,
                "id": cart_id,
                "is_demo": False,
                "worker_machinga": None,
                "archived_date": None,
                "gdpr_pii_removal_requested_date": None,
                "import_min_order_placed_date": None,
                "default_packing_list_id": 1,
                "prevent_write_back_settings_adjustment": False,
                "vendor_config": config,
                "index": index,
                "proxy_requests": False,
                "cart_download_order_statuses": statuses,
                "autosync_activities": [],
                "autosync_enabled": True,
            }

    def suppliers(self, count: int) -> None:
        base = self.rng.randint(20, 89) * 1000
        names = [f"{w} {k}" for w in COMPANY_WORDS for k in COMPANY_KINDS]
        for position, name in enumerate(self.rng.sample(names, min(count, len(names)))):
            supplier_id = base + position + 1
            created = self.instant_between(SEED_START, SEED_START + timedelta(days=5))
            updated = self.instant_between(created, SEED_END)
            address = self.person_address(company_share=0.0)
            address["company"] = name
            slug = name.lower().replace(" ", "")
            address["email"] = f"orders@{slug}.example.com"
            self.store.suppliers[supplier_id] = {
                "_link": f"/supplier/{supplier_id}/",
                "id": supplier_id,
                "company_id": self.store.company_id,
                "warehouse_id": None,
                "created": to_account_iso(created),
                "updated": to_account_iso(updated),
                "archive_date": None,
                "automatically_show_ship_to_email": False,
                "automatically_show_supplier_price": False,
                "dropship_prefer_cart_order_line_names": 0,
                "address": address,
                "vendor_config": {},
                "default_shipping_method": "UPS Ground",
                "default_shipping_carrier": "ups",
                "default_shipping_account": "",
                "po_routing_channel": "email",
                "po_routing_address": address["email"],
                "dropshipment_routing_channel": "email",
                "dropshipment_routing_address": address["email"],
                "shipping_method_maps": [],
            }

    # -- products ----------------------------------------------------------------------

    def products(self, count: int) -> None:
        rng = self.rng
        created_at = sorted(
            self.instant_between(SEED_START, SEED_END - timedelta(days=1)) for _ in range(count)
        )
        pinned = self.pinned_positions(count)
        tag_ids = rng.randint(100, 899)
        product_tags = [
            {"id": tag_ids + n, "name": name, "color": color}
            for n, (name, color) in enumerate(PRODUCT_TAGS)
        ]
        base_id = rng.randint(1_000, 9_000) * 1000
        suppliers = list(self.store.suppliers.values())
        for position, created in enumerate(created_at):
            category, code, nouns = rng.choice(CATEGORIES)
            noun, color = rng.choice(nouns), rng.choice(COLORS)
            sku = AWKWARD_SKUS.get(position, f"{code}-{position + 1:04d}-{color[:3].upper()}")
            updated = self.instant_between(created, SEED_END)
            if position in pinned:
                updated = pinned[position]
                created = min(created, updated - timedelta(hours=rng.randint(2, 72)))
            created_text, updated_text = to_account_iso(created), to_account_iso(updated)
            entries = []
            for warehouse in self.store.warehouses.values():
                if warehouse["is_default_location"]:
                    on_hand = 0 if rng.random() < 0.08 else rng.randint(20, 250)
                else:
                    on_hand = rng.randint(0, 80) if rng.random() < 0.5 else 0
                entry = records.inventory_entry(
                    warehouse,
                    on_hand=on_hand,
                    created=created_text,
                    location_in_warehouse=f"{rng.choice('ABCDEF')}{rng.randint(1, 20)}-"
                    f"{rng.randint(1, 6)}",
                    low_stock_threshold=rng.choice((5, 10)),
                )
                entry["updated"] = updated_text
                entries.append(entry)
            price = round(rng.uniform(4, 80), 2)
            self.store.products[sku] = records.product(
                product_id=base_id + position + 1,
                company_id=self.store.company_id,
                sku=sku,
                name=f"{rng.choice(ADJECTIVES)} {noun} - {color}",
                created=created_text,
                updated=updated_text,
                warehouses=entries,
                category=category,
                price=price,
                cost=round(price * rng.uniform(0.3, 0.6), 2),
                weight=round(rng.uniform(2, 48), 1),
                length=rng.randint(2, 18),
                width=rng.randint(2, 12),
                height=rng.randint(1, 10),
                taxable="true",
                upc=self.digits(12) if rng.random() < 0.7 else None,
                asin=f"B0{self.digits(8)}" if rng.random() < 0.3 else None,
                country_of_origin=rng.choice(("US", "US", "CN", "MX", None)),
                image_url=(
                    f"https://cdn.example.com/images/{quote(sku, safe='')}.jpg"
                    if rng.random() < 0.6
                    else None
                ),
                archive_date=(
                    to_account_iso(updated) if rng.random() < 0.05 and position > 20 else None
                ),
                tags=[dict(rng.choice(product_tags))] if rng.random() < 0.25 else [],
                suppliers=[dict(rng.choice(suppliers))] if suppliers and rng.random() < 0.4 else [],
            )
        self.store.reserve_ids("product", base_id + count)

    def pinned_positions(self, count: int) -> dict[int, datetime]:
        """Positions (among ``count`` records) whose updated time is pinned into the DST hour."""
        positions = self.rng.sample(range(count), min(count, len(REPEATED_HOUR_INSTANTS)))
        return dict(zip(positions, REPEATED_HOUR_INSTANTS, strict=False))

    def scenario_product(self) -> dict[str, Any]:
        """The product scenario orders sell in an account that has none (stocked, seeded)."""
        store = self.store
        if SCENARIO_SKU in store.products:
            return store.products[SCENARIO_SKU]
        created = to_account_iso(SEED_START + timedelta(days=1))
        entries = [
            records.inventory_entry(warehouse, on_hand=100, created=created)
            for warehouse in store.warehouses.values()
        ]
        product = records.product(
            product_id=store.next_id("product"),
            company_id=store.company_id,
            sku=SCENARIO_SKU,
            name="Scenario Mug - Blue",
            created=created,
            warehouses=entries,
            category="Kitchen",
            price=9.5,
            weight=12.0,
        )
        store.products[SCENARIO_SKU] = product
        return product

    # -- purchase and return orders ----------------------------------------------------

    def purchase_orders(self, count: int) -> None:
        rng, store = self.rng, self.store
        if not store.suppliers or not store.products:
            return
        products = list(store.products.values())
        suppliers = list(store.suppliers.values())
        item_ids = rng.randint(100, 900) * 1000
        for position in range(count):
            po_id = f"PO-{1001 + position}"
            status = rng.choice(PO_STATUSES)
            supplier = rng.choice(suppliers)
            warehouse = rng.choice(list(store.warehouses.values()))
            created = self.instant_between(SEED_START, SEED_END - timedelta(days=2))
            updated = self.instant_between(created, SEED_END)
            items = []
            for product in rng.sample(products, min(len(products), rng.randint(1, 4))):
                item_ids += 1
                quantity = rng.randint(5, 50)
                received = {"received": quantity, "partial": rng.randint(1, quantity - 1)}
                items.append(
                    {
                        "id": item_ids,
                        "quantity": quantity,
                        "unit_price": product["cost"],
                        "discount_amount": 0.0,
                        "_link": f"/purchase_order/{po_id}/line/{item_ids}/",
                        "product": self.po_product(product, warehouse["id"]),
                        "to_be_shipped": product["to_be_shipped"],
                        "available_on_hand": product["available_on_hand"],
                        "quantity_received": received.get(status, 0),
                    }
                )
            store.purchase_orders[po_id] = {
                "status": status,
                "company_id": store.company_id,
                "po_id": po_id,
                "shipping_method": rng.choice(("UPS Ground", "LTL Freight", "FedEx Ground")),
                "payment_method": rng.choice(("Net 30", "Credit Card", "Prepaid")),
                "instructions": rng.choice(("", "Deliver to dock 2.", "Call on arrival.")),
                "sent": None if status == "unsent" else to_account_iso(created),
                "estimated_delivery_date": to_account_iso(
                    created + timedelta(days=rng.randint(7, 21))
                ),
                "created": to_account_iso(created),
                "updated": to_account_iso(updated),
                "shipping_amount": rng.choice((0.0, 25.0, 60.0)),
                "tax_amount": 0.0,
                "discount_amount": 0.0,
                "_link": f"/purchase_order/{po_id}/",
                "items": items,
                "supplier": dict(supplier),
                "warehouse": dict(warehouse),
                "comments": [],
                "goods_receipts": [],
                "tags": [],
            }

    def po_product(self, product: dict[str, Any], warehouse_id: int) -> dict[str, Any]:
        """The product snapshot a purchase-order item carries (as the live sample shows)."""
        snapshot = {
            name: product[name]
            for name in (
                "sku", "category", "archive_date", "updated", "name", "weight", "customer_text",
                "price", "created", "company_id", "_link", "total_on_hand", "cost", "taxable",
                "type", "id", "is_kit_parent",
            )
        }  # fmt: skip
        entry = next(e for e in product["warehouses"] if e["id"] == warehouse_id)
        snapshot["warehouse"] = {"location_in_warehouse": entry["location_in_warehouse"]}
        snapshot["supplier"] = {
            "sku": product["sku"],
            "price": product["cost"],
            "unit_price": product["cost"],
        }
        return snapshot

    def return_orders(self, count: int) -> None:
        rng, store = self.rng, self.store
        shipped = [o for o in store.orders.values() if o["status"] == "shipped"]
        default = store.default_warehouse()
        for position, order in enumerate(rng.sample(shipped, min(count, len(shipped)))):
            reference_id = f"RMA-{1001 + position}"
            status = rng.choice(RETURN_STATUSES)
            created = self.instant_between(SEED_START + timedelta(days=3), SEED_END)
            updated = self.instant_between(created, SEED_END)
            lines = []
            for line in order["lines"]:
                expected = line["quantity"]
                received = expected if status in ("received", "restocked") else 0
                lines.append(
                    {
                        "line_id": store.next_id("return_line"),
                        "sku": line["sku"],
                        "product_name": line["product_name"],
                        "product_serial_numbers": [],
                        "code": dict(rng.choice(RETURN_CODES)) if rng.random() < 0.7 else None,
                        "restock_warehouse_id": default["id"],
                        "line_notes": None,
                        "total_price": round(line["item_price"] * expected, 2),
                        "expected_quantity": expected,
                        "received_quantity": received,
                        "restocked_quantity": received if status == "restocked" else 0,
                    }
                )
            store.return_orders[reference_id] = {
                "reference_id": reference_id,
                "original_order_number": order["order_number"],
                "status": status,
                "customer_address": self.copy_address(order["shipping_address"]),
                "return_to_address": self.copy_address(default["address"]),
                "warehouse_id": default["id"],
                "customer_notes": rng.choice((None, "Too small.", "Changed my mind.")),
                "internal_notes": None,
                "has_shipping_info": False,
                "label_infos": [],
                "lines": lines,
                "comments": [],
                "tag": [],
                "created_date": to_account_iso(created),
                "shipping_infos": [],
                "updated_date": to_account_iso(updated),
            }
            order["return_order_reference_ids"].append(reference_id)
