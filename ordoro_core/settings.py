"""Connection settings, declared once and reused by the tap and the target."""

from __future__ import annotations

from singer_sdk import typing as th

from ordoro_core.client import DEFAULT_API_URL, DEFAULT_REQUESTS_PER_MINUTE

CONNECTION_SETTINGS = th.PropertiesList(
    th.Property(
        "username",
        th.StringType,
        required=True,
        title="Client ID",
        description=(
            "The API key's Client ID (Ordoro: Settings > Account Settings > API Keys), "
            "or a legacy user name. Sent as the HTTP Basic user."
        ),
    ),
    th.Property(
        "password",
        th.StringType,
        required=True,
        secret=True,
        title="Client Secret",
        description=(
            "The API key's Client Secret (or a legacy password). Sent as the HTTP Basic "
            "password; never printed or logged."
        ),
    ),
    th.Property(
        "api_url",
        th.StringType,
        default=DEFAULT_API_URL,
        title="API URL",
        description=(
            "Base URL of the Ordoro API. Point it at a local sandbox "
            "(e.g. http://127.0.0.1:8555) for tests and demos."
        ),
    ),
    th.Property(
        "requests_per_minute",
        th.IntegerType,
        default=DEFAULT_REQUESTS_PER_MINUTE,
        title="Requests per minute",
        description=(
            "Client-side ceiling on requests to this account, shared by every thread of the "
            "process. Ordoro answers 429 above 500 a minute; lower it when other tools use "
            "the same account at the same time."
        ),
    ),
)
