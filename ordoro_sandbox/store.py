"""The sandbox's in-memory Ordoro account: its records and the writes the API allows.

Records are kept exactly in the API's response shapes, keyed as the API keys them. Every write
gives the record a new ``updated``/``updated_date`` from :class:`AccountClock` (account local
time, strictly increasing) and recounts inventory. Callers hold :attr:`Store.lock` around
reads and writes; the write methods take it themselves too (it is re-entrant).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from ordoro_core.timestamps import RESOLUTION, to_account_iso
from ordoro_sandbox.order_writes import OrderWrites
from ordoro_sandbox.product_writes import ProductWrites
from ordoro_sandbox.records import OPEN_PO_STATUSES, UPDATED_FIELD


class AccountClock:
    """Now, as an instant that is strictly later than every instant it gave before.

    ``lag_seconds`` > 0 models late commits (see :mod:`ordoro_sandbox.live`): each stamp
    is then that many seconds in the past, so it may be earlier than stamps already given.
    """

    def __init__(self, lag_seconds: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._last = datetime.min.replace(tzinfo=timezone.utc)
        self.lag_seconds = lag_seconds

    def now(self) -> datetime:
        """The current instant (UTC), at least one microsecond after the previous one.

        With a commit lag: the instant ``lag_seconds`` ago, unique but not increasing.
        """
        with self._lock:
            current = max(datetime.now(timezone.utc), self._last + RESOLUTION)
            self._last = current
            if self.lag_seconds > 0:
                return current - timedelta(seconds=self.lag_seconds)
            return current

    def now_iso(self) -> str:
        """The current instant in the account's local time, as Ordoro writes timestamps."""
        return to_account_iso(self.now())


class Store(OrderWrites, ProductWrites):
    """One Ordoro account in memory.

    Attributes, all plain dicts in the API's response shapes: ``orders`` (order_number ->
    v3 order), ``products`` (sku -> product), ``warehouses``, ``carts``, ``suppliers``
    (id -> record), ``purchase_orders`` (po_id -> record), ``return_orders``
    (reference_id -> record). ``tracking_writes`` lists every shipping_info POST/PUT applied
    (``{"order_number", "method", "body"}``); ``order_changes`` every change to an existing
    order's status, addresses, tags and lines (``{"order_number", "change", "body"}``, e.g.
    ``"cancel"``, ``"shipping_address"``, ``"add_tag"``, ``"update_line"``).
    """

    def __init__(self, company_id: int = 1) -> None:
        self.lock = threading.RLock()
        self.clock = AccountClock()
        self.company_id = company_id
        self.orders: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.warehouses: dict[int, dict[str, Any]] = {}
        self.carts: dict[int, dict[str, Any]] = {}
        self.suppliers: dict[int, dict[str, Any]] = {}
        self.purchase_orders: dict[str, dict[str, Any]] = {}
        self.return_orders: dict[str, dict[str, Any]] = {}
        self.tracking_writes: list[dict[str, Any]] = []
        self.order_changes: list[dict[str, Any]] = []
        #: Order tags by text: the tag catalogue orders draw from and POSTs add to.
        self.order_tags: dict[str, dict[str, Any]] = {}
        self._next_ids: dict[str, int] = {}
        #: Whether a recount that changes a product's stock figures stamps its ``updated``
        #: (False while seeding, and as a live account: see :mod:`ordoro_sandbox.live`).
        self.stock_moves_touch_product = False

    # -- ids and time ------------------------------------------------------------------

    def next_id(self, kind: str) -> int:
        """A fresh id of one kind (order, line, product, address, tag)."""
        with self.lock:
            value = self._next_ids.get(kind, 1)
            self._next_ids[kind] = value + 1
            return value

    def reserve_ids(self, kind: str, above: int) -> None:
        """Make the next id of ``kind`` larger than ``above``."""
        with self.lock:
            self._next_ids[kind] = max(self._next_ids.get(kind, 1), above + 1)

    def touch(self, kind: str, key: Any) -> str:
        """Give one record a new updated timestamp (now) and return it."""
        if kind not in UPDATED_FIELD:
            raise ValueError(f"{kind} records carry no updated timestamp")
        with self.lock:
            record = getattr(self, kind)[key]
            stamp = self.clock.now_iso()
            record[UPDATED_FIELD[kind]] = stamp
            return stamp

    def default_warehouse(self) -> dict[str, Any]:
        """The warehouse marked is_default_location."""
        for warehouse in self.warehouses.values():
            if warehouse["is_default_location"]:
                return warehouse
        return next(iter(self.warehouses.values()))

    # -- inventory ---------------------------------------------------------------------

    def recount_inventory(self) -> None:
        """Recompute committed, available and on-order figures from open orders and POs.

        Committed: quantities on awaiting_fulfillment orders, per SKU and warehouse.
        Allocated: the part of it covered by stock. PO committed: unreceived quantities on
        unsent/sent/partial purchase orders. The recount stamps a product's ``updated`` only
        when ``stock_moves_touch_product`` is set and its figures changed; shipping an order
        releases its commitment without deducting stock.
        """
        with self.lock:
            committed: dict[tuple[str, int], float] = {}
            for order in self.orders.values():
                if order["status"] != "awaiting_fulfillment":
                    continue
                warehouse_id = order["warehouse"]["id"]
                for line in order["lines"]:
                    key = (line["sku"], warehouse_id)
                    committed[key] = committed.get(key, 0) + line["quantity"]
            on_order: dict[tuple[str, int], float] = {}
            for po in self.purchase_orders.values():
                if po["status"] not in OPEN_PO_STATUSES:
                    continue
                for item in po["items"]:
                    key = (item["product"]["sku"], po["warehouse"]["id"])
                    outstanding = max(0, item["quantity"] - item["quantity_received"])
                    on_order[key] = on_order.get(key, 0) + outstanding
            for sku, product in self.products.items():
                before = _stock_figures(product)
                _apply_inventory_figures(product, committed, on_order, sku)
                if self.stock_moves_touch_product and _stock_figures(product) != before:
                    self.touch("products", sku)


def _stock_figures(product: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What a recount may change: each warehouse entry's derived quantities."""
    return [
        (e["id"], e["committed"], e["available"], e["allocated"], e["po_committed"])
        for e in product["warehouses"]
    ]


def _apply_inventory_figures(
    product: dict[str, Any],
    committed: dict[tuple[str, int], float],
    on_order: dict[tuple[str, int], float],
    sku: str,
) -> None:
    totals = dict.fromkeys(
        ("on_hand", "committed", "available", "allocated", "unallocated", "po_committed"), 0
    )
    for entry in product["warehouses"]:
        on_hand = entry["on_hand"]
        held = committed.get((sku, entry["id"]), 0)
        allocated = min(held, max(on_hand, 0))
        entry["physical_on_hand"] = on_hand
        entry["committed"] = held
        entry["allocated"] = allocated
        entry["unallocated"] = held - allocated
        entry["available"] = on_hand - held
        entry["po_committed"] = on_order.get((sku, entry["id"]), 0)
        for name in totals:
            totals[name] += entry[name]
    product["total_on_hand"] = totals["on_hand"]
    product["total_committed"] = totals["committed"]
    product["total_available"] = totals["available"]
    product["total_allocated"] = totals["allocated"]
    product["total_unallocated"] = totals["unallocated"]
    product["po_total_committed"] = totals["po_committed"]
    product["available_on_hand"] = totals["available"]
    product["to_be_shipped"] = totals["committed"]
    product["on_pos"] = totals["po_committed"]


#: Fields of post_product/put_product that the product record keeps as they are given.
