"""The sandbox against Ordoro's published OpenAPI spec (../shared/ordoro-openapi.yml).

Responses are validated against the spec's component schemas, and the project's request
schemas are compared with the spec's request schemas. Where the spec is known to be wrong the
check uses a corrected copy; every correction is listed in KNOWN_DEVIATIONS, and each has a
test proving the spec still says what the deviation claims (so a fixed spec shows up here).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ordoro_sandbox.validation import REQUEST_SCHEMAS, load_request_schema, request_validator

SPEC_URI = "urn:ordoro-openapi"

KNOWN_DEVIATIONS = {
    "product-list-key": "the product list key is `product`; the spec's product_list says "
    "`products` (the live API and the spec's prose use singular model names)",
    "put-product-warehouse": "PUT /product/{sku}/warehouse/{id}/ takes on_hand or adjustment; "
    "the spec's oneOf beside additionalProperties:false makes them unreachable",
    "extra-info-oneof": "post_product/put_product: the oneOf of channel extra-info variants "
    "matches a plain body several times, so it is read as anyOf",
    "error-param": "the error envelope's key is `param`; the spec's error schema says `params` "
    "(its prose says `param`)",
    "warehouse-cart-null": "inventory_as_warehouse.cart is null in live data (spec: string)",
    "product-allof": "product (and a purchase-order item's product) is an allOf of "
    "product_base, whose additionalProperties:false rejects the fields the other part adds",
    "put-order-weight": "put_order accepts weight, as the spec's own request example sends",
    "order-line-product": "POST /v3/order: every line needs a product (the spec leaves it "
    "optional)",
    "post-order-tag-required": "POST /v3/order/tag: the spec's body is the response shape "
    "v3_tag, which requires the id a new tag cannot have (and color); only name is required",
}

#: Project request schema -> (spec component, operations whose request examples it must take).
REQUEST_COMPONENTS = {
    "post_order": ("post_order_v1", [("/v3/order", "post")]),
    "put_order": ("put_order", [("/v3/order/{order_number}", "put")]),
    "put_order_shipping_info": (
        "put_order_shipping_info",
        [
            ("/v3/order/{order_number}/shipping_info", "post"),
            ("/v3/order/{order_number}/shipping_info", "put"),
        ],
    ),
    "post_product": ("post_product", [("/product/", "post")]),
    "put_product": ("put_product", [("/product/{sku}/", "put")]),
    "put_product_warehouse": (
        "put_product_warehouse",
        [("/product/{sku}/warehouse/{warehouse_id}/", "put")],
    ),
    # Order changes after creation (target-ordoro follows an order's life).
    "put_order_address": (
        "update_address",
        [
            ("/v3/order/{order_number}/shipping_address", "put"),
            ("/v3/order/{order_number}/billing_address", "put"),
        ],
    ),
    "post_order_tag": ("v3_tag", [("/v3/order/tag", "post")]),
    "post_order_line": ("post_order_line", [("/v3/order/{order_number}/line", "post")]),
    "put_order_line": (
        "put_order_line",
        [("/v3/order/{order_number}/line/{order_line_id}", "put")],
    ),
}

#: Required properties the project's request schemas set instead of the spec's, by deviation.
REQUIRED_INSTEAD = {
    "post_order_tag": {"name"},  # post-order-tag-required
}

#: Properties the project's request schemas add to the spec's, by deviation.
ADDED_PROPERTIES = {
    "put_order": {"weight"},  # put-order-weight
    "put_product_warehouse": {"on_hand", "adjustment"},  # put-product-warehouse
}


def corrected_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec with the known response-schema deviations applied."""
    fixed = copy.deepcopy(spec)
    schemas = fixed["components"]["schemas"]

    def merged_product(extension: dict[str, Any]) -> dict[str, Any]:  # product-allof
        base = copy.deepcopy(schemas["product_base"])
        base["properties"].update(copy.deepcopy(extension["properties"]))
        return base

    schemas["product"] = merged_product(schemas["product"]["allOf"][1])
    item = schemas["purchase_order"]["properties"]["items"]["items"]
    item["properties"]["product"] = merged_product(item["properties"]["product"]["allOf"][1])
    cart = schemas["inventory_as_warehouse"]["properties"]["cart"]  # warehouse-cart-null
    schemas["inventory_as_warehouse"]["properties"]["cart"] = {"anyOf": [cart, {"type": "null"}]}
    return fixed


def validator_for(spec: dict[str, Any], component: str) -> Draft202012Validator:
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry = Registry().with_resource(SPEC_URI, resource)
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#/components/schemas/{component}"}, registry=registry
    )


@pytest.fixture(scope="module")
def fixed_spec(spec) -> dict[str, Any]:
    return corrected_spec(spec)


def all_pages(api, path: str, list_key: str) -> list[dict]:
    records, offset = [], 0
    while True:
        body = api.get(path, limit=100, offset=offset).json()
        records.extend(body[list_key])
        offset += 100
        if offset >= body["count"]:
            return records


def assert_valid(validator: Draft202012Validator, instance: Any, what: str) -> None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    details = "; ".join(f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5])
    assert not errors, f"{what}: {details}"


# -- responses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "list_key", "component", "list_component"),
    [
        ("/v3/order", "order", "order", "order_list"),
        ("/product/", "product", "product", None),  # product-list-key
        ("/warehouse/", "warehouse", "warehouse", "warehouse_list"),
        ("/cart/", "cart", "any_of_cart_type", "cart_list"),
        ("/supplier/", "supplier", "supplier", "supplier_list"),
        ("/purchase_order/", "purchase_order", "purchase_order", "purchase_order_list"),
        ("/v3/return_order", "return_order", "return_order", "return_order_list"),
    ],
)
def test_list_items_validate_against_the_spec_components(
    read_api, fixed_spec, path, list_key, component, list_component
):
    records = all_pages(read_api, path, list_key)
    assert records
    item_validator = validator_for(fixed_spec, component)
    for record in records:
        assert_valid(item_validator, record, f"{path} item")
    if list_component is not None:
        page = read_api.get(path, limit=100).json()
        assert_valid(validator_for(fixed_spec, list_component), page, f"{path} envelope")


def test_cart_responses_have_every_field_cart_base_requires(read_api, spec):
    required = spec["components"]["schemas"]["cart_base"]["definitions"]["required_in_response"]
    carts = read_api.get("/cart/").json()["cart"]
    assert {(cart["vendor"], cart["index"]) for cart in carts} == {("shopify", 1), ("amazon", 2)}
    for cart in carts:
        assert set(required["required"]) <= set(cart)


def test_write_responses_validate_against_the_spec(make_api, fixed_spec):
    api = make_api(seed=2, empty=True)
    address = {"name": "Pat", "street1": "1 Main St", "city": "Austin", "zip": "78701"}
    order = api.post(
        "/v3/order",
        {
            "order_id": "spec-1",
            "shipping_address": address,
            "billing_address": address,
            "lines": [{"quantity": 1, "product": {"sku": "S-1", "name": "Widget"}}],
        },
    )
    assert order.status_code == 201
    assert_valid(validator_for(fixed_spec, "order"), order.json(), "POST /v3/order")
    info = api.post(
        "/v3/order/M-spec-1/shipping_info",
        {"tracking_number": "T1", "ship_date": "2024-11-20T10:00:00-06:00", "carrier_name": "UPS"},
    )
    assert info.status_code == 201
    assert_valid(validator_for(fixed_spec, "shipping_info"), info.json(), "shipping_info")
    shipped = api.get("/v3/order/M-spec-1").json()
    assert_valid(validator_for(fixed_spec, "order"), shipped, "shipped order")
    product = api.post("/product/", {"sku": "S-2", "name": "Gadget"})
    assert product.status_code == 201
    assert_valid(validator_for(fixed_spec, "product"), product.json(), "POST /product/")


def test_error_envelope_matches_the_spec_prose(read_api, spec):
    body = read_api.get("/v3/order", limit=1000).json()
    assert set(body) == {"error_message", "param"}
    assert "`param`" in spec["info"]["description"]


# -- the deviations still hold in the spec -------------------------------------------------


def test_deviation_product_list_key(spec, read_api):
    product_list = spec["components"]["schemas"]["product_list"]["properties"]
    assert "products" in product_list, KNOWN_DEVIATIONS["product-list-key"]
    assert "product" in read_api.get("/product/").json()


def test_deviation_error_param(spec):
    properties = spec["components"]["schemas"]["error"]["properties"]
    assert set(properties) == {"error_message", "params"}, KNOWN_DEVIATIONS["error-param"]


def test_deviation_warehouse_cart(spec, read_sandbox):
    cart = spec["components"]["schemas"]["inventory_as_warehouse"]["properties"]["cart"]
    assert cart == {"type": "string"}, KNOWN_DEVIATIONS["warehouse-cart-null"]
    product = next(iter(read_sandbox.store.products.values()))
    assert product["warehouses"][0]["cart"] is None


def test_deviation_product_allof(spec, read_sandbox):
    product = next(iter(read_sandbox.store.products.values()))
    errors = list(validator_for(spec, "product").iter_errors(product))
    assert errors, KNOWN_DEVIATIONS["product-allof"]
    assert any("warehouses" in e.message for e in errors)


def test_deviation_put_product_warehouse(spec):
    spec_validator = validator_for(spec, "put_product_warehouse")
    assert not spec_validator.is_valid({"on_hand": 5}), KNOWN_DEVIATIONS["put-product-warehouse"]
    assert not spec_validator.is_valid({"adjustment": -1})
    project = request_validator("put_product_warehouse")
    assert project.is_valid({"on_hand": 5})
    assert project.is_valid({"adjustment": -1, "location_in_warehouse": "A1"})
    assert not project.is_valid({"on_hand": 5, "adjustment": 1})


def test_deviation_extra_info_oneof(spec):
    body = {"sku": "x", "name": "y"}
    for component in ("post_product", "put_product"):
        assert not validator_for(spec, component).is_valid(body), KNOWN_DEVIATIONS[
            "extra-info-oneof"
        ]
        assert "oneOf" in spec["components"]["schemas"][component]
        project = load_request_schema(component)
        assert "oneOf" not in project
        assert as_spec_refs(project["anyOf"]) == spec["components"]["schemas"][component]["oneOf"]
        assert request_validator(component).is_valid(body)


def test_deviation_put_order_weight(spec):
    example = spec["paths"]["/v3/order/{order_number}"]["put"]["requestBody"]["content"][
        "application/json"
    ]["examples"]["example"]["value"]
    assert example == {"weight": 10.5}
    assert not validator_for(spec, "put_order").is_valid(example), KNOWN_DEVIATIONS[
        "put-order-weight"
    ]
    assert request_validator("put_order").is_valid(example)


def test_deviation_order_line_product(spec):
    body = {
        "order_id": "x",
        "shipping_address": {},
        "billing_address": {},
        "lines": [{"quantity": 1}],
    }
    assert validator_for(spec, "post_order_v1").is_valid(body)
    assert not request_validator("post_order").is_valid(body), KNOWN_DEVIATIONS[
        "order-line-product"
    ]


def test_deviation_post_order_tag_required(spec):
    assert set(spec["components"]["schemas"]["v3_tag"]["required"]) == {"id", "name", "color"}, (
        KNOWN_DEVIATIONS["post-order-tag-required"]
    )
    body = spec["paths"]["/v3/order/tag"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/v3_tag"}
    assert not validator_for(spec, "v3_tag").is_valid({"name": "VIP"})
    assert request_validator("post_order_tag").is_valid({"name": "VIP"})
    assert request_validator("post_order_tag").is_valid({"name": "VIP", "color": "#ff0000"})
    assert not request_validator("post_order_tag").is_valid({"color": "#ff0000"})


# -- request schemas agree with the spec ---------------------------------------------------


def test_every_request_schema_file_is_compared():
    assert set(REQUEST_COMPONENTS) == set(REQUEST_SCHEMAS)


def as_spec_refs(schema: Any) -> Any:
    """A project schema with its "#/$defs/X" references written as the spec's."""
    if isinstance(schema, dict):
        return {
            key: (
                value.replace("#/$defs/", "#/components/schemas/")
                if key == "$ref"
                else as_spec_refs(value)
            )
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [as_spec_refs(item) for item in schema]
    return schema


@pytest.mark.parametrize("name", sorted(REQUEST_COMPONENTS))
def test_request_schema_fields_match_the_spec(spec, name):
    components = spec["components"]["schemas"]
    component = components[REQUEST_COMPONENTS[name][0]]
    project = load_request_schema(name)
    Draft202012Validator.check_schema(project)
    added = ADDED_PROPERTIES.get(name, set())
    assert set(project["properties"]) == set(component["properties"]) | added
    required = REQUIRED_INSTEAD.get(name, set(component.get("required", [])))
    assert set(project.get("required", [])) == required
    assert project.get("additionalProperties") == component.get("additionalProperties")
    properties = as_spec_refs(project["properties"])
    for field, schema in component["properties"].items():
        if (name, field) == ("post_order", "lines"):  # order-line-product
            expected = copy.deepcopy(schema)
            expected["items"]["required"] = ["product"]
            assert properties[field] == expected
        elif field not in added:
            assert properties[field] == schema, field
    for definition, schema in project.get("$defs", {}).items():
        assert as_spec_refs(schema) == components[definition], definition


@pytest.mark.parametrize("name", sorted(REQUEST_COMPONENTS))
def test_spec_request_examples_validate_against_the_project_schemas(spec, name):
    examples = []
    for path, method in REQUEST_COMPONENTS[name][1]:
        content = spec["paths"][path][method]["requestBody"]["content"]["application/json"]
        examples += [example["value"] for example in content.get("examples", {}).values()]
        if "example" in content:
            examples.append(content["example"])
    validator = request_validator(name)
    for example in examples:
        assert_valid(validator, example, f"spec example for {name}")


ORDER = {
    "order_id": "o-1",
    "shipping_address": {"name": "A", "street1": "1 Main", "city": "Austin", "zip": "78701"},
    "billing_address": {"name": "A"},
    "lines": [{"quantity": 1, "product": {"sku": "s", "name": "n"}}],
}
TRACKING = {"tracking_number": "T", "ship_date": "2024-11-20T10:00:00-06:00", "carrier_name": "UPS"}


@pytest.mark.parametrize(
    ("name", "component", "body"),
    [
        ("post_order", "post_order_v1", {k: v for k, v in ORDER.items() if k != "lines"}),
        ("post_order", "post_order_v1", {**ORDER, "unknown_field": 1}),
        ("post_order", "post_order_v1", {**ORDER, "status": "cancelled"}),
        ("post_order", "post_order_v1", {**ORDER, "lines": [{"product": {"sku": "no-name"}}]}),
        ("put_order_shipping_info", "put_order_shipping_info", {**TRACKING, "extra": True}),
        (
            "put_order_shipping_info",
            "put_order_shipping_info",
            {k: v for k, v in TRACKING.items() if k != "tracking_number"},
        ),
        ("put_order", "put_order", {"status": "shipped"}),
        ("put_order", "put_order", {"internal_notes": 5}),
        ("put_product_warehouse", "put_product_warehouse", {"location_in_warehouse": 7}),
        ("put_product_warehouse", "put_product_warehouse", {"bin": "A1"}),
    ],
)
def test_bodies_the_spec_forbids_are_rejected_by_both(spec, name, component, body):
    assert not validator_for(spec, component).is_valid(body)
    assert not request_validator(name).is_valid(body)


@pytest.mark.parametrize(
    ("name", "component", "body"),
    [
        ("post_order", "post_order_v1", ORDER),
        ("post_order", "post_order_v1", {**ORDER, "cart": None, "status": "shipped"}),
        ("put_order_shipping_info", "put_order_shipping_info", TRACKING),
        ("put_order", "put_order", {"internal_notes": "x", "ship_by_date": None}),
    ],
)
def test_bodies_the_spec_allows_are_accepted_by_both(spec, name, component, body):
    assert validator_for(spec, component).is_valid(body)
    assert request_validator(name).is_valid(body)
