"""Which Ordoro order a record's order is, decided by what Ordoro holds (no local file).

An order keeps the number Ordoro gives it, ``<sales channel index>-<order_id>`` (``M-…`` for a
manual order), and every order the target creates carries one account tag that says how the
target named it (:data:`COPY_TAG` or :data:`OWN_TAG`): the *marker*. The record's own
``cart_order_id`` is left to the shop (Ordoro's integrations send tracking back by it).

* A record with ``order_number`` (another account's order, tap-ordoro's ``1-1005``, or a
  shop's ``#1001``) is a *source order*: its order is created with that number as its
  ``order_id`` (``M-1-1005``, ``<index>-#1001``) and tagged :data:`COPY_TAG`.
* A record with only ``order_id`` names an order of this account in the configured sales
  channel, ``<index>-<order_id>`` (``M-<order_id>``): Ordoro's own identity. One the target
  creates is tagged :data:`OWN_TAG`.

:class:`OrderLocator` finds a record's order: the configured sales channel's number first,
then the same order_id under every other prefix of the account (only when the first is not
the record's order), so that an order written before ``sales_channel_id`` changed is found
where it is and never created twice. A number taken by an order that is not the record's is a
*conflict*: the record is refused naming both, never merged. Copies made by earlier versions
(no tag, the source number in ``cart_order_id``) are recognised as copies too.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ordoro_core.client import MAX_PAGE_SIZE, OrdoroClient
from ordoro_core.order_numbers import MANUAL_PREFIX
from ordoro_core.urls import build_path
from target_ordoro.writers.numbering import OrderNumbering
from target_ordoro.writers.results import lookup_of, quoted, shown

#: The tag of an order the target created from a record with ``order_number`` (a source order).
COPY_TAG = "target-ordoro:copy"
#: The tag of an order the target created from a record with only ``order_id``.
OWN_TAG = "target-ordoro:order"
#: Both marker tags: never removed, never counted as the record's tags.
MARKER_TAGS = frozenset({COPY_TAG, OWN_TAG})
#: The color of the marker tags (a quiet grey).
MARKER_COLOR = "#9e9e9e"


def find_order(client: OrdoroClient, order_number: str) -> dict[str, Any] | None:
    """``GET /v3/order/{order_number}``, or None when Ordoro has no such order.

    Raises :class:`KeyRefused` when Ordoro refuses the lookup for the number itself (e.g. 414:
    too long for a URL).
    """
    with lookup_of(f"order {shown(order_number)}"):
        order = client.get_or_none(build_path("v3", "order", order_number))
    return order if isinstance(order, dict) else None


def order_cart_order_id(order: Mapping[str, Any]) -> str | None:
    """An order's ``cart_order_id`` wherever Ordoro answers it: at the top (the legacy
    ``/order/`` answers) or on its lines (``/v3/order``, as the spec has it)."""
    top = order.get("cart_order_id")
    if isinstance(top, str) and top:
        return top
    for line in order.get("lines") or []:
        value = line.get("cart_order_id") if isinstance(line, Mapping) else None
        if isinstance(value, str) and value:
            return value
    return None


def order_tag_texts(order: Mapping[str, Any]) -> set[str]:
    """The texts of an order's tags (``text``, or ``name`` as the spec's v3_tag)."""
    texts = set()
    for tag in order.get("tags") or []:
        if isinstance(tag, Mapping):
            text = tag.get("text") or tag.get("name")
            if isinstance(text, str):
                texts.add(text)
    return texts


def marker_tag_body(text: str) -> dict[str, str]:
    """A marker tag as ``POST /v3/order`` takes it."""
    return {"text": text, "color": MARKER_COLOR}


@dataclass(frozen=True)
class OrderIdentity:
    """Which order a record is: its source order_number, or this account's order_id.

    See the module docstring. ``source`` is the order_number or order_id as the record gives
    it; ``is_copy`` is True for a record with ``order_number``.
    """

    source: str
    is_copy: bool

    @property
    def order_id(self) -> str:
        """The order_id the Ordoro order has (its number without the prefix)."""
        return self.source

    @property
    def tag(self) -> str:
        """The marker tag an order the target creates for this record carries."""
        return COPY_TAG if self.is_copy else OWN_TAG

    @property
    def key(self) -> str:
        """What identifies the order within one input (superseding is by this key)."""
        return f"{'number' if self.is_copy else 'id'}:{self.source}"

    @property
    def provides(self) -> str:
        """What deferred shipments of this order wait for."""
        return f"source:{self.source}" if self.is_copy else f"id:{self.source}"

    def claims(self, order: Mapping[str, Any]) -> bool:
        """Whether ``order`` (at a number of this order_id) is the one the target made for
        this record: it carries this kind's marker tag, or, for a copy, the marker of earlier
        versions (no marker tag, the source number in ``cart_order_id``)."""
        tags = order_tag_texts(order)
        if self.tag in tags:
            return True
        if not self.is_copy or tags & MARKER_TAGS:
            return False
        return order_cart_order_id(order) == self.source

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> OrderIdentity:
        """The identity of a validated order record: ``order_number`` when it has one."""
        order_number = record.get("order_number")
        if isinstance(order_number, str) and order_number:
            return cls(order_number, is_copy=True)
        return cls(str(record["order_id"]), is_copy=False)


def what_order_is(order: Mapping[str, Any], order_id: str) -> str:
    """An existing order numbered with ``order_id`` in words, by its marker, for reasons."""
    tags = order_tag_texts(order)
    if COPY_TAG in tags:
        return f"target-ordoro's copy of source order {shown(order_id)} (tag {COPY_TAG})"
    if OWN_TAG in tags:
        return f"this account's own order, created by target-ordoro from order_id {shown(order_id)}"
    return f"this account's own order (cart_order_id {quoted(order_cart_order_id(order))})"


@dataclass(frozen=True)
class Located:
    """Where a record's order is: ``order`` (found), ``taken`` (its number is another
    order's), or neither (to be created at ``expected``). ``moved``: found under another
    sales channel's prefix than the configured one."""

    expected: str
    order: dict[str, Any] | None = None
    taken: dict[str, Any] | None = None
    moved: bool = False


class OrderLocator:
    """Finds a record's order in Ordoro (see the module docstring). Thread-safe.

    The account's sales channel indexes are read once per run (``GET /cart/``), when a
    record's order is not at the configured channel's number.
    """

    def __init__(self, client: OrdoroClient, numbering: OrderNumbering) -> None:
        self.client = client
        self.numbering = numbering
        self._prefixes: tuple[str, ...] | None = None
        self._lock = threading.Lock()

    def prefixes(self) -> tuple[str, ...]:
        """Every order number prefix of the account: "M" and each sales channel's index."""
        with self._lock:
            if self._prefixes is None:
                self._prefixes = (MANUAL_PREFIX, *self._cart_indexes())
            return self._prefixes

    def _cart_indexes(self) -> list[str]:
        indexes: list[str] = []
        offset = 0
        while True:
            page = self.client.get(build_path("cart"), {"limit": MAX_PAGE_SIZE, "offset": offset})
            carts = page.get("cart") if isinstance(page, dict) else None
            for cart in carts or []:
                if isinstance(cart, dict) and cart.get("index") is not None:
                    indexes.append(str(cart["index"]))
            offset += MAX_PAGE_SIZE
            count = page.get("count", 0) if isinstance(page, dict) else 0
            if not carts or offset >= count:
                return indexes

    def locate(self, identity: OrderIdentity) -> Located:
        """The record's order, the order that takes its number, or where to create it."""
        expected = self.numbering.order_number(identity.order_id)
        here = find_order(self.client, expected)
        if here is not None and self._is_at_its_number(identity, here):
            return Located(expected, order=here)
        own_prefix = expected[: -len(identity.order_id) - 1]
        for prefix in self.prefixes():
            if prefix == own_prefix:
                continue
            elsewhere = find_order(self.client, f"{prefix}-{identity.order_id}")
            if elsewhere is not None and identity.claims(elsewhere):
                return Located(expected, order=elsewhere, moved=True)
        return Located(expected, taken=here)

    @staticmethod
    def _is_at_its_number(identity: OrderIdentity, order: Mapping[str, Any]) -> bool:
        """Whether the order at the configured number is the record's: the one the target
        made for it, or, for an order_id, any order of this account that is not a copy."""
        if identity.claims(order):
            return True
        return not identity.is_copy and COPY_TAG not in order_tag_texts(order)


def conflict_reason(identity: OrderIdentity, expected: str, taken: Mapping[str, Any]) -> str:
    """Why a record is refused when its order's number is another order's: names both."""
    wanted = (
        f"a copy of source order {shown(identity.source)}"
        if identity.is_copy
        else f"this account's own order {shown(identity.source)} (order_id)"
    )
    return (
        f"order number {shown(expected)} is taken in Ordoro by another order: "
        f"{what_order_is(taken, identity.order_id)}, not {wanted}: nothing was merged"
    )
