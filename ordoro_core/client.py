"""The one Ordoro API client that tap-ordoro and target-ordoro share.

Everything HTTP lives here, once: Basic auth on one keep-alive ``requests.Session``, timeouts,
retries with backoff for what is transient, one rate limiter per account and process, paths
built from percent-encoded segments, and Ordoro's error answers turned into exceptions whose
messages never carry the password.

What counts as transient, and what the client does about it:

* 429 (waits ``Retry-After``, in seconds or as an HTTP-date), 500-504 and the 520-524 a CDN or
  proxy in front of Ordoro sends, timeouts, dropped connections, answers cut off mid-body and
  2xx answers whose body is not JSON: retried with backoff. A list page shorter than its own
  ``count`` promises (or empty too early) is read again rather than taken as the end of the list.
* A non-idempotent write (POST) that failed in a way that may have applied it is only sent again
  once its ``verify`` callback says it was not applied. After a timeout (the client's, or a
  gateway's 504/522/524) the original request may still be running on the server, so the check
  is repeated ``RetryPolicy.settle_seconds`` later before the write is sent again.
* Never retried: other 4xx, a redirect (3xx: never followed, since it would carry the
  credentials elsewhere and turn a POST into a GET), and a host name that does not resolve.

Credentials go only over HTTPS, except to loopback hosts (a local sandbox).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests
import urllib3
from pyrate_limiter import Duration, Limiter, Rate
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from ordoro_core import __version__

logger = logging.getLogger("ordoro_core.client")

DEFAULT_API_URL = "https://api.ordoro.com"
#: Ordoro answers 429 above 500 requests a minute; stay a little under it by default.
DEFAULT_REQUESTS_PER_MINUTE = 480
#: Statuses worth retrying: rate limited, or the server (or a proxy or CDN in front of it)
#: failed. 520-524 are the CDN's own: unknown error, origin down, connection to the origin timed
#: out, origin unreachable, the origin's answer timed out.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
#: Statuses by which a gateway says it gave up waiting: the origin may still be working on it.
GATEWAY_TIMEOUT_STATUSES = frozenset({504, 522, 524})
#: Ordoro's largest page size.
MAX_PAGE_SIZE = 100
#: How much of a path, or of Ordoro's error message, an error message quotes at most.
MAX_QUOTED_CHARS = 200


class OrdoroError(Exception):
    """Base class of every error this client raises."""


class OrdoroAPIError(OrdoroError):
    """Ordoro answered with an error status.

    ``error_message`` and ``param`` come from Ordoro's error envelope
    (``{"error_message": ..., "param": ...}``); ``body`` is the decoded body (or its text).
    """

    def __init__(
        self,
        status: int,
        method: str,
        path: str,
        error_message: str | None,
        param: str | None,
        body: Any,
        message: str | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.error_message = error_message
        self.param = param
        self.body = body
        detail = clip(str(error_message or body or "no details"))
        if param:
            detail = f"{detail} (param: {clip(str(param))})"
        super().__init__(message or f"Ordoro answered {status} to {method} {clip(path)}: {detail}")


class OrdoroAuthError(OrdoroAPIError):
    """Ordoro rejected the credentials (401) or refused the account access (403)."""


class OrdoroConfigError(OrdoroError, ValueError):
    """The client cannot be used as configured (e.g. plain ``http://`` to a remote host).

    Raised before any request is sent. Also a ``ValueError``.
    """


class OrdoroRedirectError(OrdoroError):
    """Ordoro (or whatever answers at ``api_url``) answered a redirect, which is not followed.

    Following it would send the credentials to another place (and ``requests`` turns a
    redirected POST into a GET, so a create would look like it succeeded). Not an
    :class:`OrdoroAPIError` on purpose: a wrong ``api_url`` is no single record's fault and ends
    a run instead of dead-lettering every record.
    """

    def __init__(self, status: int, method: str, path: str, location: str | None) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.location = location
        super().__init__(
            f"Ordoro answered {status} to {method} {path} with a redirect to "
            f"{location or '(no Location)'}; redirects are not followed (they would carry the "
            "credentials elsewhere): check api_url"
        )


class OrdoroUnreachableError(OrdoroError):
    """``api_url``'s host name does not resolve: a configuration problem, not retried."""


class OrdoroCertificateError(OrdoroError):
    """The server's TLS certificate does not verify (wrong host, self-signed, expired, or a
    proxy that intercepts TLS): asking again gets the same certificate, so it is not retried."""


class OrdoroInvalidRequest(OrdoroAPIError):
    """The request cannot be sent as it is, and was not: its JSON body holds NaN or an infinite
    number (which JSON cannot carry), or a path segment is not valid Unicode.

    An :class:`OrdoroAPIError` without a ``status`` (Ordoro never answered), so that a caller
    handling refused writes (the target dead-letters them) handles this one the same way.
    """

    def __init__(self, reason: str, method: str = "", path: str = "") -> None:
        where = f"{method} {clip(path)} " if method else ""
        super().__init__(
            None,  # type: ignore[arg-type]
            method,
            path,
            reason,
            None,
            None,
            message=f"{where}not sent: {reason}",
        )


def clip(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """``text`` cut to ``limit`` characters (with an ellipsis), on one line.

    >>> clip("a" * 10, 4)
    'aaaa…'
    >>> clip("two\\nlines")
    'two lines'
    """
    flat = " ".join(text.splitlines())
    return flat if len(flat) <= limit else flat[:limit] + "…"


class OrdoroTransientError(OrdoroError):
    """A transient failure (429, 5xx, timeout, dropped connection, garbled body).

    Raised inside the retry loop to ask for another attempt, and to the caller once retries
    are exhausted.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        maybe_applied: bool = True,
        in_flight: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        #: False only where Ordoro certainly did not act on the request (429, no connection).
        self.maybe_applied = maybe_applied
        #: True when the request may still be running on the server (a timeout: ours, or a
        #: gateway's), so that checking whether it was applied can race it.
        self.in_flight = in_flight


class _AmbiguousWriteFailure(OrdoroError):
    """A non-idempotent write failed in a way that may have applied it; not retried blindly."""


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


class PacedLimiter:
    """pyrate-limiter's :class:`Limiter` at an even pace, with waiting threads served in turn.

    pyrate-limiter wakes its waiters in no particular order, so a thread can be passed over
    again and again while others get slot after slot. The tap reads windows of a list on
    threads of their own, each waiting for its previous page; one thread passed over finishes
    last and alone, at the speed of latency. Threads here queue on a lock for their turn
    (first come, first served, as far as the OS wakes them), and the one holding it waits for
    the limiter's next slot.
    """

    def __init__(self, requests_per_window: int, window_seconds: float) -> None:
        self.limiter = Limiter(_paced(requests_per_window, window_seconds), buffer_ms=1)
        self._turn = threading.Lock()

    def try_acquire(self, name: str) -> None:
        """Wait for the next slot (blocking)."""
        with self._turn:
            self.limiter.try_acquire(name)


_limiters: dict[tuple[str, str], tuple[int, float, PacedLimiter]] = {}
_limiters_lock = threading.Lock()


def _paced(requests_per_window: int, window_seconds: float) -> Rate:
    """The ceiling as an even pace: one request per ``window / requests``.

    Ordoro counts an account's requests over a window of its own, whose edges we do not see.
    A client that spends a whole window's allowance in a burst, and the next one at the next
    edge, has two bursts inside one of Ordoro's windows as soon as network delays differ by a
    few milliseconds; an even pace puts at most one extra request into any window of theirs.
    It is also the pace that leaves the merchant's other integrations a share at every moment.
    """
    spacing_ms = math.ceil(Duration.SECOND * window_seconds / requests_per_window)
    return Rate(1, max(1, spacing_ms))


def shared_rate_limiter(
    api_url: str, username: str, requests_per_window: int, window_seconds: float = 60.0
) -> PacedLimiter:
    """The process-wide limiter for one Ordoro account.

    Ordoro counts requests per account, so every client of the same ``(api_url, username)`` in
    this process, and every thread using them, draws from the same sliding window. A different
    ceiling for the same account replaces the limiter (the latest configuration wins).
    """
    key = (api_url, username)
    with _limiters_lock:
        known = _limiters.get(key)
        if known and known[0] == requests_per_window and known[1] == window_seconds:
            return known[2]
        limiter = PacedLimiter(requests_per_window, window_seconds)
        _limiters[key] = (requests_per_window, window_seconds, limiter)
        return limiter


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is this machine: ``localhost``, 127.0.0.0/8 or ::1.

    >>> [is_loopback_host(h) for h in ("localhost", "127.0.0.1", "127.8.9.1", "::1")]
    [True, True, True, True]
    >>> [is_loopback_host(h) for h in ("api.ordoro.com", "10.0.0.1", "localhost.example.com")]
    [False, False, False]
    """
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _clean_base_url(api_url: str) -> str:
    """Check ``api_url`` and drop any user:password@ (credentials belong in the settings) and the
    trailing slash.

    Basic credentials go in clear text over plain HTTP, so ``http://`` is refused unless the host
    is a loopback address (a local sandbox).

    >>> _clean_base_url("https://user:secret@api.ordoro.com/")
    'https://api.ordoro.com'
    >>> _clean_base_url("http://127.0.0.1:8555")
    'http://127.0.0.1:8555'
    """
    try:
        parts = urlsplit(str(api_url).strip())
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        shown = _without_userinfo(str(api_url))
        raise OrdoroConfigError(f"api_url must be an absolute https:// URL, got {shown!r}")
    host = parts.hostname
    if parts.scheme == "http" and not is_loopback_host(host):
        raise OrdoroConfigError(
            f"api_url {_without_userinfo(str(api_url))!r} is plain http:// to {host}: use "
            "HTTPS (https://); the credentials would travel unencrypted (plain http is only "
            "allowed to loopback hosts such as a local sandbox)"
        )
    netloc = f"[{host}]" if ":" in host else host
    if port:
        netloc = f"{netloc}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _without_userinfo(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.rpartition("@")[2]
    authority, slash, tail = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{tail}"


def build_path(*segments: str | int) -> str:
    """Build an Ordoro path from raw segments.

    Each segment is percent-encoded on its own (``safe=""``), so a SKU holding ``/``, ``#``,
    ``?``, ``%``, spaces or unicode stays one segment. Ordoro's rule for the trailing slash:
    paths under ``/v3/`` have none, every other path needs one.

    >>> build_path("product", "A/B #1", "warehouse", 7)
    '/product/A%2FB%20%231/warehouse/7/'
    >>> build_path("v3", "order", "M-1001")
    '/v3/order/M-1001'
    """
    if not segments:
        raise ValueError("a path needs at least one segment")
    try:
        path = "/" + "/".join(quote(str(segment), safe="") for segment in segments)
    except UnicodeEncodeError:
        raise OrdoroInvalidRequest(
            f"a path segment is not valid Unicode (a lone surrogate): {segments!r}"[:300]
        ) from None
    return path if str(segments[0]) == "v3" else path + "/"


class OrdoroClient:
    """A thread-safe client for one Ordoro account.

    Create one per process (the tap and the target each hold one) and share it between
    streams, sinks and threads.
    """

    def __init__(
        self,
        username: str,
        password: str,
        api_url: str = DEFAULT_API_URL,
        requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
        *,
        rate_window_seconds: float = 60.0,
        timeout: tuple[float, float] = (10.0, 60.0),
        retry: RetryPolicy | None = None,
        user_agent: str = f"ordoro-singer/{__version__}",
    ) -> None:
        if not username or not password:
            raise OrdoroConfigError(
                "Ordoro needs both `username` (Client ID) and `password` (Secret)"
            )
        if requests_per_minute < 1:
            raise OrdoroConfigError("requests_per_minute must be at least 1")
        self.api_url = _clean_base_url(api_url)
        self.host = urlsplit(self.api_url).hostname or ""
        self.username = username
        self._password = password
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.limiter = shared_rate_limiter(
            self.api_url, username, requests_per_minute, rate_window_seconds
        )
        self.session = requests.Session()
        self.session.auth = (username, password)
        self.session.headers.update(
            {"Accept": "application/json", "User-Agent": user_agent},
        )
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> OrdoroClient:
        """Build the client from plugin settings (see ``ordoro_core.settings``).

        The credentials come from ``username``/``password`` or ``client_id``/``client_secret``.
        """
        from ordoro_core.settings import resolve_credentials  # here: settings imports this module

        credentials = resolve_credentials(config)
        return cls(
            username=credentials.username,
            password=credentials.password,
            api_url=config.get("api_url") or DEFAULT_API_URL,
            requests_per_minute=int(
                config.get("requests_per_minute") or DEFAULT_REQUESTS_PER_MINUTE
            ),
            **overrides,
        )

    def __repr__(self) -> str:
        return f"OrdoroClient(api_url={self.api_url!r}, username={self.username!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    # Requests

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` and return the decoded JSON body."""
        return self.request("GET", path, params=params)

    def post(
        self,
        path: str,
        body: Any,
        *,
        idempotent: bool = False,
        verify: Callable[[], Any] | None = None,
    ) -> Any:
        """POST a JSON body and return the decoded answer (see :meth:`request` on retries)."""
        return self.request("POST", path, json_body=body, idempotent=idempotent, verify=verify)

    def put(self, path: str, body: Any) -> Any:
        """PUT a JSON body and return the decoded answer."""
        return self.request("PUT", path, json_body=body)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
        verify: Callable[[], Any] | None = None,
    ) -> Any:
        """Send one request, retrying what is transient, and return the decoded JSON body.

        GET and PUT are idempotent and retried on every transient failure. A POST is not
        (``idempotent=False`` by default): after a failure that may have reached Ordoro (a 5xx,
        a read timeout, a connection dropped after sending, an answer cut off or garbled) it is
        only sent again once ``verify()`` says the write did not happen (it returns None); a
        non-None result of ``verify()`` is taken as the answer. After a timeout the original may
        still be in flight, so a None is only believed when a second ``verify()``,
        ``RetryPolicy.settle_seconds`` later, agrees. Without ``verify`` such a POST is not
        retried. Failures Ordoro certainly did not act on (429, no connection) are always
        retried.

        Raises ``OrdoroAuthError`` for 401/403, ``OrdoroAPIError`` for any other error answer
        that is not transient, ``OrdoroRedirectError`` for a 3xx (never followed),
        ``OrdoroUnreachableError`` when the host name does not resolve and
        ``OrdoroCertificateError`` when the server's TLS certificate does not verify (neither
        retried), and ``OrdoroTransientError`` once retries are exhausted.
        """
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        if idempotent is None:
            idempotent = method.upper() != "POST"
        shown = clip(self._redact(path))  # what messages and logs say: never the password
        try:
            data = None if json_body is None else _encode_body(json_body)
            _check_params(params)
        except ValueError as error:
            raise OrdoroInvalidRequest(str(error), method, shown) from None

        def attempt() -> Any:
            try:
                return self._send_once(method, path, shown, params, data)
            except OrdoroTransientError as error:
                if idempotent or not error.maybe_applied:
                    raise
                if verify is None:
                    raise _AmbiguousWriteFailure(str(error)) from None
                already = self._verify_write(method, shown, error, verify)
                if already is not None:
                    logger.info("%s %s was applied before it failed (%s)", method, shown, error)
                    return already
                raise

        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            wait=_wait_for(self.retry),
            stop=stop_after_attempt(self.retry.max_attempts)
            | stop_after_delay(self.retry.max_total_wait_seconds),
            before_sleep=lambda state: _log_retry(method, shown, state, self.retry.max_attempts),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _AmbiguousWriteFailure as error:
            raise OrdoroTransientError(
                f"{method} {shown} failed ({error}) and may or may not have been applied; "
                "not sent again",
            ) from None
        except OrdoroTransientError as error:
            raise OrdoroTransientError(
                f"{method} {shown} still failing after retries: {self._redact(str(error))}",
                status=error.status,
            ) from None

    def get_or_none(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` like :meth:`get`, but None when Ordoro answers 404 (no such record)."""
        try:
            return self.get(path, params)
        except OrdoroAPIError as error:
            if error.status == 404:
                return None
            raise

    def check_credentials(self) -> None:
        """Raise ``OrdoroAuthError`` unless Ordoro accepts the credentials."""
        self.get(build_path("authenticated"))

    # Internals

    def _verify_write(
        self,
        method: str,
        path: str,
        error: OrdoroTransientError,
        verify: Callable[[], Any],
    ) -> Any:
        """Whether an ambiguous write was applied: ``verify()``'s answer, or None when not.

        After a timeout the original request may still be running on the server, so a first
        "not applied" is checked once more ``settle_seconds`` later.
        """
        checks = 2 if error.in_flight else 1
        for check in range(checks):
            if check:
                logger.info(
                    "%s %s timed out and is not applied yet; it may still be in flight, "
                    "checking again in %.1fs before sending it again",
                    method,
                    path,
                    self.retry.settle_seconds,
                )
                time.sleep(self.retry.settle_seconds)
            try:
                already = verify()
            except OrdoroTransientError as verify_error:
                # Not knowing whether it was applied, sending it again could apply it twice.
                raise _AmbiguousWriteFailure(
                    f"{error}; checking it failed: {verify_error}"
                ) from None
            if already is not None:
                return already
        return None

    def _send_once(
        self,
        method: str,
        path: str,
        shown: str,
        params: Mapping[str, Any] | None,
        data: str | None,
    ) -> Any:
        self.limiter.try_acquire("ordoro")
        headers = {"Content-Type": "application/json"} if data is not None else None
        try:
            response = self.session.request(
                method,
                self.api_url + path,
                params=params,
                data=data,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            # Headers and part of the body came, then the connection closed (urllib3 checks
            # the body against Content-Length): Ordoro had answered, so a write was applied.
            raise OrdoroTransientError(
                f"the answer from {self.host} was cut off mid-body", maybe_applied=True
            ) from None
        except (requests.ConnectTimeout, requests.ConnectionError, requests.Timeout) as error:
            failed_check = _certificate_not_verified(error)
            if failed_check is not None:
                raise OrdoroCertificateError(
                    f"the TLS certificate of {self.host} does not verify "
                    f"({failed_check.verify_message or failed_check.reason}): check api_url, "
                    "and the CA certificates of this machine or of a proxy in between"
                ) from None
            if _name_not_resolved(error):
                raise OrdoroUnreachableError(
                    f"cannot resolve host {self.host!r} (api_url {self.api_url}): check api_url "
                    "and the network's DNS"
                ) from None
            timed_out = _read_timed_out(error)
            raise OrdoroTransientError(
                f"{'read timeout' if timed_out else type(error).__name__} talking to {self.host}",
                maybe_applied=not _never_sent(error),
                in_flight=timed_out,
            ) from None
        except requests.RequestException as error:
            raise OrdoroError(
                f"{method} {shown} failed: {type(error).__name__} talking to {self.host}: "
                f"{self._redact(str(error))[:300]}"
            ) from None
        with response:
            body = self._decode(method, shown, response)
        if method.upper() == "GET":
            _check_page(body)
        return body

    def _decode(self, method: str, path: str, response: requests.Response) -> Any:
        """The JSON body of a 2xx answer, or the error it stands for (``path``: as shown)."""
        status = response.status_code
        try:
            text = response.text
        except requests.RequestException:
            raise OrdoroTransientError(f"connection dropped while reading {status}") from None
        if 300 <= status < 400:
            location = response.headers.get("Location")
            raise OrdoroRedirectError(
                status,
                method,
                path,
                _without_userinfo(self._redact(location)) if location else None,
            )
        if status in TRANSIENT_STATUSES:
            raise OrdoroTransientError(
                f"HTTP {status}",
                status=status,
                retry_after=_retry_after(response),
                maybe_applied=status != 429,
                in_flight=status in GATEWAY_TIMEOUT_STATUSES,
            )
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            if 200 <= status < 300:
                raise OrdoroTransientError(f"HTTP {status} with a body that is not JSON") from None
            body = text[:1000]
        if 200 <= status < 300:
            return body
        body = self._redact_value(body)
        envelope = body if isinstance(body, dict) else {}
        error_message = envelope.get("error_message")
        param = envelope.get("param", envelope.get("params"))
        if status in (401, 403):
            raise OrdoroAuthError(
                status,
                method,
                path,
                error_message,
                param,
                body,
                message=(
                    f"Ordoro rejected the credentials (HTTP {status}) at {self.api_url}: check "
                    "`username` or `client_id` (the API key's Client ID) and `password` or "
                    "`client_secret` (its Client Secret)."
                ),
            )
        raise OrdoroAPIError(
            status,
            method,
            path,
            self._redact(error_message) if isinstance(error_message, str) else error_message,
            param,
            body,
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._password, "********") if self._password else text

    def _redact_value(self, value: Any) -> Any:
        """An error body with the password masked in every string (keys and values)."""
        if isinstance(value, str):
            return self._redact(value)
        if isinstance(value, list):
            return [self._redact_value(item) for item in value]
        if isinstance(value, dict):
            return {self._redact_value(k): self._redact_value(v) for k, v in value.items()}
        return value


def _encode_body(body: Any) -> str:
    """A request body as strict JSON; ValueError (saying why) when it cannot be.

    >>> _encode_body({"on_hand": 12})
    '{"on_hand": 12}'
    >>> _encode_body({"on_hand": float("nan")})
    Traceback (most recent call last):
    ...
    ValueError: the JSON body holds NaN or an infinite number, which JSON cannot carry
    """
    try:
        return json.dumps(body, default=str, allow_nan=False)
    except ValueError as error:
        if "Out of range float" in str(error):
            raise ValueError(
                "the JSON body holds NaN or an infinite number, which JSON cannot carry"
            ) from None
        raise ValueError(f"the JSON body cannot be encoded: {error}") from None


def _check_params(params: Mapping[str, Any] | None) -> None:
    """ValueError (saying which) when a query parameter cannot be sent: text that is not valid
    Unicode (a lone surrogate) has no UTF-8 form, and requests would fail encoding it.

    >>> _check_params({"cart_order_id": "1-1001", "limit": 100})
    >>> _check_params({"cart_order_id": "1-\\ud800"})
    Traceback (most recent call last):
    ...
    ValueError: query parameter 'cart_order_id' is not valid Unicode (a lone surrogate)
    """
    for name, value in (params or {}).items():
        for text in (name, value):
            if isinstance(text, str):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueError(
                        f"query parameter {clip(str(name), 60)!r} is not valid Unicode (a lone "
                        "surrogate)"
                    ) from None


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, OrdoroTransientError)


def _never_sent(error: requests.RequestException) -> bool:
    """True when the request certainly never reached the server (no connection was made).

    requests wraps urllib3's ``MaxRetryError`` whose ``reason`` is the underlying failure.
    """
    if isinstance(error, requests.ConnectTimeout):
        return True
    wrapped = error.args[0] if error.args else None
    reason = getattr(wrapped, "reason", wrapped)
    return isinstance(reason, (urllib3.exceptions.NewConnectionError, ConnectionRefusedError))


def _causes(error: BaseException) -> list[BaseException]:
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


def _name_not_resolved(error: BaseException) -> bool:
    """Whether a connection failed because the host name does not resolve (DNS)."""
    name_error = getattr(urllib3.exceptions, "NameResolutionError", socket.gaierror)
    return any(isinstance(cause, (name_error, socket.gaierror)) for cause in _causes(error))


def _certificate_not_verified(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate check that failed behind ``error``, if one did (other TLS failures, a
    handshake cut off for one, stay transient)."""
    for cause in _causes(error):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return cause
    return None


def _read_timed_out(error: BaseException) -> bool:
    """Whether the request was sent and the answer did not come in time."""
    if isinstance(error, requests.ConnectTimeout):
        return False
    return isinstance(error, requests.ReadTimeout) or any(
        isinstance(cause, urllib3.exceptions.ReadTimeoutError) for cause in _causes(error)
    )


def _check_page(body: Any) -> None:
    """Raise a transient error when a list page holds fewer records than it promises.

    Ordoro's list envelope says ``count`` (records matching), ``limit`` and ``offset``; a page
    must hold ``min(limit, count - offset)`` of them. A shorter one (or an empty one before the
    end) would make a pager stop early and lose records, so it is read again instead.

    >>> _check_page({"count": 3, "limit": 2, "offset": 2, "order": [{}]})
    >>> try:
    ...     _check_page({"count": 3, "limit": 2, "offset": 0, "order": [{}]})
    ... except OrdoroTransientError as error:
    ...     print(error)
    short page: 1 record(s) at offset 0 where count 3 and limit 2 promise 2
    """
    if not isinstance(body, dict):
        return
    numbers = [body.get(name) for name in ("count", "limit", "offset")]
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        return
    lists = [value for value in body.values() if isinstance(value, list)]
    if len(lists) != 1:
        return
    count, limit, offset = numbers
    promised = max(0, min(limit, count - offset))
    if len(lists[0]) < promised:
        raise OrdoroTransientError(
            f"short page: {len(lists[0])} record(s) at offset {offset} where count {count} "
            f"and limit {limit} promise {promised}",
            maybe_applied=False,
        )


def _retry_after(response: requests.Response, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: a number of seconds, or an HTTP-date (RFC 9110).

    >>> class Answer:
    ...     headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}
    >>> _retry_after(Answer(), now=datetime(2015, 10, 21, 7, 28, tzinfo=timezone.utc))
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


def _wait_for(policy: RetryPolicy) -> Any:
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


def _log_retry(method: str, path: str, state: RetryCallState, max_attempts: int) -> None:
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    logger.warning(
        "%s %s failed (%s); retry %d of %d in %.1fs",
        method,
        path,
        error,
        state.attempt_number,
        max_attempts - 1,
        wait,
    )
