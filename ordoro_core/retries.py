"""When the client asks again: what failure is transient, how long to wait, and how often.

* 429 (waits ``Retry-After``, in seconds or as an HTTP-date), 500-504 and the 520-524 a CDN or
  proxy in front of Ordoro sends, timeouts, dropped connections, answers cut off mid-body and
  2xx answers whose body is not JSON: retried with backoff (full jitter), within
  :class:`RetryPolicy`'s bounds.
* A non-idempotent write (POST) that failed in a way that may have applied it is only sent again
  once its ``verify`` callback says it was not applied (:class:`AmbiguousWriteFailure`
  otherwise). After a timeout (the client's, or a gateway's 504/522/524) the original request may
  still be running on the server, so the check is repeated ``RetryPolicy.settle_seconds`` later.
* Never retried: other 4xx, a redirect, a host name that does not resolve, a TLS certificate
  that does not verify.

The functions here classify a failed attempt; the client (:mod:`ordoro_core.client`) runs the
loop with tenacity.
"""

from __future__ import annotations

import logging
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import urllib3
from tenacity import RetryCallState, wait_random_exponential

from ordoro_core.errors import OrdoroError, OrdoroTransientError

#: Statuses worth retrying: rate limited, or the server (or a proxy or CDN in front of it)
#: failed. 520-524 are the CDN's own: unknown error, origin down, connection to the origin timed
#: out, origin unreachable, the origin's answer timed out.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
#: Statuses by which a gateway says it gave up waiting: the origin may still be working on it.
GATEWAY_TIMEOUT_STATUSES = frozenset({504, 522, 524})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries before giving up on a transient failure.

    ``backoff_seconds`` is the base of the exponential backoff (full jitter: each wait is
    uniform in ``[0, min(backoff_max_seconds, backoff_seconds * 2**attempt)]``); a 429's
    ``Retry-After`` is honoured instead, capped at ``backoff_max_seconds``. The loop stops after
    ``max_attempts`` tries or once ``max_total_wait_seconds`` have passed, whichever is first.
    A 429 without ``Retry-After`` waits at least ``backoff_seconds``.

    ``settle_seconds``: after a non-idempotent write timed out (the client's read timeout, or a
    gateway's 504/522/524), the original request may still be running on the server. When the
    first check finds the write not applied, it is checked once more this many seconds later,
    and only then sent again.
    """

    max_attempts: int = 8
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    max_total_wait_seconds: float = 300.0
    settle_seconds: float = 10.0


class AmbiguousWriteFailure(OrdoroError):
    """A non-idempotent write failed in a way that may have applied it; not retried blindly."""


def is_transient(error: BaseException) -> bool:
    return isinstance(error, OrdoroTransientError)


def never_sent(error: requests.RequestException) -> bool:
    """True when the request certainly never reached the server (no connection was made).

    requests wraps urllib3's ``MaxRetryError`` whose ``reason`` is the underlying failure.
    """
    if isinstance(error, requests.ConnectTimeout):
        return True
    wrapped = error.args[0] if error.args else None
    reason = getattr(wrapped, "reason", wrapped)
    return isinstance(reason, (urllib3.exceptions.NewConnectionError, ConnectionRefusedError))


def causes(error: BaseException) -> list[BaseException]:
    """``error``, what requests and urllib3 wrapped in it, and its causes (no cycles)."""
    seen: list[BaseException] = []
    pending: list[Any] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or any(current is s for s in seen):
            continue
        seen.append(current)
        pending.extend(
            [
                getattr(current, "reason", None),
                *(getattr(current, "args", None) or ()),
                current.__cause__,
                current.__context__,
            ]
        )
    return seen


def name_not_resolved(error: BaseException) -> bool:
    """Whether a connection failed because the host name does not resolve (DNS)."""
    name_error = getattr(urllib3.exceptions, "NameResolutionError", socket.gaierror)
    return any(isinstance(cause, (name_error, socket.gaierror)) for cause in causes(error))


def certificate_not_verified(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate check that failed behind ``error``, if one did (other TLS failures, a
    handshake cut off for one, stay transient)."""
    for cause in causes(error):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return cause
    return None


def read_timed_out(error: BaseException) -> bool:
    """Whether the request was sent and the answer did not come in time."""
    if isinstance(error, requests.ConnectTimeout):
        return False
    return isinstance(error, requests.ReadTimeout) or any(
        isinstance(cause, urllib3.exceptions.ReadTimeoutError) for cause in causes(error)
    )


def retry_after(response: requests.Response, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: a number of seconds, or an HTTP-date (RFC 9110).

    >>> class Answer:
    ...     headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}
    >>> retry_after(Answer(), now=datetime(2015, 10, 21, 7, 28, tzinfo=timezone.utc))
    30.0
    """
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def wait_for(policy: RetryPolicy) -> Any:
    exponential = wait_random_exponential(
        multiplier=policy.backoff_seconds, max=policy.backoff_max_seconds
    )

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, OrdoroTransientError) and error.retry_after is not None:
            return min(error.retry_after, policy.backoff_max_seconds)
        if isinstance(error, OrdoroTransientError) and error.status == 429:
            # Rate limited without a Retry-After: never straight back.
            return max(min(policy.backoff_seconds, policy.backoff_max_seconds), exponential(state))
        return exponential(state)

    return wait


def log_retry(method: str, path: str, state: RetryCallState, max_attempts: int) -> None:
    """Log a retry about to wait (as the client's logger: the client retries)."""
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    logging.getLogger("ordoro_core.client").warning(
        "%s %s failed (%s); retry %d of %d in %.1fs",
        method,
        path,
        error,
        state.attempt_number,
        max_attempts - 1,
        wait,
    )
