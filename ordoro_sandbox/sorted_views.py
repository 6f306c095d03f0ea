"""Sorted orders of the sandbox's lists, kept while they still hold.

A list request sorts the whole list before it slices a page: 12,000 orders cost the sandbox
35-50 ms of CPU a page, under the GIL. At 10 requests a second, several of those at once held
other requests back, so that their arrival (and the rate limit's count of it) came up to 200 ms
late, bunched with the next: a client pacing evenly then met the sandbox's own limit.

A sorted order is kept per list and sort, and used again while the list holds the same record
objects, each with the same value objects in the sort's fields: a write replaces a value (a new
stamp is a new string), and a record added or removed changes the list. Checking that by
identity, in C, costs a small part of sorting. Sorts on anything but plain fields are not kept.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from ordoro_sandbox.listing import FieldKey, Record, SortKey, check_sort


@dataclass(frozen=True)
class _Kept:
    members: list[Record]
    values: tuple[list[object], ...]
    ordered: list[Record]


class SortedViews:
    """Sorted lists, kept per list name and sort (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, str], _Kept] = {}

    def sort(
        self,
        name: str,
        records: Iterable[Record],
        sort: str,
        sort_keys: dict[str, SortKey],
        tie_breaker: SortKey,
    ) -> list[Record]:
        """``records`` in the order ``sort`` names ("field" or "-field"), the tie-breaker last;
        400 for an unknown sort. The list returned must not be changed."""
        field, descending = check_sort(sort, sort_keys)
        key = sort_keys[field]
        members = list(records)

        def fresh() -> list[Record]:
            return sorted(members, key=lambda r: (key(r), tie_breaker(r)), reverse=descending)

        if not (isinstance(key, FieldKey) and isinstance(tie_breaker, FieldKey)):
            return fresh()
        getters = [operator.methodcaller("get", name) for name in (key.field, tie_breaker.field)]
        with self._lock:
            kept = self._kept.get((name, sort))
        if kept is not None and _unchanged(kept, members, getters):
            return kept.ordered
        ordered = fresh()
        values = tuple(list(map(get, members)) for get in getters)
        with self._lock:
            self._kept[(name, sort)] = _Kept(members, values, ordered)
        return ordered


def _unchanged(kept: _Kept, members: list[Record], getters: list[operator.methodcaller]) -> bool:
    if len(members) != len(kept.members) or not all(map(operator.is_, members, kept.members)):
        return False
    return all(
        all(map(operator.is_, map(get, members), values))
        for get, values in zip(getters, kept.values, strict=True)
    )
