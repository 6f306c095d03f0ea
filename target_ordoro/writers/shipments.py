"""Shipments: tracking added to an order once, changed when it differs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ordoro_core import catalog
from ordoro_core.client import OrdoroAPIError, build_path
from ordoro_core.order_numbers import strip_order_prefix
from ordoro_core.values import is_number, same_number
from target_ordoro.writers.base import Writer, instant_text, same_instant
from target_ordoro.writers.orders import find_order
from target_ordoro.writers.results import WritePlan, WriteResult


class ShipmentsWriter(Writer):
    """Adds tracking to an order once, or changes it when it differs."""

    spec = catalog.STREAMS["shipments"]

    def plan(self, record: dict[str, Any]) -> WritePlan:
        """Body: tracking_number, carrier_name, ship_date, and shipping_method/cost if given."""
        order_number = record.get("order_number")
        order_id = record.get("order_id")
        body: dict[str, Any] = {
            "tracking_number": record["tracking_number"],
            "carrier_name": record["carrier_name"],
            "ship_date": instant_text(record["ship_date"], "ship_date"),
        }
        if isinstance(record.get("shipping_method"), str):
            body["shipping_method"] = record["shipping_method"]
        if is_number(record.get("cost")):
            body["cost"] = record["cost"]
        key = f"order_number:{order_number}" if order_number else f"order_id:{order_id}"
        return WritePlan(
            key=key,
            label=f"order {order_number or order_id}",
            body=body,
            details={"order_number": order_number, "order_id": order_id},
        )

    def apply(self, plan: WritePlan) -> WriteResult:
        """Compare with the order's tracking; POST when it has none, PUT when it differs."""
        found = self._resolve(plan)
        if found is None:
            return WriteResult.not_found(f"unknown order {plan.label.removeprefix('order ')}")
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
        current = order.get("shipping_info") or {}
        try:
            if current.get("tracking_number"):
                self.client.put(path, body)
                return WriteResult.written("changed", order_number)
            self.client.post(path, body, verify=lambda: self._added(order_number, plan.body))
            return WriteResult.written("added", order_number)
        except OrdoroAPIError as error:
            return WriteResult.rejected(error)

    def _resolve(self, plan: WritePlan) -> tuple[str, dict[str, Any]] | None:
        """The destination order: mapped by this target before, as given, or by order_id."""
        order_number, order_id = plan.details["order_number"], plan.details["order_id"]
        candidates: list[str] = []
        source_keys = []
        if order_number:
            source_keys.append(f"order_number:{order_number}")
        if order_id:
            source_keys.append(f"order_id:{order_id}")
        for source_key in source_keys:
            mapped = self.ledger.order_number_for(source_key)
            if mapped:
                candidates.append(mapped)
        if order_number:
            candidates.append(order_number)
        bare_id = order_id or (strip_order_prefix(order_number) if order_number else None)
        if bare_id:
            candidates.append(self.numbering.order_number(bare_id))
        for candidate in dict.fromkeys(candidates):
            order = find_order(self.client, candidate)
            if order is not None:
                return candidate, order
        return None

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
