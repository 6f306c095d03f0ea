"""The writer interface every stream's writer implements, its settings, and field helpers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ordoro_core.catalog import StreamSpec
from ordoro_core.client import OrdoroAuthError, OrdoroClient
from ordoro_core.timestamps import parse_instant
from target_ordoro.ledger import Ledger, fingerprint
from target_ordoro.writers.numbering import OrderNumbering
from target_ordoro.writers.results import Outcome, RecordInvalid, WritePlan, WriteResult


@dataclass(frozen=True)
class WriteSettings:
    """The target settings that shape what is written."""

    sales_channel_id: int | None = None
    warehouse_id: int | None = None
    notify: bool = False


def instant_text(value: Any, name: str) -> str:
    """A timestamp as ISO 8601 with its offset (naive values are UTC, as Ordoro reads them)."""
    try:
        return parse_instant(value).isoformat()
    except (TypeError, ValueError):
        raise RecordInvalid(f"{name}: {value!r} is not an ISO 8601 date-time") from None


def same_instant(left: Any, right: Any) -> bool:
    """Whether two timestamps name the same instant (plain equality when unreadable)."""
    if left is None or right is None:
        return left is right
    try:
        return parse_instant(left) == parse_instant(right)
    except (TypeError, ValueError):
        return left == right


def pick(source: Mapping[str, Any], names: tuple[str, ...], kind: type | tuple) -> dict:
    """The fields of ``names`` that ``source`` holds with a value of type ``kind``.

    Booleans are not numbers here (``True`` is an ``int`` to Python, not to Ordoro).
    """
    picked = {}
    for name in names:
        value = source.get(name)
        if isinstance(value, kind) and not isinstance(value, bool):
            picked[name] = value
    return picked


class Writer(ABC):
    """Writes the records of one stream to Ordoro (thread-safe: one instance per stream)."""

    #: The stream written, as the catalog declares it.
    spec: ClassVar[StreamSpec]

    def __init__(
        self,
        client: OrdoroClient,
        ledger: Ledger,
        settings: WriteSettings,
        numbering: OrderNumbering,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.settings = settings
        self.numbering = numbering

    @property
    def stream(self) -> str:
        """The canonical stream name (orders, products, inventory or shipments)."""
        return self.spec.name

    @abstractmethod
    def plan(self, record: dict[str, Any]) -> WritePlan:
        """The write a validated record asks for; RecordInvalid when it cannot be written."""

    @abstractmethod
    def apply(self, plan: WritePlan) -> WriteResult:
        """Send the write to Ordoro."""

    def write(self, plan: WritePlan) -> WriteResult:
        """Apply ``plan`` unless the ledger saw the same body written recently."""
        body_fingerprint = fingerprint(plan.body)
        if self.ledger.is_unchanged(self.stream, plan.key, body_fingerprint):
            return self.unchanged_in_ledger(plan)
        result = self.apply(plan)
        if isinstance(result.error, OrdoroAuthError):
            # Refused credentials are never one record's fault: they end the run.
            raise result.error
        if result.outcome in (Outcome.WRITTEN, Outcome.UNCHANGED):
            self.ledger.remember(self.stream, plan.key, body_fingerprint)
        return result

    def unchanged_in_ledger(self, plan: WritePlan) -> WriteResult:
        """The result for a plan the ledger saw written recently."""
        _ = plan
        return WriteResult.unchanged("written with the same values before (ledger)")
