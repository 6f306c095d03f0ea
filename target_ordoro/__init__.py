"""target-ordoro: a Singer target that writes orders, products, stock and tracking to Ordoro.

Usage::

    tap-something | target-ordoro --config config.json
    tap-ordoro --config source.json | target-ordoro --config destination.json

Streams and what they do in Ordoro (records as tap-ordoro emits them, or smaller write forms;
other stream names through the ``stream_aliases`` setting):

* ``products``: created or updated by SKU (``PUT /product/{sku}/`` with the fields that differ,
  ``POST /product/`` when the SKU is new, which needs a ``name``).
* ``inventory``: on-hand set to the record's absolute value per SKU and warehouse
  (``PUT /product/{sku}/warehouse/{id}/``) where it differs; never creates a product.
* ``orders``: created once (``POST /v3/order``) with the record's own ``cart_order_id`` and the
  target's marker tag, and found again through Ordoro itself (its number, under any sales
  channel's prefix, and the tag); a replay updates only what differs. Each input order's Ordoro
  order_number is logged and appended to the order map file (a report).
* ``shipments``: tracking added once, changed when it differs, on the order the record
  designates: never on an order that merely shares a number.

Every outcome is judged against what Ordoro holds (no local file decides), reading at the lowest
request cost per batch. Products are written before inventory and orders, orders before
shipments, whatever order the streams arrive in. Invalid records and records Ordoro rejects go
to the dead-letter file and the run goes on; transient failures are retried, and a run that
still cannot write exits non-zero. Each STATE is emitted as soon as the records before it are
written or dead-lettered. With ``dry_run`` nothing is written and no STATE emitted: every write
is planned (``plan_path``). Meltano's loader test stream is answered with a credentials check.

Modules: ``target`` (plugin class, settings, routing, STATE, summary), ``run`` (``WriteRun``:
what the sinks of one run share), ``sinks`` (validate, order, dead-letter), ``writers`` (a
package: the Ordoro I/O, one module per stream), ``validation`` (coercion and validation),
``checkpoints`` (which STATE may be emitted), ``dead_letter``, ``report`` (counts, summary,
order map), ``plan`` and ``dry_run`` (a dry run's plan and client), ``connection_check``
(Meltano's loader test), ``object_store`` and ``jsonl`` (report files, local or in an object
store), ``errors``. Imports go one way:
``target`` -> ``sinks`` -> ``run`` -> ``writers``.
"""
