"""Python's cyclic garbage collector, tuned for a process that streams records.

A full collection walks every live container object. A tap reading in parallel windows holds
a few hundred thousand of them (pages in flight and waiting to be written, the catalog, the
SDK's own): each full collection paused it 70-160 ms, about every 3 s, on the 2-core benchmark
machine, and while it runs no thread can send the request whose turn of the pace has come
(the 2 s case of ``scripts/benchmark.py`` lost 0.4 s so). Records hold no reference cycles:
reference counting frees them as soon as they are written, and each full collection found a
few hundred objects to free. Full collections are made ten times rarer; the younger
generations, where short-lived cycles are found, are collected as often as before.

At exit the interpreter makes one more full collection over everything still alive: 0.13-0.16
s of the tap's 0.16-0.19 s from its last answer to its exit. The tap freezes what is alive
instead (:func:`skip_exit_collection`): the process's memory goes back to the system as it
ends. Its output does not depend on a collection: standard output is flushed at exit
whatever the collector does.
"""

from __future__ import annotations

import gc

#: Collections of the middle generation between two full collections (Python's default: 10).
FULL_COLLECTION_SPACING = 100


def space_full_collections() -> None:
    """Make full collections ten times rarer for the rest of the process."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_SPACING)


def skip_exit_collection() -> None:
    """As the process ends: leave what is alive out of the interpreter's last full collection."""
    gc.freeze()
