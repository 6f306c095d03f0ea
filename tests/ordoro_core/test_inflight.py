"""Requests in flight follow the latency (ordoro_core.inflight), bounded, shrinking on strain.

The first tests drive :class:`InFlightLimit` with a clock of their own (no HTTP: its rules as
numbers). The others send real requests to a sandbox and count, at the sandbox, how many were
in flight (``ordoro_sandbox.inflight``): no test asserts a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from ordoro_core.client import OrdoroClient
from ordoro_core.errors import OrdoroAPIError, OrdoroTransientError
from ordoro_core.inflight import InFlightLimit, spare_capacity
from ordoro_core.retries import RetryPolicy
from ordoro_sandbox import FaultRule, Sandbox, SandboxOptions
from ordoro_sandbox.inflight import InFlight, in_flight_at

USER, SECRET = "inflight-user", "inflight-secret"
FAST_RETRIES = RetryPolicy(
    max_attempts=4, backoff_seconds=0.01, backoff_max_seconds=0.05, max_total_wait_seconds=30
)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def answer(limit: InFlightLimit, clock: Clock, seconds: float) -> None:
    """One request that goes out now and is answered ``seconds`` later."""
    with limit.slot() as slot:
        slot.sent()
        clock.now += seconds


def fail(limit: InFlightLimit, clock: Clock, seconds: float, error: Exception) -> None:
    """One request that goes out now and ends ``seconds`` later with ``error``."""
    with limit.slot() as slot:
        slot.sent()
        clock.now += seconds
        raise error


def refuse(limit: InFlightLimit, clock: Clock, status: int | None) -> None:
    """One request answered with a transient failure (a 429 when ``status`` is 429)."""
    with pytest.raises(OrdoroTransientError):
        fail(limit, clock, 0.1, OrdoroTransientError("failed", status=status))


# -- the rules, as numbers ------------------------------------------------------------------


def test_before_any_answer_the_ceiling_is_allowed():
    assert InFlightLimit(pace=10, ceiling=32).allowance() == 32


@pytest.mark.parametrize(
    ("latency", "expected"),
    [(0.0, 1), (0.1, 3), (0.5, 8), (1.0, 14), (2.0, 26), (5.0, 32)],
)
def test_the_allowance_is_the_pace_times_the_latency_with_headroom(latency, expected):
    """Little's law at 10 requests a second: ceil(10 x latency x 1.25) + 1, within the ceiling."""
    clock = Clock()
    limit = InFlightLimit(pace=10, ceiling=32, clock=clock)
    for _ in range(9):
        answer(limit, clock, latency)
    assert limit.allowance() == expected


def test_the_allowance_follows_the_median_not_one_slow_answer():
    clock = Clock()
    limit = InFlightLimit(pace=10, ceiling=32, clock=clock)
    for seconds in [1.0] * 8 + [1.9]:  # slower, but not twice as slow: no cut either
        answer(limit, clock, seconds)
    assert limit.allowance() == 14
    assert limit.stats().cuts_latency == 0


def test_a_429_halves_the_allowance_at_once_then_it_grows_back_one_per_answer():
    clock = Clock()
    limit = InFlightLimit(pace=10, ceiling=32, clock=clock)
    for _ in range(9):
        answer(limit, clock, 2.0)
    assert limit.allowance() == 26
    refuse(limit, clock, 429)
    assert limit.allowance() == 13
    assert limit.stats().cuts_429 == 1
    grown = []
    for _ in range(15):
        answer(limit, clock, 2.0)
        grown.append(limit.allowance())
    assert grown == [14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 26, 26]


def test_a_server_error_halves_the_allowance():
    clock = Clock()
    limit = InFlightLimit(pace=10, ceiling=32, clock=clock)
    for _ in range(9):
        answer(limit, clock, 1.0)
    refuse(limit, clock, 503)
    assert limit.allowance() == 7
    assert limit.stats().cuts_error == 1


def test_an_answer_that_the_server_refused_for_itself_is_no_strain():
    """A 404 or a 400 is an answer: its round trip counts, nothing is cut."""
    clock = Clock()
    limit = InFlightLimit(pace=10, ceiling=32, clock=clock)
    for _ in range(9):
        not_found = OrdoroAPIError(404, "GET", "/product/X/", "not found", None, None)
        with pytest.raises(OrdoroAPIError):
            fail(limit, clock, 1.0, not_found)
    assert limit.allowance() == 14
    assert limit.stats().cuts_error == limit.stats().cuts_429 == 0


def test_answers_slowing_down_cut_the_allowance_in_proportion():
    clock = Clock()
    limit = InFlightLimit(pace=10, ceiling=32, clock=clock)
    for _ in range(9):
        answer(limit, clock, 1.0)
    assert limit.allowance() == 14
    answer(limit, clock, 4.0)  # four times the median
    assert limit.allowance() == 3
    assert limit.stats().cuts_latency == 1


def test_one_cut_per_round_trip():
    """Requests sent before a cut come back as slow or refused as the one that cut: they do not
    cut again, nor count for growing back."""
    clock = Clock()
    limit = InFlightLimit(pace=10, ceiling=32, clock=clock)
    for _ in range(9):
        answer(limit, clock, 1.0)
    early = [limit.slot() for _ in range(4)]
    slots = [held.__enter__() for held in early]
    for slot in slots:
        slot.sent()
    refuse(limit, clock, 429)
    assert limit.allowance() == 7
    for held in early[:2]:
        refused = OrdoroTransientError("x", status=429)
        held.__exit__(OrdoroTransientError, refused, None)
    for held in early[2:]:
        held.__exit__(None, None, None)
    assert limit.allowance() == 7
    assert limit.stats().cuts_429 == 1


def test_never_more_in_flight_than_allowed_and_waiters_are_served_in_turn():
    clock = Clock()
    limit = InFlightLimit(pace=10, ceiling=2, clock=clock)
    first, second = limit.slot(), limit.slot()
    first.__enter__()
    second.__enter__()
    served: list[int] = []

    def wait_for_a_slot(number: int) -> None:
        with limit.slot():
            served.append(number)

    waiting = []
    for number in range(4):
        thread = threading.Thread(target=wait_for_a_slot, args=(number,))
        thread.start()
        waiting.append(thread)
        wait_until(lambda count=number + 1: len(limit._waiting) == count)
    assert served == []
    assert limit.stats().peak == 2
    first.__exit__(None, None, None)  # one slot goes round: each waiter in turn
    for thread in waiting:
        thread.join(timeout=10)
    assert served == [0, 1, 2, 3]
    second.__exit__(None, None, None)
    assert limit.stats().peak == 2


@pytest.mark.parametrize("spare_first", [True, False], ids=["spare-first", "control-normal"])
def test_spare_capacity_waits_behind_every_other_request(spare_first):
    """A page of a list in creation order (spare capacity) that asked first is still served
    after a keyset window's next page. Control: two ordinary requests are served in turn."""
    clock = Clock()
    limit = InFlightLimit(pace=10, ceiling=1, clock=clock)
    held = limit.slot()
    held.__enter__()
    served: list[str] = []

    def ask(name: str, spare: bool) -> None:
        if spare:
            with spare_capacity(), limit.slot():
                served.append(name)
        else:
            with limit.slot():
                served.append(name)

    first = threading.Thread(target=ask, args=("first", spare_first))
    first.start()
    wait_until(lambda: len(limit._waiting) + len(limit._waiting_spare) == 1)
    second = threading.Thread(target=ask, args=("second", False))
    second.start()
    wait_until(lambda: len(limit._waiting) + len(limit._waiting_spare) == 2)
    held.__exit__(None, None, None)
    first.join(timeout=10)
    second.join(timeout=10)
    assert served == (["second", "first"] if spare_first else ["first", "second"])


def wait_until(condition: Callable[[], bool]) -> None:
    event = threading.Event()
    for _ in range(1000):
        if condition():
            return
        event.wait(0.005)
    raise AssertionError("the condition never held")


# -- against a sandbox: counted at the sandbox ------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox of its own per test: the in-flight limit is shared per (api_url, username)."""
    options = SandboxOptions(seed=5, username=USER, password=SECRET, products=30, orders=10)
    with Sandbox(options) as running:
        yield running


def client_for(sandbox: Sandbox, **kwargs) -> OrdoroClient:
    kwargs.setdefault("retry", FAST_RETRIES)
    kwargs.setdefault("requests_per_minute", 1200)  # 20 a second
    return OrdoroClient(USER, SECRET, sandbox.url, **kwargs)


def read_from_threads(client: OrdoroClient, requests: int, threads: int = 40) -> None:
    """``requests`` GETs of /warehouse/ from ``threads`` threads at once."""
    remaining = list(range(requests))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        while True:
            with lock:
                if not remaining:
                    return
                remaining.pop()
            try:
                client.get("/warehouse/")
            except Exception as error:
                errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []


def test_in_flight_grows_with_the_latency(sandbox):
    """At 20 requests a second, answers taking 800 ms need 16 in flight to keep the pace: the
    client has that many at the sandbox (the old fixed 8 could not), and far fewer when answers
    are quick."""
    sandbox.set_latency_ms(800)
    read_from_threads(client_for(sandbox), 60)
    slow = InFlight.of(sandbox.requests)
    assert slow.peak >= 13

    sandbox.set_latency_ms(0)
    sandbox.reset_request_log()
    read_from_threads(client_for(sandbox), 60)
    quick = InFlight.of(sandbox.requests)
    assert quick.peak <= 6


def test_control_a_fixed_number_in_flight_holds_throughput_to_the_latency(sandbox):
    """Control for the test above: with 8 in flight at most (the old default, here as the
    ceiling) the same slow answers never have more than 8 at the sandbox."""
    sandbox.set_latency_ms(800)
    read_from_threads(client_for(sandbox, max_in_flight=8), 40)
    assert InFlight.of(sandbox.requests).peak <= 8


@pytest.mark.parametrize("fault", ["429", None])
def test_in_flight_shrinks_after_a_429(sandbox, fault):
    """At 40 requests a second and 500 ms answers the client allows 26 in flight. After a 429
    it sends nothing new until fewer than half of them are left: the first requests that reach
    the sandbox once the requests already waiting for the pace are out find at most 14 there.
    Control: without the 429 they find as many as before."""
    sandbox.set_latency_ms(500)
    if fault:
        sandbox.add_fault(FaultRule(kind="status", status=429, nth={60}, retry_after=0.0))
    client = client_for(sandbox, requests_per_minute=2400)
    read_from_threads(client, 120)
    log = sandbox.requests
    # The sandbox numbers faults and log entries on threads of their own: the request that met
    # the 429 is found by its status, not by its place in the log.
    rejected = [index for index, record in enumerate(log) if record.status == 429]
    assert len(rejected) == (1 if fault else 0)
    at = rejected[0] if fault else 59
    before = InFlight.of(log[:at])
    assert before.peak >= 17
    marker = log[at]
    assert marker.answered is not None
    # The requests that already held a slot wait for the pace for at most ~0.2 s more.
    later = [r for r in log[at + 1 :] if r.at > marker.answered + 0.3][:5]
    crowd = max(in_flight_at(log, r.at) for r in later)
    if fault:
        assert client.in_flight.stats().cuts_429 == 1
        assert crowd <= 14
    else:
        assert crowd >= 17


def test_answers_slowing_down_shrink_in_flight_and_it_grows_again(sandbox):
    """Latency five times higher: the next answer cuts the requests in flight, then they grow
    to what the new latency asks for. Control: a latency that stays never cuts."""
    sandbox.set_latency_ms(200)
    client = client_for(sandbox)
    read_from_threads(client, 30)
    assert client.in_flight.stats().cuts_latency == 0  # the control: steady answers
    steady = client.in_flight.allowance()
    sandbox.set_latency_ms(1000)
    read_from_threads(client, 3, threads=3)
    assert client.in_flight.stats().cuts_latency == 1
    assert client.in_flight.allowance() < steady
    read_from_threads(client, 80)
    assert client.in_flight.allowance() >= 20  # ceil(20 x 1.0 x 1.25) + 1 = 26


def test_many_in_flight_is_never_a_burst(sandbox):
    """Twenty and more requests in flight, yet arrivals keep the even pace: at 20 a second, no
    half second of arrivals holds more than 11, at the start (nothing measured yet) included."""
    sandbox.set_latency_ms(1000)
    read_from_threads(client_for(sandbox), 60)
    arrivals = sorted(record.at for record in sandbox.requests)
    assert InFlight.of(sandbox.requests).peak >= 15
    for index, start in enumerate(arrivals):
        within = sum(1 for moment in arrivals[index:] if moment < start + 0.5)
        assert within <= 11
