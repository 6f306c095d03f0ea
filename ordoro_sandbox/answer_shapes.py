"""How an account's answers are shaped where live Ordoro has answered in more than one way.

* **Where an order's cart_order_id is answered.** The v3 spec answers an order's
  ``cart_order_id`` on each of its lines; the legacy ``/order/`` answers recorded in 2016
  (``shared/ordoro-samples/orders.json``) carry it once, at the top of the order. With
  ``SandboxOptions.cart_order_id_at_top`` (``--cart-order-id-at-top``) every order in an answer
  carries it at the top and its lines carry none. Only the answers change: the store, and so the
  ``cart_order_id`` filter of ``GET /v3/order``, stay as they are.
"""

from __future__ import annotations

import copy
from typing import Any


def cart_order_id_at_top(order: dict[str, Any]) -> dict[str, Any]:
    """A copy of a v3 order with its lines' ``cart_order_id`` moved to its top."""
    shaped = copy.deepcopy(order)
    lines = shaped.get("lines") or []
    found = next((line.get("cart_order_id") for line in lines if line.get("cart_order_id")), None)
    shaped["cart_order_id"] = found
    for line in lines:
        line.pop("cart_order_id", None)
    return shaped


def reshape_orders(body: Any) -> Any:
    """An answer with every order in it shaped by :func:`cart_order_id_at_top`: an order, a
    list envelope of orders (``order``), or anything else unchanged."""
    if _is_order(body):
        return cart_order_id_at_top(body)
    if isinstance(body, dict) and isinstance(body.get("order"), list):
        return {
            **body,
            "order": [cart_order_id_at_top(o) if _is_order(o) else o for o in body["order"]],
        }
    return body


def _is_order(value: Any) -> bool:
    return isinstance(value, dict) and "order_number" in value and "lines" in value
