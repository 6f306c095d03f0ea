"""The Ordoro write logic of each stream, through the shared API client.

One module per stream (``products``, ``inventory``, ``orders``, ``shipments``) and what they
share: ``base`` (the :class:`Writer` interface, its settings, field helpers), ``results``
(plans and outcomes), ``numbering`` (the order_number Ordoro gives a new order) and
``identity`` (which Ordoro order a record's order is).

A writer works in three steps:

* :meth:`Writer.plan` turns a validated record into a :class:`WritePlan`: the request body and
  the key that identifies the write (a SKU, a SKU in a warehouse, a source order, an order's
  tracking). It sends nothing and raises :class:`RecordInvalid` when the record cannot be
  written (e.g. no warehouse). Sinks call it before queueing a record.
* :meth:`Writer.read_current`, once per batch: what Ordoro holds now for the batch, read at the
  lowest request cost (products and inventory; see :mod:`target_ordoro.writers.lookups`).
* :meth:`Writer.write` brings Ordoro in line with one plan and returns a :class:`WriteResult`:
  "unchanged" when Ordoro already holds it (no write request), "written", "rejected", or
  "not found" (what it refers to is not in Ordoro yet).

Outcomes are decided by what Ordoro holds, never by a local file, and every write is
idempotent on its own, so a retried or replayed record never doubles anything:

* orders: found by their identity in Ordoro (:class:`OrderIdentity`) before anything is
  created; ``POST /v3/order`` is retried only after failures that certainly did not reach
  Ordoro, or once a lookup says the order is not there; an existing order gets only the
  updatable fields that differ;
* products: only the fields that differ (``PUT /product/{sku}/``), or ``POST /product/``;
* inventory: ``PUT /product/{sku}/warehouse/{id}/`` with the absolute ``on_hand``, only where it
  differs;
* shipments: the designated order's current tracking is compared first; ``POST`` adds tracking
  (verified by reading the order back after an ambiguous failure), ``PUT`` changes it.

Ordoro's transient failures are retried by the client; what is still failing
(``OrdoroTransientError``) and refused credentials (``OrdoroAuthError``, which :meth:`Writer.write`
re-raises wherever it was caught) end the run. Other error answers become "rejected" results
with the status and body.
"""

from __future__ import annotations

from target_ordoro.writers.base import Lookups, Writer, WriteSettings
from target_ordoro.writers.identity import OrderIdentity, OrderLocator
from target_ordoro.writers.inventory import InventoryWriter
from target_ordoro.writers.lookups import ProductReader, ProductSnapshot, ReadPath
from target_ordoro.writers.numbering import OrderNumbering
from target_ordoro.writers.orders import OrdersWriter
from target_ordoro.writers.products import ProductsWriter
from target_ordoro.writers.results import Outcome, RecordInvalid, WritePlan, WriteResult
from target_ordoro.writers.shipments import ShipmentsWriter
from target_ordoro.writers.tags import TagCatalog

#: The writer of each canonical stream.
WRITER_TYPES: dict[str, type[Writer]] = {
    writer.spec.name: writer
    for writer in (ProductsWriter, InventoryWriter, OrdersWriter, ShipmentsWriter)
}

__all__ = [
    "WRITER_TYPES",
    "InventoryWriter",
    "Lookups",
    "OrderIdentity",
    "OrderLocator",
    "OrderNumbering",
    "OrdersWriter",
    "Outcome",
    "ProductReader",
    "ProductSnapshot",
    "ProductsWriter",
    "ReadPath",
    "RecordInvalid",
    "ShipmentsWriter",
    "TagCatalog",
    "WritePlan",
    "WriteResult",
    "WriteSettings",
    "Writer",
]
