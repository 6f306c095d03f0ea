"""How tap-ordoro writes Singer messages: msgspec's JSON encoder, flushed at each STATE.

singer-sdk's default writer serialises with simplejson and flushes stdout after every message:
a system call per record. This writer uses msgspec (singer-sdk's optional encoder, the
``singer-sdk[msgspec]`` extra) and flushes only before control messages (SCHEMA, STATE, ...)
and at exit. Nothing is lost by it: a STATE is only ever flushed together with every record
before it, so a crash loses, at most, records whose STATE was never emitted either.

A STATE message is serialised from its value as it stands: singer-sdk's ``to_dict`` copies
the whole value deeply first (``dataclasses.asdict``), and a STATE holds up to a few thousand
recently emitted versions, written every page.
"""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import serialize_jsonl
from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.singerlib.encoding.simple import Message
from singer_sdk.singerlib.messages import RecordMessage, StateMessage
from typing_extensions import override


class BufferedMsgspecWriter(GenericSingerWriter[bytes, Message]):
    """Writes Singer messages as JSON lines, flushed at each message that is not a RECORD."""

    @override
    def serialize_message(self, message: Message) -> bytes:
        if isinstance(message, StateMessage):  # the same JSON, without a deep copy first
            return bytes(serialize_jsonl({"type": "STATE", "value": message.value}))
        return bytes(serialize_jsonl(message.to_dict()))

    @override
    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        stdout = sys.stdout
        binary = getattr(stdout, "buffer", None)
        if binary is not None:
            binary.write(line)
        else:  # a text stream without a byte buffer (e.g. redirected to a StringIO)
            stdout.write(line.decode("utf-8"))
        if not isinstance(message, RecordMessage):
            (binary or stdout).flush()
