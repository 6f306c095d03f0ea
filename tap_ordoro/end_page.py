"""When the page that ends a list read in parallel windows may go out, and when it is read again.

Records the other windows have not read yet may move to the end of the list while they read
(they were updated: their new instant is past every window but the last). The page that ends
the list must be read by the API after every other window's last page, so that it holds them.

Waiting for the other windows' last *answers* before sending it (what this replaced) makes that
certain whatever order the API reads requests in, but costs two round trips with the pace idle:
one waiting, one for its own answer. :class:`EndGate` instead lets it go as soon as every other
window's last request has *gone out* (their ``count`` says which is last), a pace step behind
them, and then checks whether that was enough:

* An API that reads requests in the order they arrive (they arrive a pace apart) reads the end
  page after them: nothing can have been missed.
* One that reads them out of order may read the end page first; a record that moves between the
  two reads is then in neither. It left a window's unread range, so that window's last page
  shows a ``count`` lower than its previous page promised (records only leave a bounded window:
  an update stamps an instant past it). A window whose page answered after the end page went out
  and shows such a drop (or whose promise is unknown) says so with :meth:`departed`, and the end
  window reads once more from where it stands (:meth:`read_again`): one request, only then.

What this cannot see: a record leaving in that same round trip while another, committed late,
arrives in the same window (the count is unchanged). Such a record comes with the next sync,
whose bookmark is before its new instant: late, never lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Protocol


class _Window(Protocol):
    index: int
    done: bool


class EndGate:
    """The end window's gate (see the module docstring); shared by the windows of one read."""

    def __init__(self, others: Sequence[_Window], stop: threading.Event) -> None:
        self._others = list(others)
        self._stop = stop
        self._changed = threading.Condition()
        self._sent_last: set[int] = set()
        self._end_sent = False
        self._departed = False

    # The other windows

    def last_request(self, window: int) -> Callable[[], None]:
        """What a window calls as the request its ``count`` says is its last goes out."""
        return partial(self._last_sent, window)

    def end_page_sent(self) -> bool:
        """Whether the page that ends the list has gone out (read it right after an answer:
        an answer read before it went out cannot have been read by the API after it)."""
        with self._changed:
            return self._end_sent

    def departed(self) -> None:
        """A window answered after the end page went out shows records leaving it, or cannot
        tell (its previous page promised no count): the end window must read again."""
        with self._changed:
            self._departed = True

    def changed(self) -> None:
        """A window is done, or the read stopped: waiters look again."""
        with self._changed:
            self._changed.notify_all()

    # The end window

    def wait_to_send_end_page(self) -> None:
        """Block until every other window is done or has sent its last request."""
        with self._changed:
            self._changed.wait_for(self._others_sent)

    def end_request(self) -> None:
        """What the end window calls as the page that ends the list goes out."""
        with self._changed:
            self._end_sent = True

    def read_again(self) -> str | None:
        """Once every other window is done: why the end window must read on from where it
        stands (None: it need not). Either another window said :meth:`departed`, or the page
        that ended the list was not sent through the gate (it was the window's probe, sent with
        the first pages: the list ended sooner than planned). The flags are then cleared."""
        with self._changed:
            self._changed.wait_for(self._others_done)
            if self._stop.is_set():
                return None
            reason = None
            if self._departed:
                reason = "records left another window after the page that ends the list went out"
            elif not self._end_sent:
                reason = "the list ended at a probe sent with the first pages"
            self._departed, self._end_sent = False, True
            return reason

    # Internals

    def _last_sent(self, window: int) -> None:
        with self._changed:
            self._sent_last.add(window)
            self._changed.notify_all()

    def _others_sent(self) -> bool:
        return self._stop.is_set() or all(
            window.done or window.index in self._sent_last for window in self._others
        )

    def _others_done(self) -> bool:
        return self._stop.is_set() or all(window.done for window in self._others)
