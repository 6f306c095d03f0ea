"""What the reliability tests share: fast plugins, what the sandbox holds, and what was lost or
duplicated.

The plugins run in-process with a client whose retries are fast (and, where a test asks for it,
whose read timeout is short), through subclasses that only replace how the client is built.
Expectations come from the sandbox's store, never from the plugins' own code paths.
"""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ordoro_core.order_numbers import strip_order_prefix
from ordoro_core.retries import RetryPolicy
from ordoro_sandbox import FaultRule, Sandbox
from tap_ordoro.tap import TapOrdoro
from target_ordoro.target import TargetOrdoro
from tests.tap_ordoro.helpers import TapRun, parse_messages

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Where the fault matrix's measured figures go (git-ignored); see docs/reliability.md.
FIGURES_PATH = REPO_ROOT / "output" / "reliability" / "fault-matrix.json"

USERNAME = "reliability-user"
#: Recognisable, so that a test can prove it never appears in any output.
SECRET = "pw-RELIABILITY-4c1e8b-NEVER-SHOWN"

#: Fast retries, patient enough that every fault of the matrix is outlasted.
FAST_RETRY = RetryPolicy(
    max_attempts=12,
    backoff_seconds=0.005,
    backoff_max_seconds=0.05,
    max_total_wait_seconds=60,
    settle_seconds=2.0,  # the sandbox's injected delays are 1 s: a wide margin
)
#: A read timeout well below the sandbox's injected delays (1 s).
SHORT_TIMEOUT = (2.0, 0.3)

#: Each tap stream's key fields.
TAP_KEYS: dict[str, tuple[str, ...]] = {
    "orders": ("order_number",),
    "shipments": ("order_number",),
    "products": ("sku",),
    "inventory": ("sku", "warehouse_id"),
    "warehouses": ("id",),
    "sales_channels": ("id",),
    "suppliers": ("id",),
    "purchase_orders": ("po_id",),
    "return_orders": ("reference_id",),
}


def client_options(
    retry: RetryPolicy = FAST_RETRY, timeout: tuple[float, float] | None = None
) -> dict[str, Any]:
    """The API client's retry policy (and timeout) for a plugin under test."""
    return {"retry": retry, **({"timeout": timeout} if timeout is not None else {})}


def tap_class(retry: RetryPolicy = FAST_RETRY, timeout: tuple[float, float] | None = None) -> Any:
    """A TapOrdoro maker whose client retries fast (and times out as given)."""
    return partial(TapOrdoro, client_options=client_options(retry, timeout))


def target_class(
    retry: RetryPolicy = FAST_RETRY, timeout: tuple[float, float] | None = None
) -> Any:
    """A TargetOrdoro maker whose client retries fast (and times out as given)."""
    return partial(TargetOrdoro, client_options=client_options(retry, timeout))


# -- the tap -----------------------------------------------------------------------------


def tap_config(sandbox: Sandbox, **extra: Any) -> dict[str, Any]:
    return {
        "username": USERNAME,
        "password": SECRET,
        "api_url": sandbox.url,
        "requests_per_minute": 100_000,
        **extra,
    }


@dataclass
class TapOutcome:
    """A tap run: what it emitted and the error it ended with (None: it completed)."""

    run: TapRun
    error: BaseException | None
    stderr: str = ""


def singer_lines(text: str) -> list[str]:
    """Singer messages are separated by "\n" only: ``str.splitlines`` would also cut a record
    at a U+2028 or a form feed inside one of its strings."""
    return [line for line in text.split("\n") if line.strip()]


def run_tap(
    config: dict[str, Any],
    *,
    state: dict[str, Any] | None = None,
    tap_type: type[TapOrdoro] | None = None,
) -> TapOutcome:
    """Run the tap in-process; its error is returned, not raised."""
    stdout, stderr = io.StringIO(), io.StringIO()
    error = None
    with redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            tap = (tap_type or tap_class())(config=config, state=state, parse_env_config=False)
            tap.sync_all()
        except Exception as raised:
            error = raised
    lines = [line for line in singer_lines(stdout.getvalue()) if line.strip()]
    return TapOutcome(parse_messages(lines), error, stderr.getvalue())


def expected_tap_keys(sandbox: Sandbox) -> dict[str, set[tuple[Any, ...]]]:
    """Every record key each stream must emit, from the sandbox's store."""
    store = sandbox.store
    with store.lock:
        shipped = {
            (number,)
            for number, order in store.orders.items()
            if order["status"] == "shipped"
            and (order.get("shipping_info") or {}).get("tracking_number")
        }
        return {
            "orders": {(number,) for number in store.orders},
            "shipments": shipped,
            "products": {(sku,) for sku in store.products},
            "inventory": {
                (sku, entry["id"])
                for sku, product in store.products.items()
                for entry in product.get("warehouses") or []
                if isinstance(entry, dict)
            },
            "warehouses": {(key,) for key in store.warehouses},
            "sales_channels": {(key,) for key in store.carts},
            "suppliers": {(key,) for key in store.suppliers},
            "purchase_orders": {(key,) for key in store.purchase_orders},
            "return_orders": {(key,) for key in store.return_orders},
        }


@dataclass
class Tally:
    """Records expected, lost (never emitted) and duplicated (emitted more than once)."""

    records: int = 0
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


def tally_tap(sandbox: Sandbox, runs: Iterable[TapRun]) -> Tally:
    """Compare what one or more runs emitted (together) with the store, stream by stream.

    With several runs (a resumed sync), a record the resumed run emits again is not a
    duplicate: ``duplicated`` counts repeats within each run.
    """
    runs = list(runs)
    tally = Tally()
    for stream, expected in expected_tap_keys(sandbox).items():
        emitted: set[tuple[Any, ...]] = set()
        repeats = 0
        for run in runs:
            keys = Counter(
                tuple(record.get(name) for name in TAP_KEYS[stream])
                for record in run.records[stream]
            )
            repeats += sum(count - 1 for count in keys.values())
            emitted |= set(keys)
        tally.records += len(expected)
        lost = expected - emitted
        extra = emitted - expected
        tally.lost += len(lost)
        tally.duplicated += repeats
        tally.unexpected += len(extra)
        if lost or extra or repeats:
            tally.detail[stream] = {
                "lost": sorted(lost, key=repr)[:5],
                "unexpected": sorted(extra, key=repr)[:5],
                "repeats": repeats,
            }
    return tally


# -- the target --------------------------------------------------------------------------


def target_config(sandbox: Sandbox, directory: Path, **extra: Any) -> dict[str, Any]:
    return {
        "username": USERNAME,
        "password": SECRET,
        "api_url": sandbox.url,
        "requests_per_minute": 100_000,
        "dead_letter_path": str(directory / "dead-letter.jsonl"),
        "order_map_path": str(directory / "order-map.jsonl"),
        **extra,
    }


@dataclass
class TargetOutcome:
    """A target run: its STATE lines, summary, dead letters and the error it ended with."""

    stdout: str
    stderr: str
    error: BaseException | None
    config: dict[str, Any]
    states: list[Any] = field(default_factory=list)
    summary: dict[str, Any] | None = None

    @property
    def dead_letters(self) -> list[dict[str, Any]]:
        return read_json_lines(Path(self.config["dead_letter_path"]))


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSON Lines file ([] when it does not exist)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def parse_target_output(stdout: str, stderr: str) -> tuple[list[Any], dict[str, Any] | None]:
    """The STATE values on stdout and the run summary on stderr."""
    states = [json.loads(line) for line in singer_lines(stdout) if line.strip().startswith("{")]
    summary = None
    for line in stderr.splitlines():
        if line.startswith('{"type": "target_ordoro_summary"'):
            summary = json.loads(line)
    return states, summary


def run_target(
    config: dict[str, Any],
    text: str,
    *,
    target_type: type[TargetOrdoro] | None = None,
) -> TargetOutcome:
    """Run the target in-process over Singer text; its error is returned, not raised."""
    target = (target_type or target_class())(config=config)
    stdout, stderr = io.StringIO(), io.StringIO()
    error = None
    with redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            target.listen(io.StringIO(text))
        except Exception as raised:
            error = raised
        finally:
            target.close()
    states, summary = parse_target_output(stdout.getvalue(), stderr.getvalue())
    return TargetOutcome(stdout.getvalue(), stderr.getvalue(), error, config, states, summary)


def message(kind: str, stream: str | None = None, **fields: Any) -> str:
    """One Singer message as a line."""
    body: dict[str, Any] = {"type": kind}
    if stream is not None:
        body["stream"] = stream
    body.update(fields)
    return json.dumps(body) + "\n"


#: Minimal SCHEMA messages for the four target streams (the target validates on its own).
TARGET_SCHEMAS = {
    "products": ["sku"],
    "inventory": ["sku", "warehouse_id"],
    "orders": ["order_id"],
    "shipments": ["order_id"],
}


def schema_line(stream: str) -> str:
    return message(
        "SCHEMA",
        stream,
        schema={"type": "object", "properties": {}},
        key_properties=TARGET_SCHEMAS[stream],
    )


@dataclass
class TargetInput:
    """A target run's input: products, their stock, orders of them and tracking for some."""

    prefix: str
    warehouses: list[int]
    products: list[dict[str, Any]]
    inventory: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    shipments: list[dict[str, Any]]

    @property
    def records(self) -> int:
        return len(self.products) + len(self.inventory) + len(self.orders) + len(self.shipments)

    def text(self, *, state_every: int = 0) -> str:
        """The Singer messages; with ``state_every`` a STATE after every that many records,
        naming how many records came before it."""
        lines = []
        count = 0
        for stream, records in (
            ("products", self.products),
            ("inventory", self.inventory),
            ("orders", self.orders),
            ("shipments", self.shipments),
        ):
            lines.append(schema_line(stream))
            for record in records:
                lines.append(message("RECORD", stream, record=record))
                count += 1
                if state_every and count % state_every == 0:
                    lines.append(message("STATE", value={"bookmarks": {"input": count}}))
        if state_every:
            lines.append(message("STATE", value={"bookmarks": {"input": count}}))
        return "".join(lines)

    def ordered_records(self) -> list[tuple[str, dict[str, Any]]]:
        """(stream, record) in input order."""
        return [
            *(("products", r) for r in self.products),
            *(("inventory", r) for r in self.inventory),
            *(("orders", r) for r in self.orders),
            *(("shipments", r) for r in self.shipments),
        ]


def make_target_input(
    sandbox: Sandbox, *, products: int = 4, orders: int = 4, shipments: int = 3
) -> TargetInput:
    """New SKUs and orders under a unique prefix, for the sandbox's first two warehouses."""
    prefix = f"r{uuid.uuid4().hex[:8]}"
    warehouses = sorted(sandbox.store.warehouses)[:2]
    skus = [f"{prefix}-SKU-{n}" for n in range(products)]
    address = {"name": "Pat Doe", "street1": "1 Main St", "city": "Austin", "zip": "78701"}
    return TargetInput(
        prefix=prefix,
        warehouses=warehouses,
        products=[{"sku": sku, "name": f"Product {sku}", "price": 9.5} for sku in skus],
        inventory=[
            {"sku": sku, "warehouse_id": warehouse, "on_hand": 10 + n * 3 + i}
            for n, sku in enumerate(skus)
            for i, warehouse in enumerate(warehouses)
        ],
        orders=[
            {
                "order_id": f"{prefix}-{1000 + n}",
                "shipping_address": address,
                "billing_address": address,
                "lines": [{"sku": skus[n % len(skus)], "quantity": 1 + n}],
            }
            for n in range(orders)
        ],
        shipments=[
            {
                "order_id": f"{prefix}-{1000 + n}",
                "tracking_number": f"1Z{prefix.upper()}{n}",
                "carrier_name": "ups",
                "ship_date": "2024-05-01T12:00:00+00:00",
            }
            for n in range(shipments)
        ],
    )


def orders_by_id(sandbox: Sandbox, prefix: str) -> Counter:
    """How many orders the store holds per input order_id (any order-number prefix)."""
    with sandbox.store.lock:
        return Counter(
            strip_order_prefix(number)
            for number in sandbox.store.orders
            if strip_order_prefix(number).startswith(prefix)
        )


def tally_target(sandbox: Sandbox, given: TargetInput, dead_letters: list[dict]) -> Tally:
    """Each input record's effect in the store: present once, or dead-lettered.

    ``lost``: neither in the store nor dead-lettered. ``duplicated``: an order created more
    than once (by order_id, any prefix, or two "created" comments), tracking added more than
    once, a product created more than once.
    """
    store = sandbox.store
    tally = Tally(records=given.records)
    dead = [(line["stream"], json.dumps(line["record"], sort_keys=True)) for line in dead_letters]
    per_order = orders_by_id(sandbox, given.prefix)
    with store.lock:
        for stream, record in given.ordered_records():
            if (stream, json.dumps(record, sort_keys=True)) in dead:
                continue
            if not applied(store, stream, record):
                tally.lost += 1
                tally.detail.setdefault("lost", []).append((stream, record))
        tally.duplicated += sum(count - 1 for count in per_order.values() if count > 1)
        for order_id in per_order:
            order = store.orders.get(f"M-{order_id}")
            if order is not None:
                created = [c for c in order["comments"] if "created" in c["text"].lower()]
                tally.duplicated += max(0, len(created) - 1)
        tracking = Counter(
            write["order_number"]
            for write in store.tracking_writes
            if write["order_number"].startswith(f"M-{given.prefix}")
        )
        tally.duplicated += sum(count - 1 for count in tracking.values() if count > 1)
        tally.detail["tracking_writes"] = dict(tracking)
    return tally


def applied(store: Any, stream: str, record: dict[str, Any]) -> bool:
    """Whether one input record's effect is in the store (hold ``store.lock``)."""
    if stream == "products":
        product = store.products.get(record["sku"])
        return product is not None and product["name"] == record["name"]
    if stream == "inventory":
        product = store.products.get(record["sku"])
        entries = {e["id"]: e["on_hand"] for e in (product or {}).get("warehouses", [])}
        return entries.get(record["warehouse_id"]) == record["on_hand"]
    if stream == "orders":
        return f"M-{record['order_id']}" in store.orders
    order = store.orders.get(f"M-{record['order_id']}")
    info = (order or {}).get("shipping_info") or {}
    return info.get("tracking_number") == record["tracking_number"]


def summary_adds_up(summary: dict[str, Any]) -> bool:
    """received == written + deferred_then_written + unchanged + superseded + dead_lettered,
    per stream, with nothing still deferred."""
    for counts in summary["streams"].values():
        accounted = (
            counts["written"]
            + counts["deferred_then_written"]
            + counts["unchanged"]
            + counts["superseded"]
            + counts["dead_lettered"]
        )
        if counts["received"] != accounted or counts["deferred"] != 0:
            return False
    return True


# -- the figures -------------------------------------------------------------------------


@dataclass
class FigureRow:
    """One row of the fault table: what was injected and what became of the records."""

    plugin: str
    fault: str
    injected: int
    records: int
    lost: int
    duplicated: int
    outcome: str


class FaultTable:
    """Collects the fault matrix's rows during a session; written to FIGURES_PATH."""

    def __init__(self) -> None:
        self.rows: list[FigureRow] = []

    def add(self, row: FigureRow) -> None:
        self.rows.append(row)

    def write(self, path: Path = FIGURES_PATH) -> None:
        """The rows as JSON, and as the Markdown table of docs/reliability.md beside it."""
        if not self.rows:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [row.__dict__ for row in self.rows]
        path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        path.with_suffix(".md").write_text(self.markdown(), encoding="utf-8")

    def markdown(self) -> str:
        """The table: tap rows first, crash rows last, otherwise in the order the tests ran."""
        lines = [
            "| plugin | fault injected | answers changed | records | lost | duplicated | outcome |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for row in sorted(self.rows, key=lambda r: (r.plugin != "tap", "SIGKILL" in r.fault)):
            lines.append(
                f"| {row.plugin} | {row.fault} | {row.injected} | {row.records} | {row.lost} "
                f"| {row.duplicated} | {row.outcome} |"
            )
        return "\n".join(lines) + "\n"


def transient_status_cases(
    status_rule: Callable[..., FaultRule],
) -> list[tuple[str, list[FaultRule], bool]]:
    """The fault table's rows of transient statuses, the tap's and the target's alike: 429 in
    its three forms, 500-504 and a CDN's 520-524, each fired by the caller's ``status_rule``.
    Each row is (label in the fault table, rules, a short read timeout?)."""
    return [
        ("429 with Retry-After in seconds", [status_rule(429)], False),
        (
            "429 with Retry-After as an HTTP-date",
            [status_rule(429, retry_after=1, retry_after_date=True)],
            False,
        ),
        ("429 without Retry-After", [status_rule(429, retry_after=None)], False),
        *((f"{status}", [status_rule(status)], False) for status in (500, 502, 503, 504)),
        *(
            (f"{status} (CDN)", [status_rule(status)], False)
            for status in (520, 521, 522, 523, 524)
        ),
    ]
