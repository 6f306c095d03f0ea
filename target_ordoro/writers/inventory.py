"""Inventory: a SKU's on-hand stock set per warehouse (never creates the product)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ordoro_core import catalog
from ordoro_core.errors import OrdoroAPIError
from ordoro_core.urls import build_path
from ordoro_core.values import is_number, whole
from target_ordoro.writers.base import Writer, same_value
from target_ordoro.writers.lookups import ProductSnapshot
from target_ordoro.writers.results import RecordInvalid, WritePlan, WriteResult, quoted, shown


class InventoryWriter(Writer):
    """Sets a SKU's on-hand stock in one warehouse (never creates the product).

    With the product read first (see :mod:`target_ordoro.writers.lookups`): nothing when the
    warehouse already holds the values, otherwise ``PUT /product/{sku}/warehouse/{id}/`` with
    the absolute ``on_hand`` (and the location or thresholds that differ); a SKU Ordoro does not
    have is "not found" without a request. Written blind: the ``PUT`` with every value; so is
    every row of a SKU this run created (what a new product holds per warehouse is Ordoro's
    to decide, and a dry run cannot know it: this keeps its plan exact).
    """

    spec = catalog.STREAMS["inventory"]

    def plan(self, record: dict[str, Any]) -> WritePlan:
        """Body: the absolute ``on_hand``, plus location and thresholds when given."""
        sku = record["sku"]
        warehouse_id = record.get("warehouse_id", self.settings.warehouse_id)
        if warehouse_id is None:
            raise RecordInvalid("warehouse_id missing and no default configured")
        body: dict[str, Any] = {"on_hand": whole(record["on_hand"])}
        if isinstance(record.get("location_in_warehouse"), str):
            body["location_in_warehouse"] = record["location_in_warehouse"]
        for name in ("low_stock_threshold", "out_of_stock_threshold"):
            if is_number(record.get(name)):
                body[name] = whole(record[name])
        return WritePlan(
            key=json.dumps([sku, warehouse_id]),
            label=f"SKU {quoted(sku)} in warehouse {shown(warehouse_id)}",
            body=body,
            details={"sku": sku, "warehouse_id": warehouse_id},
        )

    def read_current(self, plans: Sequence[WritePlan]) -> ProductSnapshot:
        """The batch's products with their stock per warehouse, read at the lowest cost."""
        return self.lookups.products.read(Counter(plan.details["sku"] for plan in plans))

    def apply(self, plan: WritePlan, current: Any) -> WriteResult:
        """``PUT /product/{sku}/warehouse/{warehouse_id}/`` unless Ordoro holds the values."""
        sku, warehouse_id = plan.details["sku"], plan.details["warehouse_id"]
        body = plan.body
        created = self.lookups.products.was_created(sku)
        if isinstance(current, ProductSnapshot) and current.knows(sku) and not created:
            product = current.get(sku)
            if product is None:
                return WriteResult.not_found(f"unknown SKU {quoted(sku)}", needs=f"sku:{sku}")
            entry = next(
                (
                    e
                    for e in product.get("warehouses") or []
                    if isinstance(e, dict) and e.get("id") == warehouse_id
                ),
                None,
            )
            if entry is not None:
                changes = {
                    name: value
                    for name, value in plan.body.items()
                    if not same_value(entry.get(name), value)
                }
                if not changes:
                    return WriteResult.unchanged("Ordoro has this on-hand")
                # on_hand is the write's purpose: always sent, so the request sets it absolutely.
                body = {"on_hand": plan.body["on_hand"], **changes}
        try:
            self.client.put(build_path("product", sku, "warehouse", warehouse_id), body)
            return WriteResult.written("set")
        except OrdoroAPIError as error:
            if error.status == 404 and error.param == "warehouse_id":
                return WriteResult.rejected(error, f"unknown warehouse {shown(warehouse_id)}")
            if error.status == 404:
                return WriteResult.not_found(f"unknown SKU {quoted(sku)}", f"sku:{sku}", error)
            return WriteResult.rejected(error)
