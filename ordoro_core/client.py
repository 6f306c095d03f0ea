"""The one Ordoro API client that tap-ordoro and target-ordoro share.

Everything HTTP goes through :class:`OrdoroClient`, once: Basic auth on one keep-alive
``requests.Session``, timeouts, retries (:mod:`ordoro_core.retries`), the account's even pace
(:mod:`ordoro_core.pacing`), paths and ``api_url`` (:mod:`ordoro_core.urls`), decoding Ordoro's
answers and error envelopes into the exceptions of :mod:`ordoro_core.errors`, whose messages
never carry the password, and the check that a write which may have failed was not applied
before it is sent again. A list page shorter than its own ``count`` promises is read again
rather than taken as the end of the list.

Credentials go only over HTTPS, except to loopback hosts (a local sandbox).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)

from ordoro_core import __version__
from ordoro_core.bodies import decode_body, encode_body
from ordoro_core.errors import (
    OrdoroAPIError,
    OrdoroAuthError,
    OrdoroCertificateError,
    OrdoroConfigError,
    OrdoroError,
    OrdoroInvalidRequest,
    OrdoroRedirectError,
    OrdoroTransientError,
    OrdoroUnreachableError,
    clip,
)
from ordoro_core.inflight import DEFAULT_MAX_IN_FLIGHT, shared_in_flight_limit
from ordoro_core.pacing import DEFAULT_REQUESTS_PER_MINUTE, shared_rate_limiter
from ordoro_core.retries import (
    GATEWAY_TIMEOUT_STATUSES,
    TRANSIENT_STATUSES,
    AmbiguousWriteFailure,
    RetryPolicy,
    certificate_not_verified,
    is_transient,
    log_retry,
    name_not_resolved,
    never_sent,
    read_timed_out,
    retry_after,
    wait_for,
)
from ordoro_core.settings import resolve_credentials
from ordoro_core.urls import DEFAULT_API_URL, build_path, clean_base_url, without_userinfo

logger = logging.getLogger("ordoro_core.client")

#: Ordoro's largest page size.
MAX_PAGE_SIZE = 100


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
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        if not username or not password:
            raise OrdoroConfigError(
                "Ordoro needs both `username` (Client ID) and `password` (Secret)"
            )
        if requests_per_minute < 1:
            raise OrdoroConfigError("requests_per_minute must be at least 1")
        self.api_url = clean_base_url(api_url)
        self.host = urlsplit(self.api_url).hostname or ""
        self.username = username
        self._password = password
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.limiter = shared_rate_limiter(
            self.api_url, username, requests_per_minute, rate_window_seconds
        )
        pace = requests_per_minute / rate_window_seconds  # requests a second
        self.in_flight = shared_in_flight_limit(self.api_url, username, pace, max_in_flight)
        self.session = requests.Session()
        self.session.auth = (username, password)
        self.session.headers.update(
            {"Accept": "application/json", "User-Agent": user_agent},
        )
        adapter = HTTPAdapter(
            pool_connections=4, pool_maxsize=max(32, max_in_flight), max_retries=0
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> OrdoroClient:
        """Build the client from plugin settings (see ``ordoro_core.settings``).

        The credentials come from ``username``/``password`` or ``client_id``/``client_secret``.
        """
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
            data = None if json_body is None else encode_body(json_body)
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
                    raise AmbiguousWriteFailure(str(error)) from None
                already = self._verify_write(method, shown, error, verify)
                if already is not None:
                    logger.info("%s %s was applied before it failed (%s)", method, shown, error)
                    return already
                raise

        retrying = Retrying(
            retry=retry_if_exception(is_transient),
            wait=wait_for(self.retry),
            stop=stop_after_attempt(self.retry.max_attempts)
            | stop_after_delay(self.retry.max_total_wait_seconds),
            before_sleep=lambda state: log_retry(method, shown, state, self.retry.max_attempts),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except AmbiguousWriteFailure as error:
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
                raise AmbiguousWriteFailure(
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
        """One request: a slot of the in-flight limit, the turn of the pace, the exchange."""
        with self.in_flight.slot() as slot:
            self.limiter.try_acquire("ordoro")
            slot.sent()
            return self._exchange(method, path, shown, params, data)

    def _exchange(
        self,
        method: str,
        path: str,
        shown: str,
        params: Mapping[str, Any] | None,
        data: str | None,
    ) -> Any:
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
            failed_check = certificate_not_verified(error)
            if failed_check is not None:
                raise OrdoroCertificateError(
                    f"the TLS certificate of {self.host} does not verify "
                    f"({failed_check.verify_message or failed_check.reason}): check api_url, "
                    "and the CA certificates of this machine or of a proxy in between"
                ) from None
            if name_not_resolved(error):
                raise OrdoroUnreachableError(
                    f"cannot resolve host {self.host!r} (api_url {self.api_url}): check api_url "
                    "and the network's DNS"
                ) from None
            timed_out = read_timed_out(error)
            raise OrdoroTransientError(
                f"{'read timeout' if timed_out else type(error).__name__} talking to {self.host}",
                maybe_applied=not never_sent(error),
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
                without_userinfo(self._redact(location)) if location else None,
            )
        if status in TRANSIENT_STATUSES:
            raise OrdoroTransientError(
                f"HTTP {status}",
                status=status,
                retry_after=retry_after(response),
                maybe_applied=status != 429,
                in_flight=status in GATEWAY_TIMEOUT_STATUSES,
            )
        try:
            body = decode_body(response.content, text)
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


def _check_page(body: Any) -> None:
    """Raise a transient error when a list page holds fewer records than it promises.

    Ordoro's list envelope says ``count`` (records matching), ``limit`` and ``offset``; a page
    must hold ``min(limit, count - offset)`` of them. A shorter one (or an empty one before the
    end) would make a pager stop early and lose records, so it is read again instead.

    The ``limit`` that counts is the envelope's own, not the one the request asked for: a
    server may serve fewer records a page than asked and say so, which is a page size, not a
    short page (tap-ordoro's readers learn it: ``tap_ordoro.paging.ListTerms``).

    >>> _check_page({"count": 3, "limit": 2, "offset": 2, "order": [{}]})
    >>> _check_page({"count": 620, "limit": 50, "offset": 0, "order": [{}] * 50})  # asked 100
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
