"""What a writer plans and what becomes of a write: shared by every stream's writer."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from http import HTTPStatus
from typing import Any

from ordoro_core import catalog
from ordoro_core.errors import OrdoroAPIError, OrdoroInvalidRequest, clip

#: How much of a key (a SKU, an order number) labels and reasons quote at most.
MAX_KEY_CHARS = 60
#: Error statuses that say nothing about the key a request was made with: credentials (401,
#: 403), "no such record" or, for a list, a wrong api_url (404), a wrong api_url (405), a proxy
#: (407), time (408), the rate limit (429).
NOT_ABOUT_THE_KEY = frozenset({401, 403, 404, 405, 407, 408, 429})


def shown(key: Any) -> str:
    """A key as labels and reasons quote it: whole when short, else cut, on one line, and
    encodable (a lone surrogate is written as its escape).

    >>> shown("M-1001")
    'M-1001'
    >>> shown("x" * 1000) == "x" * MAX_KEY_CHARS + "…"
    True
    >>> shown("M-\\ud800")
    'M-\\\\ud800'
    """
    text = clip(str(key), MAX_KEY_CHARS)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def quoted(key: Any) -> str:
    """``repr(key)`` as labels and reasons quote it: whole when short, else cut.

    >>> quoted("ABC-1")
    "'ABC-1'"
    """
    return catalog.short_repr(key, MAX_KEY_CHARS)


class RecordInvalid(Exception):
    """The record cannot be written as it is; ``reason`` says why in one short sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyRefused(OrdoroAPIError):
    """Ordoro refused a lookup made with one record's key (its SKU, order number or marker)
    for what the key is: too long for a URL (414), malformed (400, 422), or not even sendable
    (not valid Unicode). That record is dead-lettered with Ordoro's status and answer; the run
    goes on. Raised by :func:`lookup_of`; :meth:`Writer.write` turns it into a rejected result.
    """

    def __init__(self, what: str, error: OrdoroAPIError) -> None:
        if error.status is None:
            problem = f"it cannot be looked up: {clip(str(error.error_message), 150)}"
        else:
            try:
                phrase = f" {HTTPStatus(error.status).phrase}"
            except ValueError:
                phrase = ""
            problem = f"Ordoro refused looking it up (HTTP {error.status}{phrase})"
            if isinstance(error.error_message, str) and error.error_message:
                problem += f": {clip(error.error_message, 150)}"
        super().__init__(
            error.status,
            error.method,
            error.path,
            error.error_message,
            error.param,
            error.body,
            message=f"{what}: {problem}",
        )


def refuses_key(error: OrdoroAPIError) -> bool:
    """Whether an error answer to a request made with a record's key is about that key."""
    if isinstance(error, OrdoroInvalidRequest):
        return True
    status = error.status
    return status is not None and 400 <= status < 500 and status not in NOT_ABOUT_THE_KEY


@contextmanager
def lookup_of(what: str) -> Iterator[None]:
    """Around a lookup by one record's key (``what``: "order M-1001", ...): an error answer
    about the key (:func:`refuses_key`) is raised as :class:`KeyRefused`; anything else as it
    was."""
    try:
        yield
    except KeyRefused:
        raise
    except OrdoroAPIError as error:
        if refuses_key(error):
            raise KeyRefused(what, error) from None
        raise


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
