"""Seeding the sandbox's orders: statuses, lines, shipping and dropshipping, and the orders of
the identity scenarios. A part of :mod:`ordoro_sandbox.seed`'s seeder.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ordoro_core.timestamps import to_account_iso
from ordoro_sandbox import records
from ordoro_sandbox.records import SANDBOX_USER
from ordoro_sandbox.seed_words import (
    CARRIERS,
    CUSTOMER_NOTES,
    INTERNAL_NOTES,
    ORDER_STATUS_WEIGHTS,
    ORDER_TAGS,
    REPEATED_HOUR_INSTANTS,
    SEED_END,
    SEED_START,
)
from ordoro_sandbox.store import Store


@dataclass
class _OrderTimeline:
    status: str
    created: datetime
    updated: datetime


class OrderSeeding:
    """The order half of the seeder (its ``rng``, ``store`` and small pieces)."""

    rng: random.Random
    store: Store

    # -- orders ------------------------------------------------------------------------

    def orders(self, count: int) -> None:
        rng = self.rng
        sellable = [p for p in self.store.products.values() if p["archive_date"] is None]
        if not sellable:
            return
        for text, color in ORDER_TAGS:
            self.store.order_tag({"text": text, "color": color})
        statuses = [status for status, _ in ORDER_STATUS_WEIGHTS]
        weights = [weight for _, weight in ORDER_STATUS_WEIGHTS]
        timelines = []
        for _ in range(count):
            status = rng.choices(statuses, weights)[0]
            if status == "dropshipment_requested" and not self.store.suppliers:
                status = "awaiting_fulfillment"
            created = self.instant_between(SEED_START, SEED_END - timedelta(days=1))
            updated = self.instant_between(created, min(created + timedelta(days=4), SEED_END))
            timelines.append(_OrderTimeline(status, created, updated))
        open_or_shipped = [
            n for n, t in enumerate(timelines) if t.status in ("awaiting_fulfillment", "shipped")
        ]
        pins = rng.sample(open_or_shipped, min(len(open_or_shipped), len(REPEATED_HOUR_INSTANTS)))
        for position, instant in zip(pins, REPEATED_HOUR_INSTANTS, strict=False):
            timeline = timelines[position]
            timeline.updated = instant
            timeline.created = min(timeline.created, instant - timedelta(hours=rng.randint(3, 60)))
        timelines.sort(key=lambda t: t.created)
        carts = sorted(self.store.carts.values(), key=lambda cart: cart["index"])
        numbers_by_channel = {"shopify": 1000, "manual": 5000}
        for timeline in timelines:
            channel = rng.choices(["shopify", "amazon", "manual"], [45, 35, 20])[0]
            if channel == "amazon":
                cart = carts[1]
                order_id = f"11{rng.randint(1, 4)}-{self.digits(7)}-{self.digits(7)}"
                cart_order_id: str | None = order_id
            else:
                numbers_by_channel[channel] += 1
                order_id = str(numbers_by_channel[channel])
                cart = carts[0] if channel == "shopify" else None
                cart_order_id = self.digits(10) if cart else None
            prefix = str(cart["index"]) if cart else "M"
            order_number = f"{prefix}-{order_id}"
            if order_number in self.store.orders:
                continue
            self.store.orders[order_number] = self.order(
                order_number, timeline, cart, cart_order_id, sellable
            )

    def order(
        self,
        order_number: str,
        timeline: _OrderTimeline,
        cart: dict[str, Any] | None,
        cart_order_id: str | None,
        sellable: list[dict[str, Any]],
    ) -> dict[str, Any]:
        rng, store = self.rng, self.store
        created_text = to_account_iso(timeline.created)
        placed = timeline.created - timedelta(seconds=rng.randint(60, 3 * 3600))
        lines = [
            records.order_line(
                line_id=store.next_id("line"),
                order_number=order_number,
                product_record=product,
                quantity=rng.randint(1, 3),
                item_price=product["price"],
                cart_order_id=cart_order_id,
                cart_orderitem_id=self.digits(11) if cart else None,
                details=f"Color: {product['name'].rsplit(' - ', 1)[-1]}",
            )
            for product in rng.sample(sellable, min(len(sellable), rng.randint(1, 4)))
        ]
        product_amount = round(sum(line["item_price"] * line["quantity"] for line in lines), 2)
        shipping_amount = rng.choice((0.0, 5.99, 9.99))
        shipping_address = self.person_address()
        billing_address = (
            self.copy_address(shipping_address) if rng.random() < 0.7 else self.person_address()
        )
        warehouses = list(store.warehouses)
        warehouse_id = warehouses[0] if rng.random() < 0.7 else rng.choice(warehouses)
        source = cart["vendor_display"] if cart else "the Ordoro app"
        tag_names = sorted(store.order_tags)
        order = records.order(
            order_id=store.next_id("order"),
            order_number=order_number,
            created=created_text,
            updated_date=to_account_iso(timeline.updated),
            order_placed_date=to_account_iso(placed),
            shipping_address=shipping_address,
            billing_address=billing_address,
            warehouse_id=warehouse_id,
            cart_id=cart["id"] if cart else None,
            lines=lines,
            financial=records.financial(
                product_amount=product_amount,
                shipping_amount=shipping_amount,
                tax_amount=round(product_amount * 0.0825, 2),
                credit_card_issuer=rng.choice(("visa", "mastercard", "amex", None)),
            ),
            status=timeline.status,
            weight=round(sum(p["weight"] * line["quantity"] for line, p in self._lines(lines)), 1),
            notes_from_customer=rng.choice(CUSTOMER_NOTES) if rng.random() < 0.2 else None,
            internal_notes=rng.choice(INTERNAL_NOTES) if rng.random() < 0.15 else None,
            requested_shipping_method=rng.choice(("Standard Shipping", "Expedited", None)),
            tags=[
                dict(store.order_tags[name])
                for name in rng.sample(tag_names, rng.choice((0, 0, 1, 2)))
            ],
            comments=[records.comment(created_text, f"Order imported from {source}", SANDBOX_USER)],
        )
        if cart is not None and cart["vendor"] == "amazon":
            order["additional_cart_info"] = {"is_prime": rng.random() < 0.3}
        if timeline.status == "awaiting_fulfillment":
            order["allocation_status"] = "allocated"
        elif timeline.status == "shipped":
            self.ship(order, timeline)
        elif timeline.status == "cancelled":
            order["cancelled_date"] = order["updated_date"]
        elif timeline.status == "dropshipment_requested":
            self.dropship(order, timeline)
        return order

    def scenario_order(self, number: str, cart: dict[str, Any] | None, *, shipped: bool) -> None:
        """One order of an identity scenario with exactly this number (see
        :func:`add_identity_scenarios`)."""
        store, rng = self.store, self.rng
        if number in store.orders:
            raise ValueError(f"scenario order {number!r}: the account already has it")
        sellable = [p for p in store.products.values() if p["archive_date"] is None]
        if not sellable:
            sellable = [self.scenario_product()]
        if not store.order_tags:
            for text, color in ORDER_TAGS:
                store.order_tag({"text": text, "color": color})
        created = self.instant_between(SEED_START, SEED_END - timedelta(days=2))
        timeline = _OrderTimeline(
            "shipped" if shipped else "awaiting_fulfillment",
            created,
            created + timedelta(hours=rng.randint(2, 30)),
        )
        cart_order_id = self.digits(10) if cart else None
        store.orders[number] = self.order(number, timeline, cart, cart_order_id, sellable)

    def _lines(self, lines: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [(line, self.store.products[line["sku"]]) for line in lines]

    def ship(self, order: dict[str, Any], timeline: _OrderTimeline) -> None:
        rng = self.rng
        elapsed = timeline.updated - timeline.created
        shipped_at = timeline.created + elapsed * rng.uniform(0.5, 0.9)
        carrier_name, display, method = rng.choice(CARRIERS)
        package_count = rng.choice((2, 3)) if rng.random() < 0.25 else 1
        packages = [
            records.package(
                self.tracking_number(carrier_name), carrier_name, round(rng.uniform(8, 120), 1)
            )
            for _ in range(package_count)
        ]
        stamp = to_account_iso(shipped_at)
        order["shipping_info"] = records.shipping_info(
            tracking_number=packages[0]["tracking_number"],
            carrier_name=carrier_name,
            ship_date=stamp,
            created_date=stamp,
            shipping_method=method,
            display_shipping_method=display,
            cost=round(rng.uniform(5, 40), 2),
            packages=packages,
        )
        order["comments"].append(
            records.comment(
                stamp,
                f"Tracking {packages[0]['tracking_number']} ({carrier_name}) added",
                SANDBOX_USER,
            )
        )

    def dropship(self, order: dict[str, Any], timeline: _OrderTimeline) -> None:
        supplier = self.rng.choice(list(self.store.suppliers.values()))
        order["dropshipping_info"] = {
            "supplier": {"id": supplier["id"], "link": f"/supplier/{supplier['id']}"},
            "requested_date": to_account_iso(timeline.updated),
            "show_ship_to_email": False,
            "show_price": False,
            "requested_shipping_method": order["requested_shipping_method"],
            "requested_shipping_carrier": None,
            "requested_shipping_account": None,
            "instructions": "",
        }
        for line in order["lines"]:
            line["shippability"] = {
                "shippability": "dropshippable",
                "supplier_id": supplier["id"],
                "is_dropship": True,
            }
