"""tap-ordoro's order streams, and the registry of every stream that needs a class of its own.

What names a stream (path, list key, keys, replication key, schema) is its declaration in
``ordoro_core.catalog.STREAMS``; a class only says how its paging or records differ. Orders,
shipments and return orders live here; products and inventory, which share the read of
``/product/`` and keep stock fresh, in :mod:`tap_ordoro.stock`. How a parent and its children
share one read is :mod:`tap_ordoro.family`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from typing_extensions import override

from ordoro_core.order_numbers import strip_order_prefix
from tap_ordoro.client import Batch, OrdoroStream
from tap_ordoro.coverage import Range
from tap_ordoro.family import ChildStream, ParentStream
from tap_ordoro.order_activity import OrderActivity
from tap_ordoro.paging import NewestFirstReader, Record
from tap_ordoro.stock import InventoryStream, ProductsStream

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class OrdersStream(ParentStream):
    """Orders (``GET /v3/order``), keyset-paged on ``updated_date``; the parent of shipments.

    Every order read is also noted in the run's :class:`OrderActivity`.
    """

    _family_from: datetime | None = None
    _family_skip: list[Range] | None = None

    def plan_family_read(self) -> None:
        """Where the one read of ``/v3/order`` starts, for this stream and its children, and
        the ranges a killed run finished for all of them (not read again)."""
        children = self.selected_children()
        for child in children:
            child.capture_state()
        self.capture_state()
        self._family_from = self.family_start(children)
        self._family_skip = self.family_skip(children)

    @override
    def list_batches(self) -> Iterator[Batch]:
        reader = self.keyset_reader("updated_date", tie_sort="order_number")
        for batch in reader.batches(self._family_from, self._family_skip or ()):
            yield batch, reader.coverage()
        yield [], reader.coverage()  # where the reader ended (see settle_bookmark)

    @override
    def read(self, context: Context | None) -> Iterable[Record]:
        if self._ahead is None:
            self.plan_family_read()
        children = self.selected_children()
        for child in children:
            child.begin_sync()
        own_start = self.read_start()
        activity = self.order_activity
        activity.since, activity.complete = self._family_from, False
        activity.skipped = list(self._family_skip or [])
        interest = self.inventory_interest()
        activity.noting, activity.interest = interest is not None, interest
        for batch, coverage in self.batches_in_turn():
            self.follow(coverage)
            activity.until = self.bookmark_limit
            activity.add(batch)
            prepared = self.prepare(children, batch)
            if self.selected:
                yield from self.admit(batch, own_start)
                yield from self.release()
                self.note_delivered()
            if batch:
                self.feed(prepared, coverage, self.bookmark_limit)
        activity.finish()
        if self.selected:
            yield from self.release(final=True)
            self.settle_bookmark()
        for child in children:
            child.follow(self.delivered)
            child.finish_reading()
            child.settle_bookmark()
            child.end_sync()

    @property
    def order_activity(self) -> OrderActivity:
        """The run's order activity (one per tap run)."""
        return self._tap.order_activity  # type: ignore[attr-defined]

    def inventory_interest(self) -> datetime | None:
        """From when inventory, if selected later in this run, needs the orders (else None)."""
        inventory = self._tap.streams.get("inventory")
        if not (isinstance(inventory, InventoryStream) and inventory.selected):
            return None
        return inventory.orders_check_start()


class ShipmentsStream(ChildStream):
    """One record per shipped order with tracking, made from the orders the parent read."""

    parent_stream_type = OrdersStream

    @override
    def records_from(self, source: Record) -> Iterable[Record]:
        shipment = shipment_from_order(source)
        return () if shipment is None else (shipment,)


def shipment_from_order(order: dict[str, Any]) -> dict[str, Any] | None:
    """The shipment record of a shipped order, or None when it carries no tracking."""
    if order.get("status") != "shipped":
        return None
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
            if isinstance(line, Mapping)  # a null line carries nothing to ship
        ],
        "created_date": info.get("created_date"),
        "updated_date": order["updated_date"],
        "sales_channel_id": (order.get("sales_channel") or {}).get("id"),
        "warehouse_id": (order.get("warehouse") or {}).get("id"),
    }


class ReturnOrdersStream(OrdoroStream):
    """Return orders (``GET /v3/return_order``), read newest first.

    The API has no ``updated_after`` filter here, but sorts by ``-updated_date``: reading stops
    at the first record older than where the sync starts (see :mod:`tap_ordoro.paging`). With
    no time filter to narrow by, more changed return orders than the API serves by offset (a
    result window) fail the run with a message.
    """

    is_sorted = False

    @override
    def list_batches(self) -> Iterator[Batch]:
        reader = NewestFirstReader(
            self.fetch_page,
            {"sort": "-updated_date"},
            instant_of=self.record_instant,
            terms=self.list_terms(),
        )
        for page in reader.pages(self.read_start()):
            yield page, None

    @override
    def read(self, context: Context | None) -> Iterable[Record]:
        start = self.read_start()
        seen: set[tuple[Any, ...]] = set()
        for page, _ in self.batches_in_turn():
            fresh = []
            for record in page:
                key = self.record_key(record)
                if key in seen:
                    continue  # moved ahead by an update while we paged: read twice
                seen.add(key)
                fresh.append(record)
            yield from self.admit(fresh, start)
        yield from self.release(final=True)


#: The streams whose paging or record shape differs from :class:`OrdoroStream`'s defaults
#: (a full table, or keyset-like paging on the replication key). Every other stream of the
#: catalog (purchase orders, warehouses, sales channels, suppliers) is a plain
#: ``OrdoroStream`` of its :class:`~ordoro_core.catalog.StreamSpec`.
STREAM_CLASSES: dict[str, type[OrdoroStream]] = {
    "orders": OrdersStream,
    "shipments": ShipmentsStream,
    "products": ProductsStream,
    "inventory": InventoryStream,
    "return_orders": ReturnOrdersStream,
}
