"""How tap-ordoro writes Singer messages: msgspec's JSON encoder, flushed at each STATE, and
STATE lines within a budget.

singer-sdk's default writer serialises with simplejson and flushes stdout after every message:
a system call per record. This writer uses msgspec (singer-sdk's optional encoder, the
``singer-sdk[msgspec]`` extra) and flushes only before control messages (SCHEMA, STATE, ...)
and at exit. Nothing is lost by it: a STATE is only ever flushed together with every record
before it, so a crash loses, at most, records whose STATE was never emitted either.

Meltano keeps each run's STATE in its system database and every target parses every STATE
line, so a run's STATE lines together stay within :data:`STATE_BUDGET_BYTES`, whatever the
data (:class:`StateBudget`).

A STATE message is serialised from its value as it stands: singer-sdk's ``to_dict`` copies
the whole value deeply first (``dataclasses.asdict``), and a STATE holds up to a few thousand
recently emitted versions, written every page.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from singer_sdk.contrib.msgspec import serialize_jsonl
from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.singerlib.encoding.simple import Message
from singer_sdk.singerlib.messages import RecordMessage, StateMessage
from typing_extensions import override

#: A run's STATE lines together, the last one included, are at most this many bytes.
STATE_BUDGET_BYTES = 4 * 1024 * 1024
#: Kept for the last STATE, which the tap keeps under this size (see tap_ordoro.bookmarks).
LAST_STATE_RESERVE_BYTES = 64 * 1024
#: Once half the budget is spent, at least this many records between two STATE lines.
FIRST_SPACING = 100


@dataclass
class StateBudget:
    """When a STATE line may be written, so that a run's STATE lines stay within the budget.

    Every STATE singer-sdk offers is written while less than half of ``budget`` is spent.
    After that, each time half of what is left is spent, the records between two STATE lines
    double (:data:`FIRST_SPACING`, then twice that, ...), and a line that would not fit is not
    written: the total never passes ``budget``. A STATE not written waits; the last one offered
    is written at the end of the run in the reserve (:meth:`spend_last`). Resuming from an
    earlier STATE re-emits more records, never fewer: every STATE is a safe place to resume.
    """

    budget: int = STATE_BUDGET_BYTES - LAST_STATE_RESERVE_BYTES
    spent: int = 0

    def allows(self, size: int, records_since: int) -> bool:
        """Whether a STATE line of ``size`` bytes, ``records_since`` records after the last
        one written, may be written now (and counts it if so)."""
        if self.spent + size > self.budget:
            return False
        level, left = 0, self.budget
        while self.spent >= self.budget - left // 2 and left > 1:
            level, left = level + 1, left // 2
        if level and records_since < FIRST_SPACING << (level - 1):
            return False
        self.spent += size
        return True

    def spend_last(self, size: int) -> None:
        """The last STATE of the run, written whatever is left."""
        self.spent += size


class BufferedMsgspecWriter(GenericSingerWriter[bytes, Message]):
    """Writes Singer messages as JSON lines, flushed at each message that is not a RECORD;
    STATE lines within a :class:`StateBudget`."""

    def __init__(self) -> None:
        self.state_budget = StateBudget()
        self._records_since_state = 0
        self._waiting_state: bytes | None = None

    @override
    def serialize_message(self, message: Message) -> bytes:
        if isinstance(message, StateMessage):  # the same JSON, without a deep copy first
            return bytes(serialize_jsonl({"type": "STATE", "value": message.value}))
        return bytes(serialize_jsonl(message.to_dict()))

    @override
    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        if isinstance(message, StateMessage):
            if not self.state_budget.allows(len(line), self._records_since_state):
                self._waiting_state = line
                return
            self._waiting_state = None
            self._records_since_state = 0
        elif isinstance(message, RecordMessage):
            self._records_since_state += 1
        self._write(line, flush=not isinstance(message, RecordMessage))

    def write_waiting_state(self) -> None:
        """Write the last STATE offered, if the budget held it back (at the end of a run, or
        when it fails: it is a safe place to resume, later than any written)."""
        line, self._waiting_state = self._waiting_state, None
        if line is not None:
            self.state_budget.spend_last(len(line))
            self._records_since_state = 0
            self._write(line, flush=True)

    @staticmethod
    def _write(line: bytes, *, flush: bool) -> None:
        stdout = sys.stdout
        binary = getattr(stdout, "buffer", None)
        if binary is not None:
            binary.write(line)
        else:  # a text stream without a byte buffer (e.g. redirected to a StringIO)
            stdout.write(line.decode("utf-8"))
        if flush:
            (binary or stdout).flush()
