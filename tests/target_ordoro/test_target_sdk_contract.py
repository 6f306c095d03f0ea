"""The private singer-sdk methods target-ordoro overrides still do what the overrides assume.

target-ordoro overrides five private SDK methods where the SDK offers no public hook (see the
comments at each override): ``Sink._validate_and_parse`` (no datetime parsing of records),
``Sink._singer_validate_message`` (a record without its key is dead-lettered, not fatal),
``Target._process_record_message`` (a RECORD whose record is not an object is dead-lettered,
not a TypeError), ``Target._process_state_message`` (each STATE numbered against the records
before it) and ``Target._write_state_message`` (STATE only for what was written). Each test here
fails when an SDK upgrade renames such a method, stops calling it, or changes what the override
relies on.
"""

from __future__ import annotations

import inspect
import json

import pytest
from singer_sdk import Target
from singer_sdk.mapper import PluginMapper, RemoveRecordTransform, StreamMap
from singer_sdk.sinks import Sink

from target_ordoro.sinks import OrdoroSink
from target_ordoro.target import TargetOrdoro


def _source(function: object) -> str:
    return inspect.getsource(function)  # type: ignore[arg-type]


def test_the_overridden_sink_methods_exist_in_the_sdk_and_are_called_per_record():
    for name in ("_validate_and_parse", "_singer_validate_message"):
        assert callable(getattr(Sink, name, None)), f"singer-sdk no longer has Sink.{name}"
        overriders = [c for c in OrdoroSink.__mro__ if c.__module__ == "target_ordoro.sinks"]
        assert any(name in vars(c) for c in overriders), f"no override of {name} left"
        assert f"sink.{name}(" in _source(Target._process_record_message)
    # The SDK parses date-time strings inside _validate_and_parse (what the override skips).
    assert "_parse_timestamps_in_record" in _source(Sink._validate_and_parse)


def test_the_state_writer_is_what_drain_all_calls():
    assert callable(getattr(Target, "_write_state_message", None))
    assert "self._write_state_message(" in _source(Target.drain_all)


def test_state_messages_reach_the_overridden_handler():
    assert "SingerMessageType.STATE: self._process_state_message" in _source(Target.process_lines)
    assert "_latest_state" in _source(Target._process_state_message)


def test_record_messages_reach_the_overridden_handler_which_still_needs_to_exist():
    """Target._process_record_message is the RECORD callback, and the SDK still treats the
    record as a dict (stream map transform, _sdc metadata) before any public hook: the reason
    TargetOrdoro overrides it. What the override uses of the SDK is still there."""
    assert "_process_record_message" in vars(TargetOrdoro)
    assert "SingerMessageType.RECORD: self._process_record_message" in _source(Target.process_lines)
    source = _source(Target._process_record_message)
    first_public_hook = source.index("sink.preprocess_record(")
    for dict_use in ("stream_map.transform(", "sink._remove_sdc_metadata_from_record("):
        assert -1 < source.index(dict_use) < first_public_hook, dict_use
    assert "sink._add_sdc_metadata_to_record(" in source
    for used in (
        "self._assert_line_requires(",
        "self._assert_sink_exists(",
        "self.mapper.stream_maps[stream_name]",
        "stream_map.stream_alias",
        "sink.tally_record_read()",
        "sink.record_counter_metric.increment()",
    ):
        assert used in source, used
    assert issubclass(RemoveRecordTransform, StreamMap)
    assert "stream_maps" in vars(PluginMapper) or "stream_maps" in _source(PluginMapper.__init__)


def _messages(*messages: dict) -> str:
    return "".join(json.dumps(message) + "\n" for message in messages)


def test_records_reach_the_sink_as_received_and_without_their_key(prefix, make_config, run_target):
    """A date-time string stays the string it was ("Z" kept), and a record without its key
    property is dead-lettered by the sink rather than ending the run in the SDK."""
    schema = {
        "type": "object",
        "properties": {
            "order_number": {"type": "string"},
            "ship_date": {"type": "string", "format": "date-time"},
        },
    }
    no_tracking = {
        "order_number": f"M-{prefix}-1",
        "carrier_name": "UPS",
        "ship_date": "2024-06-01T12:00:00Z",
    }
    no_key = {"tracking_number": "X", "carrier_name": "UPS", "ship_date": "2024-06-01T12:00:00Z"}
    text = _messages(
        {
            "type": "SCHEMA",
            "stream": "shipments",
            "key_properties": ["order_number"],
            "schema": schema,
        },
        {"type": "RECORD", "stream": "shipments", "record": no_tracking},
        {"type": "RECORD", "stream": "shipments", "record": no_key},
    )
    result = run_target(make_config(), text)
    assert result.error is None, result.stderr
    lines = result.dead_letters
    assert [line["record"] for line in lines] == [no_tracking, no_key]
    assert lines[0]["record"]["ship_date"] == "2024-06-01T12:00:00Z"
    assert lines[0]["reason"] == "tracking_number is required"
    assert "order_number" in lines[1]["reason"]


@pytest.mark.parametrize(
    ("stream_maps", "sink"),
    [
        (None, "products"),
        ({"stock": {"__alias__": "products"}}, "products"),
        ({"stock": None}, None),
    ],
    ids=["no-maps", "aliased-by-a-stream-map", "dropped-by-a-stream-map"],
)
def test_a_record_that_is_not_an_object_goes_to_the_sink_its_stream_maps_name(
    prefix, make_config, run_target, stream_maps, sink
):
    """The override routes a non-object like the SDK routes objects: to the sink of the
    stream's (first) map, or nowhere when the maps drop the stream."""
    stream = "products" if stream_maps is None else "stock"
    # A stream the maps drop still gets its sink from the SDK: aliased so that it is one.
    aliases = {"stock": "products"} if sink is None else None
    config = make_config(stream_maps=stream_maps, stream_aliases=aliases)
    product = {"sku": f"{prefix}-OBJ", "name": "An object"}
    schema = {"properties": {"sku": {"type": "string"}, "name": {"type": "string"}}}
    text = _messages(
        {"type": "SCHEMA", "stream": stream, "key_properties": ["sku"], "schema": schema},
        {"type": "RECORD", "stream": stream, "record": ["not", "an", "object"]},
        {"type": "RECORD", "stream": stream, "record": product},
        {"type": "RECORD", "stream": stream, "record": None},
    )
    result = run_target(config, text)
    assert result.error is None, result.stderr
    if sink is None:
        assert result.dead_letters == []
        assert result.summary["dead_lettered"] == 0
        return
    lines = result.dead_letters
    assert [line["record"] for line in lines] == [["not", "an", "object"], None]
    assert [line["reason"] for line in lines] == [
        "record: ['not', 'an', 'object'] is not a JSON object",
        "record: None is not a JSON object",
    ]
    assert {line["input_stream"] for line in lines} == {sink}
    counts = result.summary["streams"]["products"]
    assert (counts["received"], counts["written"], counts["dead_lettered"]) == (3, 1, 2)
