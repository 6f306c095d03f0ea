"""The account's order tags (``GET``/``POST /v3/order/tag``): tag ids by text, created when new."""

from __future__ import annotations

import threading
from typing import Any

from ordoro_core.client import MAX_PAGE_SIZE, OrdoroClient
from ordoro_core.errors import OrdoroAPIError
from ordoro_core.urls import build_path

#: The color of a tag the target creates when the record names none.
DEFAULT_TAG_COLOR = "#cccccc"


def tag_text(tag: Any) -> str | None:
    """A tag's text: ``text`` in orders and the spec's examples, ``name`` in the spec's v3_tag."""
    if not isinstance(tag, dict):
        return None
    text = tag.get("text") or tag.get("name")
    return text if isinstance(text, str) and text else None


class TagCatalog:
    """The account's order tags by text, read once per run (again when a text is missing), and
    created when new. Thread-safe: two writers never create the same tag."""

    def __init__(self, client: OrdoroClient) -> None:
        self.client = client
        self._ids: dict[str, int] | None = None
        self._lock = threading.Lock()

    def tag_id(self, text: str, color: str | None = None) -> int:
        """The id of the account tag ``text``, created (with ``color``) when the account has none.

        Raises ``OrdoroAPIError`` when Ordoro refuses to create it.
        """
        with self._lock:
            if self._ids is None or text not in self._ids:
                self._ids = self._read()
            if text not in self._ids:
                self._ids[text] = self._create(text, color or DEFAULT_TAG_COLOR)
            return self._ids[text]

    def _read(self) -> dict[str, int]:
        ids: dict[str, int] = {}
        offset = 0
        while True:
            page = self.client.get(
                build_path("v3", "order", "tag"), {"limit": MAX_PAGE_SIZE, "offset": offset}
            )
            tags = page.get("tag") if isinstance(page, dict) else None
            for tag in tags or []:
                text = tag_text(tag)
                if text is not None and isinstance(tag.get("id"), int):
                    ids.setdefault(text, tag["id"])
            offset += MAX_PAGE_SIZE
            count = page.get("count", 0) if isinstance(page, dict) else 0
            if not tags or offset >= count:
                return ids

    def _create(self, text: str, color: str) -> int:
        def created_meanwhile() -> dict[str, Any] | None:
            tag_id = self._read().get(text)
            return {"id": tag_id} if tag_id is not None else None

        try:
            tag = self.client.post(
                build_path("v3", "order", "tag"),
                {"name": text, "color": color},
                verify=created_meanwhile,
            )
        except OrdoroAPIError as error:
            if error.status != 400:
                raise
            # Created by someone else since the list was read.
            found = created_meanwhile()
            if found is None:
                raise
            tag = found
        return int(tag["id"])
