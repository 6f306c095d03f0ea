"""The sandbox's knobs."""

from __future__ import annotations

from dataclasses import dataclass, field

from ordoro_sandbox.faults import FaultRule


@dataclass
class SandboxOptions:
    """How a sandbox is seeded and how it misbehaves.

    ``empty`` gives an account with only the warehouses and sales channels (the same ids the
    same seed gives otherwise): a destination for writes. ``rate_limit_per_minute`` (despite
    the name: requests per ``rate_limit_window_seconds``) enables a sliding-window limit per
    username. ``mutate_per_page`` = K > 0 makes records change during a sync (and
    ``mutate_unread_per_page`` records not read yet): see
    :class:`ordoro_sandbox.churn.SyncChurn`. ``bulk_action_orders``, ``commit_lag_seconds``,
    ``stock_moves_untouched`` and ``sales_per_product_page`` give a live account's timing: see
    :mod:`ordoro_sandbox.live`. ``page_size_cap``, ``filter_offsets_ignored`` and
    ``result_window`` are readings of a list request that the spec leaves open: see
    :class:`ordoro_sandbox.listing.ListReading`.
    """

    seed: int = 1
    username: str = "sandbox-user"
    password: str = field(default="sandbox-secret", repr=False)
    products: int = 300
    orders: int = 400
    purchase_orders: int = 20
    return_orders: int = 15
    suppliers: int = 4
    empty: bool = False
    latency_ms: int = 0
    rate_limit_per_minute: int | None = None
    rate_limit_window_seconds: float = 60.0
    faults: list[FaultRule] = field(default_factory=list)
    mutate_per_page: int = 0
    mutate_unread_per_page: int = 0
    # A live account's timing (see ordoro_sandbox.live); every knob is off by default.
    bulk_action_orders: int = 0
    commit_lag_seconds: float = 0.0
    stock_moves_untouched: bool = False
    sales_per_product_page: int = 0
    # Readings of a list request the spec leaves open (see ordoro_sandbox.listing.ListReading);
    # every one is off by default.
    #: N > 0: a page holds at most N records whatever ``limit`` asks; its envelope says N.
    page_size_cap: int = 0
    #: A filter value's UTC offset is dropped, its wall time read in the account's zone.
    filter_offsets_ignored: bool = False
    #: N > 0: an ``offset`` at or past N answers 400 naming ``offset``.
    result_window: int = 0

    # Order identity scenarios (see ordoro_sandbox.seed.add_identity_scenarios); off by
    # default, and they leave the rest of the seeded data as it is.
    #: N order_ids that every sales channel and the manual channel use at once: "1-8001",
    #: "2-8001" and "M-8001" are three customers' orders, each shipped with its own tracking.
    shared_order_ids: int = 0
    #: Order numbers created as this account's own unshipped orders (decoys: a copied order's
    #: source number that means another customer here), e.g. ("1-8001", "M-8002").
    decoy_orders: tuple[str, ...] = ()
    #: Orders answer their cart_order_id at the top, as the legacy /order/ answers recorded in
    #: 2016 do, and not on their lines as the v3 spec has it (see ordoro_sandbox.answer_shapes).
    cart_order_id_at_top: bool = False
