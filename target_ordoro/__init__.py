"""target-ordoro: a Singer target that writes orders, products, stock and tracking to Ordoro.

Usage::

    tap-something | target-ordoro --config config.json
    tap-ordoro --config source.json | target-ordoro --config destination.json

Streams and what they do in Ordoro (records as tap-ordoro emits them, or smaller write forms;
other stream names through the ``stream_aliases`` setting):

* ``products``: created or updated by SKU (``PUT /product/{sku}/``, ``POST /product/`` when
  the SKU is new, which needs a ``name``).
* ``inventory``: on-hand set to the record's absolute value per SKU and warehouse
  (``PUT /product/{sku}/warehouse/{id}/``); never creates a product.
* ``orders``: created once (``POST /v3/order``); a replay finds the order and updates only what
  Ordoro lets you change (notes, ship-by and deliver-by dates). The order_number each input
  order maps to is logged and appended to the order map file.
* ``shipments``: tracking added to the order once, changed when it differs.

Products are written before inventory and orders, orders before shipments, whatever order the
streams arrive in. Invalid records and records Ordoro rejects go to the dead-letter file and the
run goes on; transient failures are retried, and a run that still cannot write exits non-zero.

Modules: ``target`` (plugin class, settings, routing, STATE, summary), ``run`` (``WriteRun``:
what the sinks of one run share), ``sinks`` (validate, order, dead-letter), ``writers`` (a
package: the Ordoro I/O, one module per stream), ``validation`` (coercion and validation),
``checkpoints`` (which STATE may be emitted), ``dead_letter``, ``report`` (counts, summary,
order map), ``jsonl`` (append-only JSON Lines files), ``errors``. Imports go one way:
``target`` -> ``sinks`` -> ``run`` -> ``writers``.
"""
