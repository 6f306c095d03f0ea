"""Behaviours of a live Ordoro account that a tidy sandbox would hide: knobs, off by default.

* **Bulk actions share one timestamp.** A database stamps rows with their transaction's time,
  so one bulk action (a batch "mark as shipped", a CSV import, a rule run) gives hundreds of
  rows exactly the same ``updated_date``. :func:`bulk_action` stamps records that way now;
  ``SandboxOptions.bulk_action_orders`` (``--bulk-action-orders N``) seeds N orders sharing
  the newest instant of the account.
* **Rows commit late.** A row becomes visible when its transaction commits, seconds or minutes
  after the time it carries. With ``SandboxOptions.commit_lag_seconds`` (``--commit-lag``)
  every write is stamped that many seconds before it becomes visible, so a client may see a
  row appear behind a bookmark it already passed.
* **Sales move stock without touching the product.** When an order is placed, shipped or
  cancelled, a warehouse entry's committed, available and allocated quantities change, but
  not the product's ``updated``, so ``updated_after`` on ``/product/`` does not see it. With
  ``SandboxOptions.stock_moves_untouched`` (``--stock-moves-untouched``) the sandbox behaves
  so; by default a recount that changes a product's figures also stamps its ``updated``.
* **Sales while a client reads.** Orders keep coming while a sync runs, so a product can be
  read before a sale and the sale read after it. With
  ``SandboxOptions.sales_per_product_page`` = K (``--sales-per-product-page K``), right after
  answering each page of ``GET /product/``, the sandbox places an order for one of each of K
  products that page served (:class:`SalesDuringReads`), each product sold once.
* **A line switched to another SKU.** Ordoro's app lets a user change the product of an order
  line; the API has no such call (``put_order_line`` takes no ``sku``). :func:`switch_line_sku`
  does what the app does: the line keeps its id and quantity and names another SKU, stock
  moves on both, the order is stamped, the products are not (with ``stock_moves_untouched``).
  A line removed (``DELETE /v3/order/{order_number}/line/{id}``) likewise releases its stock on
  a SKU the order no longer names.

Combined with ``mutate_per_page`` (records updated while a client pages through a list, see
:mod:`ordoro_sandbox.churn`), bulk actions give runs of equal instants longer than a
page whose members leave the run while a client pages through it.
"""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from ordoro_core.timestamps import parse_instant, to_account_iso
from ordoro_sandbox import records
from ordoro_sandbox.errors import ApiError, not_found
from ordoro_sandbox.records import UPDATED_FIELD
from ordoro_sandbox.store import Store


def bulk_action(store: Store, kind: str, keys: Iterable[Any], stamp: str | None = None) -> str:
    """Give every record of ``keys`` the same updated timestamp (now, or ``stamp``).

    Returns the timestamp, as Ordoro writes it (account local time with its offset).
    """
    field = UPDATED_FIELD[kind]
    with store.lock:
        stamp = stamp or store.clock.now_iso()
        records = getattr(store, kind)
        for key in keys:
            records[key][field] = stamp
        return stamp


def seed_bulk_action(store: Store, count: int, seed: int) -> list[str]:
    """Stamp ``count`` seeded orders with one instant, a minute after the newest one.

    The orders are chosen reproducibly from ``seed``; returns their order numbers (sorted).
    """
    if count <= 0:
        return []
    with store.lock:
        numbers = sorted(store.orders)
        chosen = sorted(random.Random(f"bulk-{seed}").sample(numbers, min(count, len(numbers))))
        newest = max(parse_instant(order["updated_date"]) for order in store.orders.values())
        bulk_action(store, "orders", chosen, to_account_iso(newest + timedelta(minutes=1)))
        return chosen


def switch_line_sku(store: Store, order_number: str, line_id: int, sku: str) -> dict[str, Any]:
    """Make an open order's line name another product, as Ordoro's app does (see the module
    docstring); returns the order. 400 for a shipped order, 404 for an unknown line or SKU."""
    with store.lock:
        order = store.get_order(order_number)
        if order["status"] == "shipped":
            raise ApiError(400, f"Order {order_number} has shipped: its lines cannot change")
        line = next((ln for ln in order["lines"] if ln["id"] == line_id), None)
        if line is None:
            raise not_found("order line", str(line_id), "order_line_id")
        product = store.products.get(sku)
        if product is None:
            raise not_found("product", sku, "sku")
        switched = records.order_line(
            line_id=line["id"],
            order_number=order_number,
            product_record=product,
            quantity=line["quantity"],
            item_price=line["item_price"],
            cart_order_id=line["cart_order_id"],
            cart_orderitem_id=line["cart_orderitem_id"],
            details=line["details"],
        )
        order["lines"] = [switched if ln is line else ln for ln in order["lines"]]
        store.order_changes.append(
            {"order_number": order_number, "change": "switch_line_sku", "body": {"id": line_id}}
        )
        store.touch("orders", order_number)
        store.recount_inventory()
        return order


class SalesDuringReads:
    """Orders placed while a client reads the product list (``sales_per_product_page``)."""

    def __init__(self, per_page: int = 0) -> None:
        self._lock = threading.Lock()
        self._sold: set[str] = set()
        self.per_page = 0
        self.configure(per_page)

    def configure(self, per_page: int) -> None:
        """Sell ``per_page`` products of each product page from now on (0: off)."""
        if per_page < 0:
            raise ValueError("sales_per_product_page cannot be negative")
        with self._lock:
            self.per_page = per_page

    @property
    def sold(self) -> set[str]:
        """The SKUs sold so far by this knob."""
        with self._lock:
            return set(self._sold)

    def after_product_page(self, store: Store, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A product page as answered (copied: the sales do not reach it), after which one
        order each is placed for the first ``per_page`` of its SKUs not sold by this knob."""
        with self._lock:
            if self.per_page <= 0:
                return page
            chosen = [p["sku"] for p in page if p["sku"] not in self._sold][: self.per_page]
            self._sold.update(chosen)
        with store.lock:
            answered = copy.deepcopy(page)
            for sku in chosen:
                product = store.products.get(sku)
                if product is None:
                    continue
                store.create_order(
                    {
                        "order_id": f"LIVE-SALE-{store.next_id('live-sale')}",
                        "shipping_address": {"name": "Live Buyer"},
                        "billing_address": {"name": "Live Buyer"},
                        "lines": [{"product": {"sku": sku, "name": product["name"]}}],
                    }
                )
        return answered
