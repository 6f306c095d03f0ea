"""EmittedVersions places each version among the spans by bisection: the same zones, and the
same versions forgotten, as trying every span for every version (the plain reading of the
rules in tap_ordoro.rereads), over spans that overlap, touch, nest and hold nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tap_ordoro.rereads import EmittedVersions, Zone, key_version, merge_spans

START = datetime(2024, 11, 1, tzinfo=UTC)
minutes = st.integers(min_value=0, max_value=120)
spans = st.lists(
    st.tuples(minutes, st.integers(min_value=-10, max_value=40)).map(
        lambda pair: (START + timedelta(minutes=pair[0]), START + timedelta(minutes=sum(pair)))
    ),
    max_size=8,
)
#: Disjoint spans (the bisection's own case; the others take the fallback of trying each).
disjoint_spans = st.lists(minutes, unique=True, max_size=12).map(
    lambda cuts: [
        (START + timedelta(minutes=low), START + timedelta(minutes=high))
        for low, high in zip(sorted(cuts)[::2], sorted(cuts)[1::2], strict=False)
    ]
)
notes = st.lists(st.tuples(st.integers(0, 30), minutes), max_size=60)


def filled(noted: list[tuple[int, int]]) -> EmittedVersions:
    versions = EmittedVersions()
    for key, minute in noted:
        versions.note(START + timedelta(minutes=minute), key_version(key, minute))
    return versions


def zones_by_trying_every_span(versions: EmittedVersions, over: list) -> list[Zone]:
    """The zones as the rules read, every span tried for every version (small data only)."""
    latest = versions._latest
    members = []
    for start, end in merge_spans(over):
        inside = [(key, value) for key, (at, value) in latest.items() if start <= at <= end]
        if inside:
            members.append(((start, end), inside))
    # With max_values above the total, zones keep every version: compared exactly.
    return [
        Zone(start, end, tuple(sorted(v for _, v in inside))) for (start, end), inside in members
    ]


@settings(max_examples=300, deadline=None)
@given(notes, st.one_of(spans, disjoint_spans))
def test_zones_are_those_of_trying_every_span(noted, over):
    versions = filled(noted)
    assert versions.zones(over, max_values=10_000) == zones_by_trying_every_span(versions, over)


@settings(max_examples=300, deadline=None)
@given(notes, st.one_of(spans, disjoint_spans), minutes)
def test_forgetting_is_that_of_trying_every_span(noted, skipped, floor_minute):
    versions = filled(noted)
    floor = START + timedelta(minutes=floor_minute)
    expected = {
        key: (at, value)
        for key, (at, value) in versions._latest.items()
        if at >= floor and not any(low < at < high for low, high in skipped)
    }
    versions.forget_outside(floor, skipped)
    assert versions._latest == expected


def test_the_reference_finds_versions_in_overlapping_spans():
    """Control: the data reaches the interesting cases (a version in two overlapping spans is
    in one zone, a version on a skipped span's edge is kept)."""
    versions = filled([(1, 10), (2, 20), (3, 30)])
    over = [(START + timedelta(minutes=5), START + timedelta(minutes=15))]
    over.append((START + timedelta(minutes=12), START + timedelta(minutes=20)))
    (zone,) = versions.zones(over, max_values=10_000)
    assert len(zone.values) == 2
    versions.forget_outside(None, [(START + timedelta(minutes=20), START + timedelta(minutes=40))])
    assert sorted(key for key in versions._latest) == sorted(
        key_version(key, minute).key for key, minute in [(1, 10), (2, 20)]
    )
