"""What a writer plans and what becomes of a write: shared by every stream's writer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ordoro_core.client import OrdoroAPIError


class RecordInvalid(Exception):
    """The record cannot be written as it is; ``reason`` says why in one short sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Outcome(str, Enum):
    """What became of one write."""

    WRITTEN = "written"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    NOT_FOUND = "not_found"
    """What the record refers to (a SKU, an order) is not in Ordoro (yet)."""


@dataclass(frozen=True)
class WritePlan:
    """What one record asks Ordoro to hold.

    ``key`` identifies what is written (a SKU, a SKU in a warehouse, a source order, an order's
    tracking): a later record with the same key in the same input supersedes this one.
    ``body`` is what would be sent; ``details`` carries what the write needs beyond it.
    """

    key: str
    label: str
    body: dict[str, Any]
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one write, with the Ordoro answer where there was an error.

    ``action`` says what was done (created, updated, set, added, changed, cancelled, ...) or,
    for a refused record, which kind of refusal it was (e.g. ``refused_shipped``). ``needs``
    is, for NOT_FOUND, what the record waits for (e.g. ``sku:ABC``); ``provides`` lists what
    Ordoro now holds that deferred records may be waiting for. ``changes`` names what an
    update changed.
    """

    outcome: Outcome
    action: str | None = None
    reason: str | None = None
    status: int | None = None
    response: Any = None
    order_number: str | None = None
    error: OrdoroAPIError | None = field(default=None, repr=False, compare=False)
    needs: str | None = None
    provides: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()

    @classmethod
    def written(
        cls,
        action: str,
        order_number: str | None = None,
        *,
        provides: tuple[str, ...] = (),
        changes: tuple[str, ...] = (),
    ) -> WriteResult:
        """Ordoro now holds what the record says."""
        return cls(
            Outcome.WRITTEN,
            action=action,
            order_number=order_number,
            provides=provides,
            changes=changes,
        )

    @classmethod
    def unchanged(
        cls, reason: str, order_number: str | None = None, *, provides: tuple[str, ...] = ()
    ) -> WriteResult:
        """Ordoro already held what the record says; nothing was changed."""
        return cls(
            Outcome.UNCHANGED,
            action="unchanged",
            reason=reason,
            order_number=order_number,
            provides=provides,
        )

    @classmethod
    def rejected(
        cls, error: OrdoroAPIError, reason: str | None = None, *, action: str | None = None
    ) -> WriteResult:
        """Ordoro refused the write."""
        return cls(
            Outcome.REJECTED,
            action=action,
            reason=reason or str(error),
            status=error.status,
            response=error.body,
            error=error,
        )

    @classmethod
    def refused(
        cls, reason: str, *, action: str | None = None, order_number: str | None = None
    ) -> WriteResult:
        """The target refuses the write itself (Ordoro was not asked); dead-lettered."""
        return cls(Outcome.REJECTED, action=action, reason=reason, order_number=order_number)

    @classmethod
    def not_found(cls, reason: str, needs: str, error: OrdoroAPIError | None = None) -> WriteResult:
        """What the record refers to (``needs``) is not in Ordoro."""
        return cls(
            Outcome.NOT_FOUND,
            reason=reason,
            status=error.status if error else None,
            response=error.body if error else None,
            error=error,
            needs=needs,
        )
