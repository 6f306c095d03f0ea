"""Reading what Ordoro holds before writing, at the lowest request cost for a batch.

Ordoro has no bulk write: every product change or on-hand value costs one request. Reading is
cheaper in bulk: ``GET /product/`` answers 100 products a request (its ``count`` tells the
catalog's size), ``GET /product/{sku}/`` one. So, per batch of records, :class:`ProductReader`
chooses the cheapest of three paths (:func:`choose_read`):

* **list**: read the whole product list (``ceil(count / 100)`` requests), then write only the
  rows that differ; SKUs not in the list are known to be missing;
* **per SKU**: read each SKU of the batch (one request per SKU), then write what differs;
* **blind**: read nothing and write every row (what differs is unknown; a blind write of the
  value Ordoro already holds counts as written).

Reading costs are compared with the writes a blind run would send, assuming most rows are
unchanged (supplier feeds resend their whole catalog every run); on a tie nothing is read. The
catalog size is learnt from the first list page, once per run (that page's products are used).
A batch of one row is always written blind.

Example: 1,000 on-hand rows over 500 SKUs, catalog of 500 products, 50 rows changed: list =
5 reads + 50 writes; per SKU = 500 + 50; blind = 1,000.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from ordoro_core.client import MAX_PAGE_SIZE, OrdoroClient
from ordoro_core.urls import build_path
from target_ordoro.writers.results import KeyRefused, lookup_of, quoted

T = TypeVar("T")
R = TypeVar("R")

#: The product list's sort: creation order, which updates do not change (stable offsets).
PRODUCT_LIST_SORT = "created"


class _Unread(Enum):
    UNREAD = "unread"


#: A SKU whose lookup Ordoro refused (see :meth:`ProductReader._one`): not read, written blind.
UNREAD = _Unread.UNREAD


class ReadPath(str, Enum):
    """How a batch learns what Ordoro holds."""

    LIST = "list"
    PER_SKU = "per_sku"
    BLIND = "blind"


def choose_read(*, rows: int, skus: int, pages: int) -> ReadPath:
    """The cheapest way to learn the current values of ``skus`` SKUs (``rows`` rows to write).

    ``pages`` is what reading the rest of the product list would cost. Costs are compared
    without the writes (the same for both read paths, and at most ``rows`` for blind); on a tie
    the path that reads less wins.

    >>> choose_read(rows=1000, skus=500, pages=5).value
    'list'
    >>> choose_read(rows=40, skus=20, pages=1000).value
    'per_sku'
    >>> choose_read(rows=5, skus=5, pages=5).value
    'blind'
    """
    if rows <= 1 or skus == 0:
        return ReadPath.BLIND
    costs = [(rows, 0, ReadPath.BLIND), (skus, 1, ReadPath.PER_SKU), (pages, 2, ReadPath.LIST)]
    return min(costs)[2]


def fetch_all(function: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """``function`` over ``items``, ``workers`` at a time, results in input order."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(min(workers, len(items)), thread_name_prefix="ordoro-read") as pool:
        return list(pool.map(function, items))


@dataclass
class ProductSnapshot:
    """What Ordoro held for a batch's SKUs when it was read.

    ``products`` maps a SKU to its product, or to None when Ordoro has no such SKU; a SKU that
    is not a key was not read (written blind). ``path`` and ``requests`` say how it was read.
    """

    products: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    path: ReadPath = ReadPath.BLIND
    requests: int = 0

    def knows(self, sku: str) -> bool:
        """Whether the SKU was read (present or known missing)."""
        return sku in self.products

    def get(self, sku: str) -> dict[str, Any] | None:
        """The product of a SKU that was read, or None when Ordoro has no such SKU."""
        return self.products.get(sku)


class ProductReader:
    """Reads the current products of a batch's SKUs, choosing the cheapest path (thread-safe)."""

    def __init__(self, client: OrdoroClient, max_workers: int = 4) -> None:
        self.client = client
        self.max_workers = max_workers
        self._count: int | None = None
        self._lock = threading.Lock()
        #: SKUs this run created: their stock rows are always written, never compared (what a
        #: new product holds per warehouse is Ordoro's to decide; see InventoryWriter).
        self.created: set[str] = set()

    def note_created(self, sku: str) -> None:
        """This run created ``sku``."""
        with self._lock:
            self.created.add(sku)

    def was_created(self, sku: str) -> bool:
        """Whether this run created ``sku``."""
        with self._lock:
            return sku in self.created

    def read(self, rows_by_sku: Mapping[str, int]) -> ProductSnapshot:
        """What Ordoro holds for these SKUs (``rows_by_sku``: rows to write per SKU)."""
        rows = sum(rows_by_sku.values())
        snapshot = ProductSnapshot()
        if rows <= 1 or not rows_by_sku:
            return snapshot
        wanted = set(rows_by_sku)
        seen: dict[str, dict[str, Any]] = {}
        with self._lock:
            count = self._count
        pages_read = 0
        if count is None:
            page = self._page(0)
            snapshot.requests += 1
            pages_read = 1
            count = self._remember_count(page)
            seen.update(self._matching(page, wanted))
        total_pages = max(1, math.ceil(count / MAX_PAGE_SIZE))
        missing = [sku for sku in rows_by_sku if sku not in seen]
        snapshot.products.update(seen)
        if not missing:
            snapshot.path = ReadPath.LIST
            return snapshot
        if pages_read >= total_pages:
            snapshot.products.update(dict.fromkeys(missing))
            snapshot.path = ReadPath.LIST
            return snapshot
        path = choose_read(
            rows=sum(rows_by_sku[sku] for sku in missing),
            skus=len(missing),
            pages=total_pages - pages_read,
        )
        snapshot.path = path
        if path is ReadPath.LIST:
            listed, requests = self._list_from(pages_read, total_pages, wanted)
            snapshot.requests += requests
            snapshot.products.update(listed)
            snapshot.products.update({sku: None for sku in missing if sku not in listed})
        elif path is ReadPath.PER_SKU:
            found = fetch_all(self._one, missing, self.max_workers)
            snapshot.requests += len(missing)
            for sku, product in zip(missing, found, strict=True):
                if product is not UNREAD:
                    snapshot.products[sku] = product
        return snapshot

    def _one(self, sku: str) -> dict[str, Any] | _Unread | None:
        """The product of one SKU, None when Ordoro has none, or UNREAD when Ordoro refused the
        lookup for the SKU itself (e.g. 414: too long for a URL): that row is written blind,
        and its write gets the answer that dead-letters it."""
        try:
            with lookup_of(f"SKU {quoted(sku)}"):
                product = self.client.get_or_none(build_path("product", sku))
        except KeyRefused:
            return UNREAD
        return product if isinstance(product, dict) else None

    def _page(self, page: int) -> dict[str, Any]:
        body = self.client.get(
            build_path("product"),
            {"limit": MAX_PAGE_SIZE, "offset": page * MAX_PAGE_SIZE, "sort": PRODUCT_LIST_SORT},
        )
        return body if isinstance(body, dict) else {}

    def _remember_count(self, page: Mapping[str, Any]) -> int:
        count = page.get("count")
        count = count if isinstance(count, int) and count >= 0 else 0
        with self._lock:
            self._count = count
        return count

    @staticmethod
    def _matching(page: Mapping[str, Any], wanted: set[str]) -> dict[str, dict[str, Any]]:
        products = page.get("product") or []
        return {
            product["sku"]: product
            for product in products
            if isinstance(product, dict) and product.get("sku") in wanted
        }

    def _list_from(
        self, first_page: int, total_pages: int, wanted: set[str]
    ) -> tuple[dict[str, dict[str, Any]], int]:
        """The wanted SKUs' products from pages ``first_page`` on, and the requests it took.

        Pages are read concurrently; if the catalog grew since its count was read (a later
        page's ``count`` is larger), the pages beyond are read too.
        """
        found: dict[str, dict[str, Any]] = {}
        pages = fetch_all(self._page, range(first_page, total_pages), self.max_workers)
        requests = len(pages)
        for page in pages:
            found.update(self._matching(page, wanted))
        next_page = total_pages
        count = max((self._remember_count(page) for page in pages), default=0)
        while next_page * MAX_PAGE_SIZE < count:
            page = self._page(next_page)
            requests += 1
            next_page += 1
            found.update(self._matching(page, wanted))
            count = self._remember_count(page)
        return found, requests
