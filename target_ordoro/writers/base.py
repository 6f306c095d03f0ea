"""The writer interface every stream's writer implements, its settings, and field helpers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ordoro_core.catalog import StreamSpec
from ordoro_core.client import OrdoroClient
from ordoro_core.errors import OrdoroAuthError
from ordoro_core.timestamps import parse_instant
from ordoro_core.values import is_number, same_number
from target_ordoro.plan import writing
from target_ordoro.writers.identity import OrderLocator
from target_ordoro.writers.lookups import ProductReader
from target_ordoro.writers.numbering import OrderNumbering
from target_ordoro.writers.results import (
    KeyRefused,
    RecordInvalid,
    WritePlan,
    WriteResult,
    quoted,
)
from target_ordoro.writers.tags import TagCatalog


@dataclass(frozen=True)
class WriteSettings:
    """The target settings that shape what is written."""

    sales_channel_id: int | None = None
    warehouse_id: int | None = None
    notify: bool = False
    #: Remove tags from an existing order that its record no longer carries.
    remove_order_tags: bool = False
    #: Apply line changes (quantities, added or removed SKUs) to existing unshipped orders.
    update_order_lines: bool = False
    #: Concurrent reads within a batch.
    max_workers: int = 4


@dataclass
class Lookups:
    """What the writers of one run share: order numbering, product reader, order tags, and
    where orders are (:class:`OrderLocator`)."""

    numbering: OrderNumbering
    products: ProductReader
    tags: TagCatalog
    orders: OrderLocator


def instant_text(value: Any, name: str) -> str:
    """A timestamp as ISO 8601 with its offset (naive values are UTC, as Ordoro reads them)."""
    try:
        return parse_instant(value).isoformat()
    except (TypeError, ValueError):
        raise RecordInvalid(f"{name}: {quoted(value)} is not an ISO 8601 date-time") from None


def same_instant(left: Any, right: Any) -> bool:
    """Whether two timestamps name the same instant (plain equality when unreadable)."""
    if left is None or right is None:
        return left is right
    try:
        return parse_instant(left) == parse_instant(right)
    except (TypeError, ValueError):
        return left == right


def same_value(current: Any, wanted: Any) -> bool:
    """Whether Ordoro's value already is the wanted one: numbers to half a cent, and an empty
    text the same as none."""
    if is_number(wanted) or is_number(current):
        return same_number(current, wanted)
    if wanted in ("", None) and current in ("", None):
        return True
    return current == wanted


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
    """Writes the records of one stream to Ordoro (thread-safe: one instance per stream).

    Per batch the sink calls :meth:`read_current` once (what Ordoro holds now, read at the
    lowest cost; None when the writer reads per record), then :meth:`write` per record,
    concurrently.
    """

    #: The stream written, as the catalog declares it.
    spec: ClassVar[StreamSpec]

    def __init__(self, client: OrdoroClient, settings: WriteSettings, lookups: Lookups) -> None:
        self.client = client
        self.settings = settings
        self.lookups = lookups

    @property
    def stream(self) -> str:
        """The canonical stream name (orders, products, inventory or shipments)."""
        return self.spec.name

    @abstractmethod
    def plan(self, record: dict[str, Any]) -> WritePlan:
        """The write a validated record asks for; RecordInvalid when it cannot be written."""

    def read_current(self, plans: Sequence[WritePlan]) -> Any:
        """What Ordoro holds now for a batch of plans (None: each write reads for itself)."""
        _ = plans
        return None

    @abstractmethod
    def apply(self, plan: WritePlan, current: Any) -> WriteResult:
        """Bring Ordoro in line with ``plan``; ``current`` is what :meth:`read_current` read."""

    def write(self, plan: WritePlan, current: Any = None) -> WriteResult:
        """Apply ``plan``; refused credentials end the run wherever they were caught, and a
        lookup refused for the record's key (:class:`KeyRefused`) rejects only this record."""
        try:
            with writing(self.stream, plan.key):
                result = self.apply(plan, current)
        except KeyRefused as refused:
            return WriteResult.rejected(refused)
        if isinstance(result.error, OrdoroAuthError):
            # Refused credentials are never one record's fault: they end the run.
            raise result.error
        return result
