"""Many accounts: meltano.yml's per-account plugins against two sandboxes, one per account.

tap-ordoro--brand-a / --brand-b (inherit_from tap-ordoro), each with its own key from
ORDORO_BRAND_<X>_CLIENT_ID / _CLIENT_SECRET, run through their own schedules
(`meltano schedule run ordoro-brand-<x>-hourly`) into their own target-jsonl--brand-<x>. The
test checks that each account's output holds exactly its own sandbox's records, that each
pipeline has its own state ID whose bookmarks come from its own sandbox, that one account's
incremental run leaves the other's state alone, that an account without its own key fails
instead of borrowing tap-ordoro's, and that target-ordoro--brand-b writes into account B only.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ordoro_core.catalog import STREAM_NAMES
from ordoro_core.timestamps import parse_instant
from ordoro_sandbox import Sandbox, SandboxOptions
from tests.meltano.helpers import (
    RESHAPED_FIELDS,
    TEST_CEILING,
    api,
    by_key,
    expected_records,
    landed,
    quote,
    snapshot,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conftest import MeltanoProject  # tests/meltano/conftest.py

pytestmark = pytest.mark.meltano

ACCOUNTS = ("brand-a", "brand-b")


@pytest.fixture
def accounts() -> Iterator[dict[str, Sandbox]]:
    """Two Ordoro accounts: different seeds, sizes and credentials."""
    options = {
        "brand-a": SandboxOptions(seed=31, username="brand-a-client-id",
                                  password="brand-a-secret-5c1e", products=40, orders=60),
        "brand-b": SandboxOptions(seed=32, username="brand-b-client-id",
                                  password="brand-b-secret-9d07", products=55, orders=45),
    }  # fmt: skip
    with Sandbox(options["brand-a"]) as brand_a, Sandbox(options["brand-b"]) as brand_b:
        yield {"brand-a": brand_a, "brand-b": brand_b}


def variable(account: str) -> str:
    """ORDORO_BRAND_A for brand-a."""
    return "ORDORO_" + account.upper().replace("-", "_")


def plugin_env(plugin: str, account: str) -> str:
    """Meltano's env prefix of an inherited plugin: TAP_ORDORO__BRAND_A for tap-ordoro--brand-a."""
    return f"{plugin}--{account}".upper().replace("-", "_")


def configure(meltano: MeltanoProject, accounts: dict[str, Sandbox]) -> None:
    """Each account's key, URL and files; tap-ordoro itself points at account B as a decoy."""
    for account, sandbox in accounts.items():
        meltano.env[f"{variable(account)}_CLIENT_ID"] = sandbox.options.username
        meltano.env[f"{variable(account)}_CLIENT_SECRET"] = sandbox.options.password
        for plugin in ("tap-ordoro", "target-ordoro"):
            meltano.env[f"{plugin_env(plugin, account)}_API_URL"] = sandbox.url
            meltano.env[f"{plugin_env(plugin, account)}_REQUESTS_PER_MINUTE"] = TEST_CEILING
        out = meltano.workdir / account
        meltano.env[f"{plugin_env('target-jsonl', account)}_DESTINATION_PATH"] = str(out)
        for kind in ("dead_letter", "order_map"):
            name = f"{plugin_env('target-ordoro', account)}_{kind.upper()}_PATH"
            meltano.env[name] = str(meltano.workdir / f"{account}-writes" / kind)
    # If a per-account plugin fell back to tap-ordoro's own settings, it would read B.
    meltano.point_at(accounts["brand-b"])


def check_output(directory: Path, sandbox: Sandbox) -> None:
    """The directory holds exactly the sandbox's records, by key, with its values."""
    streams = landed(directory)
    expected = expected_records(snapshot(sandbox))
    assert set(streams) == set(STREAM_NAMES), f"{directory.name}: {sorted(streams)}"
    for stream, want in expected.items():
        got = by_key(stream, streams[stream])
        assert set(got) == set(want), f"{directory.name} {stream}: keys differ"
        for key, record in got.items():
            fields = RESHAPED_FIELDS.get(stream) or [f for f in record if f in want[key]]
            for field in fields:
                assert record[field] == want[key][field], f"{directory.name} {stream} {key}"


def newest(sandbox: Sandbox, kind: str, field: str) -> Any:
    with sandbox.store.lock:
        return max(parse_instant(row[field]) for row in getattr(sandbox.store, kind).values())


def state_id(account: str) -> str:
    return f"sandbox:tap-ordoro--{account}-to-target-jsonl--{account}"


def bookmarks(meltano: MeltanoProject, account: str) -> dict[str, Any]:
    return meltano.state(state_id(account))["singer_state"]["bookmarks"]


def test_two_accounts_run_apart_with_their_own_output_and_state(
    meltano: MeltanoProject, accounts: dict[str, Sandbox], tmp_path: Path
):
    configure(meltano, accounts)
    brand_a, brand_b = accounts["brand-a"], accounts["brand-b"]
    # The two accounts' data differ where the test looks, or separation would prove nothing.
    assert newest(brand_a, "orders", "updated_date") != newest(brand_b, "orders", "updated_date")
    assert len(brand_a.store.orders) != len(brand_b.store.orders)

    for account in ACCOUNTS:
        accounts[account].reset_request_log()
        meltano("schedule", "run", f"ordoro-{account}-hourly")

    # Each account's output holds its own records and nothing of the other's.
    for account in ACCOUNTS:
        check_output(meltano.workdir / account, accounts[account])
    # Every request reached the right account with the right key (a wrong one would be 401).
    for sandbox in accounts.values():
        statuses = {request.status for request in sandbox.requests}
        assert statuses == {200}, statuses

    # One state ID per pipeline, each bookmark from its own account.
    listed = meltano("state", "list").stdout.split()
    assert {state_id(account) for account in ACCOUNTS} <= set(listed), listed
    for account in ACCOUNTS:
        marks = bookmarks(meltano, account)
        sandbox = accounts[account]
        for stream, kind, field in (("orders", "orders", "updated_date"),
                                    ("products", "products", "updated")):  # fmt: skip
            assert parse_instant(marks[stream]["replication_key_value"]) == newest(
                sandbox, kind, field
            ), f"{account} {stream}"

    # Account A changes and runs again, incrementally from its own state; B's stays as it was.
    before_b = meltano.state(state_id("brand-b"))
    mark_a = parse_instant(bookmarks(meltano, "brand-a")["products"]["replication_key_value"])
    sku = sorted(brand_a.store.products)[2]
    api(brand_a, "PUT", f"/product/{quote(sku)}/", {"name": "Changed in account A only"})
    meltano.env[f"{plugin_env('target-jsonl', 'brand-a')}_DESTINATION_PATH"] = str(
        tmp_path / "brand-a-2"
    )
    meltano("run", "ordoro-brand-a-to-jsonl")
    second = landed(tmp_path / "brand-a-2")
    changed = {row["sku"]: row for row in second["products"]}
    assert changed[sku]["name"] == "Changed in account A only"
    # Besides the change, at most the product on A's previous bookmark (re-read by design).
    for other, row in changed.items():
        assert other == sku or parse_instant(row["updated"]) == mark_a, other
    assert meltano.state(state_id("brand-b")) == before_b


def test_an_account_without_its_own_key_does_not_borrow_tap_ordoros(
    meltano: MeltanoProject, accounts: dict[str, Sandbox]
):
    configure(meltano, accounts)  # tap-ordoro's own settings point at account B
    for name in ("CLIENT_ID", "CLIENT_SECRET"):
        del meltano.env[f"{variable('brand-b')}_{name}"]
    accounts["brand-b"].reset_request_log()

    result = meltano("run", "ordoro-brand-b-to-jsonl", check=False)

    assert result.returncode != 0
    assert "no Client ID: set `username` or `client_id`" in result.stderr
    assert accounts["brand-b"].requests == [], "it reached account B with tap-ordoro's key"
    assert not (meltano.workdir / "brand-b").exists()


def test_an_accounts_target_writes_into_that_account_only(
    meltano: MeltanoProject, accounts: dict[str, Sandbox], tmp_path: Path
):
    configure(meltano, accounts)
    meltano.point_at(accounts["brand-a"])  # tap-ordoro / target-ordoro themselves: account A
    brand_a, brand_b = accounts["brand-a"], accounts["brand-b"]

    def stock(sandbox: Sandbox) -> dict[tuple[str, int], Any]:
        with sandbox.store.lock:
            return {(sku, entry["id"]): entry["on_hand"]
                    for sku, product in sandbox.store.products.items()
                    for entry in product["warehouses"]}  # fmt: skip

    before_a, before_b = stock(brand_a), stock(brand_b)
    rows = [(sku, warehouse, (on_hand or 0) + 7) for (sku, warehouse), on_hand
            in sorted(before_b.items())[:3]]  # fmt: skip
    feed = tmp_path / "feed" / "supplier_inventory.csv"
    feed.parent.mkdir()
    with feed.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "warehouse_id", "on_hand"])
        writer.writerows(rows)
        # A SKU neither account has: dead-lettered into the account's own file.
        writer.writerow(["NOT-IN-ANY-ACCOUNT", rows[0][1], 1])
    meltano.env["TAP_CSV_FOLDER_PATH"] = str(feed.parent)

    meltano("run", "tap-csv-folder", "target-ordoro--brand-b")

    after_b = stock(brand_b)
    for sku, warehouse, on_hand in rows:
        assert after_b[(sku, warehouse)] == on_hand
    assert stock(brand_a) == before_a, "account A changed"
    dead_letters = meltano.workdir / "brand-b-writes" / "dead_letter"
    assert dead_letters.exists(), "target-ordoro--brand-b did not use its own dead-letter file"
    assert "NOT-IN-ANY-ACCOUNT" in dead_letters.read_text(encoding="utf-8")
    assert not (meltano.workdir / "brand-a-writes").exists()
