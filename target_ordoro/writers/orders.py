"""Orders: created once (``POST /v3/order``) and found again through Ordoro itself.

See :class:`OrderIdentity` for how a record's order is identified, and :class:`OrdersWriter`
for what a replay does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ordoro_core import catalog
from ordoro_core.errors import OrdoroAPIError
from ordoro_core.urls import build_path
from ordoro_core.values import is_number
from target_ordoro.writers.base import Writer, instant_text, pick
from target_ordoro.writers.identity import (
    MARKER_TAGS,
    OrderIdentity,
    conflict_reason,
    find_order,
    marker_tag_body,
    order_cart_order_id,
)
from target_ordoro.writers.order_changes import (
    ADDRESS_FIELDS,
    ORDER_DATE_FIELDS,
    OrderDiff,
    diff_order,
)
from target_ordoro.writers.results import WritePlan, WriteResult, shown

ORDER_AMOUNT_FIELDS = (
    "product_amount",
    "shipping_amount",
    "tax_amount",
    "discount_amount",
    "grand_total",
)
ORDER_TEXT_FIELDS = (
    "notes_from_customer",
    "internal_notes",
    "cart_order_id",
    "cart_shipment_id",
)
#: Where an order's placement date may come from, most specific first.
ORDER_PLACED_FIELDS = ("order_date", "order_placed_date", "created_date")
#: The statuses POST /v3/order accepts.
CREATE_STATUSES = ("awaiting_fulfillment", "shipped")
LINE_TEXT_FIELDS = ("product_name", "selected_option", "cart_orderitem_id")
LINE_PRODUCT_TEXT_FIELDS = ("category",)
LINE_PRODUCT_NUMBER_FIELDS = ("price", "cost", "weight")


def address_body(source: Mapping[str, Any]) -> dict[str, Any]:
    """An address reduced to the fields of Ordoro's ``v1_address``."""
    return pick(source, ADDRESS_FIELDS, str)


def order_line_body(line: Mapping[str, Any]) -> dict[str, Any]:
    """A line of ``post_order_v1``: quantity, prices, and the product by SKU (with a name)."""
    nested = line.get("product") if isinstance(line.get("product"), Mapping) else {}
    sku = line.get("sku") or nested.get("sku")
    name = line.get("product_name") or nested.get("name") or sku
    product: dict[str, Any] = {"sku": sku, "name": name}
    product.update(pick(nested, LINE_PRODUCT_TEXT_FIELDS, str))
    product.update(pick(nested, LINE_PRODUCT_NUMBER_FIELDS, (int, float)))
    body: dict[str, Any] = {"product": product, "quantity": line["quantity"]}
    body.update(pick(line, ("item_price", "total_price"), (int, float)))
    body.update(pick(line, LINE_TEXT_FIELDS, str))
    if "selected_option" not in body and isinstance(line.get("details"), str) and line["details"]:
        body["selected_option"] = line["details"]
    return body


def record_cart_order_id(record: Mapping[str, Any]) -> str | None:
    """The record's own ``cart_order_id``: at its top, else the one its lines carry (the
    shape of tap-ordoro's records, as ``/v3/order`` answers)."""
    return order_cart_order_id(record)


class OrdersWriter(Writer):
    """Creates an order once (``POST /v3/order``), then follows it (see ``order_changes``).

    The order is looked up in Ordoro first, never in a local file
    (:class:`~target_ordoro.writers.identity.OrderLocator`). One that does not exist is
    created with its marker tag (and cancelled right after when its record is cancelled). One
    that exists is brought in line with the record, sending only the differences: status,
    addresses, tags, notes and dates, and lines with ``update_order_lines``; never anything on
    a shipped order. An order_number taken by an order that is not this record's is a
    conflict: the record is refused naming both, never merged into that order.
    """

    spec = catalog.STREAMS["orders"]

    def plan(self, record: dict[str, Any]) -> WritePlan:
        """Body: exactly the fields of ``post_order_v1`` (it allows no others)."""
        identity = OrderIdentity.of(record)
        body: dict[str, Any] = {"order_id": identity.order_id}
        if self.settings.sales_channel_id is not None:
            body["cart"] = self.settings.sales_channel_id
        for name in ("shipping_address", "billing_address", "alternate_ship_from_address"):
            if isinstance(record.get(name), Mapping):
                body[name] = address_body(record[name])
        body["lines"] = [order_line_body(line) for line in record["lines"]]
        tags = [
            {"text": text, **({"color": tag["color"]} if isinstance(tag.get("color"), str) else {})}
            for tag in record.get("tags") or []
            if isinstance(tag, Mapping)
            and isinstance(text := tag.get("text") or tag.get("name"), str)
            and text
            and text not in MARKER_TAGS
        ]
        if tags:
            body["tags"] = tags
        placed = next((record[name] for name in ORDER_PLACED_FIELDS if record.get(name)), None)
        if placed is not None:
            body["order_date"] = instant_text(placed, "order_date")
        for name in ORDER_DATE_FIELDS:
            if record.get(name) is not None:
                body[name] = instant_text(record[name], name)
        body.update(pick(record, ORDER_TEXT_FIELDS, str))
        cart_order_id = record_cart_order_id(record)
        if cart_order_id is not None:
            body["cart_order_id"] = cart_order_id
        shipping_type = record.get("shipping_type") or record.get("requested_shipping_method")
        if isinstance(shipping_type, str):
            body["shipping_type"] = shipping_type
        financial = record.get("financial") if isinstance(record.get("financial"), Mapping) else {}
        for name in ORDER_AMOUNT_FIELDS:
            value = record.get(name, financial.get(name))
            if is_number(value):
                body[name] = value
        issuer = record.get("credit_card_issuer") or financial.get("credit_card_issuer")
        if isinstance(issuer, str):
            body["credit_card_issuer"] = issuer
        if isinstance(record.get("warehouse_id"), int):
            body["warehouse_id"] = record["warehouse_id"]
        if record.get("status") in CREATE_STATUSES:
            body["status"] = record["status"]
        cart_info = record.get("additional_cart_info")
        if isinstance(cart_info, Mapping) and isinstance(cart_info.get("is_prime"), bool):
            body["additional_cart_info"] = {"is_prime": cart_info["is_prime"]}
        return WritePlan(
            key=identity.key,
            label=f"order {shown(identity.source)}",
            body=body,
            details={
                "identity": identity,
                "order_id": identity.order_id,
                "order_number": record.get("order_number"),
                "record_order_id": record.get("order_id") if identity.is_copy else None,
                "status": record.get("status"),
                "tags_given": "tags" in record,
            },
        )

    def apply(self, plan: WritePlan, current: Any) -> WriteResult:
        """Find the order in Ordoro; create it, or bring it in line with the record."""
        identity: OrderIdentity = plan.details["identity"]
        located = self.lookups.orders.locate(identity)
        if located.order is not None:
            return self._update_existing(plan, located.order)
        if located.taken is not None:
            return self._conflict(identity, located.expected, located.taken)
        expected = located.expected
        body = {**plan.body, "tags": [*plan.body.get("tags", []), marker_tag_body(identity.tag)]}
        try:
            created = self.client.post(
                build_path("v3", "order"),
                body,
                verify=lambda: self._claimed_at(identity, expected),
            )
        except OrdoroAPIError as error:
            if not (error.status == 400 and error.param == "order_id"):
                return WriteResult.rejected(error)
            # Created by someone else since it was looked up.
            existing = find_order(self.client, expected)
            if existing is None:
                return WriteResult.rejected(error)
            if not identity.claims(existing):
                return self._conflict(identity, expected, existing)
            return self._update_existing(plan, existing)
        number = created.get("order_number") if isinstance(created, dict) else None
        number = number or expected
        provides = self._provides(identity, number)
        if plan.details["status"] != "cancelled":
            return WriteResult.written("created", number, provides=provides)
        # A cancelled source order: created (POST takes open or shipped orders only), then
        # cancelled, so that it can never be shipped from here.
        try:
            self._post_status(number, "cancel")
        except OrdoroAPIError as error:
            return WriteResult.rejected(
                error, f"order {shown(number)} was created, but cancelling it failed: {error}"
            )
        return WriteResult.written("created", number, provides=provides, changes=("cancelled",))

    @staticmethod
    def _conflict(identity: OrderIdentity, expected: str, taken: Mapping[str, Any]) -> WriteResult:
        return WriteResult.refused(
            conflict_reason(identity, expected, taken),
            action="conflict",
            order_number=str(taken.get("order_number") or expected),
        )

    def _claimed_at(self, identity: OrderIdentity, number: str) -> dict[str, Any] | None:
        """After an ambiguous POST: the order it created, if it did."""
        order = find_order(self.client, number)
        return order if order is not None and identity.claims(order) else None

    @staticmethod
    def _provides(identity: OrderIdentity, number: str) -> tuple[str, ...]:
        return (identity.provides, f"number:{number}")

    def _update_existing(self, plan: WritePlan, existing: Mapping[str, Any]) -> WriteResult:
        """Bring an existing order in line with its record, sending only the differences.

        A shipped order is never changed: a record asking anything of it is refused with what to
        do instead. Line changes need ``update_order_lines``; without it they are refused after
        the other changes are applied (a cancellation is never held back by a line change).
        """
        identity: OrderIdentity = plan.details["identity"]
        number = str(existing.get("order_number"))
        provides = self._provides(identity, number)
        diff = diff_order(
            plan.body,
            plan.details["status"],
            existing,
            tags_given=plan.details["tags_given"],
            remove_tags=self.settings.remove_order_tags,
        )
        if diff.is_empty():
            return WriteResult.unchanged(
                "the order exists with the same values", number, provides=provides
            )
        if existing.get("status") == "shipped":
            return WriteResult.refused(
                shipped_reason(number, existing, diff),
                action="refused_shipped",
                order_number=number,
            )
        lines_held = diff.has_line_changes and not self.settings.update_order_lines
        done: list[str] = []
        try:
            self._apply(number, existing, diff, done, with_lines=not lines_held)
        except OrdoroAPIError as error:
            applied = f"; applied before it: {', '.join(done)}" if done else ""
            return WriteResult.rejected(error, f"order {shown(number)}: {error}{applied}")
        if lines_held:
            applied = f"; applied: {', '.join(done)}" if done else ""
            return WriteResult.refused(
                f"order {shown(number)}: line changes ({diff.describe_lines()}) are not applied "
                "without the update_order_lines setting (off by default: changing lines under "
                f"allocation is risky){applied}",
                action="line_changes_off",
                order_number=number,
            )
        action = "cancelled" if diff.cancel else "uncancelled" if diff.uncancel else "updated"
        return WriteResult.written(action, number, provides=provides, changes=tuple(done))

    def _apply(
        self,
        number: str,
        existing: Mapping[str, Any],
        diff: OrderDiff,
        done: list[str],
        *,
        with_lines: bool,
    ) -> None:
        """Send the differences, in an order that keeps the order valid throughout: uncancel
        first, cancel last, lines added before lines removed. ``done`` collects what was sent."""
        order_path = ("v3", "order", number)
        if diff.uncancel:
            self._post_status(number, "uncancel")
            done.append("uncancelled")
        if diff.fields:
            self.client.put(build_path(*order_path), diff.fields)
            done.extend(diff.fields)
        for which, changes in diff.addresses.items():
            self.client.put(build_path(*order_path, which), changes)
            done.append(which)
        for text, color in diff.tags_to_add:
            tag_id = self.lookups.tags.tag_id(text, color)
            self.client.post(
                build_path(*order_path, "tag", tag_id),
                None,
                verify=lambda tag_id=tag_id: self._has_tag(number, tag_id),
            )
        for _, tag_id in diff.tags_to_remove:
            self.client.request("DELETE", build_path(*order_path, "tag", tag_id))
        if diff.tags_to_add or diff.tags_to_remove:
            done.append("tags")
        if with_lines and diff.lines:
            marker = order_cart_order_id(existing)
            for change in (c for c in diff.lines if c.kind == "add"):
                body = {**change.body, **({"cart_order_id": marker} if marker else {})}
                self.client.post(
                    build_path(*order_path, "line"),
                    body,
                    verify=lambda sku=change.sku: self._has_sku(number, sku),
                )
            for change in (c for c in diff.lines if c.kind == "quantity"):
                self.client.put(
                    build_path(*order_path, "line", str(change.line_id)),
                    {"quantity": change.quantity},
                )
            for change in (c for c in diff.lines if c.kind == "remove"):
                try:
                    self.client.request(
                        "DELETE", build_path(*order_path, "line", str(change.line_id))
                    )
                except OrdoroAPIError as error:
                    # Gone already (a retry after a dropped answer): what was asked is done.
                    if not (error.status == 404 and error.param == "order_line_id"):
                        raise
            done.append("lines")
        if diff.cancel:
            self._post_status(number, "cancel")
            done.append("cancelled")

    def _post_status(self, number: str, verb: str) -> None:
        """POST /v3/order/{number}/cancel (or uncancel), verified after an ambiguous failure."""
        wanted = "cancelled" if verb == "cancel" else "awaiting_fulfillment"

        def applied() -> dict[str, Any] | None:
            order = find_order(self.client, number)
            return order if order is not None and order.get("status") == wanted else None

        self.client.post(build_path("v3", "order", number, verb), None, verify=applied)

    def _has_tag(self, number: str, tag_id: int) -> list[Any] | None:
        order = find_order(self.client, number) or {}
        tags = order.get("tags") or []
        return tags if any(isinstance(t, dict) and t.get("id") == tag_id for t in tags) else None

    def _has_sku(self, number: str, sku: str) -> dict[str, Any] | None:
        order = find_order(self.client, number) or {}
        lines = order.get("lines") or []
        return order if any(isinstance(ln, dict) and ln.get("sku") == sku for ln in lines) else None


def shipped_reason(number: str, order: Mapping[str, Any], diff: OrderDiff) -> str:
    """Why nothing is changed on a shipped order, and what the user can do instead."""
    info = order.get("shipping_info") if isinstance(order.get("shipping_info"), Mapping) else {}
    when = str(info.get("ship_date") or order.get("updated_date") or "")[:10] or "an earlier day"
    where = f"order {shown(number)} shipped in Ordoro on {when}"
    if diff.cancel:
        return f"{where}; cancel it with the carrier (a shipped order is never changed here)"
    if diff.addresses:
        which = " and ".join(name.replace("_", " ") for name in diff.addresses)
        return (
            f"{where}; its {which} can no longer be corrected here: correct it with the carrier "
            f"(not applied: {diff.describe()})"
        )
    return f"{where} and is never changed here (not applied: {diff.describe()})"
