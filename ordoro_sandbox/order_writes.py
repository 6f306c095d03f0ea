"""The sandbox store's order writes: create, update, cancel and uncancel orders, tracking,
addresses, tags and lines, as the API allows them. A part of :class:`~ordoro_sandbox.store.Store`.
"""

from __future__ import annotations

from datetime import timezone
from typing import Any

from ordoro_core.timestamps import parse_instant, to_account_iso
from ordoro_sandbox import records
from ordoro_sandbox.errors import ApiError, not_found
from ordoro_sandbox.records import SANDBOX_USER


class OrderWrites:
    """The order half of :class:`~ordoro_sandbox.store.Store` (its attributes, lock and clock)."""

    # -- orders ------------------------------------------------------------------------

    def get_order(self, order_number: str) -> dict[str, Any]:
        """The order, or a 404 ApiError."""
        try:
            return self.orders[order_number]
        except KeyError:
            raise not_found("order", order_number, "order_number") from None

    def create_order(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v3/order with a valid post_order body; returns the v3 order."""
        with self.lock:
            cart_id = body.get("cart")
            if cart_id is not None:
                if cart_id not in self.carts:
                    raise ApiError(400, f"No sales channel (cart) with id {cart_id}", "cart")
                prefix = str(self.carts[cart_id]["index"])
            else:
                prefix = "M"
            order_number = f"{prefix}-{body['order_id']}"
            if order_number in self.orders:
                raise ApiError(
                    400,
                    f"An order with order_id {body['order_id']!r} already exists ({order_number})",
                    "order_id",
                )
            warehouse_id = body.get("warehouse_id", self.default_warehouse()["id"])
            if warehouse_id not in self.warehouses:
                raise ApiError(400, f"No warehouse with id {warehouse_id}", "warehouse_id")
            order_placed = _body_instant(body, "order_date", naive_tz=timezone.utc)
            optional_dates = {
                name: _body_instant(body, name, naive_tz=timezone.utc)
                for name in ("deliver_by_date", "ship_by_date")
            }
            now = self.clock.now_iso()
            cart_order_id = body.get("cart_order_id")
            lines = [
                self._order_line(order_number, line, cart_order_id, now) for line in body["lines"]
            ]
            product_amount = round(sum(line["item_price"] * line["quantity"] for line in lines), 2)
            order = records.order(
                order_id=self.next_id("order"),
                order_number=order_number,
                created=now,
                order_placed_date=order_placed or now,
                shipping_address=self._address_from_v1(body["shipping_address"]),
                billing_address=self._address_from_v1(body["billing_address"]),
                warehouse_id=warehouse_id,
                cart_id=cart_id,
                lines=lines,
                financial=records.financial(
                    product_amount=body.get("product_amount", product_amount),
                    shipping_amount=body.get("shipping_amount", 0.0),
                    tax_amount=body.get("tax_amount", 0.0),
                    discount_amount=body.get("discount_amount", 0.0),
                    grand_total=body.get("grand_total"),
                    credit_card_issuer=body.get("credit_card_issuer"),
                ),
                status=body.get("status", "awaiting_fulfillment"),
                weight=round(
                    sum(self.products[line["sku"]]["weight"] * line["quantity"] for line in lines),
                    2,
                ),
                notes_from_customer=body.get("notes_from_customer"),
                internal_notes=body.get("internal_notes"),
                requested_shipping_method=body.get("shipping_type"),
                tags=[self.order_tag(tag) for tag in body.get("tags", [])],
                comments=[records.comment(now, "Order created via API", SANDBOX_USER)],
                additional_cart_info=body.get("additional_cart_info", {"is_prime": False}),
                **{name: value for name, value in optional_dates.items() if value},
            )
            self.orders[order_number] = order
            self.recount_inventory()
            return order

    def update_order(self, order_number: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT /v3/order/{order_number} with a valid put_order body."""
        with self.lock:
            order = self.get_order(order_number)
            for name in ("notes_from_customer", "internal_notes", "batch_reference_id", "weight"):
                if name in body:
                    order[name] = body[name]
            for name in ("ship_by_date", "deliver_by_date"):
                if name in body:
                    order[name] = _body_instant(body, name, naive_tz=timezone.utc)
            self.touch("orders", order_number)
            return order

    def set_shipping_info(
        self, order_number: str, method: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """POST or PUT /v3/order/{order_number}/shipping_info: tracking added, order shipped.

        Returns the new shipping_info (the spec's response for both methods).
        """
        with self.lock:
            order = self.get_order(order_number)
            ship_date = _body_instant(body, "ship_date", naive_tz=timezone.utc)
            now = self.clock.now_iso()
            carrier_name = body["carrier_name"]
            tracking_number = body["tracking_number"]
            info = records.shipping_info(
                tracking_number=tracking_number,
                carrier_name=carrier_name,
                ship_date=ship_date,
                created_date=now,
                shipping_method=body.get("shipping_method"),
                display_shipping_method=body.get("display_shipping_method"),
                cost=body.get("cost", body.get("shipping_cost", 0.0)),
                package_tracking=body.get("package_tracking"),
                tracking_url=body.get("tracking_url"),
                insured_value=body.get("insured_value"),
                zone=body.get("zone"),
            )
            order["shipping_info"] = info
            order["status"] = "shipped"
            verb = "added" if method == "POST" else "updated"
            order["comments"].append(
                records.comment(
                    now, f"Tracking {tracking_number} ({carrier_name}) {verb}", SANDBOX_USER
                )
            )
            self.tracking_writes.append(
                {"order_number": order_number, "method": method, "body": dict(body)}
            )
            self.touch("orders", order_number)
            self.recount_inventory()
            return info

    # -- an order's life after creation ------------------------------------------------

    def _log_change(self, order_number: str, change: str, body: Any = None) -> None:
        self.order_changes.append({"order_number": order_number, "change": change, "body": body})

    def cancel_order(self, order_number: str) -> dict[str, Any]:
        """POST /v3/order/{order_number}/cancel: an order that has not shipped is cancelled.

        A shipped order answers 400; cancelling a cancelled order changes nothing (200).
        """
        with self.lock:
            order = self.get_order(order_number)
            if order["status"] == "shipped":
                raise ApiError(
                    400, f"Order {order_number} has shipped and cannot be cancelled", "status"
                )
            self._log_change(order_number, "cancel")
            if order["status"] != "cancelled":
                stamp = self.touch("orders", order_number)
                order["status"] = "cancelled"
                order["cancelled_date"] = stamp
                order["comments"].append(records.comment(stamp, "Order cancelled", SANDBOX_USER))
                self.recount_inventory()
            return order

    def uncancel_order(self, order_number: str) -> dict[str, Any]:
        """POST /v3/order/{order_number}/uncancel: a cancelled order awaits fulfillment again.

        An order that is shipped or with a dropshipper answers 400; an open order is left as it
        is (200).
        """
        with self.lock:
            order = self.get_order(order_number)
            if order["status"] in ("shipped", "dropshipment_requested"):
                raise ApiError(
                    400, f"Order {order_number} is {order['status']} and cannot be uncancelled"
                )
            self._log_change(order_number, "uncancel")
            if order["status"] == "cancelled":
                stamp = self.touch("orders", order_number)
                order["status"] = "awaiting_fulfillment"
                order["cancelled_date"] = None
                order["comments"].append(records.comment(stamp, "Order uncancelled", SANDBOX_USER))
                self.recount_inventory()
            return order

    def update_order_address(
        self, order_number: str, which: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """PUT /v3/order/{order_number}/shipping_address (or billing_address) with a valid
        update_address body: the given fields change; the address needs validating again."""
        with self.lock:
            order = self.get_order(order_number)
            self._log_change(order_number, which, dict(body))
            address = order[which]
            for name in records.ADDRESS_FIELDS:
                if name in body:
                    address[name] = body[name]
            address["validation"] = {
                "status": "unvalidated",
                "suggested": [],
                "additional_text": None,
            }
            self.touch("orders", order_number)
            return address

    def tag_records(self) -> list[dict[str, Any]]:
        """The account's order tags as GET /v3/order/tag lists them, by id.

        Each carries ``name`` (the spec's v3_tag) and ``text`` (the spec's own example, and
        what orders show), which are the same.
        """
        with self.lock:
            tags = sorted(self.order_tags.values(), key=lambda tag: tag["id"])
            return [{**tag, "name": tag["text"]} for tag in tags]

    def create_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v3/order/tag: a new account tag (400 when the name is taken)."""
        with self.lock:
            name = body["name"]
            if name in self.order_tags:
                raise ApiError(400, f"An order tag named {name!r} already exists", "name")
            tag = self.order_tag({"text": name, "color": body.get("color", "#cccccc")})
            return {**tag, "name": tag["text"]}

    def _tag_by_id(self, tag_key: str) -> dict[str, Any]:
        tag = next((t for t in self.order_tags.values() if str(t["id"]) == tag_key), None)
        if tag is None:
            raise not_found("tag", tag_key, "tag_id")
        return tag

    def add_tag_to_order(self, order_number: str, tag_key: str) -> list[dict[str, Any]]:
        """POST /v3/order/{order_number}/tag/{tag_id}: the order's tags after adding it."""
        with self.lock:
            order = self.get_order(order_number)
            tag = self._tag_by_id(tag_key)
            self._log_change(order_number, "add_tag", tag["text"])
            if all(t["id"] != tag["id"] for t in order["tags"]):
                order["tags"].append(dict(tag))
                self.touch("orders", order_number)
            return order["tags"]

    def remove_tag_from_order(self, order_number: str, tag_key: str) -> list[dict[str, Any]]:
        """DELETE /v3/order/{order_number}/tag/{tag_id}: the order's tags after removing it."""
        with self.lock:
            order = self.get_order(order_number)
            tag = self._tag_by_id(tag_key)
            self._log_change(order_number, "remove_tag", tag["text"])
            kept = [t for t in order["tags"] if t["id"] != tag["id"]]
            if len(kept) != len(order["tags"]):
                order["tags"] = kept
                self.touch("orders", order_number)
            return order["tags"]

    def _changeable_lines(self, order_number: str) -> dict[str, Any]:
        order = self.get_order(order_number)
        if order["status"] == "shipped":
            raise ApiError(400, f"Order {order_number} has shipped: its lines cannot change")
        return order

    def _line(self, order: dict[str, Any], line_key: str) -> dict[str, Any]:
        line = next((ln for ln in order["lines"] if str(ln["id"]) == line_key), None)
        if line is None:
            raise not_found("order line", line_key, "order_line_id")
        return line

    def _lines_changed(self, order: dict[str, Any]) -> None:
        financial = order["financial"]
        financial["product_amount"] = round(
            sum(line["item_price"] * line["quantity"] for line in order["lines"]), 2
        )
        financial["grand_total"] = round(
            financial["product_amount"]
            + financial["shipping_amount"]
            + financial["tax_amount"]
            - financial["discount_amount"],
            2,
        )
        self.touch("orders", order["order_number"])
        self.recount_inventory()

    def add_order_line(self, order_number: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v3/order/{order_number}/line with a valid post_order_line body (a known SKU)."""
        with self.lock:
            order = self._changeable_lines(order_number)
            product = self.products.get(body["sku"])
            if product is None:
                raise not_found("product", body["sku"], "sku")
            line = records.order_line(
                line_id=self.next_id("line"),
                order_number=order_number,
                product_record=product,
                quantity=body.get("quantity", 1),
                item_price=body.get("item_price", product["price"]),
                product_name=body.get("product_name"),
                cart_order_id=body.get("cart_order_id"),
                cart_orderitem_id=body.get("cart_orderitem_id"),
                details=body.get("details", ""),
            )
            order["lines"].append(line)
            self._log_change(order_number, "add_line", dict(body))
            self._lines_changed(order)
            return order

    def update_order_line(
        self, order_number: str, line_key: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """PUT /v3/order/{order_number}/line/{order_line_id} with a valid put_order_line body."""
        with self.lock:
            order = self._changeable_lines(order_number)
            line = self._line(order, line_key)
            self._log_change(order_number, "update_line", {"id": line["id"], **body})
            for name in ("quantity", "item_price", "details", "product_serial_numbers"):
                if name in body:
                    line[name] = body[name]
            self._lines_changed(order)
            return order

    def delete_order_line(self, order_number: str, line_key: str) -> dict[str, Any]:
        """DELETE /v3/order/{order_number}/line/{order_line_id} (not the order's last line)."""
        with self.lock:
            order = self._changeable_lines(order_number)
            line = self._line(order, line_key)
            if len(order["lines"]) == 1:
                raise ApiError(400, f"Order {order_number} needs at least one line")
            order["lines"] = [ln for ln in order["lines"] if ln is not line]
            self._log_change(order_number, "remove_line", {"id": line["id"]})
            self._lines_changed(order)
            return order

    def _order_line(
        self, order_number: str, line: dict[str, Any], cart_order_id: str | None, now: str
    ) -> dict[str, Any]:
        """A v3 order line from a POSTed line; an unknown SKU creates the product."""
        line_product = line["product"]
        sku = line_product["sku"]
        product = self.products.get(sku)
        if product is None:
            product = self.create_product(
                {
                    name: value
                    for name, value in line_product.items()
                    if name in ("sku", "name", "category", "weight", "price", "cost")
                }
            )
        price = line.get("item_price", line_product.get("price", product["price"]))
        return records.order_line(
            line_id=self.next_id("line"),
            order_number=order_number,
            product_record=product,
            quantity=line.get("quantity", 1),
            item_price=price,
            product_name=line.get("product_name"),
            cart_order_id=cart_order_id,
            cart_orderitem_id=line.get("cart_orderitem_id"),
            details=line.get("selected_option", ""),
        )

    def _address_from_v1(self, body: dict[str, Any]) -> dict[str, Any]:
        return records.address(
            self.next_id("address"),
            **{name: body.get(name) for name in records.ADDRESS_FIELDS},
        )

    def order_tag(self, tag: dict[str, Any]) -> dict[str, Any]:
        """The catalogue tag with this text, created when new."""
        text = tag.get("text", "")
        known = self.order_tags.get(text)
        if known is None:
            tag_id = self.next_id("tag")
            known = {
                "id": tag_id,
                "text": text,
                "color": tag.get("color", "#cccccc"),
                "link": f"/tag/{tag_id}",
            }
            self.order_tags[text] = known
        return dict(known)


def _body_instant(body: dict[str, Any], name: str, *, naive_tz: timezone) -> str | None:
    """A timestamp field of a request body in account local time; 400 when unreadable.

    A value without an offset is read as UTC, as the spec's POST /v3/order example shows
    (order_date "2015-12-09T12:01:00.855700" comes back as "…06:01:00.855700-06:00").
    """
    value = body.get(name)
    if value is None:
        return None
    try:
        return to_account_iso(parse_instant(value, naive_tz=naive_tz))
    except ValueError:
        raise ApiError(400, f"{name}: not an ISO 8601 timestamp: {value!r}", name) from None
    except OverflowError:  # e.g. 0001-01-01T00:00Z is in year 0 in the account's time zone
        raise ApiError(400, f"{name}: out of range: {value!r}", name) from None
