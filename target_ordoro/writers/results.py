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

    ``body`` is fingerprinted by the ledger; ``details`` carries what the write needs beyond it
    (e.g. the input order's keys) and is not.
    """

    key: str
    label: str
    body: dict[str, Any]
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one write, with the Ordoro answer where there was an error."""

    outcome: Outcome
    action: str | None = None
    reason: str | None = None
    status: int | None = None
    response: Any = None
    order_number: str | None = None
    error: OrdoroAPIError | None = field(default=None, repr=False, compare=False)

    @classmethod
    def written(cls, action: str, order_number: str | None = None) -> WriteResult:
        """Ordoro now holds what the record says."""
        return cls(Outcome.WRITTEN, action=action, order_number=order_number)

    @classmethod
    def unchanged(cls, reason: str, order_number: str | None = None) -> WriteResult:
        """Ordoro already held what the record says; nothing was changed."""
        return cls(Outcome.UNCHANGED, action="unchanged", reason=reason, order_number=order_number)

    @classmethod
    def rejected(cls, error: OrdoroAPIError, reason: str | None = None) -> WriteResult:
        """Ordoro refused the write."""
        return cls(
            Outcome.REJECTED,
            reason=reason or str(error),
            status=error.status,
            response=error.body,
            error=error,
        )

    @classmethod
    def not_found(cls, reason: str, error: OrdoroAPIError | None = None) -> WriteResult:
        """What the record refers to is not in Ordoro."""
        return cls(
            Outcome.NOT_FOUND,
            reason=reason,
            status=error.status if error else None,
            response=error.body if error else None,
            error=error,
        )
