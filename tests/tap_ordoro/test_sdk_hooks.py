"""Guards for the private singer-sdk methods tap-ordoro overrides.

``OrdoroStream._increment_stream_state`` overrides a private SDK method (no public hook exists
for how replication-key values are compared: meltano/sdk#2753). If an SDK upgrade renames it,
changes its signature or stops calling it, these tests fail before bookmarks silently go wrong.

``OrdoroStream._generate_record_messages`` skips singer-sdk's selection and conformance walks
where they change nothing; its messages are compared here with singer-sdk's own.
"""

from __future__ import annotations

import copy
import inspect
import json
from datetime import UTC, datetime

import pytest
import singer_sdk.singerlib as singer
from singer_sdk import Stream
from singer_sdk.helpers import _state

from tap_ordoro.client import OrdoroStream
from tap_ordoro.tap import TapOrdoro
from tests.tap_ordoro.helpers import run_tap, select_only, tap_config


def test_the_sdk_still_has_the_overridden_method_with_the_same_signature():
    ours = inspect.signature(OrdoroStream._increment_stream_state)
    theirs = inspect.signature(Stream._increment_stream_state)
    assert list(ours.parameters) == list(theirs.parameters) == ["self", "latest_record", "context"]
    assert theirs.parameters["context"].kind is inspect.Parameter.KEYWORD_ONLY


def test_the_sdk_still_reads_only_the_replication_key_of_the_record_it_is_given():
    # The override hands the SDK a one-key record {replication_key: utc value}.
    source = inspect.getsource(_state.increment_state)
    assert "latest_record[replication_key]" in source


def test_the_override_is_called_and_stores_utc_bookmarks(seeded_sandbox):
    run = run_tap(tap_config(seeded_sandbox), streams=("orders",))
    bookmark = run.bookmark("orders")
    assert bookmark is not None
    assert bookmark.endswith("+00:00")  # the override's UTC form, not Ordoro's local offset
    assert "recently_emitted" in run.last_state["bookmarks"]["orders"]


# OrdoroStream._generate_record_messages: singer-sdk's walks skipped where they change nothing


def record_messages(stream: OrdoroStream, record: dict, *, sdk: bool) -> list[tuple]:
    generate = Stream._generate_record_messages if sdk else type(stream)._generate_record_messages
    # Compared as JSON text: 1 == True in Python, not in the output.
    return [
        (message.stream, json.dumps(message.record, default=str), message.version)
        for message in generate(stream, copy.deepcopy(record))
    ]


def variants_of(order: dict) -> dict[str, dict]:
    """An order as Ordoro sends it, and one of each kind singer-sdk's walks would change."""
    return {
        "plain": order,
        "undeclared top-level property": {**order, "new_in_the_api": {"x": 1}},
        "float that is not finite": {**order, "weight": float("nan")},
        "non-boolean in a boolean-only field": {**order, "is_order_parent": 1},
        "value that is not JSON": {**order, "order_placed_date": datetime(2024, 1, 2, tzinfo=UTC)},
    }


@pytest.fixture(scope="module")
def an_order(seeded_sandbox) -> dict:
    return copy.deepcopy(next(iter(seeded_sandbox.store.orders.values())))


@pytest.mark.parametrize(
    "kind",
    [
        "plain",
        "undeclared top-level property",
        "float that is not finite",
        "non-boolean in a boolean-only field",
        "value that is not JSON",
    ],
)
@pytest.mark.parametrize("deselect", [False, True], ids=["all selected", "a field deselected"])
def test_record_messages_are_singer_sdks_own(seeded_sandbox, an_order, kind, deselect):
    config = tap_config(seeded_sandbox)
    catalog = select_only(config, "orders")
    if deselect:
        for entry in catalog["streams"]:
            for metadata in entry["metadata"]:
                if metadata["breadcrumb"] == ["properties", "shipping_address"]:
                    metadata["metadata"]["selected"] = False
    tap = TapOrdoro(config=config, catalog=catalog, parse_env_config=False)
    stream = tap.streams["orders"]
    record = variants_of(an_order)[kind]
    ours = record_messages(stream, record, sdk=False)
    assert ours == record_messages(stream, record, sdk=True)
    # The short way is taken only for a plain record with every field selected.
    assert stream._needs_sdk_walks(copy.deepcopy(record)) is (kind != "plain" or deselect)
    if deselect:
        assert '"shipping_address"' not in ours[0][1]


#: Settings that put records through stream maps and flattening on their way out.
MAPPED = {
    "no map": {},
    "alias": {"stream_maps": {"orders": {"__alias__": "ordoro_orders"}}},
    "properties computed and removed": {
        "stream_maps": {
            "orders": {"order_ref": "order_number + '/' + status", "internal_notes": None},
            "products": {"sku_lower": "sku.lower()", "warehouses": None},
            "warehouses": {"city": "address['city']", "_link": None},
        }
    },
    "filter": {
        "stream_maps": {
            "orders": {"__filter__": "status == 'shipped'"},
            "products": {"__filter__": "sku[0] in 'ABCDEFGHIJ'"},
            "warehouses": {"__filter__": "is_default_location"},
        }
    },
    "a second stream from the same source": {
        "stream_maps": {
            "order_numbers": {
                "__source__": "orders",
                "__key_properties__": ["order_number"],
                "__else__": None,
                "order_number": "order_number",
            },
        }
    },
    "flattened": {"flattening_enabled": True, "flattening_max_depth": 1},
    "flattened deeply, with a map": {
        "flattening_enabled": True,
        "flattening_max_depth": 3,
        "stream_maps": {"orders": {"__alias__": "flat_orders", "tags": None}},
    },
}


def plain_records(sandbox, stream: str) -> list[dict]:
    """Records as Ordoro sends them: the short path's own case."""
    store = sandbox.store
    source = {
        "orders": store.orders,
        "products": store.products,
        "warehouses": store.warehouses,
    }[stream]
    return [copy.deepcopy(record) for _, record in sorted(source.items())[:40]]


def mapped_stream(sandbox, settings: dict, stream: str, stream_class=None) -> OrdoroStream:
    config = tap_config(sandbox, **settings)
    built = TapOrdoro(config=config, parse_env_config=False).streams[stream]
    if stream_class is not None:
        built.__class__ = stream_class
    return built


@pytest.mark.parametrize("settings", sorted(MAPPED), ids=str)
@pytest.mark.parametrize("stream", ["orders", "products", "warehouses"])
def test_the_short_path_matches_singer_sdks_through_stream_maps_and_flattening(
    seeded_sandbox, settings, stream
):
    """Plain records, which take the short path, give the very messages singer-sdk's own path
    gives, through stream maps (aliases, computed and removed properties, filters, a second
    stream from one source) and flattening."""
    built = mapped_stream(seeded_sandbox, MAPPED[settings], stream)
    compared = 0
    for record in plain_records(seeded_sandbox, stream):
        assert not built._needs_sdk_walks(copy.deepcopy(record)), "the short path is taken"
        ours = record_messages(built, record, sdk=False)
        assert ours == record_messages(built, record, sdk=True)
        compared += len(ours)
    assert compared, "some records went out (a filter keeps some)"


class SkipsStreamMaps(OrdoroStream):
    """A short path that forgets the stream maps: what the comparison above must catch."""

    def _generate_record_messages(self, record):
        if self._needs_sdk_walks(record):
            yield from Stream._generate_record_messages(self, record)
            return
        yield singer.RecordMessage(stream=self.name, record=record, version=self._stream_version)


@pytest.mark.parametrize("settings", sorted(set(MAPPED) - {"no map"}), ids=str)
def test_control_a_short_path_that_skips_stream_maps_is_caught(seeded_sandbox, settings):
    built = mapped_stream(seeded_sandbox, MAPPED[settings], "orders", SkipsStreamMaps)
    differs = [
        record_messages(built, record, sdk=False) != record_messages(built, record, sdk=True)
        for record in plain_records(seeded_sandbox, "orders")
    ]
    assert any(differs)
