"""What a list read has delivered, for a STATE a resumed run can read around.

A keyset read in parallel windows (:mod:`tap_ordoro.keyset`) delivers every record below its
watermark, and above it the windows it has finished or partly read. :class:`Coverage` says both;
a stream keeps the ranges in its STATE (``covered``), and a resumed run reads only the gaps
between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

#: An open range of instants ``(low, high)``: every instant strictly between the two.
Range = tuple[datetime, datetime]
#: What one window delivered: ``(low, low included, high, high included)``.
Piece = tuple[datetime, bool, datetime, bool]


@dataclass(frozen=True)
class Coverage:
    """What a read has delivered so far: every record with an instant below ``watermark``, and
    every record with an instant strictly inside one of ``ranges`` (open ranges above the
    watermark: windows finished, or read up to their cursor)."""

    watermark: datetime | None
    ranges: tuple[Range, ...] = ()


def join_pieces(pieces: Iterable[Piece]) -> tuple[Range, ...]:
    """Open ranges from the pieces windows delivered, in instant order: two pieces that meet
    at an instant one of them includes are one range."""
    joined: list[Piece] = []
    for piece in pieces:
        if joined and joined[-1][2] == piece[0] and (joined[-1][3] or piece[1]):
            joined[-1] = (joined[-1][0], joined[-1][1], piece[2], piece[3])
        else:
            joined.append(piece)
    return tuple((low, high) for low, _, high, _ in joined if low < high)


def usable_ranges(skip: Sequence[Range], since: datetime | None) -> list[Range]:
    """The ranges of ``skip`` above ``since``, sorted, those that overlap joined."""
    ranges: list[Range] = []
    for low, high in sorted(skip):
        if low >= high or (since is not None and low < since):
            continue
        if ranges and low <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(high, ranges[-1][1]))
        else:
            ranges.append((low, high))
    return ranges
