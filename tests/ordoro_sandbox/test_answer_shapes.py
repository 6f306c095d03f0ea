"""``--cart-order-id-at-top``: orders answer their cart_order_id at the top, as the legacy
``/order/`` answers recorded in 2016 do, and not on their lines (the v3 spec's shape)."""

from __future__ import annotations

import json
from pathlib import Path

from ordoro_sandbox import Sandbox, SandboxOptions
from ordoro_sandbox.cli import build_parser
from tests.ordoro_sandbox.conftest import Api

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "ordoro-samples"


def test_orders_answer_cart_order_id_at_the_top_and_the_filter_still_finds_them():
    with Sandbox(
        SandboxOptions(seed=3, orders=30, products=20, cart_order_id_at_top=True)
    ) as sandbox:
        api = Api(sandbox)
        number, stored = next(
            (n, o) for n, o in sandbox.store.orders.items() if o["lines"][0]["cart_order_id"]
        )
        marker = stored["lines"][0]["cart_order_id"]
        answer = api.get(f"/v3/order/{number}").json()
        assert answer["cart_order_id"] == marker
        assert all("cart_order_id" not in line for line in answer["lines"])
        listed = api.get("/v3/order", cart_order_id=marker).json()
        assert [o["order_number"] for o in listed["order"]] == [number]
        assert listed["order"][0]["cart_order_id"] == marker
        # The store keeps the v3 shape: only the answers change.
        assert stored["lines"][0]["cart_order_id"] == marker
        api.close()


def test_control_by_default_orders_answer_it_on_their_lines_as_the_v3_spec():
    with Sandbox(SandboxOptions(seed=3, orders=30, products=20)) as sandbox:
        api = Api(sandbox)
        number = next(n for n, o in sandbox.store.orders.items() if o["lines"][0]["cart_order_id"])
        answer = api.get(f"/v3/order/{number}").json()
        assert "cart_order_id" not in answer
        assert answer["lines"][0]["cart_order_id"]
        api.close()


def test_the_legacy_sample_carries_it_at_the_top():
    sample = json.loads((SAMPLES / "orders.json").read_text())["body"]["order"][0]
    assert isinstance(sample["cart_order_id"], str)


def test_the_option_is_on_the_command_line():
    assert build_parser().parse_args(["--cart-order-id-at-top"]).cart_order_id_at_top is True
    assert build_parser().parse_args([]).cart_order_id_at_top is False
    assert "--cart-order-id-at-top" in build_parser().format_help()
