"""Products and inventory: one read of ``/product/`` between them, and how stock stays fresh.

A sale, allocation, shipment or cancellation moves stock without touching the product's
``updated``; :class:`InventoryStream` says what it reads again to catch it, and
:mod:`tap_ordoro.order_activity` what the run's order read tells it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from typing_extensions import override

from ordoro_core.catalog import STREAMS
from ordoro_core.client import MAX_PAGE_SIZE
from ordoro_core.timestamps import RESOLUTION, to_utc_iso
from ordoro_core.urls import build_path
from tap_ordoro.client import Batch, instant, utc_now
from tap_ordoro.family import ChildStream, ParentStream
from tap_ordoro.keyset import KeysetReader
from tap_ordoro.narrowing import TimeRanges
from tap_ordoro.order_activity import OrderActivity, OrdersLooked
from tap_ordoro.paging import (
    WHOLE_LIST_FIRST_PAGES,
    OffsetRefused,
    Page,
    Record,
    StableOrderReader,
)
from tap_ordoro.rereads import Version, Zone, zones_from_state

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


#: A whole-catalog read remembers the versions of at most this many products it read before
#: the API refused an offset (many list APIs stop at 10,000): time ranges read after that do
#: not emit those again.
NOTED_BEFORE_RANGES = 10_000


class ProductsStream(ParentStream):
    """Products (``GET /product/``; Ordoro's list key is ``product``, the spec says ``products``).

    The product list cannot be sorted by ``updated``, so it is read in creation order with the
    server's ``updated_after`` filter (see :mod:`tap_ordoro.paging`); the bookmark never goes
    past the instant the sync started. The parent of inventory, which may ask for more: the
    products whose stock moved with a sale, and every product now and then.
    """

    is_sorted = False
    content_versions: ClassVar[bool] = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: SKU -> when (``time.monotonic``) the list page that served it was asked for.
        self._read_at: dict[str, float] = {}

    @dataclass(frozen=True)
    class Plan:
        """How this sync reads ``/product/``, decided when it starts."""

        started: datetime
        full: bool
        query: dict[str, Any]
        #: Where the read starts (None: the whole catalog).
        start: datetime | None = None

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
            query["updated_after"] = self.account_zone.lower(start - RESOLUTION)
        self._plan = self.Plan(started, full, query, start)
        self._read_at = {}

    @override
    def list_batches(self) -> Iterator[Batch]:
        assert self._plan is not None
        plan = self._plan
        reader = StableOrderReader(
            self.fetch_page_counted,
            plan.query,
            self.settings.concurrency,
            # A whole catalog is many pages: ask for the first ones at once.
            expected_pages=WHOLE_LIST_FIRST_PAGES if plan.full_read else 1,
            allowance=self.in_flight_allowance,
            terms=self.list_terms(),
            refine=self.refined_query,
        )
        ranges = TimeRanges(
            self.fetch_page_counted,
            {key: value for key, value in plan.query.items() if key != "updated_after"},
            "updated",
            instant_of=lambda product: instant(product["updated"]),
            key_of=lambda product: product.get("sku"),
            zone=self.account_zone,
            terms=self.list_terms(),
            concurrency=self.settings.concurrency,
            created_of=lambda product: (
                instant(product["created"]) if product.get("created") else None
            ),
        )
        read = 0
        try:
            for page in reader.pages():
                if read < NOTED_BEFORE_RANGES:  # what the ranges need not yield again
                    ranges.note(page)
                read += len(page)
                yield [self.for_warehouse(product) for product in page], None
        except OffsetRefused:
            # The API serves no offset this deep: read the list again in time ranges.
            for page in ranges.pages(plan.start, plan.started, read_before=read):
                yield [self.for_warehouse(product) for product in page], None

    def refined_query(self, first: Page) -> dict[str, Any] | None:
        """The query again, when its first answer shows the API read ``updated_after`` as an
        earlier instant than it says (records from before it came back): its value is then
        written again with the account's offset, learnt from those records."""
        plan = self._plan
        zone = self.account_zone
        for product in first.records[:1] + first.records[-1:]:
            zone.observe(instant(product["updated"]))
        if plan is None or plan.start is None:
            return None
        limit = plan.start - RESOLUTION
        earliest = min((instant(p["updated"]) for p in first.records), default=None)
        if earliest is None or earliest >= limit:
            return None
        self.list_terms().contradiction(
            "filter reading",
            f"{self.name}: asked for products updated after {plan.query['updated_after']}, got "
            f"some from {earliest.isoformat()}: the API reads a filter value's wall time, not "
            "its UTC offset; filter values are written in the account's own offset",
        )
        return {**plan.query, "updated_after": zone.lower(limit)}

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
        self.bookmark_limit = started
        for page, _ in self.batches_in_turn():
            prepared = self.prepare(children, page)
            if self.selected:
                yield from self.admit(page, own_start)
            self.feed(prepared, None, started, refreshed=full)
        if self.selected:
            yield from self.release(final=True)
        for child in children:
            child.finish_reading()
        if inventory is not None:
            self.refresh_stock(inventory, started, full=full)
        for child in children:
            child.end_sync()

    def refresh_stock(self, inventory: InventoryStream, started: datetime, *, full: bool) -> None:
        """Feed inventory the products whose stock moved with a sale since it last looked.

        They are read one by one (``GET /product/{sku}/``), or through the list when that
        costs fewer requests; a product this run read after the orders were read is not read
        again (its figures count every order they hold). Only inventory gets them: the
        products stream follows the product's ``updated`` (and the periodic whole-catalog
        read). What inventory has looked at goes into its STATE only once they are emitted.
        """
        if full:
            inventory.note_full_refresh(started, self._last_count)
            inventory.note_orders_checked(started, [])
            return
        activity, since = inventory.order_activity()
        looked = inventory.orders_looked()
        wanted = looked.skus_to_read(activity, since) - self.read_after(activity.finished_at)
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
            self.feed(self.prepare([inventory], page), None, started, refreshed=True)
        inventory.note_orders_checked(activity.until, looked.next_zones(activity))

    def read_after(self, moment: float | None) -> set[str]:
        """The SKUs of product pages this run asked for after ``moment`` (``time.monotonic``)."""
        if moment is None:
            return set()
        return {sku for sku, asked in self._read_at.items() if asked > moment}

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
        """A page of ``/product/``, noting the list's size when unfiltered, and when each
        product on it was asked for."""
        asked = time.monotonic()
        page = self.fetch_page(query)
        unfiltered = "updated_after" not in query and "updated_before" not in query
        if unfiltered and page.count is not None:
            self._last_count = page.count
        for product in page.records:
            if isinstance(product, Mapping) and isinstance(product.get("sku"), str):
                self._read_at[product["sku"]] = asked
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
    without an order (purchase-order receipts, returns restocked, manual counts) or with an
    order that no longer names the SKU (a line removed, or switched to another SKU).

    A record's version is its whole content: a figure that differs from the last one emitted
    for its key is emitted, whatever was emitted before. Products read again for stock are
    emitted unless this run emitted the same content already.
    """

    parent_stream_type = ProductsStream
    is_sorted = False
    content_versions: ClassVar[bool] = True

    #: Custom keys of this stream's STATE.
    ORDERS_CHECKED = "orders_checked_until"
    ORDERS_SEEN = "orders_seen_recently"
    FULL_REFRESH = "full_refresh_at"
    CATALOG_SIZE = "catalog_size"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Key fingerprint -> content fingerprint emitted (or found emitted) in this run.
        self._this_run: dict[int, int] = {}

    @override
    def begin_sync(self) -> None:
        super().begin_sync()
        self._this_run = {}

    @override
    def remember(self, moment: datetime, version: Version) -> None:
        super().remember(moment, version)
        self._this_run[version.key] = version.value

    @override
    def read(self, context: Context | None) -> Iterable[Record]:
        for record in super().read(context):
            version = self.version(record)
            if self._this_run.get(version.key) != version.value:
                yield record

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

    def note_orders_checked(self, until: datetime | None, looked: list[Zone]) -> None:
        """Orders updated before ``until`` have been looked at for stock moves, and ``looked``
        says which of its last ``lookback_seconds`` (never moves back: a read that found
        nothing newer than an old order still covered until now). Call it once their
        products are emitted: a STATE that said so earlier would survive a crash in between."""
        checked = self.stream_state.get(self.ORDERS_CHECKED)
        if checked is not None and (until is None or until < instant(checked)):
            return
        if until is not None:
            self.stream_state[self.ORDERS_CHECKED] = to_utc_iso(until)
            self.stream_state[self.ORDERS_SEEN] = [zone.to_state() for zone in looked]

    def orders_check_start(self) -> datetime | None:
        """From when the orders are looked at for stock moves (None: not at all this time)."""
        checked = self.stored_state().get(self.ORDERS_CHECKED)
        if checked is None:
            return None
        return instant(checked) - self.settings.lookback

    def orders_looked(self) -> OrdersLooked:
        """What this stream's STATE says it looked at among the orders it reads again."""
        zones = zones_from_state(self.stored_state().get(self.ORDERS_SEEN))
        return OrdersLooked(zones, self.settings.lookback)

    def order_activity(self) -> tuple[OrderActivity, datetime | None]:
        """The orders updated since this stream last looked, and since when.

        The orders this run read already serve when they cover it, else one keyset read of
        ``/v3/order`` now (counted as this stream's requests).
        """
        since = self.orders_check_start()
        activity: OrderActivity = self._tap.order_activity  # type: ignore[attr-defined]
        if activity.covers(since):
            return activity, since
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
        activity.until = reader.watermark
        activity.finish()
        return activity, since


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
