"""Inventory: a SKU's on-hand stock set per warehouse (never creates the product)."""

from __future__ import annotations

import json
from typing import Any

from ordoro_core import catalog
from ordoro_core.client import OrdoroAPIError, build_path
from ordoro_core.values import is_number, whole
from target_ordoro.writers.base import Writer
from target_ordoro.writers.results import RecordInvalid, WritePlan, WriteResult


class InventoryWriter(Writer):
    """Sets a SKU's on-hand stock in one warehouse (never creates the product)."""

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
            label=f"SKU {sku!r} in warehouse {warehouse_id}",
            body=body,
            details={"sku": sku, "warehouse_id": warehouse_id},
        )

    def apply(self, plan: WritePlan) -> WriteResult:
        """``PUT /product/{sku}/warehouse/{warehouse_id}/``."""
        sku, warehouse_id = plan.details["sku"], plan.details["warehouse_id"]
        try:
            self.client.put(build_path("product", sku, "warehouse", warehouse_id), plan.body)
            return WriteResult.written("set")
        except OrdoroAPIError as error:
            if error.status == 404 and error.param == "warehouse_id":
                return WriteResult.rejected(error, f"unknown warehouse {warehouse_id}")
            if error.status == 404:
                return WriteResult.not_found(f"unknown SKU {sku!r}", error)
            return WriteResult.rejected(error)
