"""Sorted lists kept while they hold (ordoro_sandbox/sorted_views.py): used again only while
every record and its sort fields are the same objects."""

from __future__ import annotations

import pytest

from ordoro_sandbox.errors import ApiError
from ordoro_sandbox.listing import by, by_instant, nullable
from ordoro_sandbox.sorted_views import SortedViews

SORTS = {"updated": by_instant("updated"), "name": by("name"), "odd": lambda r: nullable(None)}


def records() -> dict[int, dict]:
    stamps = ["2026-01-03T00:00:00+00:00", "2026-01-01T00:00:00+00:00", None]
    return {
        index: {"id": index, "name": f"n{5 - index}", "updated": stamp}
        for index, stamp in enumerate(stamps)
    }


def ids(ordered: list[dict]) -> list[int]:
    return [record["id"] for record in ordered]


def test_an_unchanged_list_is_not_sorted_again():
    views, table = SortedViews(), records()
    first = views.sort("thing", table.values(), "updated", SORTS, by("id"))
    assert ids(first) == [1, 0, 2]  # nulls after every instant
    assert views.sort("thing", table.values(), "updated", SORTS, by("id")) is first
    assert ids(views.sort("thing", table.values(), "-updated", SORTS, by("id"))) == [2, 0, 1]


def test_a_new_value_a_new_record_or_a_removed_one_sorts_again():
    views, table = SortedViews(), records()
    views.sort("thing", table.values(), "updated", SORTS, by("id"))
    table[1]["updated"] = "2026-01-04T00:00:00+00:00"
    assert ids(views.sort("thing", table.values(), "updated", SORTS, by("id"))) == [0, 1, 2]
    table[3] = {"id": 3, "name": "n0", "updated": "2025-12-31T00:00:00+00:00"}
    assert ids(views.sort("thing", table.values(), "updated", SORTS, by("id"))) == [3, 0, 1, 2]
    del table[0]
    assert ids(views.sort("thing", table.values(), "updated", SORTS, by("id"))) == [3, 1, 2]
    table[1] = {**table[1]}  # the same values in a new record object
    assert ids(views.sort("thing", table.values(), "name", SORTS, by("id"))) == [3, 2, 1]


def test_sorts_on_more_than_a_field_are_not_kept_and_unknown_ones_refused():
    views, table = SortedViews(), records()
    first = views.sort("thing", table.values(), "odd", SORTS, by("id"))
    assert ids(first) == [0, 1, 2]
    assert views.sort("thing", table.values(), "odd", SORTS, by("id")) is not first
    with pytest.raises(ApiError):
        views.sort("thing", table.values(), "colour", SORTS, by("id"))
