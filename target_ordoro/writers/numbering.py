"""The order_number Ordoro gives a new order: "<sales channel index>-<order_id>" or "M-…"."""

from __future__ import annotations

import threading

from ordoro_core.client import OrdoroClient
from ordoro_core.errors import OrdoroAPIError
from ordoro_core.order_numbers import MANUAL_PREFIX
from ordoro_core.urls import build_path
from target_ordoro.errors import SettingsError


class OrderNumbering:
    """Knows the order_number Ordoro gives an order_id: "<cart index>-<order_id>" or "M-…".

    The sales channel's index is read once (``GET /cart/{id}/``) and cached.
    """

    def __init__(self, client: OrdoroClient, sales_channel_id: int | None) -> None:
        self.client = client
        self.sales_channel_id = sales_channel_id
        self._prefix: str | None = None
        self._lock = threading.Lock()

    def prefix(self) -> str:
        """The prefix of new orders' numbers; SettingsError for an unknown sales channel."""
        with self._lock:
            if self._prefix is None:
                self._prefix = self._read_prefix()
            return self._prefix

    def order_number(self, order_id: str) -> str:
        """The order_number of ``order_id`` created under the configured sales channel."""
        return f"{self.prefix()}-{order_id}"

    def _read_prefix(self) -> str:
        if self.sales_channel_id is None:
            return MANUAL_PREFIX
        try:
            cart = self.client.get(build_path("cart", self.sales_channel_id))
        except OrdoroAPIError as error:
            if error.status == 404:
                raise SettingsError(
                    f"sales_channel_id {self.sales_channel_id}: Ordoro has no sales channel "
                    "(cart) with this id"
                ) from None
            raise
        index = cart.get("index") if isinstance(cart, dict) else None
        if index is None:
            raise SettingsError(
                f"sales_channel_id {self.sales_channel_id}: Ordoro's answer has no cart index"
            )
        return str(index)
