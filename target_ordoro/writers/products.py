"""Products: created or updated by SKU (``PUT /product/{sku}/``, else ``POST /product/``)."""

from __future__ import annotations

from typing import Any

from ordoro_core import catalog
from ordoro_core.client import OrdoroAPIError, build_path
from ordoro_core.values import whole
from target_ordoro.writers.base import Writer, pick
from target_ordoro.writers.results import Outcome, WritePlan, WriteResult

#: Fields of post_product/put_product copied from a record when present.
PRODUCT_TEXT_FIELDS = (
    "name",
    "category",
    "hs_code",
    "country_of_origin",
    "customs_description",
    "taxable",
    "type",
    "upc",
    "asin",
    "internal_notes",
)
PRODUCT_NUMBER_FIELDS = ("price", "cost", "weight", "declared_value")
#: Ordoro takes the dimensions as whole inches.
PRODUCT_DIMENSION_FIELDS = ("length", "width", "height")


class ProductsWriter(Writer):
    """Creates or updates a product by SKU: ``PUT /product/{sku}/``, else ``POST /product/``."""

    spec = catalog.STREAMS["products"]

    def plan(self, record: dict[str, Any]) -> WritePlan:
        """Body: the updatable product fields the record carries (never stock)."""
        sku = record["sku"]
        body: dict[str, Any] = pick(record, PRODUCT_TEXT_FIELDS, str)
        body.update(pick(record, PRODUCT_NUMBER_FIELDS, (int, float)))
        body.update(
            {
                name: whole(value)
                for name, value in pick(record, PRODUCT_DIMENSION_FIELDS, (int, float)).items()
            }
        )
        return WritePlan(key=sku, label=f"SKU {sku!r}", body=body)

    def apply(self, plan: WritePlan) -> WriteResult:
        """Update the product, or create it when Ordoro does not know the SKU."""
        sku = plan.key
        try:
            self.client.put(build_path("product", sku), plan.body)
            return WriteResult.written("updated")
        except OrdoroAPIError as error:
            if error.status != 404:
                return WriteResult.rejected(error)
        if "name" not in plan.body:
            return WriteResult(
                Outcome.REJECTED, reason=f"name is required to create SKU {sku!r} (it is new)"
            )
        try:
            self.client.post(
                build_path("product"),
                {"sku": sku, **plan.body},
                verify=lambda: self.client.get_or_none(build_path("product", sku)),
            )
            return WriteResult.written("created")
        except OrdoroAPIError as error:
            if not (error.status == 400 and error.param == "sku"):
                return WriteResult.rejected(error)
        # Created by someone else between our PUT and POST: update it after all.
        try:
            self.client.put(build_path("product", sku), plan.body)
            return WriteResult.written("updated")
        except OrdoroAPIError as error:
            return WriteResult.rejected(error)
