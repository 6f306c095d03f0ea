"""The tap's message writer: a STATE message is the JSON singer-sdk would write, without the
deep copy singer-sdk makes of it first."""

from __future__ import annotations

import copy
import json

from singer_sdk.contrib.msgspec import serialize_jsonl
from singer_sdk.singerlib.messages import RecordMessage, StateMessage

from tap_ordoro.output import BufferedMsgspecWriter

STATE = {
    "bookmarks": {
        "orders": {
            "replication_key": "updated_date",
            "replication_key_value": "2024-11-03T20:53:51.480417+00:00",
            "recently_emitted": {f"{n:016x}": "2024-11-03T20:53:51+00:00" for n in range(2000)},
        },
        "inventory": {"orders_checked_until": None, "catalog_size": 3000},
    }
}


def test_a_state_message_is_the_json_singer_sdk_writes():
    writer = BufferedMsgspecWriter()
    ours = writer.serialize_message(StateMessage(value=STATE))
    sdk = bytes(serialize_jsonl(StateMessage(value=STATE).to_dict()))
    assert ours == sdk
    assert json.loads(ours) == {"type": "STATE", "value": STATE}


def test_the_state_is_not_copied_and_not_changed():
    """Control: singer-sdk's own to_dict copies the whole value (a new dict each time); ours
    reads it as it stands and leaves it as it was."""
    before = copy.deepcopy(STATE)
    message = StateMessage(value=STATE)
    assert message.to_dict()["value"] is not STATE  # singer-sdk: a deep copy
    BufferedMsgspecWriter().serialize_message(message)
    assert before == STATE


def test_record_messages_are_unchanged():
    record = {"order_number": "1-1001", "lines": [{"sku": "A", "quantity": 2}]}
    message = RecordMessage(stream="orders", record=record)
    ours = BufferedMsgspecWriter().serialize_message(message)
    assert ours == bytes(serialize_jsonl(message.to_dict()))
