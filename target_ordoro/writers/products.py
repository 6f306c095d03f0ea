"""Products: created or updated by SKU, sending only the fields that differ from Ordoro's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ordoro_core import catalog
from ordoro_core.errors import OrdoroAPIError
from ordoro_core.urls import build_path
from ordoro_core.values import whole
from target_ordoro.writers.base import Writer, pick, same_value
from target_ordoro.writers.lookups import ProductSnapshot
from target_ordoro.writers.results import WritePlan, WriteResult, quoted

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


def product_changes(body: Mapping[str, Any], product: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``body`` whose value differs from the product's in Ordoro."""
    return {name: value for name, value in body.items() if not same_value(product.get(name), value)}


class ProductsWriter(Writer):
    """Creates or updates a product by SKU.

    With the product read first (see :mod:`target_ordoro.writers.lookups`): nothing when every
    field is the same, ``PUT /product/{sku}/`` with the differing fields, or ``POST /product/``
    for a new SKU. Written blind: ``PUT`` with every field, ``POST`` when Ordoro answers 404.
    """

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
        return WritePlan(key=sku, label=f"SKU {quoted(sku)}", body=body, details={"sku": sku})

    def read_current(self, plans: Sequence[WritePlan]) -> ProductSnapshot:
        """The batch's products, read at the lowest cost (or not at all)."""
        return self.lookups.products.read(Counter(plan.key for plan in plans))

    def apply(self, plan: WritePlan, current: Any) -> WriteResult:
        """Update what differs, create a new SKU, or do nothing when Ordoro has it all."""
        sku = plan.key
        provides = (f"sku:{sku}",)
        if isinstance(current, ProductSnapshot) and current.knows(sku):
            product = current.get(sku)
            if product is None:
                return self._create(plan)
            changes = product_changes(plan.body, product)
            if not changes:
                return WriteResult.unchanged("Ordoro has these values", provides=provides)
            return self._put(sku, changes, "updated")
        try:
            self.client.put(build_path("product", sku), plan.body)
        except OrdoroAPIError as error:
            if error.status != 404:
                return WriteResult.rejected(error)
            return self._create(plan)
        if not plan.body:
            return WriteResult.unchanged("the record has no field to change", provides=provides)
        return WriteResult.written("updated", provides=provides)

    def _put(self, sku: str, body: dict[str, Any], action: str) -> WriteResult:
        try:
            self.client.put(build_path("product", sku), body)
        except OrdoroAPIError as error:
            return WriteResult.rejected(error)
        return WriteResult.written(action, provides=(f"sku:{sku}",), changes=tuple(body))

    def _create(self, plan: WritePlan) -> WriteResult:
        sku = plan.key
        if "name" not in plan.body:
            return WriteResult.refused(f"name is required to create SKU {quoted(sku)} (it is new)")
        try:
            self.client.post(
                build_path("product"),
                {"sku": sku, **plan.body},
                verify=lambda: self.client.get_or_none(build_path("product", sku)),
            )
            self.lookups.products.note_created(sku)
            return WriteResult.written("created", provides=(f"sku:{sku}",))
        except OrdoroAPIError as error:
            if not (error.status == 400 and error.param == "sku"):
                return WriteResult.rejected(error)
        # Created by someone else since it was read: update it after all.
        return self._put(sku, plan.body, "updated")
