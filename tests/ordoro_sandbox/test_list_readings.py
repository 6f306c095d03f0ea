"""The sandbox's readings of a list request that the spec leaves open, each off by default."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ordoro_core.timestamps import ACCOUNT_TIMEZONE, parse_instant


def numbers(api, path: str, list_key: str, key: str, **params) -> list:
    """Every record's key, paged by whatever each page held."""
    found, offset = [], 0
    while True:
        response = api.get(path, limit=100, offset=offset, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        found.extend(record[key] for record in body[list_key])
        offset += len(body[list_key])
        if offset >= body["count"] or not body[list_key]:
            return found


# Page size cap


def test_by_default_a_page_holds_what_limit_asks(make_api):
    api = make_api(orders=120)
    body = api.get("/v3/order", limit=100).json()
    assert (len(body["order"]), body["limit"], body["count"]) == (100, 100, 120)


@pytest.mark.parametrize(
    ("path", "list_key"),
    [("/v3/order", "order"), ("/product/", "product"), ("/v3/return_order", "return_order")],
)
def test_a_page_size_cap_serves_fewer_records_and_says_so_in_the_envelope(make_api, path, list_key):
    api = make_api(orders=300, products=120, return_orders=80, page_size_cap=30)
    body = api.get(path, limit=100, offset=0).json()
    assert len(body[list_key]) == 30
    assert body["limit"] == 30
    assert body["count"] > 30
    small = api.get(path, limit=20).json()
    assert (len(small[list_key]), small["limit"]) == (20, 20)


# Result window


def test_by_default_any_offset_is_served(make_api):
    api = make_api(orders=120)
    body = api.get("/v3/order", limit=10, offset=115).json()
    assert len(body["order"]) == 5


@pytest.mark.parametrize("path", ["/v3/order", "/product/", "/purchase_order/", "/warehouse/"])
def test_an_offset_at_or_past_the_result_window_answers_400_naming_offset(make_api, path):
    api = make_api(orders=120, products=120, result_window=100)
    assert api.get(path, limit=100, offset=99).status_code == 200
    refused = api.get(path, limit=100, offset=100)
    assert refused.status_code == 400
    assert refused.json()["param"] == "offset"
    assert "100" in refused.json()["error_message"]


# Filter values whose UTC offset is dropped


PIVOT = datetime(2024, 11, 10, 18, 0, tzinfo=timezone.utc)  # 12:00 in Chicago (CST, -06:00)


@pytest.mark.parametrize(
    ("path", "list_key", "key"),
    [
        ("/v3/order", "order", "order_number"),
        ("/product/", "product", "sku"),
        ("/purchase_order/", "purchase_order", "po_id"),
    ],
)
def test_with_offsets_ignored_a_utc_value_is_read_as_account_wall_time(
    make_api, path, list_key, key
):
    honoured = make_api(orders=300, products=300, purchase_orders=60, seed=3)
    ignored = make_api(
        orders=300, products=300, purchase_orders=60, seed=3, filter_offsets_ignored=True
    )
    as_utc = PIVOT.isoformat()  # "…18:00:00+00:00": read as 18:00 in Chicago, 6 hours later
    six_hours_later = (PIVOT + timedelta(hours=6)).isoformat()
    assert numbers(ignored, path, list_key, key, updated_after=as_utc) == numbers(
        honoured, path, list_key, key, updated_after=six_hours_later
    )
    assert numbers(ignored, path, list_key, key, updated_before=as_utc) == numbers(
        honoured, path, list_key, key, updated_before=six_hours_later
    )
    # A value in the account's own offset has the same wall time under both readings.
    local = PIVOT.astimezone(ACCOUNT_TIMEZONE).isoformat()
    assert numbers(ignored, path, list_key, key, updated_after=local) == numbers(
        honoured, path, list_key, key, updated_after=local
    )
    assert len(numbers(honoured, path, list_key, key, updated_after=as_utc)) > len(
        numbers(honoured, path, list_key, key, updated_after=six_hours_later)
    ), "the seed has records in those six hours"


def test_the_order_list_reads_wall_times_in_the_zone_its_timezone_parameter_names(make_api):
    honoured = make_api(orders=300, seed=3)
    ignored = make_api(orders=300, seed=3, filter_offsets_ignored=True)
    exact = numbers(honoured, "/v3/order", "order", "order_number", updated_after=PIVOT.isoformat())
    in_utc = numbers(
        ignored, "/v3/order", "order", "order_number", updated_after=PIVOT.isoformat(),
        timezone="UTC",
    )  # fmt: skip
    assert in_utc == exact
    unknown = ignored.get("/v3/order", updated_after=PIVOT.isoformat(), timezone="Mars/Base")
    assert unknown.status_code == 400
    assert unknown.json()["param"] == "timezone"


def test_a_repeated_wall_time_is_read_as_its_first_occurrence(make_api):
    """When DST ends, 01:30 occurs twice; with offsets ignored, "01:30-06:00" (the second)
    is read as 01:30-05:00, an hour earlier."""
    ignored = make_api(orders=300, seed=1, filter_offsets_ignored=True)
    honoured = make_api(orders=300, seed=1)
    second = "2024-11-03T01:30:00-06:00"
    first = "2024-11-03T01:30:00-05:00"
    assert parse_instant(first) < parse_instant(second)
    got = numbers(ignored, "/v3/order", "order", "order_number", updated_after=second)
    assert got == numbers(honoured, "/v3/order", "order", "order_number", updated_after=first)


def test_readings_change_while_the_sandbox_serves(make_api):
    api = make_api(orders=120)
    api.sandbox.set_list_reading(result_window=50, page_size_cap=20)
    assert api.get("/v3/order", limit=100, offset=60).status_code == 400
    assert len(api.get("/v3/order", limit=100).json()["order"]) == 20
    api.sandbox.set_list_reading(result_window=0, page_size_cap=0)
    assert api.get("/v3/order", limit=100, offset=60).status_code == 200
    assert len(api.get("/v3/order", limit=100).json()["order"]) == 100
