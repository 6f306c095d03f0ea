"""How target-ordoro reads its input: singer-sdk's reader, which survives a line nested too
deeply to parse.

Python's JSON parser recurses once per level and gives up at about 1,000 levels with a
``RecursionError``; singer-sdk's reader lets it end the run, losing every record after it. Here
such a line, when it is a RECORD of a named stream, becomes that stream's record in the form of
:class:`UnparsedRecord` (its text), which the sink dead-letters with the reason: nothing is lost
and the run goes on. Any other line that cannot be parsed still ends the run, as singer-sdk's
reader has it (the messages around it cannot be trusted).
"""

from __future__ import annotations

import json
import re

from singer_sdk.exceptions import InvalidInputLine
from singer_sdk.io_base import SingerReader
from typing_extensions import override

#: How far into a line the message's ``type`` and ``stream`` are looked for (before the record).
_ENVELOPE_CHARS = 1_000
_RECORD_TYPE = re.compile(r'"type"\s*:\s*"RECORD"')
_STREAM = re.compile(r'"stream"\s*:\s*"((?:[^"\\]|\\.){1,200})"')


class UnparsedRecord(str):
    """A record kept as the text of its line, because it could not be parsed."""

    __slots__ = ()

    #: What the dead-letter file says of it.
    reason = "record: nested too deeply to parse (about 1,000 levels or more); kept as its line"


class InputReader(SingerReader):
    """singer-sdk's reader; a RECORD line too deeply nested to parse is handed on unparsed."""

    @override
    def deserialize_json(self, line: str) -> dict:
        try:
            return super().deserialize_json(line)
        except RecursionError:
            message = _unparsed_record_message(line)
            if message is None:
                raise InvalidInputLine(
                    f"a line of {len(line)} characters is nested too deeply to parse, and is "
                    "not a RECORD of a named stream"
                ) from None
            return message


def _unparsed_record_message(line: str) -> dict | None:
    """A RECORD message for ``line``'s stream whose record is the line itself, or None when the
    line's start does not name a RECORD and its stream."""
    head = line[:_ENVELOPE_CHARS]
    before_record = head.split('"record"', 1)[0]
    stream = _STREAM.search(before_record)
    if not _RECORD_TYPE.search(before_record) or stream is None:
        return None
    name = json.loads(f'"{stream.group(1)}"')  # the stream's name as a JSON string decodes
    return {"type": "RECORD", "stream": name, "record": UnparsedRecord(line.rstrip("\n"))}
