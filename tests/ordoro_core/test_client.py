"""The shared API client against the sandbox over real HTTP."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
import requests

from ordoro_core.client import (
    OrdoroAPIError,
    OrdoroAuthError,
    OrdoroClient,
    OrdoroTransientError,
    RetryPolicy,
    build_path,
)
from ordoro_core.sandbox import FaultRule, Sandbox, SandboxOptions

USER = "client-test-user"
SECRET = "client-test-secret-7f3a"
FAST_RETRIES = RetryPolicy(
    max_attempts=6, backoff_seconds=0.01, backoff_max_seconds=0.05, max_total_wait_seconds=30
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    options = SandboxOptions(seed=11, username=USER, password=SECRET, products=40, orders=30)
    with Sandbox(options) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_knobs(sandbox: Sandbox) -> Iterator[None]:
    sandbox.clear_faults()
    sandbox.set_rate_limit(None)
    sandbox.reset_request_log()
    yield
    sandbox.clear_faults()
    sandbox.set_rate_limit(None)


def make_client(sandbox: Sandbox, **kwargs) -> OrdoroClient:
    kwargs.setdefault("retry", FAST_RETRIES)
    kwargs.setdefault("timeout", (2.0, 2.0))
    return OrdoroClient(USER, kwargs.pop("password", SECRET), sandbox.url, **kwargs)


def statuses(sandbox: Sandbox, path: str) -> list[int | None]:
    return [entry.status for entry in sandbox.requests if entry.path == path]


@pytest.mark.parametrize(
    "fault",
    [
        FaultRule(kind="status", status=429, nth={1, 2}),
        FaultRule(kind="status", status=500, nth={1}),
        FaultRule(kind="status", status=502, nth={1, 2}),
        FaultRule(kind="status", status=503, nth={1, 2, 3}),
        FaultRule(kind="status", status=504, nth={1}),
        FaultRule(kind="drop", nth={1, 2}),
        FaultRule(kind="malformed", nth={1}),
        FaultRule(kind="delay", delay_seconds=3.0, nth={1}),
    ],
    ids=lambda rule: f"{rule.kind}-{rule.status}" if rule.kind == "status" else rule.kind,
)
def test_each_transient_fault_is_retried_until_it_succeeds(sandbox, fault):
    sandbox.add_fault(fault)
    client = make_client(sandbox)
    body = client.get("/warehouse/")
    assert len(body["warehouse"]) == 3
    attempts = [entry for entry in sandbox.requests if entry.path == "/warehouse/"]
    assert len(attempts) == len(fault.nth) + 1
    assert all(entry.fault for entry in attempts[:-1])
    assert attempts[-1].fault is None


def test_429_retry_after_is_honoured(sandbox, caplog):
    sandbox.add_fault(FaultRule(kind="status", status=429, nth={1}))
    client = make_client(sandbox, retry=RetryPolicy(backoff_seconds=0.01, backoff_max_seconds=5))
    with caplog.at_level(logging.WARNING, logger="ordoro_core.client"):
        client.get("/warehouse/")
    waits = [record.args[-1] for record in caplog.records if "retry" in record.getMessage()]
    retry_after = 1.0  # what the sandbox sends with its 429
    assert waits == [retry_after]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/product/no-such-sku/", None, 404),
        ("POST", "/v3/order", {"order_id": "x"}, 400),
        ("PUT", "/product/no-such-sku/warehouse/1/", {"on_hand": 1}, 404),
    ],
)
def test_client_errors_are_not_retried(sandbox, method, path, body, status):
    client = make_client(sandbox)
    with pytest.raises(OrdoroAPIError) as raised:
        client.request(method, path, json_body=body)
    assert raised.value.status == status
    assert raised.value.error_message
    assert statuses(sandbox, path) == [status]


def test_error_envelope_becomes_status_message_and_param(sandbox):
    client = make_client(sandbox)
    with pytest.raises(OrdoroAPIError) as raised:
        client.get("/v3/order", {"limit": 500})
    assert raised.value.status == 400
    assert raised.value.param == "limit"
    assert "limit" in str(raised.value)


def test_retries_are_bounded(sandbox):
    sandbox.add_fault(FaultRule(kind="status", status=503))
    client = make_client(sandbox, retry=RetryPolicy(max_attempts=3, backoff_seconds=0.01))
    with pytest.raises(OrdoroTransientError, match="still failing after retries"):
        client.get("/warehouse/")
    assert statuses(sandbox, "/warehouse/") == [503, 503, 503]


def test_wrong_password_is_one_line_about_credentials_without_the_secret(sandbox, caplog):
    wrong = "wrong-secret-9c1d"
    client = make_client(sandbox, password=wrong)
    with caplog.at_level(logging.DEBUG), pytest.raises(OrdoroAuthError) as raised:
        client.check_credentials()
    message = str(raised.value)
    assert "\n" not in message
    assert "credentials" in message
    assert "username" in message
    assert "password" in message
    assert raised.value.status == 401
    for text in (message, repr(raised.value), repr(client), caplog.text):
        assert wrong not in text
        assert SECRET not in text
    assert statuses(sandbox, "/authenticated/") == [401]


def test_credentials_in_the_url_are_dropped(sandbox):
    host = sandbox.url.removeprefix("http://")
    client = OrdoroClient(USER, SECRET, f"http://{USER}:{SECRET}@{host}/", retry=FAST_RETRIES)
    assert SECRET not in repr(client)
    assert SECRET not in client.api_url
    client.check_credentials()


def test_rate_limiter_keeps_a_threaded_burst_under_the_ceiling(sandbox):
    ceiling, window = 10, 1.0
    sandbox.set_rate_limit(ceiling, window_seconds=window)
    client = make_client(
        sandbox,
        requests_per_minute=ceiling,
        rate_window_seconds=window,
        retry=RetryPolicy(max_attempts=1),
    )
    errors: list[BaseException] = []

    def burst() -> None:
        for _ in range(5):
            try:
                client.get("/cart/")
            except Exception as error:
                errors.append(error)

    threads = [threading.Thread(target=burst) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    answered = [entry for entry in sandbox.requests if entry.path == "/cart/"]
    assert len(answered) == 30
    assert {entry.status for entry in answered} == {200}
    times = sorted(entry.at for entry in answered)
    busiest = max(sum(1 for t in times if start <= t < start + window) for start in times)
    assert busiest <= ceiling


def test_the_same_burst_without_the_limiter_is_rate_limited(sandbox):
    """Control for the test above: the sandbox's limit does bite a burst of 30."""
    sandbox.set_rate_limit(10, window_seconds=60)
    with requests.Session() as session:
        session.auth = (USER, SECRET)
        codes = [session.get(sandbox.url + "/cart/").status_code for _ in range(30)]
    assert codes.count(429) == 20


def test_one_limiter_per_account_is_shared_by_clients(sandbox):
    first = make_client(sandbox, requests_per_minute=123)
    second = make_client(sandbox, requests_per_minute=123)
    assert first.limiter is second.limiter


@pytest.mark.parametrize(
    "sku", ["A/B #1", "space sku", "CAFÉ-Ü-ß", "odd?%&=+;,@", "trailing/"], ids=repr
)
def test_odd_skus_round_trip_through_paths(sandbox, sku):
    client = make_client(sandbox)
    created = client.post("/product/", {"sku": sku, "name": f"Product {sku}"}, idempotent=True)
    assert created["sku"] == sku
    assert client.get(build_path("product", sku))["sku"] == sku
    warehouse_id = next(iter(sandbox.store.warehouses))
    updated = client.put(build_path("product", sku, "warehouse", warehouse_id), {"on_hand": 17})
    entry = next(w for w in updated["warehouses"] if w["id"] == warehouse_id)
    assert entry["on_hand"] == 17
    assert sandbox.store.products[sku]["sku"] == sku


def test_trailing_slash_rule():
    assert build_path("v3", "order", "1-100", "shipping_info") == "/v3/order/1-100/shipping_info"
    assert build_path("product", "x") == "/product/x/"
    assert build_path("warehouse") == "/warehouse/"


def order_body(order_id: str) -> dict:
    address = {"name": "Pat Doe", "street1": "1 Main St", "city": "Austin", "zip": "78701"}
    return {
        "order_id": order_id,
        "shipping_address": address,
        "billing_address": address,
        "lines": [{"quantity": 1, "product": {"sku": "client-test-sku", "name": "Widget"}}],
    }


def test_a_post_that_dropped_after_it_was_applied_is_verified_not_repeated(sandbox):
    sandbox.add_fault(FaultRule(kind="drop", nth={1}, method="POST", after_handler=True))
    client = make_client(sandbox)
    order_number = "M-client-verify-1"

    def already_created() -> dict | None:
        try:
            return client.get(build_path("v3", "order", order_number))
        except OrdoroAPIError as error:
            if error.status == 404:
                return None
            raise

    order = client.post("/v3/order", order_body("client-verify-1"), verify=already_created)
    assert order["order_number"] == order_number
    assert (
        statuses(sandbox, "/v3/order").count(None) + statuses(sandbox, "/v3/order").count(201) == 1
    )
    assert sum(1 for n in sandbox.store.orders if n == order_number) == 1


def test_a_post_that_failed_before_it_was_applied_is_sent_again(sandbox):
    sandbox.add_fault(FaultRule(kind="status", status=503, nth={1}, method="POST"))
    client = make_client(sandbox)
    order_number = "M-client-verify-2"

    def already_created() -> dict | None:
        return order_number in sandbox.store.orders or None

    order = client.post("/v3/order", order_body("client-verify-2"), verify=already_created)
    assert order["order_number"] == order_number
    assert statuses(sandbox, "/v3/order") == [503, 201]


def test_a_post_without_verification_is_not_repeated_after_an_ambiguous_failure(sandbox):
    sandbox.add_fault(FaultRule(kind="status", status=502, nth={1}, method="POST"))
    client = make_client(sandbox)
    with pytest.raises(OrdoroTransientError, match="may or may not have been applied"):
        client.post("/v3/order", order_body("client-verify-3"))
    assert statuses(sandbox, "/v3/order") == [502]
