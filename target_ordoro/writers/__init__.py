"""The Ordoro write logic of each stream, through the shared API client.

One module per stream (``products``, ``inventory``, ``orders``, ``shipments``) and what they
share: ``base`` (the :class:`Writer` interface, its settings, field helpers), ``results``
(plans and outcomes) and ``numbering`` (the order_number Ordoro gives a new order).

A writer works in two steps:

* :meth:`Writer.plan` turns a validated record into a :class:`WritePlan`: the request body and
  the key that identifies the write (a SKU, a SKU in a warehouse, an order, an order's
  tracking). It sends nothing and raises :class:`RecordInvalid` when the record cannot be
  written (e.g. no warehouse). Sinks call it before queueing a record.
* :meth:`Writer.write` applies a plan and returns a :class:`WriteResult`. A plan whose body the
  ledger saw written for the same key recently is "unchanged" without any request (see
  :mod:`target_ordoro.ledger`); otherwise :meth:`Writer.apply` talks to Ordoro.

Every write is idempotent on its own, so a retried or replayed record never doubles anything:

* orders: ``POST /v3/order`` only after failures that certainly did not reach Ordoro, or once
  ``GET /v3/order/{expected order_number}`` says the order is not there; an order that exists
  gets its updatable fields ``PUT`` only when they differ;
* products: ``PUT /product/{sku}/``, or ``POST /product/`` when the SKU is new;
* inventory: ``PUT /product/{sku}/warehouse/{id}/`` with the absolute ``on_hand``;
* shipments: the order's current tracking is compared first; ``POST`` adds tracking (verified
  by reading the order back after an ambiguous failure), ``PUT`` changes it.

Ordoro's transient failures are retried by the client; what is still failing
(``OrdoroTransientError``) and refused credentials (``OrdoroAuthError``, which :meth:`Writer.write`
re-raises wherever it was caught) end the run. Other error answers become "rejected" results
with the status and body.
"""

from __future__ import annotations

from target_ordoro.writers.base import Writer, WriteSettings
from target_ordoro.writers.inventory import InventoryWriter
from target_ordoro.writers.numbering import OrderNumbering
from target_ordoro.writers.orders import OrdersWriter
from target_ordoro.writers.products import ProductsWriter
from target_ordoro.writers.results import Outcome, RecordInvalid, WritePlan, WriteResult
from target_ordoro.writers.shipments import ShipmentsWriter

#: The writer of each canonical stream.
WRITER_TYPES: dict[str, type[Writer]] = {
    writer.spec.name: writer
    for writer in (ProductsWriter, InventoryWriter, OrdersWriter, ShipmentsWriter)
}

__all__ = [
    "WRITER_TYPES",
    "InventoryWriter",
    "OrderNumbering",
    "OrdersWriter",
    "Outcome",
    "ProductsWriter",
    "RecordInvalid",
    "ShipmentsWriter",
    "WritePlan",
    "WriteResult",
    "WriteSettings",
    "Writer",
]
