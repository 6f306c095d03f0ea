"""Ordoro order numbers: "<sales channel index>-<order_id>", or "M-<order_id>" for manual orders.

One account can hold "1-1005", "2-1005" and "M-1005": three different orders that share the
order_id "1005" but come from different sales channels. The order_number is the order's
identity in Ordoro; the order_id alone is not.
"""

from __future__ import annotations

import re

#: The prefix of an order number: the sales channel's index, or "M" for manual orders.
ORDER_NUMBER_PREFIX = re.compile(r"^(?:\d+|M)-")

#: Prefix of manual orders (no sales channel).
MANUAL_PREFIX = "M"


def strip_order_prefix(order_number: str) -> str:
    """The order_id part of an order number ("1-1001" -> "1001", "M-7" -> "7").

    >>> strip_order_prefix("1-1001"), strip_order_prefix("M-7"), strip_order_prefix("X-9")
    ('1001', '7', 'X-9')
    """
    return ORDER_NUMBER_PREFIX.sub("", order_number, count=1)
