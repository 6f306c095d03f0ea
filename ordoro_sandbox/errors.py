"""The error the sandbox answers with, in Ordoro's error envelope."""

from __future__ import annotations


class ApiError(Exception):
    """An API error: HTTP status plus Ordoro's envelope ``{"error_message": ..., "param": ...}``.

    The live API names the offending parameter in ``param`` (the spec's error schema calls it
    ``params``, its prose ``param``; the live API and the sandbox use ``param``).
    """

    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.headers = dict(headers or {})

    def envelope(self) -> dict[str, str | None]:
        """The response body."""
        return {"error_message": self.message, "param": self.param}


def not_found(what: str, key: str, param: str) -> ApiError:
    """A 404 for an unknown record, naming the path parameter."""
    return ApiError(404, f"No {what} with {param} {key!r}", param)
