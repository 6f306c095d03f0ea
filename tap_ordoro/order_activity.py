"""The orders a run read that inventory may need, and which of them it has looked at already.

A sale moves stock without touching the product (see :class:`tap_ordoro.stock.InventoryStream`),
so inventory reads again the products on the orders updated since it last looked.
:class:`OrderActivity` is what the run's read of ``/v3/order`` tells it; :class:`OrdersLooked`
is what inventory's STATE says it has looked at (the orders of the last ``lookback_seconds``
before ``orders_checked_until``, as zones: see :mod:`tap_ordoro.rereads`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tap_ordoro.client import instant
from tap_ordoro.coverage import Range
from tap_ordoro.paging import Record
from tap_ordoro.rereads import EmittedVersions, Rereads, Version, Zone, key_version

#: Keyset reads of /v3/order identify an order by its number and its ``updated_date``.
ORDER_KEY = "order_number"


def order_version(order: Mapping[str, Any]) -> Version:
    """What identifies one version of an order: its number and its ``updated_date``."""
    return key_version(order.get(ORDER_KEY), order.get("updated_date"))


@dataclass(frozen=True)
class NotedOrder:
    """One version of an order: when it was updated, and the SKUs of its lines."""

    moment: datetime
    version: Version
    skus: tuple[str, ...]


@dataclass
class OrderActivity:
    """The orders read in this run that inventory may need: their versions, instants and SKUs.

    Orders updated before ``interest`` are not noted (inventory looked at them already, or
    reads the whole catalog). ``skipped``: ranges the read did not read again (a resumed run);
    the orders there were not noted.
    """

    interest: datetime | None = None
    noting: bool = False
    since: datetime | None = None
    until: datetime | None = None
    complete: bool = False
    skipped: list[Range] = field(default_factory=list)
    #: ``time.monotonic()`` when the read completed (products read after it reflect every
    #: order it saw).
    finished_at: float | None = None
    orders: dict[Version, NotedOrder] = field(default_factory=dict)

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
            version = order_version(order)
            self.orders[version] = NotedOrder(moment, version, skus)

    def finish(self) -> None:
        """The read is complete."""
        self.complete = True
        self.finished_at = time.monotonic()

    def covers(self, since: datetime | None) -> bool:
        """Whether this run noted every order updated at or after ``since``."""
        if not (self.complete and self.noting):
            return False
        if any(since is None or high > since for _, high in self.skipped):
            return False
        floor = max(
            (moment for moment in (self.since, self.interest) if moment is not None), default=None
        )
        return floor is None or (since is not None and floor <= since)


@dataclass
class OrdersLooked:
    """Which orders of a run's activity inventory has not looked at yet (their SKUs), and the
    zones to keep for the next run (what it looked at in its last ``lookback``)."""

    zones: list[Zone]
    lookback: timedelta

    def skus_to_read(self, activity: OrderActivity, since: datetime | None) -> set[str]:
        """The SKUs on orders updated from ``since`` on that were not looked at before."""
        rereads: Rereads[NotedOrder] = Rereads(self.zones, lambda noted: noted.version)
        skus: set[str] = set()
        for noted in activity.orders.values():
            if since is not None and noted.moment < since:
                continue
            zone = rereads.zone_of(noted.moment)
            if zone is None:
                skus.update(noted.skus)
            else:
                rereads.hold(zone, noted, noted.moment)
        changed, _ = rereads.release(None, final=True)
        for noted in changed:
            skus.update(noted.skus)
        return skus

    def next_zones(self, activity: OrderActivity) -> list[Zone]:
        """What inventory has looked at in the last ``lookback`` before ``activity.until``."""
        until = activity.until
        if until is None:
            return []
        looked = EmittedVersions()
        for noted in activity.orders.values():
            looked.note(noted.moment, noted.version)
        return looked.zones([(until - self.lookback, until)])
