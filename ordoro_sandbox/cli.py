"""``ordoro-sandbox``: serve the local Ordoro API sandbox until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ordoro_core.order_numbers import ORDER_NUMBER_PREFIX
from ordoro_sandbox.faults import FaultRule
from ordoro_sandbox.options import SandboxOptions
from ordoro_sandbox.server import Sandbox

DEFAULT_PORT = 8555

FAULT_HELP = """\
fault SPEC grammar (--fault, repeatable):
  SPEC    := KIND [":" OPTIONS]... [":after"]
  KIND    := STATUS        answer this HTTP status, e.g. 503, 500, 524, 429 (429 carries
                           Retry-After: 1), or a 3xx redirect (Location: the same path)
           | drop          close the TCP connection without any response
           | cut           send the real answer's status and headers (full Content-Length),
                           half of its body, then close the connection (effect applied)
           | malformed     answer 200 with a truncated, invalid JSON body
           | short         a list page holding half the records its count and limit promise
           | empty         a list page holding no records although its count promises some
           | delay=SECS    wait SECS seconds, then answer normally (with a client read
                           timeout below SECS: a read timeout)
  OPTIONS := OPTION ["," OPTION]...
  OPTION  := p=FLOAT         fire with this probability on each matching request
           | nth=N[,N]...    fire on these matching requests (1-based, counted per rule)
           | times=N         fire at most N times
           | method=NAME     match only this HTTP method
           | path=PREFIX     match only (decoded) paths starting with PREFIX
           | location=URL    a 3xx's Location (default: the request's own path); a path or
                             //host/path (no colon)
           | retry_after=RA  a 429's Retry-After: SECS (default 1), none (no header),
                             date or date+SECS (an HTTP-date at least SECS ahead)
           | after           apply the request's real effect first, then replace the answer
                             (a delay: wait after the effect instead of before it)
  Without p and nth a rule fires on every request it matches (up to times). cut, short and
  empty always start from the real answer; short and empty change only list answers.
  Examples: 503:p=0.05  429:nth=2,5  429:retry_after=date+2  429:retry_after=none
            drop:nth=3  cut:nth=1,method=POST  malformed:p=0.01  short:nth=1,path=/product/
            empty:nth=2  drop:nth=1:after  delay=2.5:nth=1  503:nth=1,method=POST,path=/v3/order

Checks run in this order: credentials (401), rate limit (429), faults, the endpoint.
"""


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    defaults = SandboxOptions()
    parser = argparse.ArgumentParser(
        prog="ordoro-sandbox",
        description=(
            "Serve a local Ordoro API sandbox: HTTP Basic auth, the /v3/order (with cancel, "
            "uncancel, addresses, tags and lines), /v3/order/tag, /product/, /warehouse/, "
            "/cart/, /supplier/, /purchase_order/ and /v3/return_order endpoints "
            "with a seeded in-memory account, plus knobs for latency, rate limits, injected "
            "faults and records that change during a sync. Serves until SIGINT or SIGTERM."
        ),
        epilog=FAULT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    server = parser.add_argument_group("server")
    server.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    server.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port to listen on; 0 picks a free port (default: %(default)s)",
    )
    server.add_argument(
        "--username",
        default=defaults.username,
        help="the HTTP Basic user name it accepts (default: %(default)s)",
    )
    server.add_argument(
        "--password",
        default=defaults.password,
        help="the HTTP Basic password it accepts (default: sandbox-secret); never printed",
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        help="seed of the generated account; the same seed gives the same data "
        "(default: %(default)s)",
    )
    for flag, name, what in (
        ("--products", "products", "products"),
        ("--orders", "orders", "orders"),
        ("--purchase-orders", "purchase_orders", "purchase orders"),
        ("--return-orders", "return_orders", "return orders"),
        ("--suppliers", "suppliers", "suppliers"),
    ):
        data.add_argument(
            flag,
            type=_count,
            default=getattr(defaults, name),
            help=f"number of {what} to generate (default: %(default)s)",
        )
    data.add_argument(
        "--empty",
        action="store_true",
        help="an empty account: only the warehouses and sales channels (same ids as the seed "
        "gives), as a destination for writes",
    )
    identity = parser.add_argument_group("order identity scenarios (off by default)")
    identity.add_argument(
        "--shared-order-ids",
        type=_count,
        default=0,
        metavar="N",
        help="add N order ids used by every sales channel and as manual orders at once "
        '("1-8001", "2-8001", "M-8001": three customers\' shipped orders) (default: 0)',
    )
    identity.add_argument(
        "--decoy-orders",
        type=_order_numbers,
        default=(),
        metavar="NUMBERS",
        help="comma-separated order numbers created as this account's own unshipped orders, "
        'e.g. "1-8001,M-8002" (decoys for orders copied from another account)',
    )
    identity.add_argument(
        "--cart-order-id-at-top",
        action="store_true",
        help="orders answer their cart_order_id at the top, as the legacy /order/ answers "
        "recorded in 2016, and not on their lines as the v3 spec has it",
    )
    behaviour = parser.add_argument_group("misbehaviour")
    behaviour.add_argument(
        "--latency-ms",
        type=_count,
        default=0,
        help="wait this many milliseconds before answering each request (default: 0)",
    )
    behaviour.add_argument(
        "--rate-limit",
        type=_positive,
        default=None,
        metavar="N",
        help="allow N requests per window per user; above it answer 429 with Retry-After "
        "(default: no limit; Ordoro's published limit is 500 per minute)",
    )
    behaviour.add_argument(
        "--rate-window",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="length of the sliding rate-limit window in seconds (default: %(default)s)",
    )
    behaviour.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault (repeatable); SPEC grammar below",
    )
    behaviour.add_argument(
        "--mutate-per-page",
        type=_count,
        default=0,
        metavar="K",
        help="records change during a sync: before each list page of orders, products or "
        "purchase orders after the first, give K records that earlier pages served a new "
        "updated time (offset paging then skips records) (default: 0, off)",
    )
    behaviour.add_argument(
        "--mutate-unread-per-page",
        type=_count,
        default=0,
        metavar="U",
        help="records not read yet change during a sync: before each list page of orders, "
        "products or purchase orders after the first, give the U oldest records no page has "
        "served yet a new updated time (they leave for the end of the list) (default: 0, off)",
    )
    live = parser.add_argument_group(
        "a live account's timing (see ordoro_sandbox.live; all off by default)"
    )
    live.add_argument(
        "--bulk-action-orders",
        type=_count,
        default=0,
        metavar="N",
        help="seed N orders sharing one updated_date, as one bulk action stamps them",
    )
    live.add_argument(
        "--commit-lag",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="stamp every write SECONDS before it becomes visible (rows that commit late)",
    )
    live.add_argument(
        "--stock-moves-untouched",
        action="store_true",
        help="stock moved by orders and POs leaves the product's updated alone, as on a live "
        "account (default: a recount that changes a product's figures stamps its updated)",
    )
    live.add_argument(
        "--sales-per-product-page",
        type=_count,
        default=0,
        metavar="K",
        help="orders keep coming while a client reads: right after answering each page of "
        "GET /product/, place an order for one of each of K products the page served, each "
        "product once (default: 0, off)",
    )
    reading = parser.add_argument_group(
        "readings of a list request that the spec leaves open (see ordoro_sandbox.listing."
        "ListReading; all off by default)"
    )
    reading.add_argument(
        "--page-size-cap",
        type=_count,
        default=0,
        metavar="N",
        help="a list page holds at most N records whatever limit asks, and its envelope's "
        "limit says N (default: 0, off: limit up to 100 is served)",
    )
    reading.add_argument(
        "--filter-offsets-ignored",
        action="store_true",
        help="an updated_after/updated_before value's UTC offset is dropped and its wall time "
        "read in the account's zone (America/Chicago; on /v3/order the zone its timezone "
        "parameter names, when given) (default: the offset is honoured)",
    )
    reading.add_argument(
        "--result-window",
        type=_count,
        default=0,
        metavar="N",
        help="an offset at or past N answers 400 naming offset, as list APIs with a result "
        "window do (default: 0, off: any offset is served)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sandbox until SIGINT or SIGTERM; returns the exit status."""
    args = build_parser().parse_args(argv)
    options = SandboxOptions(
        seed=args.seed,
        username=args.username,
        password=args.password,
        products=args.products,
        orders=args.orders,
        purchase_orders=args.purchase_orders,
        return_orders=args.return_orders,
        suppliers=args.suppliers,
        empty=args.empty,
        latency_ms=args.latency_ms,
        rate_limit_per_minute=args.rate_limit,
        rate_limit_window_seconds=args.rate_window,
        faults=args.fault,
        mutate_per_page=args.mutate_per_page,
        mutate_unread_per_page=args.mutate_unread_per_page,
        bulk_action_orders=args.bulk_action_orders,
        commit_lag_seconds=args.commit_lag,
        stock_moves_untouched=args.stock_moves_untouched,
        sales_per_product_page=args.sales_per_product_page,
        page_size_cap=args.page_size_cap,
        filter_offsets_ignored=args.filter_offsets_ignored,
        result_window=args.result_window,
        shared_order_ids=args.shared_order_ids,
        decoy_orders=args.decoy_orders,
        cart_order_id_at_top=args.cart_order_id_at_top,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    sandbox = Sandbox(options, host=args.host, port=args.port).start()
    try:
        print(
            f"ordoro-sandbox serving {sandbox.url} (user {options.username}, seed {options.seed})",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
    return 0


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}: {text}")
    return value


def _count(text: str) -> int:
    return _whole_number(text, 0)


def _positive(text: str) -> int:
    return _whole_number(text, 1)


def _order_numbers(text: str) -> tuple[str, ...]:
    numbers = tuple(part.strip() for part in text.split(",") if part.strip())
    for number in numbers:
        if not ORDER_NUMBER_PREFIX.match(number):
            raise argparse.ArgumentTypeError(
                f"not an order number like 1-8001 or M-8002: {number!r}"
            )
    return numbers


def _fault(text: str) -> FaultRule:
    try:
        return FaultRule.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


if __name__ == "__main__":
    sys.exit(main())
