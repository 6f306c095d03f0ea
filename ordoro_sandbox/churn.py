"""Records that change while a client pages through a list ("mutate_per_page").

With K > 0, before answering each list request for orders, products or purchase orders after
the first one since K was set, the sandbox gives K records that EARLIER list responses of that
resource served a new updated timestamp (now). It picks them in the order they were served,
skipping ones it bumped already, so the choice is deterministic.

Effect: a client paging with plain offsets over an updated-sorted list skips records (the
bumped ones move to the end, everything behind them shifts forward by K), while keyset-like
paging (``updated_after`` = the last updated value seen) sees every record.

With ``mutate_unread_per_page`` = U > 0, the same requests also give U records that NO list
response of that resource has served yet a new updated timestamp (now), the oldest first: a
record not read yet leaves its place for the end of the list. A client reading windows of
instants in parallel sees a record leave a window it has not finished for a later one, which
may be one it has finished.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ordoro_core.timestamps import parse_instant
from ordoro_sandbox.records import UPDATED_FIELD
from ordoro_sandbox.store import Store

#: List key of the resource -> the store's attribute holding its records.
CHURNING_RESOURCES = {"order": "orders", "product": "products", "purchase_order": "purchase_orders"}


class SyncChurn:
    """Bumps ``per_page`` already-served records before each later list page."""

    def __init__(self, per_page: int = 0, unread_per_page: int = 0) -> None:
        self._lock = threading.Lock()
        self.configure(per_page, unread_per_page)

    def configure(self, per_page: int, unread_per_page: int = 0) -> None:
        """Set K (served records) and U (records not served yet); count list requests afresh."""
        if per_page < 0 or unread_per_page < 0:
            raise ValueError("mutate_per_page and mutate_unread_per_page cannot be negative")
        with self._lock:
            self.per_page = per_page
            self.unread_per_page = unread_per_page
            self._pages: dict[str, int] = dict.fromkeys(CHURNING_RESOURCES, 0)
            self._served: dict[str, dict[str, None]] = {r: {} for r in CHURNING_RESOURCES}
            self._bumped: dict[str, set[str]] = {r: set() for r in CHURNING_RESOURCES}

    def before_page(self, store: Store, resource: str) -> list[str]:
        """Bump records before answering a list request; returns the keys bumped."""
        if resource not in CHURNING_RESOURCES:
            return []
        with self._lock:
            if self.per_page <= 0 and self.unread_per_page <= 0:
                return []
            self._pages[resource] += 1
            if self._pages[resource] == 1:
                return []
            bumped = self._bumped[resource]
            served = self._served[resource]
            kind = CHURNING_RESOURCES[resource]
            with store.lock:
                records = getattr(store, kind)
                chosen = [key for key in served if key not in bumped and key in records][
                    : self.per_page
                ]
                if self.unread_per_page > 0:
                    field = UPDATED_FIELD[kind]
                    unread = sorted(
                        (key for key in records if key not in served and key not in bumped),
                        key=lambda key: (parse_instant(records[key][field]), str(key)),
                    )
                    chosen += unread[: self.unread_per_page]
                for key in chosen:
                    store.touch(kind, key)
                    bumped.add(key)
            return chosen

    def after_page(self, resource: str, keys: Iterable[str]) -> None:
        """Remember which records a list response served."""
        if resource not in CHURNING_RESOURCES:
            return
        with self._lock:
            if self.per_page <= 0 and self.unread_per_page <= 0:
                return
            served = self._served[resource]
            for key in keys:
                served.setdefault(key)
