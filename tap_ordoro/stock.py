"""Products and inventory: one read of ``/product/`` between them, and how stock stays fresh.

A sale, allocation, shipment or cancellation moves stock without touching the product's
``updated``; :class:`InventoryStream` says what it reads again to catch it, and
:class:`OrderActivity` is what the run's order read tells it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from typing_extensions import override

from ordoro_core.catalog import STREAMS
from ordoro_core.client import MAX_PAGE_SIZE
from ordoro_core.timestamps import RESOLUTION, to_utc_iso
from ordoro_core.urls import build_path
from tap_ordoro.client import OrdoroStream, instant, utc_now
from tap_ordoro.family import ChildStream, ParentStream
from tap_ordoro.keyset import KeysetReader
from tap_ordoro.paging import WHOLE_LIST_FIRST_PAGES, Page, Record, StableOrderReader

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


def order_version(order: Mapping[str, Any]) -> str:
    """What identifies one version of an order: its number and its ``updated_date``."""
    text = json.dumps([order.get("order_number"), order.get("updated_date")])
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


@dataclass
class OrderActivity:
    """The orders read in this run that inventory may need: their versions, instants and SKUs.

    A sale moves stock without touching the product (see :class:`InventoryStream`), so
    inventory reads again the products on orders it has not seen yet. Orders updated before
    ``interest`` are not noted (inventory looked at them already, or reads the whole catalog).
    """

    interest: datetime | None = None
    noting: bool = False
    since: datetime | None = None
    until: datetime | None = None
    complete: bool = False
    #: order version -> (its instant, its SKUs)
    orders: dict[str, tuple[datetime, tuple[str, ...]]] = field(default_factory=dict)

    def add(self, orders: Iterable[Record]) -> None:
        """Note a batch of orders."""
        if not self.noting:
            return
        for order in orders:
            moment = instant(order["updated_date"])
            if self.interest is not None and moment < self.interest:
                continue
            skus = tuple(
                line["sku"]
                for line in order.get("lines") or []
                if isinstance(line, Mapping) and line.get("sku")
            )
            self.orders[order_version(order)] = (moment, skus)

    def covers(self, since: datetime | None) -> bool:
        """Whether this run noted every order updated at or after ``since``."""
        if not (self.complete and self.noting):
            return False
        floor = max(
            (moment for moment in (self.since, self.interest) if moment is not None), default=None
        )
        return floor is None or (since is not None and floor <= since)


def content_version(stream: OrdoroStream, record: Mapping[str, Any]) -> str:
    """A hash of the whole record: stock figures change without the product's ``updated``."""
    text = json.dumps(record, sort_keys=True, default=str)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


class ProductsStream(ParentStream):
    """Products (``GET /product/``; Ordoro's list key is ``product``, the spec says ``products``).

    The product list cannot be sorted by ``updated``, so it is read in creation order with the
    server's ``updated_after`` filter (see :mod:`tap_ordoro.paging`); the bookmark never goes
    past the instant the sync started. The parent of inventory, which may ask for more: the
    products whose stock moved with a sale, and every product now and then.
    """

    is_sorted = False

    @override
    def version(self, record: Mapping[str, Any]) -> str:
        return content_version(self, record)

    @dataclass(frozen=True)
    class Plan:
        """How this sync reads ``/product/``, decided when it starts."""

        started: datetime
        full: bool
        query: dict[str, Any]

        @property
        def full_read(self) -> bool:
            """Whether the whole catalog is read (a refresh, or a first sync)."""
            return "updated_after" not in self.query

    _plan: Plan | None = None

    def plan_family_read(self) -> None:
        """Where the one read of ``/product/`` starts, for this stream and its children: from
        the earliest of their starts, or the whole catalog when inventory's refresh is due."""
        children = self.selected_children()
        for child in children:
            child.capture_state()
        self.capture_state()
        inventory = next((c for c in children if isinstance(c, InventoryStream)), None)
        started = utc_now()
        full = inventory is not None and inventory.refresh_due(started)
        start = None if full else self.family_start(children)
        query: dict[str, Any] = {"sort": "created", **self.warehouse_params()}
        if start is not None:
            query["updated_after"] = to_utc_iso(start - RESOLUTION)
        self._plan = self.Plan(started, full, query)

    @override
    def list_batches(self) -> Iterator[tuple[list[Record], datetime | None]]:
        assert self._plan is not None
        reader = StableOrderReader(
            self.fetch_page_counted,
            self._plan.query,
            self.settings.concurrency,
            allowance=self.in_flight_allowance,
            # A whole catalog is many pages: ask for the first ones at once.
            expected_pages=WHOLE_LIST_FIRST_PAGES if self._plan.full_read else 1,
        )
        for page in reader.pages():
            yield [self.for_warehouse(product) for product in page], self._plan.started

    @override
    def read(self, context: Context | None) -> Iterable[Record]:
        if self._ahead is None:
            self.plan_family_read()
        assert self._plan is not None
        started, full = self._plan.started, self._plan.full
        children = self.selected_children()
        inventory = next((c for c in children if isinstance(c, InventoryStream)), None)
        for child in children:
            child.begin_sync()
        own_start = None if full else self.read_start()
        seen: set[str] = set()
        for page, limit in self.batches_in_turn():
            self.bookmark_limit = limit
            seen.update(product["sku"] for product in page)
            if self.selected:
                yield from (p for p in page if self.is_new(p, own_start))
            self.feed(children, page, started, refreshed=full)
        if inventory is not None:
            self.refresh_stock(inventory, started, full=full, seen=seen)
        for child in children:
            child.end_sync()

    def refresh_stock(
        self, inventory: InventoryStream, started: datetime, *, full: bool, seen: set[str]
    ) -> None:
        """Feed inventory the products whose stock moved with a sale since it last looked.

        They are read one by one (``GET /product/{sku}/``), or through the list when that
        costs fewer requests. Only inventory gets them: the products stream follows the
        product's ``updated`` (and the periodic whole-catalog read).
        """
        if full:
            inventory.note_full_refresh(started, self._last_count)
            inventory.note_orders_checked(started)
            return
        skus, until = inventory.order_skus()
        wanted = skus - seen
        catalog_pages = math.ceil(inventory.catalog_size() / MAX_PAGE_SIZE)
        if catalog_pages and len(wanted) > catalog_pages:
            reader = StableOrderReader(
                self.fetch_page,
                {"sort": "created", **self.warehouse_params()},
                self.settings.concurrency,
                allowance=self.in_flight_allowance,
            )
            pages: Iterable[list[Record]] = (
                [product for product in page if product.get("sku") in wanted]
                for page in reader.pages()
            )
        else:
            pages = self.products_by_sku(sorted(wanted))
        for page in pages:
            page = [self.for_warehouse(product) for product in page]
            self.feed([inventory], page, started, refreshed=True)
        inventory.note_orders_checked(until)

    def products_by_sku(self, skus: list[str]) -> Iterator[list[Record]]:
        """The products of ``skus`` (``GET /product/{sku}/``), in batches of a page."""
        if not skus:
            return

        def get(sku: str) -> Record | None:
            product = self.client.get_or_none(build_path("product", sku))
            self.count_request()
            return product

        workers = max(1, min(self.settings.concurrency, len(skus)))
        with ThreadPoolExecutor(workers, thread_name_prefix="ordoro-sku") as pool:
            for start in range(0, len(skus), MAX_PAGE_SIZE):
                found = pool.map(get, skus[start : start + MAX_PAGE_SIZE])
                yield [product for product in found if isinstance(product, dict)]

    _last_count: int | None = None

    def fetch_page_counted(self, query: Mapping[str, Any]) -> Page:
        """A page of ``/product/``, noting the list's size when unfiltered."""
        page = self.fetch_page(query)
        if "updated_after" not in query and page.count is not None:
            self._last_count = page.count
        return page

    def warehouse_params(self) -> dict[str, Any]:
        """The ``warehouse_id`` filter when the tap is limited to one warehouse."""
        warehouse_id = self.config.get("warehouse_id")
        return {} if warehouse_id is None else {"warehouse_id": warehouse_id}

    def for_warehouse(self, product: Record) -> Record:
        """The product with only the configured warehouse's entry (all without the setting)."""
        warehouse_id = self.config.get("warehouse_id")
        if warehouse_id is None:
            return product
        entries = [
            e
            for e in product.get("warehouses") or []
            if isinstance(e, Mapping) and e.get("id") == warehouse_id
        ]
        return {**product, "warehouses": entries}


class InventoryStream(ChildStream):
    """Stock per SKU and warehouse, one record per product x warehouse entry.

    ``updated`` is the product's ``updated`` (the replication key, as the list is filtered on
    it); the warehouse entry's own timestamp is ``warehouse_updated``.

    What a record's freshness rests on: a sale, allocation, shipment or cancellation changes
    ``committed``, ``available`` and ``allocated`` without touching the product's ``updated``.
    So besides the products updated since the bookmark (on-hand edits, product changes), each
    sync reads again the products on the orders updated since it last looked (the orders the
    orders stream reads anyway, else one read of ``/v3/order``), and every
    ``inventory_refresh_hours`` it reads the whole catalog, which catches what moves stock
    without an order (purchase-order receipts, returns restocked, manual counts).
    """

    parent_stream_type = ProductsStream
    is_sorted = False

    #: Custom keys of this stream's STATE.
    ORDERS_CHECKED = "orders_checked_until"
    ORDERS_SEEN = "orders_seen_recently"
    FULL_REFRESH = "full_refresh_at"
    CATALOG_SIZE = "catalog_size"

    @override
    def version(self, record: Mapping[str, Any]) -> str:
        return content_version(self, record)

    @override
    def records_from(self, source: Record) -> Iterable[Record]:
        return (
            inventory_record(source, entry)
            for entry in source.get("warehouses") or []
            if isinstance(entry, Mapping)  # a null entry names no warehouse: no record
        )

    def refresh_due(self, now: datetime) -> bool:
        """Whether this sync reads the whole catalog."""
        every = self.settings.inventory_refresh
        last = self.stored_state().get(self.FULL_REFRESH)
        if last is None or self.bookmark() is None:
            return True
        return every is not None and now - instant(last) >= every

    def catalog_size(self) -> int:
        """The number of products the last full read saw (0: unknown)."""
        return int(self.stored_state().get(self.CATALOG_SIZE) or 0)

    def note_full_refresh(self, at: datetime, catalog_size: int | None) -> None:
        """A whole-catalog read happened at ``at``."""
        self.stream_state[self.FULL_REFRESH] = to_utc_iso(at)
        if catalog_size is not None:
            self.stream_state[self.CATALOG_SIZE] = catalog_size

    def note_orders_checked(self, until: datetime | None) -> None:
        """Orders updated before ``until`` have been looked at for stock moves (never moves
        back: a read that found nothing newer than an old order still covered until now)."""
        checked = self.stream_state.get(self.ORDERS_CHECKED)
        if checked is not None and (until is None or until < instant(checked)):
            return
        if until is not None:
            self.stream_state[self.ORDERS_CHECKED] = to_utc_iso(until)

    def orders_check_start(self) -> datetime | None:
        """From when the orders are looked at for stock moves (None: not at all this time)."""
        checked = self.stored_state().get(self.ORDERS_CHECKED)
        if checked is None:
            return None
        return instant(checked) - self.settings.lookback

    def order_skus(self) -> tuple[set[str], datetime | None]:
        """SKUs on the orders updated since this stream last looked, and until when.

        The orders this run read already serve when they cover it, else one keyset read of
        ``/v3/order`` (counted as this stream's requests). Orders re-read within the lookback
        that were looked at before (their versions are in the STATE) are left out.
        """
        since = self.orders_check_start()
        activity: OrderActivity = self._tap.order_activity  # type: ignore[attr-defined]
        if not activity.covers(since):
            activity = OrderActivity(interest=since, noting=True, since=since)

            orders = STREAMS["orders"]
            reader = KeysetReader(
                fetch=partial(self.fetch_page, path=orders.path, list_key=orders.list_key),
                sort_field="updated_date",
                tie_sort="order_number",
                instant_of=lambda order: instant(order["updated_date"]),
                key_of=lambda order: order.get("order_number"),
                concurrency=self.settings.concurrency,
                allowance=self.in_flight_allowance,
            )
            for batch in reader.batches(since):
                activity.add(batch)
            activity.until, activity.complete = reader.watermark, True
        known = self.stream_state.get(self.ORDERS_SEEN) or {}
        skus = {
            sku
            for version, (moment, order_skus) in activity.orders.items()
            if (since is None or moment >= since) and version not in known
            for sku in order_skus
        }
        until = activity.until
        if until is not None:
            oldest = until - self.settings.lookback
            self.stream_state[self.ORDERS_SEEN] = {
                version: to_utc_iso(moment)
                for version, (moment, _) in activity.orders.items()
                if moment >= oldest
            }
        return skus, until


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
