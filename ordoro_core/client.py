"""The one Ordoro API client that tap-ordoro and target-ordoro share.

Everything HTTP lives here, once: Basic auth on one keep-alive ``requests.Session``, timeouts,
retries with backoff for what is transient, one rate limiter per account and process, paths
built from percent-encoded segments, and Ordoro's error answers turned into exceptions whose
messages never carry the password.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
#: Statuses worth retrying: rate limited, or the server (or a proxy in front of it) failed.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Ordoro's largest page size.
MAX_PAGE_SIZE = 100


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
        detail = error_message or (str(body)[:300] if body else "no details")
        if param:
            detail = f"{detail} (param: {param})"
        super().__init__(message or f"Ordoro answered {status} to {method} {path}: {detail}")


class OrdoroAuthError(OrdoroAPIError):
    """Ordoro rejected the credentials (401) or refused the account access (403)."""


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
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        #: False only where Ordoro certainly did not act on the request (429, no connection).
        self.maybe_applied = maybe_applied


class _AmbiguousWriteFailure(OrdoroError):
    """A non-idempotent write failed in a way that may have applied it; not retried blindly."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries before giving up on a transient failure.

    ``backoff_seconds`` is the base of the exponential backoff (full jitter: each wait is
    uniform in ``[0, min(backoff_max_seconds, backoff_seconds * 2**attempt)]``); a 429's
    ``Retry-After`` is honoured instead, capped at ``backoff_max_seconds``. The loop stops after
    ``max_attempts`` tries or once ``max_total_wait_seconds`` have passed, whichever is first.
    """

    max_attempts: int = 8
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    max_total_wait_seconds: float = 300.0


_limiters: dict[tuple[str, str], tuple[int, float, Limiter]] = {}
_limiters_lock = threading.Lock()


def shared_rate_limiter(
    api_url: str, username: str, requests_per_window: int, window_seconds: float = 60.0
) -> Limiter:
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
        limiter = Limiter(Rate(requests_per_window, int(Duration.SECOND * window_seconds)))
        _limiters[key] = (requests_per_window, window_seconds, limiter)
        return limiter


def _clean_base_url(api_url: str) -> str:
    """Drop any user:password@ from the URL (credentials belong in the settings) and the
    trailing slash."""
    parts = urlsplit(api_url.strip())
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"api_url must be an absolute http(s) URL, got {api_url!r}")
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


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
    path = "/" + "/".join(quote(str(segment), safe="") for segment in segments)
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
            raise ValueError("Ordoro needs both `username` (Client ID) and `password` (Secret)")
        if requests_per_minute < 1:
            raise ValueError("requests_per_minute must be at least 1")
        self.api_url = _clean_base_url(api_url)
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
        a read timeout, a connection dropped after sending, a garbled answer) it is only sent
        again once ``verify()`` says the write did not happen (it returns None); a non-None
        result of ``verify()`` is taken as the answer. Without ``verify`` such a POST is not
        retried. Failures Ordoro certainly did not act on (429, no connection) are always
        retried.

        Raises ``OrdoroAuthError`` for 401/403, ``OrdoroAPIError`` for any other error answer
        that is not transient, and ``OrdoroTransientError`` once retries are exhausted.
        """
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        if idempotent is None:
            idempotent = method.upper() != "POST"
        data = None if json_body is None else json.dumps(json_body, default=str)

        def attempt() -> Any:
            try:
                return self._send_once(method, path, params, data)
            except OrdoroTransientError as error:
                if idempotent or not error.maybe_applied:
                    raise
                if verify is None:
                    raise _AmbiguousWriteFailure(str(error)) from None
                try:
                    already = verify()
                except OrdoroTransientError as verify_error:
                    # Not knowing whether it was applied, sending it again could apply it twice.
                    raise _AmbiguousWriteFailure(
                        f"{error}; checking it failed: {verify_error}"
                    ) from None
                if already is not None:
                    logger.info("%s %s had been applied before it failed (%s)", method, path, error)
                    return already
                raise

        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            wait=_wait_for(self.retry),
            stop=stop_after_attempt(self.retry.max_attempts)
            | stop_after_delay(self.retry.max_total_wait_seconds),
            before_sleep=lambda state: _log_retry(method, path, state, self.retry.max_attempts),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _AmbiguousWriteFailure as error:
            raise OrdoroTransientError(
                f"{method} {path} failed ({error}) and may or may not have been applied; "
                "not sent again",
            ) from None
        except OrdoroTransientError as error:
            raise OrdoroTransientError(
                f"{method} {path} still failing after retries: {self._redact(str(error))}",
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

    def _send_once(
        self, method: str, path: str, params: Mapping[str, Any] | None, data: str | None
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
            )
        except (requests.ConnectTimeout, requests.ConnectionError, requests.Timeout) as error:
            raise OrdoroTransientError(
                f"{type(error).__name__} talking to {self.api_url}",
                maybe_applied=not _never_sent(error),
            ) from None
        with response:
            return self._decode(method, path, response)

    def _decode(self, method: str, path: str, response: requests.Response) -> Any:
        status = response.status_code
        try:
            text = response.text
        except requests.RequestException:
            raise OrdoroTransientError(f"connection dropped while reading {status}") from None
        if status in TRANSIENT_STATUSES:
            raise OrdoroTransientError(
                f"HTTP {status}",
                status=status,
                retry_after=_retry_after(response),
                maybe_applied=status != 429,
            )
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            if 200 <= status < 300:
                raise OrdoroTransientError(f"HTTP {status} with a body that is not JSON") from None
            body = text[:1000]
        if 200 <= status < 300:
            return body
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
            self._redact(error_message) if error_message else None,
            param,
            body,
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._password, "********") if self._password else text


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


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to the exponential backoff


def _wait_for(policy: RetryPolicy) -> Any:
    exponential = wait_random_exponential(
        multiplier=policy.backoff_seconds, max=policy.backoff_max_seconds
    )

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, OrdoroTransientError) and error.retry_after is not None:
            return min(error.retry_after, policy.backoff_max_seconds)
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
