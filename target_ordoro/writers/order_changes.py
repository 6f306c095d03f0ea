"""What an order record asks of an order that already exists in Ordoro: the differences only.

:func:`diff_order` compares the planned order (the ``post_order_v1`` body the record maps to,
and the record's status) with Ordoro's current order and lists what would bring Ordoro in line:

* **status**: ``cancelled`` cancels an order that is not cancelled; ``awaiting_fulfillment``
  uncancels a cancelled one. Other statuses ask nothing (Ordoro ships orders itself);
* **fields** Ordoro lets ``PUT /v3/order/{order_number}`` change (notes, ship-by and
  deliver-by dates);
* **addresses**: the shipping and billing address fields of ``update_address`` the record
  gives, where they differ (an empty text and none are the same);
* **tags**: tags the record carries that the order lacks; with ``remove_order_tags`` also tags
  the order has and the record no longer carries (only when the record carries ``tags``),
  never the target's marker tags (see :mod:`target_ordoro.writers.identity`);
* **lines**: quantities per SKU, SKUs added and SKUs removed.

Nothing here sends a request: :class:`target_ordoro.writers.orders.OrdersWriter` decides what is
applied (never anything on a shipped order; lines only with ``update_order_lines``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from target_ordoro.writers.base import same_instant, same_value
from target_ordoro.writers.identity import MARKER_TAGS
from target_ordoro.writers.results import shown
from target_ordoro.writers.tags import tag_text

#: The fields of ``update_address`` (PUT /v3/order/{order_number}/shipping_address).
UPDATABLE_ADDRESS_FIELDS = (
    "name",
    "company",
    "street1",
    "street2",
    "city",
    "state",
    "zip",
    "country",
    "email",
    "phone",
)
#: The fields of ``v1_address`` (an address in POST /v3/order): the updatable ones and more.
ADDRESS_FIELDS = (*UPDATABLE_ADDRESS_FIELDS, "fax", "reference_number", "cart_address_id")
ADDRESSES = ("shipping_address", "billing_address")
#: The fields PUT /v3/order/{order_number} can change on an existing order.
ORDER_UPDATABLE_FIELDS = (
    "notes_from_customer",
    "internal_notes",
    "ship_by_date",
    "deliver_by_date",
)
ORDER_DATE_FIELDS = ("ship_by_date", "deliver_by_date")


@dataclass(frozen=True)
class LineChange:
    """One line change: add a SKU, set a line's quantity, or remove a line."""

    kind: str  # "add", "quantity" or "remove"
    sku: str
    quantity: int = 0
    line_id: int | None = None
    previous: int = 0
    body: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """The change in a few words ("MUG 2 -> 3", "+CAP x1", "-HAT")."""
        sku = shown(self.sku)
        if self.kind == "add":
            return f"+{sku} x{self.quantity}"
        if self.kind == "remove":
            return f"-{sku}"
        return f"{sku} {self.previous} -> {self.quantity}"


@dataclass
class OrderDiff:
    """What would bring an existing order in line with its record."""

    cancel: bool = False
    uncancel: bool = False
    fields: dict[str, Any] = field(default_factory=dict)
    addresses: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags_to_add: list[tuple[str, str | None]] = field(default_factory=list)
    tags_to_remove: list[tuple[str, int]] = field(default_factory=list)
    lines: list[LineChange] = field(default_factory=list)
    #: Why the lines cannot be matched (a SKU on several lines), if so.
    line_problem: str | None = None

    @property
    def has_line_changes(self) -> bool:
        """Whether the lines differ (or cannot be matched)."""
        return bool(self.lines) or self.line_problem is not None

    def is_empty(self) -> bool:
        """Whether Ordoro's order already is what the record says."""
        return not (
            self.cancel
            or self.uncancel
            or self.fields
            or self.addresses
            or self.tags_to_add
            or self.tags_to_remove
            or self.has_line_changes
        )

    def describe_lines(self) -> str:
        """The line changes in a few words."""
        return self.line_problem or ", ".join(change.describe() for change in self.lines)

    def describe(self) -> str:
        """Every change, in a few words."""
        parts = []
        if self.uncancel:
            parts.append("uncancel")
        if self.fields:
            parts.append(", ".join(self.fields))
        for which, changes in self.addresses.items():
            parts.append(f"{which} ({', '.join(changes)})")
        if self.tags_to_add or self.tags_to_remove:
            tags = [f"+{shown(text)}" for text, _ in self.tags_to_add]
            tags += [f"-{shown(text)}" for text, _ in self.tags_to_remove]
            parts.append(f"tags ({', '.join(tags)})")
        if self.has_line_changes:
            parts.append(f"lines ({self.describe_lines()})")
        if self.cancel:
            parts.append("cancel")
        return "; ".join(parts)


def diff_order(
    body: Mapping[str, Any],
    status: str | None,
    existing: Mapping[str, Any],
    *,
    tags_given: bool,
    remove_tags: bool,
) -> OrderDiff:
    """What would bring ``existing`` (Ordoro's order) in line with the planned ``body``."""
    diff = OrderDiff()
    current_status = existing.get("status")
    if status == "cancelled" and current_status != "cancelled":
        diff.cancel = True
    elif status == "awaiting_fulfillment" and current_status == "cancelled":
        diff.uncancel = True
    for name in ORDER_UPDATABLE_FIELDS:
        if name in body and not _same_field(name, existing.get(name), body[name]):
            diff.fields[name] = body[name]
    for which in ADDRESSES:
        wanted = body.get(which)
        current = existing.get(which) if isinstance(existing.get(which), Mapping) else {}
        if not isinstance(wanted, Mapping):
            continue
        changes = {
            name: wanted[name]
            for name in UPDATABLE_ADDRESS_FIELDS
            if name in wanted and not same_value(current.get(name), wanted[name])
        }
        if changes:
            diff.addresses[which] = changes
    if tags_given:
        _diff_tags(diff, body.get("tags") or [], existing.get("tags") or [], remove_tags)
    _diff_lines(diff, body.get("lines") or [], existing.get("lines") or [])
    return diff


def _same_field(name: str, current: Any, wanted: Any) -> bool:
    if name in ORDER_DATE_FIELDS:
        return same_instant(current, wanted)
    return same_value(current, wanted)


def _diff_tags(diff: OrderDiff, wanted: list[Any], current: list[Any], remove: bool) -> None:
    have = {tag_text(tag): tag for tag in current if tag_text(tag) is not None}
    wanted_texts = []
    for tag in wanted:
        text = tag_text(tag)
        if text is None or text in wanted_texts:
            continue
        wanted_texts.append(text)
        if text not in have:
            color = tag.get("color") if isinstance(tag.get("color"), str) else None
            diff.tags_to_add.append((text, color))
    if remove:
        for text, tag in have.items():
            if text in MARKER_TAGS:
                continue  # the target's own marker: never the record's to remove
            if text not in wanted_texts and isinstance(tag.get("id"), int):
                diff.tags_to_remove.append((text, tag["id"]))


def _diff_lines(diff: OrderDiff, wanted: list[Any], current: list[Any]) -> None:
    wanted_by_sku: dict[str, int] = {}
    first_line: dict[str, Mapping[str, Any]] = {}
    for line in wanted:
        sku = (line.get("product") or {}).get("sku")
        if not isinstance(sku, str):
            continue
        wanted_by_sku[sku] = wanted_by_sku.get(sku, 0) + int(line.get("quantity") or 0)
        first_line.setdefault(sku, line)
    current_by_sku: dict[str, list[Mapping[str, Any]]] = {}
    for line in current:
        if isinstance(line, Mapping) and isinstance(line.get("sku"), str):
            current_by_sku.setdefault(line["sku"], []).append(line)
    for sku, quantity in wanted_by_sku.items():
        lines = current_by_sku.get(sku, [])
        have = sum(int(line.get("quantity") or 0) for line in lines)
        if have == quantity:
            continue
        if not lines:
            source = first_line[sku]
            body = {"sku": sku, "quantity": quantity}
            for name in ("item_price", "product_name"):
                if name in source:
                    body[name] = source[name]
            diff.lines.append(LineChange("add", sku, quantity, body=body))
        elif len(lines) > 1:
            diff.line_problem = (
                f"SKU {shown(sku)} is on several lines of the order: cannot match them"
            )
            return
        else:
            diff.lines.append(
                LineChange("quantity", sku, quantity, line_id=lines[0].get("id"), previous=have)
            )
    for sku, lines in current_by_sku.items():
        if sku not in wanted_by_sku:
            diff.lines.extend(LineChange("remove", sku, line_id=line.get("id")) for line in lines)
