"""Injected faults, the rate limit and latency: by nth, by probability, before and after."""

from __future__ import annotations

import base64
import http.client
import json
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import pytest
import requests

from ordoro_sandbox import FaultRule, SandboxOptions
from ordoro_sandbox.faults import FaultInjector
from ordoro_sandbox.ratelimit import SlidingWindowLimit
from tests.ordoro_sandbox.conftest import PASSWORD, USERNAME

SANDBOX_OPTIONS = SandboxOptions(seed=9, products=15, orders=15)


@pytest.fixture
def api(module_api):
    sandbox = module_api.sandbox
    sandbox.clear_faults()
    sandbox.set_rate_limit(None)
    sandbox.set_latency_ms(0)
    sandbox.reset_request_log()
    yield module_api
    sandbox.clear_faults()
    sandbox.set_rate_limit(None)
    sandbox.set_latency_ms(0)


def statuses(api, n: int, path: str = "/warehouse/") -> list[int]:
    return [api.get(path).status_code for _ in range(n)]


def order_body(order_id: str) -> dict:
    address = {"name": "Pat", "street1": "1 Main St", "city": "Austin", "zip": "78701"}
    return {
        "order_id": order_id,
        "shipping_address": address,
        "billing_address": address,
        "lines": [{"quantity": 1, "product": {"sku": "FAULT-SKU", "name": "Widget"}}],
    }


# -- FaultRule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("503:p=0.05", FaultRule(kind="status", status=503, probability=0.05)),
        ("429:nth=2,5", FaultRule(kind="status", status=429, nth={2, 5})),
        ("drop:nth=3", FaultRule(kind="drop", nth={3})),
        ("malformed:p=0.01", FaultRule(kind="malformed", probability=0.01)),
        ("drop:nth=1:after", FaultRule(kind="drop", nth={1}, after_handler=True)),
        ("delay=2.5:nth=1", FaultRule(kind="delay", delay_seconds=2.5, nth={1})),
        (
            "503:nth=1,2,method=post,path=/v3/order",
            FaultRule(kind="status", nth={1, 2}, method="POST", path_prefix="/v3/order"),
        ),
        ("500:times=2", FaultRule(kind="status", status=500, times=2)),
        ("drop", FaultRule(kind="drop")),
    ],
)
def test_fault_rule_parse(spec, expected):
    assert FaultRule.parse(spec) == expected


@pytest.mark.parametrize(
    "spec",
    ["", "boom", "200", "503:p=2", "503:nth=0", "503:nth=x", "503:color=red", "503:7", "delay=x"],
)
def test_fault_rule_parse_rejects_nonsense(spec):
    with pytest.raises(ValueError, match=r"fault|must|nth|probability|status"):
        FaultRule.parse(spec)


def test_probability_faults_are_reproducible_and_roughly_proportional():
    def fired(seed: int) -> list[int]:
        injector = FaultInjector([FaultRule(kind="status", probability=0.3)], seed=seed)
        return [n for n in range(1000) if injector.plan("GET", "/product/").fault is not None]

    first = fired(1)
    assert first == fired(1)
    assert first != fired(2)
    assert 200 < len(first) < 400


# -- faults over HTTP ---------------------------------------------------------------------


def test_status_fault_by_nth(api):
    api.sandbox.add_fault(FaultRule(kind="status", status=503, nth={2, 3}))
    assert statuses(api, 4) == [200, 503, 503, 200]
    log = api.sandbox.requests
    assert [r.fault for r in log] == [None, "status:503", "status:503", None]
    assert [r.number for r in log] == [1, 2, 3, 4]
    body = api.get("/cart/")
    assert body.status_code == 200


def test_429_fault_carries_retry_after_and_the_envelope(api):
    api.sandbox.add_fault(FaultRule(kind="status", status=429, nth={1}))
    response = api.get("/warehouse/")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert set(response.json()) == {"error_message", "param"}


def test_probability_one_fires_always_and_zero_never(api):
    api.sandbox.add_fault(FaultRule(kind="status", status=502, probability=1.0, times=2))
    api.sandbox.add_fault(FaultRule(kind="status", status=500, probability=0.0))
    assert statuses(api, 4) == [502, 502, 200, 200]


@pytest.mark.parametrize("kind", ["status", "drop", "malformed", "delay"])
def test_each_fault_kind_by_probability(api, monkeypatch, kind):
    monkeypatch.setattr(api.sandbox.app, "sleep", lambda seconds: None)
    api.sandbox.add_fault(FaultRule(kind=kind, probability=1.0, times=1, delay_seconds=5))
    api.sandbox.add_fault(FaultRule(kind=kind, probability=0.0))
    if kind == "drop":
        with pytest.raises(requests.ConnectionError):
            api.get("/warehouse/")
    else:
        first = api.get("/warehouse/")
        assert first.status_code == {"status": 503, "malformed": 200, "delay": 200}[kind]
        if kind == "malformed":
            with pytest.raises(json.JSONDecodeError):
                json.loads(first.content)
        else:
            assert first.json()
    assert api.get("/warehouse/").json()["count"] == 3
    assert [r.fault is not None for r in api.sandbox.requests] == [True, False]


def test_probability_fault_fires_on_some_requests(api):
    api.sandbox.add_fault(FaultRule(kind="status", status=503, probability=0.5))
    codes = statuses(api, 40, "/authenticated/")
    assert set(codes) == {200, 503}


def test_faults_match_method_and_path_prefix(api):
    api.sandbox.add_fault(FaultRule(kind="status", status=500, method="POST"))
    api.sandbox.add_fault(FaultRule(kind="status", status=503, path_prefix="/product/"))
    assert api.get("/warehouse/").status_code == 200
    assert api.get("/product/").status_code == 503
    assert api.post("/v3/order", order_body("fault-match")).status_code == 500
    assert "M-fault-match" not in api.sandbox.store.orders


def test_nth_counts_only_the_requests_the_rule_matches(api):
    api.sandbox.add_fault(FaultRule(kind="status", status=503, nth={2}, path_prefix="/cart/"))
    assert api.get("/cart/").status_code == 200
    assert statuses(api, 3, "/warehouse/") == [200, 200, 200]
    assert api.get("/cart/").status_code == 503


def test_drop_closes_the_connection_without_a_response(api, capfd):
    api.sandbox.add_fault(FaultRule(kind="drop", nth={1}))
    with pytest.raises(requests.ConnectionError):
        api.get("/warehouse/")
    assert api.get("/warehouse/").status_code == 200
    first = api.sandbox.requests[0]
    assert (first.status, first.fault) == (None, "drop")
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out


def test_drop_after_the_handler_applies_the_effect(api):
    api.sandbox.add_fault(FaultRule(kind="drop", nth={1}, method="POST", after_handler=True))
    with pytest.raises(requests.ConnectionError):
        api.post("/v3/order", order_body("dropped-after"))
    assert "M-dropped-after" in api.sandbox.store.orders
    again = api.post("/v3/order", order_body("dropped-after"))
    assert again.status_code == 400
    assert again.json()["param"] == "order_id"


def test_drop_before_the_handler_applies_nothing(api):
    api.sandbox.add_fault(FaultRule(kind="drop", nth={1}, method="POST"))
    with pytest.raises(requests.ConnectionError):
        api.post("/v3/order", order_body("dropped-before"))
    assert "M-dropped-before" not in api.sandbox.store.orders


def test_status_after_the_handler_applies_the_effect(api):
    sku = next(s for s in api.sandbox.store.products if s.isascii() and "/" not in s)
    warehouse_id = next(iter(api.sandbox.store.warehouses))
    api.sandbox.add_fault(FaultRule(kind="status", status=503, method="PUT", after_handler=True))
    response = api.put(f"/product/{sku}/warehouse/{warehouse_id}/", {"on_hand": 777})
    assert response.status_code == 503
    entry = next(
        e for e in api.sandbox.store.products[sku]["warehouses"] if e["id"] == warehouse_id
    )
    assert entry["on_hand"] == 777


def test_malformed_answers_200_with_invalid_json(api):
    api.sandbox.add_fault(FaultRule(kind="malformed", nth={1}))
    response = api.get("/warehouse/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert api.get("/warehouse/").json()["count"] == 3


def test_malformed_after_the_handler_applies_the_effect(api):
    api.sandbox.add_fault(FaultRule(kind="malformed", nth={1}, method="POST", after_handler=True))
    response = api.post("/v3/order", order_body("malformed-after"))
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert "M-malformed-after" in api.sandbox.store.orders


def test_delay_fault_and_latency_wait_before_answering(api, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(api.sandbox.app, "sleep", waits.append)
    api.sandbox.add_fault(FaultRule(kind="delay", delay_seconds=2.5, nth={1}))
    assert statuses(api, 2) == [200, 200]
    assert waits == [2.5]
    assert [r.fault for r in api.sandbox.requests] == ["delay:2.5", None]
    waits.clear()
    api.sandbox.set_latency_ms(40)
    assert statuses(api, 3) == [200, 200, 200]
    assert waits == [0.04, 0.04, 0.04]


def test_latency_from_the_options(make_api, monkeypatch):
    api = make_api(latency_ms=25, products=5, orders=5)
    waits: list[float] = []
    monkeypatch.setattr(api.sandbox.app, "sleep", waits.append)
    assert api.get("/authenticated/").status_code == 200
    assert waits == [0.025]


def test_auth_is_checked_before_faults(api):
    api.sandbox.add_fault(FaultRule(kind="status", status=503, nth={1}))
    with requests.get(api.sandbox.url + "/warehouse/", timeout=10) as unauthenticated:
        assert unauthenticated.status_code == 401
    assert statuses(api, 2) == [503, 200]


# -- rate limit ---------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(api):
    api.sandbox.set_rate_limit(3, window_seconds=60)
    codes = statuses(api, 5)
    assert codes == [200, 200, 200, 429, 429]
    response = api.get("/warehouse/")
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert set(response.json()) == {"error_message", "param"}
    api.sandbox.set_rate_limit(None)
    assert api.get("/warehouse/").status_code == 200


def test_rate_limit_comes_after_auth_and_before_faults(api):
    api.sandbox.set_rate_limit(1, window_seconds=60)
    api.sandbox.add_fault(FaultRule(kind="status", status=503, nth={2}))
    assert api.get("/warehouse/").status_code == 200
    with requests.get(api.sandbox.url + "/warehouse/", auth=("x", "y"), timeout=10) as response:
        assert response.status_code == 401
    assert api.get("/warehouse/").status_code == 429
    api.sandbox.set_rate_limit(None)
    assert statuses(api, 2) == [503, 200]


def test_rate_limit_from_the_options(make_api):
    api = make_api(rate_limit_per_minute=2, products=5, orders=5)
    assert statuses(api, 3, "/authenticated/") == [200, 200, 429]


def test_sliding_window_frees_slots_as_time_passes():
    now = [100.0]
    limit = SlidingWindowLimit(2, window_seconds=10, clock=lambda: now[0])
    assert limit.acquire("u") is None
    now[0] = 104.0
    assert limit.acquire("u") is None
    assert limit.acquire("u") == 6
    assert limit.acquire("other") is None
    now[0] = 110.0
    assert limit.acquire("u") is None
    assert limit.acquire("u") == 4
    now[0] = 113.9
    assert limit.acquire("u") == 1


# -- cut, short, empty, 429 forms, redirects ----------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("cut", FaultRule(kind="cut")),
        ("cut:nth=1,method=POST", FaultRule(kind="cut", nth={1}, method="POST")),
        ("short:nth=2,path=/product/", FaultRule(kind="short", nth={2}, path_prefix="/product/")),
        ("empty:times=1", FaultRule(kind="empty", times=1)),
        ("429:retry_after=none", FaultRule(kind="status", status=429, retry_after=None)),
        ("429:retry_after=2.5", FaultRule(kind="status", status=429, retry_after=2.5)),
        (
            "429:retry_after=date",
            FaultRule(kind="status", status=429, retry_after=1.0, retry_after_date=True),
        ),
        (
            "429:nth=1,retry_after=date+3",
            FaultRule(kind="status", status=429, nth={1}, retry_after=3, retry_after_date=True),
        ),
        ("524:nth=1", FaultRule(kind="status", status=524, nth={1})),
        ("302:nth=1,method=POST", FaultRule(kind="status", status=302, nth={1}, method="POST")),
        ("301:location=/elsewhere/", FaultRule(kind="status", status=301, location="/elsewhere/")),
    ],
)
def test_fault_rule_parse_new_kinds(spec, expected):
    assert FaultRule.parse(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("429:retry_after=soon", "not a number"),
        ("429:retry_after=-1", "cannot be negative"),
        ("429:retry_after=date+x", "not a number"),
        ("299", "3xx, 4xx or 5xx"),
        ("chop", "cut, malformed, short, empty"),
    ],
)
def test_fault_rule_parse_rejects_bad_new_options(spec, message):
    with pytest.raises(ValueError, match=message):
        FaultRule.parse(spec)


def raw_get(api, path: str) -> tuple[http.client.HTTPResponse, bytes, int | None]:
    """GET with http.client: the response, the body bytes that arrived, and how many were
    missing (None when the body was complete)."""
    host, port = api.sandbox.host, api.sandbox.port
    connection = http.client.HTTPConnection(host, port, timeout=10)
    token = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    try:
        connection.request("GET", path, headers={"Authorization": f"Basic {token}"})
        response = connection.getresponse()
        try:
            return response, response.read(), None
        except http.client.IncompleteRead as cut:
            return response, cut.partial, cut.expected
    finally:
        connection.close()


def test_cut_sends_full_headers_then_half_the_body_and_closes(api):
    _, whole, _ = raw_get(api, "/warehouse/")
    api.sandbox.add_fault(FaultRule(kind="cut", nth={1}))
    response, partial, missing = raw_get(api, "/warehouse/")
    assert response.status == 200
    assert int(response.headers["Content-Length"]) == len(whole)
    assert partial == whole[: len(whole) // 2]
    assert missing == len(whole) - len(whole) // 2
    assert api.get("/warehouse/").json()["count"] == 3  # the rule fired once
    assert [r.fault for r in api.sandbox.requests] == [None, "cut", None]


def test_cut_applies_the_effect_before_cutting_the_answer(api):
    api.sandbox.add_fault(FaultRule(kind="cut", nth={1}, method="POST"))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.post("/v3/order", order_body("cut-after"))
    assert "M-cut-after" in api.sandbox.store.orders
    (record,) = api.sandbox.requests
    assert (record.status, record.fault) == (201, "cut")


@pytest.mark.parametrize(("kind", "kept"), [("short", 5), ("empty", 0)])
def test_short_and_empty_pages_keep_the_count_but_not_the_records(api, kind, kept):
    full = api.get("/product/", limit=10, offset=0).json()
    assert len(full["product"]) == 10
    api.sandbox.add_fault(FaultRule(kind=kind, nth={1}, path_prefix="/product/"))
    faulty = api.get("/product/", limit=10, offset=0).json()
    assert faulty["count"] == full["count"] > 10
    assert faulty["product"] == full["product"][:kept]
    assert api.get("/product/", limit=10, offset=0).json() == full


def test_short_and_empty_leave_answers_that_are_not_lists_alone(api):
    sku = next(iter(api.sandbox.store.products))
    whole = api.get(f"/product/{quote(sku, safe='')}/").json()
    api.sandbox.add_fault(FaultRule(kind="empty", path_prefix="/product/"))
    api.sandbox.add_fault(FaultRule(kind="short", path_prefix="/authenticated/"))
    assert api.get(f"/product/{quote(sku, safe='')}/").json() == whole
    assert api.get("/authenticated/").json() == {"success": True}


def test_429_retry_after_forms(api):
    api.sandbox.add_fault(FaultRule(kind="status", status=429, nth={1}, retry_after=None))
    api.sandbox.add_fault(
        FaultRule(kind="status", status=429, nth={2}, retry_after=3, retry_after_date=True)
    )
    api.sandbox.add_fault(FaultRule(kind="status", status=429, nth={3}, retry_after=7))
    without, dated, seconds = (api.get("/warehouse/") for _ in range(3))
    assert [r.status_code for r in (without, dated, seconds)] == [429, 429, 429]
    assert "Retry-After" not in without.headers
    # An HTTP-date at least 3 s after the moment the answer was dated.
    ahead = parsedate_to_datetime(dated.headers["Retry-After"]) - parsedate_to_datetime(
        dated.headers["Date"]
    )
    assert 3 <= ahead.total_seconds() <= 5
    assert seconds.headers["Retry-After"] == "7"


def test_a_redirect_fault_points_at_the_same_path_or_the_given_location(api):
    api.sandbox.add_fault(FaultRule(kind="status", status=302, nth={1}, method="POST"))
    api.sandbox.add_fault(
        FaultRule(kind="status", status=301, nth={1}, path_prefix="/cart/", location="/elsewhere/")
    )
    redirected = api.request("POST", "/v3/order", json=order_body("redirected"))
    assert redirected.status_code == 200  # plain requests followed it, as a GET
    assert redirected.history[0].status_code == 302
    assert redirected.history[0].headers["Location"] == "/v3/order"
    assert "order" in redirected.json()  # the order list: the create "succeeded"...
    assert "M-redirected" not in api.sandbox.store.orders  # ...and created nothing
    moved = api.request("GET", "/cart/", allow_redirects=False)
    assert (moved.status_code, moved.headers["Location"]) == (301, "/elsewhere/")
