"""The sandbox as a real HTTP server (werkzeug, threaded) that tests start in-process."""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ordoro_sandbox import live
from ordoro_sandbox.app import RequestRecord, SandboxApp
from ordoro_sandbox.faults import FaultRule
from ordoro_sandbox.options import SandboxOptions
from ordoro_sandbox.seed import build_store
from ordoro_sandbox.store import Store

logger = logging.getLogger("ordoro_sandbox")

#: How often the serving thread checks for a stop request (bounds how long stop() takes).
SHUTDOWN_POLL_SECONDS = 0.05


class QuietRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, logging to the ``ordoro_sandbox`` logger at debug level.

    It speaks HTTP/1.1 and keeps connections open between requests, as Ordoro's API does
    (werkzeug's default, HTTP/1.0, closes each one): a client reuses its connections, and the
    sandbox does not accept a new one for every request, which on a busy sandbox (answers being
    encoded on other threads) held a request's arrival back by up to 200 ms, bunching it with
    the next one.

    When the app raises :class:`~ordoro_sandbox.app.DropConnection` (a ConnectionError),
    werkzeug calls :meth:`connection_dropped` without writing a response; closing the
    connection then makes the client see it dropped (RemoteDisconnected), with no traceback.
    """

    protocol_version = "HTTP/1.1"

    def connection_dropped(
        self, error: BaseException, environ: dict[str, Any] | None = None
    ) -> None:
        self.close_connection = True

    def log(self, type: str, message: str, *args: Any) -> None:
        logger.debug("%s " + message, self.address_string(), *args)


class Sandbox:
    """A local Ordoro API on ``host``:``port`` (0: a free port), seeded from ``options``.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. Every knob can change
    while it serves.
    """

    def __init__(
        self, options: SandboxOptions | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.options = options if options is not None else SandboxOptions()
        self.host = host
        self.port = port
        #: The in-memory account (see :class:`ordoro_sandbox.store.Store`).
        self.store: Store = build_store(self.options)
        live.seed_bulk_action(self.store, self.options.bulk_action_orders, self.options.seed)
        self.set_commit_lag(self.options.commit_lag_seconds)
        self.set_stock_moves_untouched(self.options.stock_moves_untouched)
        #: The WSGI application serving the store.
        self.app = SandboxApp(self.store, self.options)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Bind and serve in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already serving")
        server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=QuietRequestHandler
        )
        self._server = server
        self.port = server.server_port
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name=f"ordoro-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- observation and knobs ---------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request received so far (a copy), oldest first."""
        return self.app.request_log

    def reset_request_log(self) -> None:
        """Forget the requests received so far."""
        self.app.reset_request_log()

    def add_fault(self, rule: FaultRule) -> None:
        """Inject a fault from now on (its request count starts now)."""
        self.app.faults.add(rule)

    def clear_faults(self) -> None:
        """Stop injecting faults."""
        self.app.faults.clear()

    def set_rate_limit(self, per_minute: int | None, window_seconds: float = 60.0) -> None:
        """Allow ``per_minute`` requests per ``window_seconds`` per user (None: no limit)."""
        self.app.rate_limit.configure(per_minute, window_seconds)

    def set_mutate_per_page(self, k: int) -> None:
        """Bump ``k`` already-served records before each later list page (0: off)."""
        self.app.churn.configure(k)

    def set_mutate_unread_per_page(self, u: int) -> None:
        """Bump ``u`` records no list page has served yet before each later list page (0:
        off); the served-records knob is kept as it is."""
        self.app.churn.configure(self.app.churn.per_page, u)

    def set_sales_per_product_page(self, k: int) -> None:
        """Place an order for ``k`` products of each product list page, once answered (0:
        off; see :class:`ordoro_sandbox.live.SalesDuringReads`)."""
        self.app.sales.configure(k)

    @property
    def sold_during_reads(self) -> set[str]:
        """The SKUs ``sales_per_product_page`` sold so far."""
        return self.app.sales.sold

    def switch_line_sku(self, order_number: str, line_id: int, sku: str) -> dict[str, Any]:
        """Make an open order's line name another SKU, as Ordoro's app does (see
        :func:`ordoro_sandbox.live.switch_line_sku`)."""
        return live.switch_line_sku(self.store, order_number, line_id, sku)

    def set_commit_lag(self, seconds: float) -> None:
        """Stamp every later write ``seconds`` before it becomes visible (0: off)."""
        self.store.clock.lag_seconds = max(0.0, seconds)

    def set_stock_moves_untouched(self, untouched: bool) -> None:
        """Whether stock moves leave the product's ``updated`` alone (as a live account)."""
        self.store.stock_moves_touch_product = not untouched

    def bulk_action(self, kind: str, keys: list[Any]) -> str:
        """Give the records ``keys`` of ``kind`` (e.g. "orders") one updated timestamp, now."""
        return live.bulk_action(self.store, kind, keys)

    def set_list_reading(
        self,
        *,
        page_size_cap: int | None = None,
        filter_offsets_ignored: bool | None = None,
        result_window: int | None = None,
    ) -> None:
        """Change how list requests are read where the spec leaves it open (see
        :class:`~ordoro_sandbox.listing.ListReading`); an argument left out stays as it is."""
        reading = self.app.endpoints.reading
        if page_size_cap is not None:
            reading.page_size_cap = page_size_cap
        if filter_offsets_ignored is not None:
            reading.filter_offsets_ignored = filter_offsets_ignored
        if result_window is not None:
            reading.result_window = result_window

    def set_latency_ms(self, latency_ms: int) -> None:
        """Wait ``latency_ms`` milliseconds before answering each request."""
        self.app.latency_seconds = latency_ms / 1000.0
