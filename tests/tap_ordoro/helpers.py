"""Helpers for tap-ordoro's tests: the test credentials and an in-process tap runner."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import Any

from ordoro_core.client import OrdoroClient
from ordoro_core.timestamps import parse_instant
from ordoro_core.urls import build_path
from ordoro_sandbox import Sandbox
from tap_ordoro.tap import TapOrdoro

TAP_USER = "tap-test-user"
TAP_SECRET = "tap-test-secret-41d2"


@dataclass
class TapRun:
    """What one tap run wrote to stdout, split by message type."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def last_state(self) -> dict[str, Any] | None:
        return self.states[-1] if self.states else None

    def bookmark(self, stream: str) -> str | None:
        state = self.last_state or {}
        return state.get("bookmarks", {}).get(stream, {}).get("replication_key_value")

    def keys(self, stream: str, *names: str) -> list[Any]:
        rows = self.records[stream]
        if len(names) == 1:
            return [row[names[0]] for row in rows]
        return [tuple(row[name] for name in names) for row in rows]


def parse_messages(lines: list[str]) -> TapRun:
    run = TapRun(lines=lines)
    for line in lines:
        message = json.loads(line)
        if message["type"] == "RECORD":
            run.records[message["stream"]].append(message["record"])
        elif message["type"] == "SCHEMA":
            run.schemas[message["stream"]] = message["schema"]
        elif message["type"] == "STATE":
            run.states.append(message["value"])
    return run


def tap_config(sandbox: Sandbox, **extra: Any) -> dict[str, Any]:
    """A config for the sandbox. The ceiling is high: the client holds it as an even pace (at
    the default 480, one request per 125 ms), and these tests are about what is read, not how
    fast; the pace has tests of its own."""
    return {
        "username": TAP_USER,
        "password": TAP_SECRET,
        "api_url": sandbox.url,
        "requests_per_minute": 60_000,
        **extra,
    }


def deselect(catalog: dict[str, Any], stream: str, *properties: str) -> dict[str, Any]:
    """The catalog with top-level ``properties`` of ``stream`` deselected (in place)."""
    for entry in catalog["streams"]:
        if entry["tap_stream_id"] != stream:
            continue
        for metadata in entry["metadata"]:
            breadcrumb = metadata["breadcrumb"]
            if len(breadcrumb) == 2 and breadcrumb[1] in properties:
                metadata["metadata"]["selected"] = False
    return catalog


def select_only(config: dict[str, Any], *streams: str) -> dict[str, Any]:
    """A catalog selecting only ``streams`` (every property of them)."""
    tap = TapOrdoro(config=config, parse_env_config=False, validate_config=True)
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        chosen = entry["tap_stream_id"] in streams
        for metadata in entry["metadata"]:
            if not metadata["breadcrumb"]:
                metadata["metadata"]["selected"] = chosen
    return catalog


def run_tap(
    config: dict[str, Any],
    *,
    streams: tuple[str, ...] | None = None,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
) -> TapRun:
    """Run the tap in-process and parse what it wrote to stdout (``catalog``: one made by
    the caller, instead of ``streams`` selected whole)."""
    if catalog is None and streams:
        catalog = select_only(config, *streams)
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        tap = TapOrdoro(config=config, state=state, catalog=catalog, parse_env_config=False)
        tap.sync_all()
    return parse_messages([line for line in buffer.getvalue().splitlines() if line.strip()])


# Stock: what inventory emitted last for each key, and what the sandbox holds


def api_client(sandbox: Sandbox) -> OrdoroClient:
    """A client of the sandbox's API, as a user of the account."""
    return OrdoroClient(TAP_USER, TAP_SECRET, sandbox.url, requests_per_minute=60_000)


def last_edited_product(sandbox: Sandbox) -> str:
    """The SKU whose ``updated`` is the newest: where an inventory bookmark stands."""
    products = sandbox.store.products
    return max(products, key=lambda sku: parse_instant(products[sku]["updated"]))


def sell(sandbox: Sandbox, lines: dict[str, int], *, order_id: str) -> str:
    """Place an open order in the default warehouse (``sku -> quantity``); its number."""
    address = {"name": "Ada Buyer", "street1": "1 Main St", "city": "Austin", "state": "TX",
               "zip": "78701", "country": "US"}  # fmt: skip
    body = {
        "order_id": order_id,
        "shipping_address": address,
        "billing_address": address,
        "warehouse_id": sandbox.store.default_warehouse()["id"],
        "lines": [
            {"product": {"sku": sku, "name": sku}, "quantity": quantity}
            for sku, quantity in lines.items()
        ],
    }
    return api_client(sandbox).post(build_path("v3", "order"), body)["order_number"]


#: The figures of an inventory row that stock moves change.
STOCK_FIGURES = ("on_hand", "committed", "available", "allocated")


def last_emitted_stock(*runs: TapRun) -> dict[tuple[str, int], tuple[Any, ...]]:
    """Per (sku, warehouse_id): the figures of the last inventory row these runs emitted."""
    rows: dict[tuple[str, int], tuple[Any, ...]] = {}
    for run in runs:
        for row in run.records["inventory"]:
            rows[(row["sku"], row["warehouse_id"])] = tuple(row[name] for name in STOCK_FIGURES)
    return rows


def stock_in_store(sandbox: Sandbox, *skus: str) -> dict[tuple[str, int], tuple[Any, ...]]:
    """Per (sku, warehouse_id) of ``skus`` (all when none): the figures Ordoro holds."""
    with sandbox.store.lock:
        return {
            (sku, entry["id"]): tuple(entry[name] for name in STOCK_FIGURES)
            for sku, product in sandbox.store.products.items()
            if not skus or sku in skus
            for entry in product["warehouses"]
        }


def run_tap_until_error(
    config: dict[str, Any],
    *,
    streams: tuple[str, ...] | None = None,
    state: dict[str, Any] | None = None,
) -> tuple[TapRun, BaseException | None]:
    """Run the tap in-process; what it wrote, and the error it ended with (None: none)."""
    catalog = select_only(config, *streams) if streams else None
    buffer = io.StringIO()
    error: BaseException | None = None
    with redirect_stdout(buffer):
        try:
            tap = TapOrdoro(config=config, state=state, catalog=catalog, parse_env_config=False)
            tap.sync_all()
        except Exception as raised:
            error = raised
    lines = [line for line in buffer.getvalue().splitlines() if line.strip()]
    return parse_messages(lines), error
