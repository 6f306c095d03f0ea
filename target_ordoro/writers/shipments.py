"""Shipments: tracking added to the order the record designates, once; changed when it differs.

Which order a record designates (never an order that merely shares a number):

* ``ordoro_order_number``: that order of this account, as named (the explicit way to add
  tracking to this account's own orders, e.g. from a 3PL or WMS feed);
* ``order_number``: a number in the account or system the orders came from (tap-ordoro's
  ``1-1007``), so the order this target created from it: ``<index>-1-1007`` (``M-1-1007``)
  carrying the marker tag of a copy (see :mod:`target_ordoro.writers.identity`), under the
  configured sales channel or any other. This account's own ``1-1007``, if it has one, is
  another customer's order and is never used;
* ``order_id``: the order of this account with that order_id in the configured sales channel
  (``<index>-<order_id>``, or ``M-<order_id>``), as the orders write form creates it (or
  where the target created it under another sales channel); never a copy of a source order.

An order that cannot be found is "not found" (deferred, then dead-lettered with the reason).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ordoro_core import catalog
from ordoro_core.errors import OrdoroAPIError
from ordoro_core.urls import build_path
from ordoro_core.values import is_number, same_number
from target_ordoro.writers.base import Writer, instant_text, same_instant
from target_ordoro.writers.identity import COPY_TAG, OrderIdentity, conflict_reason, find_order
from target_ordoro.writers.results import WritePlan, WriteResult, quoted, shown


class ShipmentsWriter(Writer):
    """Adds tracking to an order once, or changes it when it differs."""

    spec = catalog.STREAMS["shipments"]

    def plan(self, record: dict[str, Any]) -> WritePlan:
        """Body: tracking_number, carrier_name, ship_date, and shipping_method/cost if given."""
        body: dict[str, Any] = {
            "tracking_number": record["tracking_number"],
            "carrier_name": record["carrier_name"],
            "ship_date": instant_text(record["ship_date"], "ship_date"),
        }
        if isinstance(record.get("shipping_method"), str):
            body["shipping_method"] = record["shipping_method"]
        if is_number(record.get("cost")):
            body["cost"] = record["cost"]
        direct = record.get("ordoro_order_number")
        order_number = record.get("order_number")
        order_id = record.get("order_id")
        if isinstance(direct, str) and direct:
            kind, name, label = "direct", direct, f"order {shown(direct)} of this account"
        elif isinstance(order_number, str) and order_number:
            kind, name, label = "source", order_number, f"order {shown(order_number)}"
        else:
            kind, name, label = "id", str(order_id), f"order_id {shown(order_id)}"
        return WritePlan(
            key=f"{kind}:{name}", label=label, body=body, details={"kind": kind, "name": name}
        )

    def apply(self, plan: WritePlan, current: Any) -> WriteResult:
        """Compare with the order's tracking; POST when it has none, PUT when it differs."""
        found = self._resolve(plan)
        if isinstance(found, WriteResult):
            return found
        order_number, order = found
        if self._same(order.get("shipping_info"), plan.body):
            return WriteResult.unchanged("the order has this tracking already", order_number)
        notify = self.settings.notify
        body = {
            **plan.body,
            "notify_bill_to": notify,
            "notify_ship_to": notify,
            "notify_cart": notify,
        }
        path = build_path("v3", "order", order_number, "shipping_info")
        current_info = order.get("shipping_info") or {}
        try:
            if current_info.get("tracking_number"):
                self.client.put(path, body)
                return WriteResult.written("changed", order_number)
            self.client.post(path, body, verify=lambda: self._added(order_number, plan.body))
            return WriteResult.written("added", order_number)
        except OrdoroAPIError as error:
            return WriteResult.rejected(error)

    def _resolve(self, plan: WritePlan) -> tuple[str, dict[str, Any]] | WriteResult:
        """The designated order (its number and body), or the result that says why not."""
        kind, name = plan.details["kind"], plan.details["name"]
        if kind == "direct":
            order = find_order(self.client, name)
            if order is None:
                return WriteResult.not_found(
                    f"unknown order {shown(name)}: this account has no such order",
                    f"number:{name}",
                )
            return name, order
        identity = OrderIdentity(name, is_copy=kind == "source")
        located = self.lookups.orders.locate(identity)
        if located.order is not None:
            return str(located.order.get("order_number")), located.order
        if kind == "id":
            if located.taken is not None:
                return WriteResult.refused(
                    conflict_reason(identity, located.expected, located.taken), action="conflict"
                )
            return WriteResult.not_found(
                f"unknown order {shown(located.expected)} (order_id {shown(name)}): this account "
                "has no such order",
                identity.provides,
            )
        reason = (
            f"unknown order {shown(name)}: no order of this account was created from it (none "
            f"numbered {shown(located.expected)} or under another sales channel carries the tag "
            f"{COPY_TAG}, nor the source number {quoted(name)} as its cart_order_id)"
        )
        if find_order(self.client, name) is not None:
            reason += (
                f"; this account's own order {shown(name)} is another order and is not used. "
                "To add tracking to it, name it in ordoro_order_number"
            )
        return WriteResult.not_found(reason, identity.provides)

    def _added(self, order_number: str, wanted: dict[str, Any]) -> dict[str, Any] | None:
        """After an ambiguous POST: the order's tracking if it is the one we sent."""
        order = find_order(self.client, order_number)
        info = (order or {}).get("shipping_info")
        return info if self._same(info, wanted) else None

    @staticmethod
    def _same(info: Any, wanted: Mapping[str, Any]) -> bool:
        """Whether the order's shipping_info already says what ``wanted`` says."""
        if not isinstance(info, Mapping) or not info.get("tracking_number"):
            return False
        return (
            info.get("tracking_number") == wanted["tracking_number"]
            and info.get("carrier_name") == wanted["carrier_name"]
            and same_instant(info.get("ship_date"), wanted["ship_date"])
            and (
                "shipping_method" not in wanted
                or info.get("shipping_method") == wanted["shipping_method"]
            )
            and ("cost" not in wanted or same_number(info.get("cost"), wanted["cost"]))
        )
