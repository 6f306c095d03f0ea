"""The API's routes and what each one does to the store.

Routes are matched on the percent-decoded path segments (so a SKU may hold "/", "#", "?"),
after the server has checked the trailing-slash rule. Handlers run with the store's lock held.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from ordoro_sandbox import listing
from ordoro_sandbox.churn import SyncChurn
from ordoro_sandbox.errors import ApiError, not_found
from ordoro_sandbox.listing import by, by_instant, contains
from ordoro_sandbox.live import SalesDuringReads
from ordoro_sandbox.records import ORDER_STATUSES, PO_STATUSES, RETURN_STATUSES
from ordoro_sandbox.sorted_views import SortedViews
from ordoro_sandbox.store import Store
from ordoro_sandbox.validation import parse_json_body, validate_body

ORDER_SORTS = {
    "updated_date": by_instant("updated_date"),
    "created_date": by_instant("created_date"),
    "order_placed_date": by_instant("order_placed_date"),
    "order_number": by("order_number"),
}
PRODUCT_SORTS = {
    "name": by("name"),
    "sku": by("sku"),
    "created": by_instant("created"),
    "updated": by_instant("updated"),
    "default_supplier": lambda p: listing.nullable(
        p["suppliers"][0]["address"]["company"] if p["suppliers"] else None
    ),
    "total_committed": by("total_committed"),
    "total_available": by("total_available"),
    "total_on_hand": by("total_on_hand"),
    "po_total_committed": by("po_total_committed"),
}
PURCHASE_ORDER_SORTS = {
    "status": by("status"),
    "po_id": by("po_id"),
    "updated": by_instant("updated"),
    "supplier": lambda po: listing.nullable(po["supplier"]["address"]["company"]),
    "ship_to": lambda po: listing.nullable(po["warehouse"]["address"]["name"]),
    "estimated_delivery_date": by_instant("estimated_delivery_date"),
}
RETURN_ORDER_SORTS = {
    "reference_id": by("reference_id"),
    "status": by("status"),
    "created_date": by_instant("created_date"),
    "updated_date": by_instant("updated_date"),
}


@dataclass
class Call:
    """One request as a handler sees it."""

    method: str
    params: dict[str, str]
    args: MultiDict
    body: bytes


@dataclass
class Reply:
    """A handler's answer: status and JSON body."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Route:
    """A path pattern (literal segments and ``{name}`` placeholders) and its methods."""

    pattern: tuple[str, ...]
    methods: dict[str, Handler]

    def match(self, segments: list[str]) -> dict[str, str] | None:
        """The placeholder values when the segments fit the pattern."""
        if len(segments) != len(self.pattern):
            return None
        params = {}
        for part, segment in zip(self.pattern, segments, strict=True):
            if part.startswith("{"):
                if not segment:
                    return None
                params[part[1:-1]] = segment
            elif part != segment:
                return None
        return params


class Endpoints:
    """Every route the sandbox serves, bound to one store."""

    def __init__(
        self,
        store: Store,
        churn: SyncChurn,
        sales: SalesDuringReads | None = None,
        reading: listing.ListReading | None = None,
    ) -> None:
        self.store = store
        self.churn = churn
        self.sales = sales if sales is not None else SalesDuringReads()
        #: How list requests are read where the spec leaves it open (see ListReading).
        self.reading = reading if reading is not None else listing.ListReading()
        #: Sorted lists kept while they hold (see ordoro_sandbox.sorted_views).
        self.sorted = SortedViews()
        self.routes = [
            Route(("authenticated",), {"GET": self.authenticated}),
            Route(("v3", "order"), {"GET": self.list_orders, "POST": self.create_order}),
            # Before /v3/order/{order_number}, which "tag" would match.
            Route(("v3", "order", "tag"), {"GET": self.list_tags, "POST": self.create_tag}),
            Route(
                ("v3", "order", "{order_number}"), {"GET": self.get_order, "PUT": self.put_order}
            ),
            Route(
                ("v3", "order", "{order_number}", "shipping_info"),
                {"POST": self.shipping_info, "PUT": self.shipping_info},
            ),
            Route(("v3", "order", "{order_number}", "cancel"), {"POST": self.cancel_order}),
            Route(("v3", "order", "{order_number}", "uncancel"), {"POST": self.uncancel_order}),
            Route(
                ("v3", "order", "{order_number}", "shipping_address"),
                {"PUT": self.order_address("shipping_address")},
            ),
            Route(
                ("v3", "order", "{order_number}", "billing_address"),
                {"PUT": self.order_address("billing_address")},
            ),
            Route(
                ("v3", "order", "{order_number}", "tag", "{tag_id}"),
                {"POST": self.tag_order, "DELETE": self.untag_order},
            ),
            Route(("v3", "order", "{order_number}", "line"), {"POST": self.add_line}),
            Route(
                ("v3", "order", "{order_number}", "line", "{line_id}"),
                {"PUT": self.put_line, "DELETE": self.delete_line},
            ),
            Route(("v3", "return_order"), {"GET": self.list_return_orders}),
            Route(("v3", "return_order", "{reference_id}"), {"GET": self.get_return_order}),
            Route(("product",), {"GET": self.list_products, "POST": self.create_product}),
            Route(("product", "{sku}"), {"GET": self.get_product, "PUT": self.put_product}),
            Route(
                ("product", "{sku}", "warehouse", "{warehouse_id}"),
                {"PUT": self.put_product_warehouse},
            ),
            Route(("warehouse",), {"GET": self.plain_list("warehouse", "warehouses")}),
            Route(("warehouse", "{id}"), {"GET": self.plain_get("warehouse", "warehouses")}),
            Route(("cart",), {"GET": self.plain_list("cart", "carts")}),
            Route(("cart", "{id}"), {"GET": self.plain_get("cart", "carts")}),
            Route(("supplier",), {"GET": self.plain_list("supplier", "suppliers")}),
            Route(("supplier", "{id}"), {"GET": self.plain_get("supplier", "suppliers")}),
            Route(("purchase_order",), {"GET": self.list_purchase_orders}),
            Route(("purchase_order", "{po_id}"), {"GET": self.get_purchase_order}),
        ]

    def resolve(self, method: str, segments: list[str]) -> tuple[Handler, dict[str, str]]:
        """The handler for a request; 404 for an unknown path, 405 for a wrong method."""
        for route in self.routes:
            params = route.match(segments)
            if params is None:
                continue
            handler = route.methods.get(method)
            if handler is None:
                allowed = ", ".join(sorted(route.methods))
                raise ApiError(
                    405,
                    f"Method {method} not allowed here (allowed: {allowed})",
                    headers={"Allow": allowed},
                )
            return handler, params
        raise ApiError(404, "No such endpoint: " + "/" + "/".join(segments))

    # -- misc --------------------------------------------------------------------------

    def authenticated(self, call: Call) -> Reply:
        return Reply(200, {"success": True})

    def plain_list(self, list_key: str, kind: str) -> Handler:
        """A list endpoint without filters, ordered by id."""

        def handler(call: Call) -> Reply:
            params = listing.paging(call.args, self.reading)
            records = [getattr(self.store, kind)[key] for key in sorted(getattr(self.store, kind))]
            return Reply(200, listing.envelope(list_key, records, params))

        return handler

    def plain_get(self, what: str, kind: str) -> Handler:
        """An instance endpoint keyed by an integer id."""

        def handler(call: Call) -> Reply:
            key = call.params["id"]
            try:
                return Reply(200, getattr(self.store, kind)[int(key)])
            except (KeyError, ValueError):
                raise not_found(what, key, "id") from None

        return handler

    # -- orders ------------------------------------------------------------------------

    def list_orders(self, call: Call) -> Reply:
        args = call.args
        params = listing.paging(args, self.reading)
        status = listing.choice_arg(args, "status", ("all", *ORDER_STATUSES), "all")
        zone = self.reading.zone(args, zone_param=True)
        inside_window = listing.updated_window(args, "updated_date", zone)
        search = args.get("search")
        cart_order_id = args.get("cart_order_id")
        channels = listing.int_list_arg(args, "sales_channel")
        warehouses = listing.int_list_arg(args, "warehouse_id")
        sort = args.get("sort", "-order_placed_date")
        listing.check_sort(sort, ORDER_SORTS)

        def wanted(order: dict[str, Any]) -> bool:
            if status != "all" and order["status"] != status:
                return False
            if cart_order_id is not None and not any(
                line["cart_order_id"] == cart_order_id for line in order["lines"]
            ):
                return False
            if channels is not None and order.get("sales_channel", {}).get("id") not in channels:
                return False
            if warehouses is not None and order["warehouse"]["id"] not in warehouses:
                return False
            if search and not _order_matches(order, search):
                return False
            return inside_window(order)

        self.churn.before_page(self.store, "order")
        ordered = self.sorted.sort("order", self.store.orders.values(), sort, ORDER_SORTS, by("id"))
        body = listing.envelope("order", [order for order in ordered if wanted(order)], params)
        self.churn.after_page("order", [order["order_number"] for order in body["order"]])
        return Reply(200, body)

    def get_order(self, call: Call) -> Reply:
        return Reply(200, self.store.get_order(call.params["order_number"]))

    def create_order(self, call: Call) -> Reply:
        body = validate_body("post_order", parse_json_body(call.body))
        return Reply(201, self.store.create_order(body))

    def put_order(self, call: Call) -> Reply:
        order_number = call.params["order_number"]
        self.store.get_order(order_number)
        body = validate_body("put_order", parse_json_body(call.body))
        return Reply(200, self.store.update_order(order_number, body))

    def shipping_info(self, call: Call) -> Reply:
        order_number = call.params["order_number"]
        self.store.get_order(order_number)
        body = validate_body("put_order_shipping_info", parse_json_body(call.body))
        info = self.store.set_shipping_info(order_number, call.method, body)
        return Reply(201 if call.method == "POST" else 200, info)

    # -- an order's life after creation --------------------------------------------------

    def cancel_order(self, call: Call) -> Reply:
        return Reply(200, self.store.cancel_order(call.params["order_number"]))

    def uncancel_order(self, call: Call) -> Reply:
        return Reply(200, self.store.uncancel_order(call.params["order_number"]))

    def order_address(self, which: str) -> Handler:
        """PUT of an order's shipping or billing address (update_address body)."""

        def handler(call: Call) -> Reply:
            order_number = call.params["order_number"]
            self.store.get_order(order_number)
            body = validate_body("put_order_address", parse_json_body(call.body))
            return Reply(200, self.store.update_order_address(order_number, which, body))

        return handler

    def list_tags(self, call: Call) -> Reply:
        params = listing.paging(call.args, self.reading)
        return Reply(200, listing.envelope("tag", self.store.tag_records(), params))

    def create_tag(self, call: Call) -> Reply:
        body = validate_body("post_order_tag", parse_json_body(call.body))
        return Reply(201, self.store.create_tag(body))

    def tag_order(self, call: Call) -> Reply:
        order_number, tag_id = call.params["order_number"], call.params["tag_id"]
        return Reply(200, self.store.add_tag_to_order(order_number, tag_id))

    def untag_order(self, call: Call) -> Reply:
        order_number, tag_id = call.params["order_number"], call.params["tag_id"]
        return Reply(200, self.store.remove_tag_from_order(order_number, tag_id))

    def add_line(self, call: Call) -> Reply:
        order_number = call.params["order_number"]
        self.store.get_order(order_number)
        body = validate_body("post_order_line", parse_json_body(call.body))
        return Reply(201, self.store.add_order_line(order_number, body))

    def put_line(self, call: Call) -> Reply:
        order_number = call.params["order_number"]
        self.store.get_order(order_number)
        body = validate_body("put_order_line", parse_json_body(call.body))
        return Reply(200, self.store.update_order_line(order_number, call.params["line_id"], body))

    def delete_line(self, call: Call) -> Reply:
        order_number, line_id = call.params["order_number"], call.params["line_id"]
        return Reply(200, self.store.delete_order_line(order_number, line_id))

    # -- products ----------------------------------------------------------------------

    def list_products(self, call: Call) -> Reply:
        args = call.args
        params = listing.paging(args, self.reading)
        zone = self.reading.zone(args, zone_param=False)
        inside_window = listing.updated_window(args, "updated", zone)
        search = args.get("search")
        active = listing.bool_arg(args, "active")
        warehouse_ids = listing.int_list_arg(args, "warehouse_id")
        sort = args.get("sort", "id")
        sorts = {**PRODUCT_SORTS, "id": by("id")}
        listing.check_sort(sort, sorts)

        def wanted(product: dict[str, Any]) -> bool:
            if search and not contains(search, product["sku"], product["name"]):
                return False
            if active is not None and (product["archive_date"] is None) != active:
                return False
            if warehouse_ids is not None and not any(
                entry["id"] in warehouse_ids for entry in product["warehouses"]
            ):
                return False
            return inside_window(product)

        self.churn.before_page(self.store, "product")
        ordered = self.sorted.sort("product", self.store.products.values(), sort, sorts, by("id"))
        body = listing.envelope("product", [p for p in ordered if wanted(p)], params)
        if warehouse_ids is not None:
            body["product"] = [
                {**p, "warehouses": [e for e in p["warehouses"] if e["id"] in warehouse_ids]}
                for p in body["product"]
            ]
        self.churn.after_page("product", [p["sku"] for p in body["product"]])
        body["product"] = self.sales.after_product_page(self.store, body["product"])
        return Reply(200, body)

    def get_product(self, call: Call) -> Reply:
        return Reply(200, self.store.get_product(call.params["sku"]))

    def create_product(self, call: Call) -> Reply:
        body = validate_body("post_product", parse_json_body(call.body))
        return Reply(201, self.store.create_product(body))

    def put_product(self, call: Call) -> Reply:
        sku = call.params["sku"]
        self.store.get_product(sku)
        body = validate_body("put_product", parse_json_body(call.body))
        return Reply(200, self.store.update_product(sku, body))

    def put_product_warehouse(self, call: Call) -> Reply:
        sku, warehouse_key = call.params["sku"], call.params["warehouse_id"]
        self.store.get_product(sku)
        if not warehouse_key.isdigit() or int(warehouse_key) not in self.store.warehouses:
            raise not_found("warehouse", warehouse_key, "warehouse_id")
        body = validate_body("put_product_warehouse", parse_json_body(call.body))
        return Reply(200, self.store.update_product_warehouse(sku, warehouse_key, body))

    # -- purchase and return orders ----------------------------------------------------

    def list_purchase_orders(self, call: Call) -> Reply:
        args = call.args
        params = listing.paging(args, self.reading)
        zone = self.reading.zone(args, zone_param=False)
        inside_window = listing.updated_window(args, "updated", zone)
        status = listing.choice_arg(args, "status", ("all", *PO_STATUSES), "all")
        sort = args.get("sort", "po_id")
        listing.check_sort(sort, PURCHASE_ORDER_SORTS)

        def wanted(po: dict[str, Any]) -> bool:
            if status != "all" and po["status"] != status:
                return False
            return inside_window(po)

        self.churn.before_page(self.store, "purchase_order")
        ordered = self.sorted.sort(
            "purchase_order",
            self.store.purchase_orders.values(),
            sort,
            PURCHASE_ORDER_SORTS,
            by("po_id"),
        )
        body = listing.envelope("purchase_order", [po for po in ordered if wanted(po)], params)
        self.churn.after_page("purchase_order", [po["po_id"] for po in body["purchase_order"]])
        return Reply(200, body)

    def get_purchase_order(self, call: Call) -> Reply:
        po_id = call.params["po_id"]
        try:
            return Reply(200, self.store.purchase_orders[po_id])
        except KeyError:
            raise not_found("purchase order", po_id, "po_id") from None

    def list_return_orders(self, call: Call) -> Reply:
        args = call.args
        params = listing.paging(args, self.reading)
        status = listing.choice_arg(args, "status", ("all", *RETURN_STATUSES), "all")
        sort = args.get("sort", "reference_id")
        ordered = self.sorted.sort(
            "return_order",
            self.store.return_orders.values(),
            sort,
            RETURN_ORDER_SORTS,
            by("reference_id"),
        )
        matching = [ro for ro in ordered if status == "all" or ro["status"] == status]
        return Reply(200, listing.envelope("return_order", matching, params))

    def get_return_order(self, call: Call) -> Reply:
        reference_id = call.params["reference_id"]
        try:
            return Reply(200, self.store.return_orders[reference_id])
        except KeyError:
            raise not_found("return order", reference_id, "reference_id") from None


def _order_matches(order: dict[str, Any], search: str) -> bool:
    """The order search: order number, cart order id, names, emails, companies, SKUs."""
    addresses = (order["shipping_address"], order["billing_address"])
    return contains(
        search,
        order["order_number"],
        *(line["cart_order_id"] for line in order["lines"]),
        *(line["sku"] for line in order["lines"]),
        *(a[name] for a in addresses for name in ("name", "email", "company")),
    )
