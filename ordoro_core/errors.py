"""The errors of the Ordoro API client, one family under :class:`OrdoroError`.

Each says what went wrong in one short line that never carries the password (the client
redacts before it raises), quoting paths and Ordoro's own messages clipped to
``MAX_QUOTED_CHARS``.
"""

from __future__ import annotations

from typing import Any

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
