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

Combined with ``mutate_per_page`` (records updated while a client pages through a list, see
:mod:`ordoro_sandbox.churn`), bulk actions give runs of equal instants longer than a
page whose members leave the run while a client pages through it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from ordoro_core.timestamps import parse_instant, to_account_iso
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
