"""Injected faults: error statuses, dropped or cut-off connections, malformed bodies, short or
empty list pages, delays.

A :class:`FaultRule` says what to inject and when; the sandbox's :class:`FaultInjector` counts,
per rule, the requests the rule matches (by method and path prefix) and decides which rules
fire for each request.

Text form (``--fault SPEC`` on the command line, :meth:`FaultRule.parse`)::

    SPEC    := KIND [":" OPTIONS]... [":after"]
    KIND    := STATUS          an HTTP status, e.g. 503, 524 or 429 (429 carries Retry-After: 1);
                               a 3xx redirects (Location: the request's own path and query)
             | "drop"          close the TCP connection without any response
             | "cut"           send the real answer's status and headers (with its full
                               Content-Length), half of its body, then close the connection
                               (the request's real effect is applied first)
             | "malformed"     answer 200 with a truncated, invalid JSON body
             | "short"         a list page with fewer records than its count and limit promise
                               (half of them, rounded down), although more exist
             | "empty"         a list page with no records although its count promises some
             | "delay=" SECS   wait SECS seconds before answering (then answer normally)
    OPTIONS := OPTION ("," OPTION)...
    OPTION  := "p=" FLOAT       fire with this probability (0..1) on each matching request
             | "nth=" N["," N]... fire on these matching requests (1-based, counted per rule)
             | "times=" N       fire at most N times
             | "method=" NAME   match only this HTTP method
             | "path=" PREFIX   match only decoded paths starting with PREFIX
             | "location=" URL  a 3xx's Location instead of the request's own path (a path,
                               or //host/path: the text form cannot hold a colon)
             | "retry_after=" RA  a 429's Retry-After: SECS (default 1), "none" (no header),
                               "date" or "date+" SECS (an HTTP-date SECS seconds ahead, at
                               least; default 1)
             | "after"          apply the request's real effect first, replace only the answer

Without ``p`` and ``nth`` a rule fires on every request it matches (up to ``times``). ``cut``,
``short`` and ``empty`` always start from the real answer (as with ``after``); ``short`` and
``empty`` change only list answers (a ``count``/``limit``/``offset`` envelope). A delay with
``after`` waits once the request's effect is applied (a read timeout on a write that did apply);
without it, before (a write still in flight when the client gives up).
Examples: ``503:p=0.05``, ``429:nth=2,5``, ``429:retry_after=date+2``, ``429:retry_after=none``,
``drop:nth=3``, ``cut:nth=1,method=POST``, ``malformed:p=0.01``, ``short:nth=1,path=/product/``,
``empty:nth=2``, ``302:nth=1,method=POST``, ``drop:nth=1:after``, ``delay=2.5:nth=1``,
``503:nth=1,method=POST,path=/v3/order``.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("status", "drop", "cut", "malformed", "short", "empty", "delay")
#: Kinds that change the real answer, so the request's handler always runs first.
FROM_REAL_ANSWER = frozenset({"cut", "short", "empty"})


@dataclass
class FaultRule:
    """One kind of misbehaviour and when to show it.

    ``nth`` holds 1-based numbers among the requests THIS rule matches (method and
    path_prefix, matched against the decoded path). ``times`` caps the injections.
    ``after_handler`` applies the request's real effect first and only replaces the response
    (a POST that created the order, then the connection drops). ``retry_after`` is the delay a
    429 announces in ``Retry-After`` (None: no header), sent as an HTTP-date when
    ``retry_after_date``. A 3xx status redirects to ``location`` (None: the request's own path
    and query, so a client following it turns a POST into a GET of the same path).
    """

    kind: str
    status: int = 503
    probability: float | None = None
    nth: set[int] | None = None
    times: int | None = None
    method: str | None = None
    path_prefix: str | None = None
    after_handler: bool = False
    delay_seconds: float = 1.0
    retry_after: float | None = 1.0
    retry_after_date: bool = False
    location: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}: {self.kind!r}")
        if self.kind == "status" and not 300 <= self.status <= 599:
            raise ValueError(f"a status fault needs a 3xx, 4xx or 5xx status: {self.status}")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability must be between 0 and 1: {self.probability}")
        if self.nth is not None:
            self.nth = set(self.nth)
            if any(n < 1 for n in self.nth):
                raise ValueError(f"nth counts from 1: {sorted(self.nth)}")
        if self.times is not None and self.times < 0:
            raise ValueError(f"times cannot be negative: {self.times}")
        if self.delay_seconds < 0:
            raise ValueError(f"delay cannot be negative: {self.delay_seconds}")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError(f"retry_after cannot be negative: {self.retry_after}")
        if self.retry_after_date and self.retry_after is None:
            raise ValueError("retry_after_date needs a retry_after")
        if self.method is not None:
            self.method = self.method.upper()

    @property
    def from_real_answer(self) -> bool:
        """Whether the request's handler runs (and its effect applies) before the fault."""
        return self.after_handler or self.kind in FROM_REAL_ANSWER

    @property
    def label(self) -> str:
        """Short name for the request log, e.g. ``status:503``, ``drop``, ``delay:2.5``."""
        if self.kind == "status":
            return f"status:{self.status}"
        if self.kind == "delay":
            return f"delay:{self.delay_seconds:g}"
        return self.kind

    def matches(self, method: str, path: str) -> bool:
        """Whether the request is one this rule counts."""
        if self.method is not None and method.upper() != self.method:
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)

    @classmethod
    def parse(cls, spec: str) -> FaultRule:
        """Read the text form described in this module's docstring; ValueError when invalid."""
        sections = [part.strip() for part in spec.strip().split(":")]
        head, options = sections[0], sections[1:]
        values: dict = {}
        if head.isdigit():
            values.update(kind="status", status=int(head))
        elif head in FAULT_KINDS and head not in ("status", "delay"):
            values["kind"] = head
        elif head.startswith("delay="):
            values.update(kind="delay", delay_seconds=_number(head[len("delay=") :], spec))
        else:
            raise ValueError(
                f"fault {spec!r}: start with a status (e.g. 503), drop, cut, malformed, short, "
                "empty or delay=SECONDS"
            )
        last_key = None
        for part in (t.strip() for section in options for t in section.split(",")):
            if not part:
                continue
            if part == "after":
                values["after_handler"] = True
                last_key = None
                continue
            if "=" not in part:
                if last_key == "nth" and part.isdigit():
                    values["nth"].add(int(part))
                    continue
                raise ValueError(f"fault {spec!r}: cannot read {part!r}")
            key, value = (s.strip() for s in part.split("=", 1))
            last_key = key
            if key == "p":
                values["probability"] = _number(value, spec)
            elif key == "nth":
                if not value.isdigit():
                    raise ValueError(f"fault {spec!r}: nth takes whole numbers: {value!r}")
                values["nth"] = {int(value)}
            elif key == "times":
                if not value.isdigit():
                    raise ValueError(f"fault {spec!r}: times takes a whole number: {value!r}")
                values["times"] = int(value)
            elif key == "method":
                values["method"] = value
            elif key == "path":
                values["path_prefix"] = value
            elif key == "location":
                values["location"] = value
            elif key == "retry_after":
                values.update(_retry_after_option(value, spec))
            else:
                raise ValueError(f"fault {spec!r}: unknown option {key!r}")
        return cls(**values)


def _retry_after_option(value: str, spec: str) -> dict[str, Any]:
    """``retry_after=`` SECS, none, date or date+SECS as FaultRule fields."""
    if value == "none":
        return {"retry_after": None}
    if value == "date":
        return {"retry_after": 1.0, "retry_after_date": True}
    if value.startswith("date+"):
        return {"retry_after": _number(value[len("date+") :], spec), "retry_after_date": True}
    return {"retry_after": _number(value, spec)}


def _number(text: str, spec: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"fault {spec!r}: not a number: {text!r}") from None


@dataclass
class FaultPlan:
    """The faults that fire for one request: delays, and at most one answer-changing fault."""

    delays: list[FaultRule] = field(default_factory=list)
    fault: FaultRule | None = None

    @property
    def label(self) -> str | None:
        """What the request log records, or None when nothing fires."""
        labels = [rule.label for rule in self.delays]
        if self.fault is not None:
            labels.append(self.fault.label)
        return ",".join(labels) or None

    def delay_seconds(self, *, after_handler: bool) -> float:
        """Total delay to apply before (or after) the handler runs."""
        return sum(r.delay_seconds for r in self.delays if r.after_handler == after_handler)


@dataclass
class _RuleCounters:
    rule: FaultRule
    matched: int = 0
    injected: int = 0


class FaultInjector:
    """Decides, request by request, which fault rules fire. Thread-safe.

    Probabilities draw from a generator seeded with the sandbox's seed, so a run with the same
    requests in the same order sees the same faults.
    """

    def __init__(self, rules: list[FaultRule] | None = None, seed: int = 1) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(f"ordoro-sandbox-faults-{seed}")
        self._counters = [_RuleCounters(rule) for rule in rules or []]

    def add(self, rule: FaultRule) -> None:
        """Add a rule; its request count starts now."""
        with self._lock:
            self._counters.append(_RuleCounters(rule))

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._counters.clear()

    @property
    def rules(self) -> list[FaultRule]:
        """The rules in force, in the order they are checked."""
        with self._lock:
            return [counters.rule for counters in self._counters]

    def plan(self, method: str, path: str) -> FaultPlan:
        """Count the request for every rule it matches and return what fires."""
        plan = FaultPlan()
        with self._lock:
            for counters in self._counters:
                rule = counters.rule
                if not rule.matches(method, path):
                    continue
                counters.matched += 1
                if rule.kind != "delay" and plan.fault is not None:
                    continue
                if not self._fires(counters):
                    continue
                counters.injected += 1
                if rule.kind == "delay":
                    plan.delays.append(rule)
                else:
                    plan.fault = rule
        return plan

    def _fires(self, counters: _RuleCounters) -> bool:
        rule = counters.rule
        if rule.times is not None and counters.injected >= rule.times:
            return False
        if rule.nth is not None and counters.matched not in rule.nth:
            return False
        return rule.probability is None or self._random.random() < rule.probability
