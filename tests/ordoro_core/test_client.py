"""The shared API client against the sandbox over real HTTP."""

from __future__ import annotations

import json
import logging
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import trustme
from pyrate_limiter import Duration, Limiter, Rate

from ordoro_core.client import OrdoroClient
from ordoro_core.errors import (
    OrdoroAPIError,
    OrdoroAuthError,
    OrdoroCertificateError,
    OrdoroConfigError,
    OrdoroInvalidRequest,
    OrdoroRedirectError,
    OrdoroTransientError,
    OrdoroUnreachableError,
)
from ordoro_core.order_numbers import strip_order_prefix
from ordoro_core.retries import RetryPolicy
from ordoro_core.urls import build_path
from ordoro_sandbox import FaultRule, Sandbox, SandboxOptions

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
        FaultRule(kind="status", status=520, nth={1}),
        FaultRule(kind="status", status=521, nth={1, 2}),
        FaultRule(kind="status", status=522, nth={1}),
        FaultRule(kind="status", status=523, nth={1}),
        FaultRule(kind="status", status=524, nth={1, 2}),
        FaultRule(kind="drop", nth={1, 2}),
        FaultRule(kind="cut", nth={1, 2}),
        FaultRule(kind="malformed", nth={1}),
        FaultRule(kind="short", nth={1}),
        FaultRule(kind="empty", nth={1, 2}),
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


def retry_waits(caplog) -> list[float]:
    """The waits the client logged before each retry."""
    return [record.args[-1] for record in caplog.records if "retry" in record.getMessage()]


def test_429_retry_after_is_honoured(sandbox, caplog):
    sandbox.add_fault(FaultRule(kind="status", status=429, nth={1}))
    client = make_client(sandbox, retry=RetryPolicy(backoff_seconds=0.01, backoff_max_seconds=5))
    with caplog.at_level(logging.WARNING, logger="ordoro_core.client"):
        client.get("/warehouse/")
    retry_after = 1.0  # what the sandbox sends with its 429
    assert retry_waits(caplog) == [retry_after]


def test_429_retry_after_as_an_http_date_is_honoured(sandbox, caplog):
    """RFC 9110 allows an HTTP-date; before, it fell back to a jittered wait near zero."""
    sandbox.add_fault(
        FaultRule(kind="status", status=429, nth={1}, retry_after=30, retry_after_date=True)
    )
    cap = 0.4  # the policy's ceiling on any wait: the date is 30 s ahead, so the cap applies
    client = make_client(sandbox, retry=RetryPolicy(backoff_seconds=0.001, backoff_max_seconds=cap))
    with caplog.at_level(logging.WARNING, logger="ordoro_core.client"):
        assert len(client.get("/warehouse/")["warehouse"]) == 3
    assert retry_waits(caplog) == [cap]
    assert statuses(sandbox, "/warehouse/") == [429, 200]


def test_429_without_retry_after_waits_at_least_the_backoff(sandbox, caplog):
    sandbox.add_fault(FaultRule(kind="status", status=429, nth={1, 2}, retry_after=None))
    client = make_client(sandbox, retry=RetryPolicy(backoff_seconds=0.15, backoff_max_seconds=5))
    with caplog.at_level(logging.WARNING, logger="ordoro_core.client"):
        client.get("/warehouse/")
    waits = retry_waits(caplog)
    assert len(waits) == 2
    assert all(wait >= 0.15 for wait in waits), waits


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
    """Counted, not timed: 30 requests from 6 threads through a limiter of 10 a second never
    meet the sandbox's 429, although the sandbox allows only 10 in any quarter second.

    Each quarter-second window of arrivals holds requests the limiter let go within less than a
    second (as long as no request spends three quarters of a second between the two), so at
    most 10; the margin keeps a loaded machine from flaking. The control below shows the same
    burst without the limiter is answered 429.
    """
    ceiling = 10
    sandbox.set_rate_limit(ceiling, window_seconds=0.25)
    client = make_client(
        sandbox,
        requests_per_minute=ceiling,
        rate_window_seconds=1.0,
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
    assert [entry.status for entry in answered].count(429) == 0
    assert {entry.status for entry in answered} == {200}


def test_the_same_burst_without_the_limiter_is_rate_limited(sandbox):
    """Control for the test above: the sandbox's limit does bite a burst of 30."""
    sandbox.set_rate_limit(10, window_seconds=60)
    with requests.Session() as session:
        session.auth = (USER, SECRET)
        codes = [session.get(sandbox.url + "/cart/").status_code for _ in range(30)]
    assert codes.count(429) == 20


def burst_of(client: OrdoroClient, threads: int, each: int) -> list[BaseException]:
    errors: list[BaseException] = []

    def burst() -> None:
        for _ in range(each):
            try:
                client.get("/cart/")
            except Exception as error:
                errors.append(error)

    workers = [threading.Thread(target=burst) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def test_the_limiter_paces_evenly_so_no_window_of_the_api_sees_a_burst(sandbox):
    """Counted, not timed: 24 requests from 8 threads through a limiter of 8 a second meet no
    429 from a sandbox that allows 3 in any quarter second. An even pace puts 2 into a quarter
    second, the margin of one absorbs delays. The control: pyrate-limiter's plain window of 8 a
    second lets 8 go at once, and the API's shorter window answers 429.
    """
    sandbox.set_rate_limit(3, window_seconds=0.25)
    client = make_client(
        sandbox, requests_per_minute=8, rate_window_seconds=1.0, retry=RetryPolicy(max_attempts=1)
    )
    assert burst_of(client, threads=8, each=3) == []
    assert statuses(sandbox, "/cart/") == [200] * 24

    sandbox.set_rate_limit(3, window_seconds=0.25)
    sandbox.reset_request_log()
    client.limiter = Limiter(Rate(8, Duration.SECOND))
    errors = burst_of(client, threads=8, each=3)
    assert statuses(sandbox, "/cart/").count(429) > 0
    assert errors, "the control's 429s end its requests (one attempt)"


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


def orders_with_id(sandbox: Sandbox, order_id: str) -> int:
    """How many orders of the store were created from ``order_id`` (any prefix): a second
    create under another number would count, where counting store keys could never see one."""
    return sum(
        1
        for order in sandbox.store.orders.values()
        if strip_order_prefix(order["order_number"]) == order_id
    )


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
    assert orders_with_id(sandbox, "client-verify-1") == 1


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


def order_lookup(client: OrdoroClient, order_number: str):
    """A verify callback: the order if Ordoro has it, else None."""

    def lookup() -> dict | None:
        return client.get_or_none(build_path("v3", "order", order_number))

    return lookup


def test_a_post_whose_answer_was_cut_off_is_verified_not_repeated(sandbox):
    """The cut comes after the order was created: the client must not create it again."""
    sandbox.add_fault(FaultRule(kind="cut", nth={1}, method="POST"))
    client = make_client(sandbox)
    order = client.post(
        "/v3/order",
        order_body("client-cut-1"),
        verify=order_lookup(client, "M-client-cut-1"),
    )
    assert order["order_number"] == "M-client-cut-1"
    assert orders_with_id(sandbox, "client-cut-1") == 1
    posts = [(r.status, r.fault) for r in sandbox.requests if r.method == "POST"]
    assert posts == [(201, "cut")]


def test_a_post_cut_off_without_verification_is_reported_not_repeated(sandbox):
    sandbox.add_fault(FaultRule(kind="cut", nth={1}, method="POST"))
    client = make_client(sandbox)
    with pytest.raises(OrdoroTransientError, match=r"cut off mid-body.*may or may not"):
        client.post("/v3/order", order_body("client-cut-2"))
    assert orders_with_id(sandbox, "client-cut-2") == 1
    assert statuses(sandbox, "/v3/order") == [201]


def test_a_put_whose_answer_was_cut_off_is_sent_again(sandbox):
    sku = next(sku for sku in sandbox.store.products if sku.isascii() and "/" not in sku)
    warehouse_id = next(iter(sandbox.store.warehouses))
    path = build_path("product", sku, "warehouse", warehouse_id)
    sandbox.add_fault(FaultRule(kind="cut", nth={1}, method="PUT"))
    client = make_client(sandbox)
    updated = client.put(path, {"on_hand": 4242})
    entry = next(w for w in updated["warehouses"] if w["id"] == warehouse_id)
    assert entry["on_hand"] == 4242
    assert [(r.status, r.fault) for r in sandbox.requests if r.method == "PUT"] == [
        (200, "cut"),
        (200, None),
    ]


def unshipped_order(sandbox: Sandbox, taken: set[str] = set()) -> str:  # noqa: B006
    """An order without tracking that no other test of this module used."""
    for number, order in sandbox.store.orders.items():
        info = order.get("shipping_info") or {}
        if not info.get("tracking_number") and number not in taken:
            taken.add(number)
            return number
    raise AssertionError("the sandbox has no order without tracking left")


def post_tracking_after_a_read_timeout(sandbox: Sandbox, settle_seconds: float) -> str:
    """POST tracking while the sandbox holds the request back longer than the client's read
    timeout (the write is still in flight when the client gives up); returns the order."""
    order_number = unshipped_order(sandbox)
    path = build_path("v3", "order", order_number, "shipping_info")
    body = {
        "tracking_number": f"TRK-{order_number}",
        "carrier_name": "ups",
        "ship_date": "2024-05-01T12:00:00+00:00",
    }
    sandbox.add_fault(
        FaultRule(kind="delay", delay_seconds=1.0, nth={1}, method="POST", path_prefix=path)
    )
    policy = RetryPolicy(
        max_attempts=4,
        backoff_seconds=0.01,
        backoff_max_seconds=0.05,
        max_total_wait_seconds=30,
        settle_seconds=settle_seconds,
    )
    client = make_client(sandbox, timeout=(2.0, 0.25), retry=policy)

    def tracking_added() -> dict | None:
        order = client.get(build_path("v3", "order", order_number))
        info = order.get("shipping_info") or {}
        return info if info.get("tracking_number") == body["tracking_number"] else None

    client.post(path, body, verify=tracking_added)
    wait_until_answered(sandbox, path)
    return order_number


def wait_until_answered(sandbox: Sandbox, path: str) -> None:
    """Wait until every request to ``path`` the sandbox received has been handled."""
    for _ in range(200):
        if all(r.status is not None for r in sandbox.requests if r.path == path):
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"the sandbox is still handling {path}")


def tracking_writes(sandbox: Sandbox, order_number: str) -> int:
    writes = sandbox.store.tracking_writes
    return sum(1 for write in writes if write["order_number"] == order_number)


def test_control_checking_at_once_after_a_read_timeout_adds_tracking_twice(sandbox):
    """Control for the test below: without waiting, the check races the original request, finds
    nothing, and the POST goes again; then the original lands too."""
    order_number = post_tracking_after_a_read_timeout(sandbox, settle_seconds=0.0)
    assert tracking_writes(sandbox, order_number) == 2


def test_a_post_that_timed_out_is_checked_again_before_it_is_resent(sandbox):
    order_number = post_tracking_after_a_read_timeout(sandbox, settle_seconds=2.5)
    assert tracking_writes(sandbox, order_number) == 1
    path = build_path("v3", "order", order_number, "shipping_info")
    assert [r.method for r in sandbox.requests if r.path == path] == ["POST"]


def test_a_redirect_is_an_error_naming_the_location_and_is_not_followed(sandbox):
    """requests would follow a 302 of a POST with a GET of the list: a create that "worked"."""
    sandbox.add_fault(FaultRule(kind="status", status=302, nth={1}, method="POST"))
    client = make_client(sandbox)
    with pytest.raises(OrdoroRedirectError) as raised:
        client.post("/v3/order", order_body("client-redirect-1"), idempotent=True)
    assert raised.value.status == 302
    assert raised.value.location == "/v3/order"
    assert "redirect to /v3/order" in str(raised.value)
    assert "api_url" in str(raised.value)
    assert [(r.method, r.path) for r in sandbox.requests] == [("POST", "/v3/order")]
    assert orders_with_id(sandbox, "client-redirect-1") == 0


def test_a_redirect_elsewhere_is_not_retried_and_carries_no_credentials(sandbox):
    sandbox.add_fault(
        FaultRule(kind="status", status=301, location="//elsewhere.example/warehouse/")
    )
    client = make_client(sandbox)
    with pytest.raises(OrdoroRedirectError, match=r"elsewhere\.example") as raised:
        client.get("/warehouse/")
    assert SECRET not in str(raised.value)
    assert statuses(sandbox, "/warehouse/") == [301]


def test_a_host_that_does_not_resolve_fails_at_once_naming_it(caplog):
    client = OrdoroClient(USER, SECRET, "https://api.ordoro.invalid", retry=FAST_RETRIES)
    with caplog.at_level(logging.DEBUG), pytest.raises(OrdoroUnreachableError) as raised:
        client.get("/warehouse/")
    message = str(raised.value)
    assert "\n" not in message
    assert "'api.ordoro.invalid'" in message
    assert "resolve" in message
    assert retry_waits(caplog) == []  # not retried
    assert SECRET not in message + caplog.text


class _EmptyWarehouseList(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"count": 0, "limit": 100, "offset": 0, "warehouse": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _CountingTLSServer(ThreadingHTTPServer):
    """An HTTPS server on loopback that counts TLS handshakes attempted."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _EmptyWarehouseList)
        self.context = context
        self.handshakes = 0

    def get_request(self) -> tuple[ssl.SSLSocket, tuple[str, int]]:
        connection, address = self.socket.accept()
        self.handshakes += 1
        return self.context.wrap_socket(connection, server_side=True), address


@contextmanager
def https_server(ca: trustme.CA) -> Iterator[_CountingTLSServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = _CountingTLSServer(context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_certificate_that_does_not_verify_fails_at_once_naming_it(caplog, tmp_path, monkeypatch):
    """A certificate from an authority this machine does not trust (a TLS-intercepting proxy,
    a wrong host): one handshake, no retry, one line that says so. The control trusts the
    authority, and the same server answers."""
    authority = trustme.CA()
    with https_server(authority) as server:
        url = f"https://127.0.0.1:{server.server_port}"
        client = OrdoroClient(USER, SECRET, url, retry=FAST_RETRIES, timeout=(2.0, 2.0))
        with caplog.at_level(logging.DEBUG), pytest.raises(OrdoroCertificateError) as raised:
            client.get("/warehouse/")
        assert server.handshakes == 1
        message = str(raised.value)
        assert "\n" not in message
        assert "TLS certificate of 127.0.0.1 does not verify" in message
        assert retry_waits(caplog) == []
        assert SECRET not in message + caplog.text

        bundle = tmp_path / "authority.pem"
        authority.cert_pem.write_to_path(str(bundle))
        # requests prefers these variables to a session's own bundle.
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        trusting = OrdoroClient(USER, SECRET, url, retry=FAST_RETRIES, timeout=(2.0, 2.0))
        trusting.session.verify = str(bundle)
        assert trusting.get("/warehouse/")["count"] == 0


@pytest.mark.parametrize(
    "api_url",
    ["http://api.ordoro.com", "http://10.0.0.5:8555", "http://localhost.example.com"],
)
def test_plain_http_to_a_remote_host_is_refused_before_any_request(api_url):
    with pytest.raises(OrdoroConfigError, match="HTTPS") as raised:
        OrdoroClient(USER, SECRET, api_url)
    assert SECRET not in str(raised.value)
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    ("api_url", "expected"),
    [
        ("http://127.0.0.1:8555/", "http://127.0.0.1:8555"),
        ("http://127.3.4.5:1", "http://127.3.4.5:1"),
        ("http://localhost:8555", "http://localhost:8555"),
        ("http://[::1]:8555", "http://[::1]:8555"),
        ("https://api.ordoro.com/", "https://api.ordoro.com"),
        ("https://user:pw@api.ordoro.com", "https://api.ordoro.com"),
    ],
)
def test_https_anywhere_and_plain_http_to_loopback_are_accepted(api_url, expected):
    assert OrdoroClient(USER, SECRET, api_url).api_url == expected


@pytest.mark.parametrize("api_url", ["ftp://api.ordoro.com", "api.ordoro.com", "https://"])
def test_an_api_url_that_is_not_an_http_url_is_refused(api_url):
    with pytest.raises(OrdoroConfigError, match="https://"):
        OrdoroClient(USER, SECRET, api_url)


def test_the_password_is_redacted_from_error_messages(sandbox):
    """Ordoro echoing the secret (e.g. in an error about a field) never reaches a message."""
    client = make_client(sandbox)
    with pytest.raises(OrdoroAPIError) as raised:
        client.get(build_path("product", f"sku-{SECRET}"))
    assert raised.value.status == 404
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")], ids=repr)
def test_a_body_json_cannot_carry_is_refused_before_it_is_sent(sandbox, number):
    client = make_client(sandbox)
    sku = next(iter(sandbox.store.products))
    path = build_path("product", sku, "warehouse", next(iter(sandbox.store.warehouses)))
    with pytest.raises(OrdoroInvalidRequest, match="NaN or an infinite number") as raised:
        client.put(path, {"on_hand": number})
    assert isinstance(raised.value, OrdoroAPIError)
    assert raised.value.status is None  # Ordoro never answered
    assert sandbox.requests == []


def test_a_path_segment_that_is_not_unicode_is_refused():
    with pytest.raises(OrdoroInvalidRequest, match="not valid Unicode"):
        build_path("product", "SKU-\ud800")


def test_a_query_parameter_that_is_not_unicode_is_refused_before_it_is_sent(sandbox):
    client = make_client(sandbox)
    with pytest.raises(
        OrdoroInvalidRequest, match="'cart_order_id' is not valid Unicode"
    ) as raised:
        client.get(build_path("v3", "order"), {"cart_order_id": "1-\ud800"})
    assert raised.value.status is None  # Ordoro never answered
    assert sandbox.requests == []


def test_error_messages_quote_long_paths_and_answers_clipped(sandbox):
    client = make_client(sandbox)
    with pytest.raises(OrdoroAPIError) as raised:
        client.get(build_path("product", "S" * 5000))
    assert raised.value.status in (404, 414)
    assert len(str(raised.value)) < 500
    assert "…" in str(raised.value)
