"""A local Ordoro API sandbox: a real HTTP server with a seeded, in-memory account.

Tests start it in-process on a free loopback port::

    from ordoro_sandbox import FaultRule, Sandbox, SandboxOptions

    with Sandbox(SandboxOptions(seed=7, products=120)) as sandbox:
        sandbox.url          # "http://127.0.0.1:54321"
        sandbox.store        # the in-memory account (orders, products, warehouses, ...)
        sandbox.requests     # every request: number, method, path, query, status, fault
        sandbox.add_fault(FaultRule(kind="status", status=503, nth={1, 2}))

``ordoro-sandbox --help`` lists the command-line knobs (among them the order identity
scenarios ``shared_order_ids`` and ``decoy_orders``, and ``cart_order_id_at_top``, off by
default). Modules: ``server``
(the Sandbox and its werkzeug server), ``app`` (WSGI app: raw-path routing, auth, rate limit,
faults), ``endpoints`` (routes and handlers), ``listing`` (filters, sorts, envelopes), ``store``
(state and writes), ``seed`` (reproducible data), ``faults``, ``churn`` (records changing
during a sync, read or not yet), ``live`` (a live account's timing: bulk actions, late commits,
stock moves, sales while a client reads, a line switched to another SKU), ``answer_shapes``
(answers shaped as live Ordoro has also answered: cart_order_id at the top),
``validation`` with ``request_schemas/*.json``, ``cli``.

The sandbox follows Ordoro's published OpenAPI spec except where the live API is known to
differ, or the spec contradicts itself. Deviations from the spec:

1. The product list key is ``product`` (the spec's ``product_list`` says ``products``);
   the recorded live responses and the spec's own prose use singular model names.
2. ``PUT /product/{sku}/warehouse/{warehouse_id}/`` takes ``on_hand`` (set) or
   ``adjustment`` (add). The spec nests them in a ``oneOf`` whose variants both match any
   body, beside ``additionalProperties: false``, which makes them unreachable. Giving both
   answers 400.
3. The ``oneOf`` of channel extra-info variants in ``post_product``/``put_product`` matches a
   plain body several times (no variant requires anything), so it is read as ``anyOf``.
4. The error envelope's key is ``param`` (the spec's ``error`` schema says ``params``, its
   prose and the live API say ``param``).
5. ``warehouses[].cart`` of a product (``inventory_as_warehouse.cart``) is null, as in live
   data (the spec says string).
6. ``product`` (and a purchase-order item's ``product``) is an ``allOf`` of ``product_base``,
   whose ``additionalProperties: false`` rejects the very fields the second part adds
   (``warehouses``, ``suppliers``, ``to_be_shipped``, ...; ``supplier``, ``warehouse``).
   The sandbox sends the union, as the live API does.
7. ``PUT /v3/order/{order_number}`` accepts ``weight``: the spec's own request example sends
   ``{"weight": 10.5}`` (and its response shows it applied) although ``put_order`` forbids it.
8. ``POST /v3/order`` needs a ``product`` (with ``sku`` and ``name``) on every line; the spec
   leaves it optional, but a line without a SKU cannot be stored.
9. ``POST /v3/order/tag`` requires only ``name``: the spec's body is the response shape
   ``v3_tag``, which requires the ``id`` a new tag cannot have yet (and ``color``, which
   defaults to ``#cccccc`` here). ``GET /v3/order/tag`` items carry both ``name`` (the spec's
   ``v3_tag``) and ``text`` (the spec's own example, and what orders' ``tags`` show).

Assumptions where the spec and the recorded responses say nothing:

- ``updated_after`` is exclusive (>) and ``updated_before`` inclusive (<=); the live API's
  inclusivity is undocumented. Timestamps are compared as instants, never as text; a query
  value without an offset is account local time (America/Chicago).
- A page holds what ``limit`` asks (up to 100), any offset is served, and a filter value's UTC
  offset is honoured. The other plausible readings are options, off by default
  (``listing.ListReading``: a page size cap, filter offsets dropped, a result window).
- A timestamp without an offset in a request BODY is UTC, as the spec's POST /v3/order
  example shows (``order_date`` "2015-12-09T12:01:00.855700" comes back "…06:01:00…-06:00").
- Default sorts: orders ``-order_placed_date``, products by id (creation order), purchase
  orders ``po_id``, return orders ``reference_id``, warehouses/carts/suppliers by id. Every
  sort breaks ties by the record's id, so paging is stable.
- Manual orders (``M-…``) carry no ``sales_channel`` key (the spec's object is not nullable).
- Committed and available quantities follow open (awaiting_fulfillment) orders, and shipping
  does not deduct on-hand stock. A recount that changes a product's figures stamps its
  ``updated`` unless ``stock_moves_untouched`` is set (the live behaviour: see ``live``).
- Return-order statuses are ``open``, ``received``, ``restocked``, ``cancelled``.
- POST and PUT ``/v3/order/{order_number}/shipping_info`` answer the new ``shipping_info``
  (as the spec says) with 201 and 200; a POST on an order that has tracking replaces it.
- Request bodies: the channel extra-info objects of post_product/put_product go unchecked
  (see deviation 3), and unknown extra fields of those two bodies are ignored (the spec
  allows them).
- An order's life after creation (the spec says nothing of what is refused): ``cancel`` on a
  shipped order answers 400, on a cancelled one 200 without change; ``uncancel`` of a shipped
  or dropshipment_requested order answers 400, of an open one 200 without change. Cancelling
  releases the order's committed stock. Address updates are taken in any status. Line changes
  on a shipped order answer 400; a line's SKU must exist (404, param ``sku``); deleting an
  order's last line answers 400. ``POST /v3/order/{order_number}/line`` answers 201 with the
  order (as the spec's example), ``PUT``/``DELETE`` of a line 200 with the order.
- ``GET /v3/order?cart_order_id=`` matches a line's ``cart_order_id`` exactly (the spec does
  not say whether the live filter is exact; target-ordoro checks the answer itself).
"""

from ordoro_sandbox.app import RequestRecord
from ordoro_sandbox.faults import FaultRule
from ordoro_sandbox.options import SandboxOptions
from ordoro_sandbox.server import Sandbox
from ordoro_sandbox.store import Store

__all__ = ["FaultRule", "RequestRecord", "Sandbox", "SandboxOptions", "Store"]
