"""The even pace's line (ordoro_core/pacing.py): waiting requests go by priority, then in the
order they came; the collector's spacing (ordoro_core/collector.py)."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import time

import pytest

from ordoro_core.collector import FULL_COLLECTION_SPACING, space_full_collections
from ordoro_core.pacing import PacedLimiter, pace_priority


def line_up(priorities: list[int]) -> list[int]:
    """Threads asking for the pace one after another while it is taken, each with its
    priority; the order in which they got their turn."""
    limiter = PacedLimiter(4, 1.0)  # one request per 250 ms
    limiter.try_acquire("warm")  # the next turn is 250 ms away: the others queue
    served: list[int] = []
    served_lock = threading.Lock()

    def ask(index: int, priority: int) -> None:
        with pace_priority(priority):
            limiter.try_acquire("ordoro")
        with served_lock:
            served.append(index)

    threads = []
    for index, priority in enumerate(priorities):
        thread = threading.Thread(target=ask, args=(index, priority))
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 2
        # The next one asks once this one waits in the line (or has been served).
        while len(limiter._line) < index and len(served) < 1 and time.monotonic() < deadline:
            time.sleep(0.001)
    for thread in threads:
        thread.join(10)
    return served


def test_a_higher_priority_goes_first_and_equal_ones_in_turn():
    # The first asks while the turn is free of waiters: it takes the turn and waits for the
    # slot; the others line up behind it.
    served = line_up([0, 1, 5, 3, 5, 1])
    assert served[0] == 0
    assert served[1:] == [2, 4, 3, 1, 5]


def test_without_priorities_the_line_is_first_come_first_served():
    served = line_up([0, 0, 0, 0, 0])
    assert served == [0, 1, 2, 3, 4]


def test_a_thread_interrupted_in_the_line_leaves_it():
    limiter = PacedLimiter(10, 1.0)
    limiter.try_acquire("warm")
    holder = threading.Thread(target=limiter.try_acquire, args=("ordoro",))
    holder.start()
    while not limiter._busy:
        time.sleep(0.001)
    waiting = threading.Event()

    class Interrupted(BaseException):
        pass

    class InterruptedTurn(threading.Event):
        def wait(self, timeout=None):
            waiting.set()
            raise Interrupted

    limiter._new_turn = InterruptedTurn
    with pytest.raises(Interrupted):
        limiter.try_acquire("ordoro")
    holder.join(5)
    assert waiting.is_set()
    assert limiter._line == []
    limiter.try_acquire("ordoro")  # the turn was not lost
    assert not limiter._busy


def test_full_collections_are_spaced():
    before = gc.get_threshold()
    try:
        space_full_collections()
        young, middle, full = gc.get_threshold()
        assert (young, middle) == before[:2]
        assert full == FULL_COLLECTION_SPACING > before[2]
    finally:
        gc.set_threshold(*before)


@pytest.mark.parametrize("module", ["tap_ordoro.tap", "target_ordoro.target"])
def test_the_command_lines_space_full_collections(module):
    """Both console entry points set the spacing before the SDK's CLI runs (``--about``)."""
    program = (
        "import gc, sys\n"
        f"from {module} import main\n"
        "sys.argv = ['plugin', '--about', '--format=json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(f'{gc.get_threshold()[2]} {gc.get_freeze_count() > 0}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=True
    )
    spacing, frozen = done.stderr.strip().split()[-2:]
    assert spacing == str(FULL_COLLECTION_SPACING)
    # The tap leaves what is alive out of the last collection; the target does not.
    assert frozen == str(module == "tap_ordoro.tap")
