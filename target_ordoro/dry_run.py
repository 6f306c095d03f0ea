"""A dry run: the writers run as they always do, against a client that sends no write.

:class:`DryRunClient` is the run's API client when ``dry_run`` is true. Reads go to Ordoro as
in a real run; every write request is written to the plan (:mod:`target_ordoro.plan`) instead of
being sent, and answered the way Ordoro would answer it. What the run has planned so far is kept
in memory (:class:`PlannedAccount`) and laid over Ordoro's answers to later reads: a product the
run would create is in the product list and has its own page, an order it would create is found
by its number with its lines, tags and tracking, a changed on-hand reads back changed. So the
writers decide exactly what they would decide in a real run (a stock row of a product the run
creates, an order updated by a later record, tracking for a new order), and a real run that
follows over an unchanged account sends exactly the plan's writes.

To know what a write changes ("before") or whether Ordoro would refuse it (a ``PUT`` of a SKU
it does not have), the dry run may read what a real run would not (a product, the account's
warehouses); those reads are not counted among the requests a real run would send. What a dry
run cannot know: refusals Ordoro decides for itself on the values (a 400 on a body); such a
write is in the plan and the real run dead-letters its record.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from ordoro_core.client import MAX_PAGE_SIZE, OrdoroClient
from ordoro_core.errors import OrdoroAPIError
from ordoro_core.order_numbers import MANUAL_PREFIX
from ordoro_core.urls import build_path
from target_ordoro.plan import PlanFile, change

#: Absent from Ordoro (a 404) and from the plan.
_MISSING = object()
#: The v1 order fields a planned order keeps as Ordoro's order does.
_ORDER_FIELDS = ("notes_from_customer", "internal_notes", "ship_by_date", "deliver_by_date")


def _segments(path: str) -> tuple[str, ...]:
    return tuple(unquote(part) for part in path.strip("/").split("/"))


def _not_found(method: str, path: str, what: str, param: str) -> OrdoroAPIError:
    return OrdoroAPIError(404, method, path, f"No {what} found (dry run)", param, None)


class PlannedAccount:
    """What a dry run has planned so far: products, orders and tags as a real run would have
    left them in Ordoro, keyed as the API keys them. Thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        #: SKU -> product as planned (created, or read and then changed).
        self.products: dict[str, dict[str, Any]] = {}
        #: SKUs of products the run would create, in creation order.
        self.created_skus: list[str] = []
        #: order_number -> order as planned (created, or read and then changed).
        self.orders: dict[str, dict[str, Any]] = {}
        #: Order numbers and SKUs Ordoro answered 404 for (and the run has not created).
        self.missing_orders: set[str] = set()
        self.missing_skus: set[str] = set()
        #: Tags the run would create, as GET /v3/order/tag would list them.
        self.created_tags: list[dict[str, Any]] = []
        self._next_id = 0

    def placeholder_id(self) -> int:
        """A negative id for something the run would create (a tag, an order line)."""
        with self.lock:
            self._next_id -= 1
            return self._next_id


class DryRunClient(OrdoroClient):
    """The API client of a dry run: reads go to Ordoro, writes go to the plan (module doc)."""

    plan: PlanFile
    planned: PlannedAccount

    def start_plan(self, plan: PlanFile) -> DryRunClient:
        """Write this client's planned writes to ``plan``; returns self."""
        self.plan = plan
        self.planned = PlannedAccount()
        self._warehouse_ids: set[int] | None = None
        self._cart_indexes: dict[int, str] = {}
        return self

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
        verify: Callable[[], Any] | None = None,
    ) -> Any:
        """GET: Ordoro's answer with the plan laid over it. Anything else: planned, not sent."""
        if method.upper() != "GET":
            with self.planned.lock:
                return self._plan_write(method.upper(), path, json_body)
        self.plan.note_read()
        try:
            answer: Any = super().request("GET", path, params=params)
        except OrdoroAPIError as error:
            if error.status != 404:
                raise
            answer = _MISSING
            missing = error
        else:
            missing = None
        with self.planned.lock:
            shaped = self._lay_over(_segments(path), params or {}, answer)
        if shaped is _MISSING:
            raise missing  # type: ignore[misc]
        return shaped

    # Reads that a real run would not send (not counted)

    def _read_unplanned(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().request("GET", path, params=params)
        except OrdoroAPIError as error:
            if error.status == 404:
                return _MISSING
            raise

    def _product(self, sku: str) -> dict[str, Any] | None:
        """The product as the run has it: planned, else Ordoro's (read once), else None."""
        if sku not in self.planned.products:
            if sku in self.planned.missing_skus:
                return None
            found = self._read_unplanned(build_path("product", sku))
            if not isinstance(found, dict):
                return None
            self.planned.products[sku] = copy.deepcopy(found)
        return self.planned.products[sku]

    def _order(self, number: str) -> dict[str, Any] | None:
        if number not in self.planned.orders:
            if number in self.planned.missing_orders:
                return None
            found = self._read_unplanned(build_path("v3", "order", number))
            if not isinstance(found, dict):
                return None
            self.planned.orders[number] = copy.deepcopy(found)
        return self.planned.orders[number]

    def _warehouse_exists(self, warehouse_id: int) -> bool:
        if self._warehouse_ids is None:
            ids: set[int] = set()
            offset = 0
            while True:
                page = self._read_unplanned(
                    build_path("warehouse"), {"limit": MAX_PAGE_SIZE, "offset": offset}
                )
                rows = page.get("warehouse") if isinstance(page, dict) else None
                ids.update(w["id"] for w in rows or [] if isinstance(w, dict) and "id" in w)
                offset += MAX_PAGE_SIZE
                if not rows or offset >= (page.get("count") or 0):
                    break
            self._warehouse_ids = ids
        return warehouse_id in self._warehouse_ids

    def _prefix(self, cart_id: Any) -> str:
        if cart_id is None:
            return MANUAL_PREFIX
        if cart_id not in self._cart_indexes:
            cart = self._read_unplanned(build_path("cart", cart_id))
            self._cart_indexes[cart_id] = str(cart.get("index")) if isinstance(cart, dict) else "?"
        return self._cart_indexes[cart_id]

    # Answers with the plan laid over them

    def _lay_over(self, route: tuple[str, ...], params: Mapping[str, Any], answer: Any) -> Any:
        planned = self.planned
        if route == ("product",) and isinstance(answer, dict):
            return self._product_page(answer, params)
        if len(route) == 2 and route[0] == "product":
            if route[1] in planned.products:
                return copy.deepcopy(planned.products[route[1]])
            if answer is _MISSING:
                planned.missing_skus.add(route[1])
        if route == ("v3", "order", "tag") and isinstance(answer, dict):
            return self._extend_page(answer, "tag", planned.created_tags, params)
        if len(route) == 3 and route[:2] == ("v3", "order"):
            if route[2] in planned.orders:
                return copy.deepcopy(planned.orders[route[2]])
            if answer is _MISSING:
                planned.missing_orders.add(route[2])
            elif isinstance(answer, dict):
                planned.orders[route[2]] = copy.deepcopy(answer)
        return answer

    def _product_page(self, answer: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        planned = self.planned
        page = dict(answer)
        page["product"] = [
            copy.deepcopy(planned.products.get(p.get("sku"), p)) if isinstance(p, dict) else p
            for p in answer.get("product") or []
        ]
        created = [planned.products[sku] for sku in planned.created_skus]
        return self._extend_page(page, "product", created, params)

    @staticmethod
    def _extend_page(
        answer: dict[str, Any], key: str, added: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A list page with ``added`` after Ordoro's records (they are the newest)."""
        if not added:
            return answer
        real = int(answer.get("count") or 0)
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or MAX_PAGE_SIZE)
        start = max(0, offset - real)
        room = max(0, offset + limit - max(real, offset))
        page = dict(answer)
        page["count"] = real + len(added)
        page[key] = [*(answer.get(key) or []), *copy.deepcopy(added[start : start + room])]
        return page

    # Planned writes

    def _plan_write(self, method: str, path: str, body: Any) -> Any:
        route = _segments(path)
        body = body if isinstance(body, dict) else {}
        if route[0] == "product":
            return self._plan_product(method, path, route, body)
        if route[:2] == ("v3", "order"):
            if route == ("v3", "order"):
                return self._plan_new_order(path, body)
            if route == ("v3", "order", "tag"):
                return self._plan_new_tag(path, body)
            return self._plan_order_change(method, path, route, body)
        self.plan.write(f"{method} {route[0]}", method, path, {})
        return {}

    def _plan_product(self, method: str, path: str, route: tuple[str, ...], body: dict) -> Any:
        planned = self.planned
        if route == ("product",):  # POST: a new SKU
            sku = body.get("sku")
            if self._product(sku) is not None:
                self.plan.write("create", method, path, {"sku": change(None, sku)}, refused=400)
                raise OrdoroAPIError(400, method, path, "SKU exists (dry run)", "sku", None)
            product = {**copy.deepcopy(body), "warehouses": []}
            planned.products[sku] = product
            planned.created_skus.append(sku)
            self.plan.write("create", method, path, {k: change(None, v) for k, v in body.items()})
            return copy.deepcopy(product)
        sku = route[1]
        product = self._product(sku)
        if len(route) == 2:  # PUT /product/{sku}/
            if product is None:
                self.plan.write("update", method, path, {}, refused=404)
                raise _not_found(method, path, "product", "sku")
            changes = {k: change(product.get(k), v) for k, v in body.items()}
            product.update(copy.deepcopy(body))
            self.plan.write("update", method, path, changes)
            return copy.deepcopy(product)
        warehouse_id = int(route[3])  # PUT /product/{sku}/warehouse/{id}/
        if product is None or not self._warehouse_exists(warehouse_id):
            self.plan.write("set", method, path, {}, refused=404)
            which = "product" if product is None else "warehouse"
            raise _not_found(method, path, which, "sku" if product is None else "warehouse_id")
        entries = product.setdefault("warehouses", [])
        entry = next(
            (e for e in entries if isinstance(e, dict) and e.get("id") == warehouse_id), None
        )
        if entry is None:
            entry = {"id": warehouse_id}
            entries.append(entry)
        changes = {k: change(entry.get(k), v) for k, v in body.items()}
        entry.update(body)
        self.plan.write("set", method, path, changes)
        return copy.deepcopy(entry)

    def _plan_new_tag(self, path: str, body: dict) -> Any:
        tag_id = self.planned.placeholder_id()
        name = body.get("name")
        tag = {"id": tag_id, "name": name, "text": name, "color": body.get("color")}
        self.planned.created_tags.append(tag)
        self.plan.write("create tag", "POST", path, {"name": change(None, name)})
        return copy.deepcopy(tag)

    def _tag_text(self, tag_id: int) -> str:
        tag = next((t for t in self.planned.created_tags if t["id"] == tag_id), None)
        if tag is not None:
            return str(tag["name"])
        found = self._read_unplanned(build_path("v3", "order", "tag"), {"limit": MAX_PAGE_SIZE})
        for t in found.get("tag") or [] if isinstance(found, dict) else []:
            if isinstance(t, dict) and t.get("id") == tag_id:
                return str(t.get("name") or t.get("text"))
        return str(tag_id)

    def _plan_new_order(self, path: str, body: dict) -> Any:
        number = f"{self._prefix(body.get('cart'))}-{body.get('order_id')}"
        if self._order(number) is not None:
            self.plan.write(
                "create", "POST", path, {"order_number": change(None, number)}, refused=400
            )
            raise OrdoroAPIError(400, "POST", path, "order exists (dry run)", "order_id", None)
        cart_order_id = body.get("cart_order_id")
        lines = [
            {
                "id": self.planned.placeholder_id(),
                "sku": (line.get("product") or {}).get("sku"),
                "quantity": line.get("quantity", 1),
                "item_price": line.get("item_price"),
                "cart_order_id": cart_order_id,
            }
            for line in body.get("lines") or []
        ]
        tags = [
            {"id": self.planned.placeholder_id(), "text": t.get("text"), "color": t.get("color")}
            for t in body.get("tags") or []
        ]
        order = {
            "order_number": number,
            "status": body.get("status", "awaiting_fulfillment"),
            "shipping_address": copy.deepcopy(body.get("shipping_address") or {}),
            "billing_address": copy.deepcopy(body.get("billing_address") or {}),
            "lines": lines,
            "tags": tags,
            "shipping_info": {},
            **{name: body.get(name) for name in _ORDER_FIELDS},
        }
        self.planned.orders[number] = order
        changes = {"order_number": change(None, number)}
        changes.update({k: change(None, v) for k, v in body.items()})
        self.plan.write("create", "POST", path, changes)
        return copy.deepcopy(order)

    def _plan_order_change(self, method: str, path: str, route: tuple[str, ...], body: dict) -> Any:
        number = route[2]
        order = self._order(number)
        what = route[3] if len(route) > 3 else "order"
        if order is None:
            self.plan.write(what, method, path, {}, refused=404)
            raise _not_found(method, path, "order", "order_number")
        if what == "order":
            changes = {k: change(order.get(k), v) for k, v in body.items()}
            order.update(copy.deepcopy(body))
            return self._done("update", method, path, changes, order)
        if what in ("shipping_address", "billing_address"):
            address = order.setdefault(what, {})
            changes = {f"{what}.{k}": change(address.get(k), v) for k, v in body.items()}
            address.update(body)
            return self._done("update", method, path, changes, address)
        if what in ("cancel", "uncancel"):
            after = "cancelled" if what == "cancel" else "awaiting_fulfillment"
            changes = {"status": change(order.get("status"), after)}
            order["status"] = after
            return self._done(what, method, path, changes, order)
        if what == "shipping_info":
            before = order.get("shipping_info") or {}
            changes = {k: change(before.get(k), v) for k, v in body.items()}
            order["shipping_info"] = {**copy.deepcopy(body)}
            order["status"] = "shipped"
            action = "add tracking" if method == "POST" else "change tracking"
            return self._done(action, method, path, changes, order["shipping_info"])
        if what == "tag":
            return self._plan_order_tag(method, path, order, int(route[4]))
        return self._plan_line(method, path, route, order, body)

    def _plan_order_tag(self, method: str, path: str, order: dict, tag_id: int) -> Any:
        before = sorted(str(t.get("text")) for t in order["tags"])
        text = self._tag_text(tag_id)
        if method == "POST":
            if all(t.get("id") != tag_id for t in order["tags"]):
                order["tags"].append({"id": tag_id, "text": text})
            action = "add tag"
        else:
            order["tags"] = [t for t in order["tags"] if t.get("id") != tag_id]
            action = "remove tag"
        after = sorted(str(t.get("text")) for t in order["tags"])
        return self._done(action, method, path, {"tags": change(before, after)}, order["tags"])

    def _plan_line(
        self, method: str, path: str, route: tuple[str, ...], order: dict, body: dict
    ) -> Any:
        lines = order["lines"]
        if method == "POST":
            line = {"id": self.planned.placeholder_id(), **copy.deepcopy(body)}
            lines.append(line)
            changes = {"lines": change(None, f"{body.get('sku')} x{body.get('quantity', 1)}")}
            return self._done("add line", method, path, changes, order)
        line = next((ln for ln in lines if str(ln.get("id")) == route[4]), None)
        if line is None:
            self.plan.write("line", method, path, {}, refused=404)
            raise _not_found(method, path, "order line", "order_line_id")
        label = f"lines.{line.get('sku')}.quantity"
        if method == "PUT":
            changes = {label: change(line.get("quantity"), body.get("quantity"))}
            line.update(body)
            return self._done("update line", method, path, changes, order)
        order["lines"] = [ln for ln in lines if ln is not line]
        return self._done(
            "remove line", method, path, {label: change(line.get("quantity"), None)}, order
        )

    def _done(self, action: str, method: str, path: str, changes: dict, answer: Any) -> Any:
        self.plan.write(action, method, path, changes)
        return copy.deepcopy(answer)
