"""The sandbox's WSGI application: raw-path routing, auth, rate limit, faults, latency.

Each request goes through, in this order: latency, HTTP Basic auth (401), the rate limit
(429 + Retry-After), injected faults, then the trailing-slash rule, routing (404/405) and the
handler. Faults that work on the real answer (``after``, ``cut``, ``short``, ``empty``) run the
handler first and change only what is sent back. Every answer that is not a record is Ordoro's
error envelope ``{"error_message": ..., "param": ...}`` with ``Content-Type: application/json``.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from werkzeug.wrappers import Request, Response

from ordoro_sandbox.answer_shapes import reshape_orders
from ordoro_sandbox.churn import SyncChurn
from ordoro_sandbox.endpoints import Call, Endpoints
from ordoro_sandbox.errors import ApiError
from ordoro_sandbox.faults import FaultInjector, FaultRule
from ordoro_sandbox.listing import ListReading
from ordoro_sandbox.live import SalesDuringReads
from ordoro_sandbox.options import SandboxOptions
from ordoro_sandbox.ratelimit import SlidingWindowLimit
from ordoro_sandbox.store import Store

logger = logging.getLogger("ordoro_sandbox")

#: A body the "malformed" fault sends when the handler did not run: JSON cut short.
TRUNCATED_BODY = b'{"count": 1, "limit": 10, "offset": 0, "order": [{"order_number": "1-10'


class DropConnection(ConnectionAbortedError):
    """Raised by the app to make the server close the connection without answering."""


@dataclass(frozen=True)
class RequestRecord:
    """One request the sandbox received, logged when it arrives.

    ``number`` counts from 1 in order of arrival, ``path`` is the percent-decoded path,
    ``query`` the decoded query parameters, ``status`` the status sent (None while the request
    is still being answered, and when the connection was dropped), ``fault`` the injected
    fault(s) (e.g. ``"status:503"``, ``"drop"``, ``"delay:2.5"``) or None, ``at`` the arrival
    time (``time.time()``), ``answered`` when its answer was ready (None until then): together
    they say how many requests were in flight at any moment.
    """

    number: int
    method: str
    path: str
    query: dict[str, list[str]]
    status: int | None
    fault: str | None
    at: float
    answered: float | None = None


@dataclass(frozen=True)
class _LogSlot:
    generation: int
    index: int


class SandboxApp:
    """The WSGI application behind :class:`ordoro_sandbox.Sandbox`.

    Its knobs (``latency_seconds``, ``rate_limit``, ``faults``, ``churn``, ``sales``) may change
    while it serves; ``sleep`` is how it waits (replaceable in tests).
    """

    def __init__(
        self,
        store: Store,
        options: SandboxOptions,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self._username = options.username
        self._password = options.password
        self.latency_seconds = options.latency_ms / 1000.0
        self.rate_limit = SlidingWindowLimit(
            options.rate_limit_per_minute, options.rate_limit_window_seconds
        )
        self.faults = FaultInjector(options.faults, seed=options.seed)
        self.churn = SyncChurn(options.mutate_per_page, options.mutate_unread_per_page)
        self.sales = SalesDuringReads(options.sales_per_product_page)
        #: Answer orders with cart_order_id at their top (the legacy shape), see answer_shapes.
        self.cart_order_id_at_top = options.cart_order_id_at_top
        self.endpoints = Endpoints(
            store,
            self.churn,
            self.sales,
            ListReading(
                page_size_cap=options.page_size_cap,
                filter_offsets_ignored=options.filter_offsets_ignored,
                result_window=options.result_window,
            ),
        )
        self.sleep = sleep
        self._log_lock = threading.Lock()
        self._log: list[RequestRecord] = []
        self._log_generation = 0

    # -- request log -------------------------------------------------------------------

    @property
    def request_log(self) -> list[RequestRecord]:
        """A copy of the requests received so far, in order of arrival."""
        with self._log_lock:
            return list(self._log)

    def reset_request_log(self) -> None:
        """Forget the requests so far; numbering starts again at 1."""
        with self._log_lock:
            self._log.clear()
            self._log_generation += 1

    def _open_record(self, method: str, path: str, query: dict[str, list[str]]) -> _LogSlot:
        """Log a request on arrival (status None until it is answered)."""
        with self._log_lock:
            number = len(self._log) + 1
            self._log.append(RequestRecord(number, method, path, query, None, None, time.time()))
            return _LogSlot(self._log_generation, number - 1)

    def _update_record(self, slot: _LogSlot, **changes: Any) -> None:
        with self._log_lock:
            if slot.generation == self._log_generation:
                self._log[slot.index] = replace(self._log[slot.index], **changes)

    # -- WSGI --------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        request.get_data(cache=True)  # read the whole body, also when the connection drops
        method = request.method.upper()
        segments = decoded_segments(environ)
        path = "/" + "/".join(segments)
        slot = self._open_record(method, path, request.args.to_dict(flat=False))
        try:
            self._pause(self.latency_seconds)
            username = self._authenticate(request)
            retry_after = self.rate_limit.acquire(username)
            if retry_after is not None:
                raise ApiError(
                    429,
                    "Rate limit exceeded: too many requests, retry later",
                    headers={"Retry-After": str(retry_after)},
                )
            plan = self.faults.plan(method, path)
            if plan.label is not None:
                self._update_record(slot, fault=plan.label)
            self._pause(plan.delay_seconds(after_handler=False))
            fault = plan.fault
            if fault is not None and not fault.from_real_answer:
                response = fault_response(fault, None, raw_target(environ))
            else:
                response = self._handle(request, method, segments)
                self._pause(plan.delay_seconds(after_handler=True))
                if fault is not None:
                    response = fault_response(fault, response, raw_target(environ))
        except ApiError as error:
            response = error_response(error)
        except DropConnection:
            raise
        except Exception:
            logger.exception("sandbox error on %s %s", method, path)
            response = error_response(ApiError(500, "Internal error in the sandbox"))
        self._update_record(slot, status=response.status_code, answered=time.time())
        return response(environ, start_response)

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self.sleep(seconds)

    def _authenticate(self, request: Request) -> str:
        auth = request.authorization
        if (
            auth is None
            or auth.type != "basic"
            or not _same(auth.username, self._username)
            or not _same(auth.password, self._password)
        ):
            raise ApiError(
                401,
                "Invalid or missing credentials: use HTTP Basic auth with the API key's "
                "Client ID and Client Secret",
                headers={"WWW-Authenticate": 'Basic realm="Ordoro API sandbox"'},
            )
        return auth.username or ""

    def _handle(self, request: Request, method: str, segments: list[str]) -> Response:
        route_segments = check_trailing_slash(segments)
        handler, params = self.endpoints.resolve(method, route_segments)
        call = Call(method=method, params=params, args=request.args, body=request.get_data())
        with self.store.lock:
            reply = handler(call)
            body = reshape_orders(reply.body) if self.cart_order_id_at_top else reply.body
            data = encode_json(body)
        return json_response(reply.status, data, reply.headers)


def decoded_segments(environ: dict[str, Any]) -> list[str]:
    """The request path's segments, each percent-decoded on its own.

    Routing works on the RAW request path (werkzeug's dev server puts it in RAW_URI and
    REQUEST_URI) so that an encoded "/" (%2F) inside a SKU stays inside its segment. A path
    that ends with "/" yields a last, empty segment. Under a WSGI server without RAW_URI the
    already-decoded PATH_INFO is used, where %2F cannot be told from "/".
    """
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        raw_path = raw.split("?", 1)[0]
        if "://" in raw_path:
            raw_path = urlsplit(raw_path).path
        parts = raw_path.encode("latin-1").split(b"/")[1:]
        return [unquote_to_bytes(part).decode("utf-8", "replace") for part in parts]
    path_info = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    return path_info.split("/")[1:]


def check_trailing_slash(segments: list[str]) -> list[str]:
    """Ordoro's rule: /v3/... paths take no trailing slash, every other path needs one.

    Returns the segments without the trailing empty one; 404 when the rule is broken.
    """
    path = "/" + "/".join(segments)
    if not any(segments):
        raise ApiError(404, "No such endpoint: /")
    has_slash = len(segments) > 1 and segments[-1] == ""
    if segments[0] == "v3":
        if has_slash:
            raise ApiError(404, f"Paths under /v3/ take no trailing slash: use {path.rstrip('/')}")
        return segments
    if not has_slash:
        raise ApiError(404, f"This path needs a trailing slash: use {path}/")
    return segments[:-1]


def encode_json(body: Any) -> bytes:
    """The JSON body as UTF-8 bytes."""
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def json_response(status: int, data: bytes, headers: dict[str, str] | None = None) -> Response:
    """A response with a JSON body."""
    return Response(data, status=status, headers=headers, content_type="application/json")


def error_response(error: ApiError) -> Response:
    """Ordoro's error envelope."""
    return json_response(error.status, encode_json(error.envelope()), error.headers)


def raw_target(environ: dict[str, Any]) -> str:
    """The request's path and query as the client sent them."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw
    query = environ.get("QUERY_STRING")
    return environ.get("PATH_INFO", "/") + (f"?{query}" if query else "")


def fault_response(fault: FaultRule, real: Response | None, target: str = "/") -> Response:
    """What an injected fault answers instead of ``real`` (None: the handler did not run).

    ``target`` is the request's raw path and query (where a 3xx fault redirects by default).
    """
    if fault.kind == "drop":
        raise DropConnection("injected fault: drop the connection")
    if fault.kind == "malformed":
        data = real.get_data() if real is not None else b""
        cut = data[: max(1, len(data) // 2)] if len(data) > 2 else TRUNCATED_BODY
        return json_response(200, cut)
    if real is not None and fault.kind == "cut":
        return cut_response(real)
    if real is not None and fault.kind in ("short", "empty"):
        return list_fault_response(real, keep_half=fault.kind == "short")
    headers = retry_after_headers(fault) if fault.status == 429 else None
    if 300 <= fault.status < 400:
        headers = {"Location": fault.location or target}
    return error_response(
        ApiError(fault.status, f"Injected fault: HTTP {fault.status}", headers=headers)
    )


def retry_after_headers(fault: FaultRule) -> dict[str, str]:
    """A 429 fault's ``Retry-After``: seconds, an HTTP-date at least that far ahead, or none."""
    if fault.retry_after is None:
        return {}
    if fault.retry_after_date:
        return {"Retry-After": formatdate(math.ceil(time.time() + fault.retry_after), usegmt=True)}
    return {"Retry-After": f"{fault.retry_after:g}"}


def cut_response(real: Response) -> Response:
    """The real answer's status and headers, its full Content-Length, then half of its body and
    a closed connection (the client reads an incomplete body)."""
    data = real.get_data()
    part = data[: len(data) // 2]

    def body() -> Iterator[bytes]:
        if part:
            yield part
        raise DropConnection("injected fault: answer cut off mid-body")

    headers = [(k, v) for k, v in real.headers.items() if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(data))))
    return Response(body(), status=real.status_code, headers=headers)


def list_fault_response(real: Response, *, keep_half: bool) -> Response:
    """A list answer keeping half of its records (or none) while ``count`` still says how many
    match; any other answer unchanged."""
    try:
        body = json.loads(real.get_data())
    except ValueError:
        return real
    lists = (
        [key for key, value in body.items() if isinstance(value, list)]
        if isinstance(body, dict)
        else []
    )
    if len(lists) != 1 or not isinstance(body.get("count"), int):
        return real
    records = body[lists[0]]
    body[lists[0]] = records[: len(records) // 2] if keep_half else []
    return json_response(real.status_code, encode_json(body))


def _same(given: str | None, expected: str) -> bool:
    return hmac.compare_digest((given or "").encode("utf-8"), expected.encode("utf-8"))
