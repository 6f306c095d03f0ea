"""Connection settings, declared once and reused by the tap and the target.

An Ordoro API key is a **Client ID** and a **Client Secret** (Ordoro: Settings > Account
Settings > API Keys). Each goes by two setting names that mean the same thing:

* the Client ID: ``username`` or ``client_id``;
* the Client Secret: ``password`` or ``client_secret``.

``username``/``password`` are this project's names (an API key, or a legacy Ordoro user name and
password); ``client_id``/``client_secret`` are the names Ordoro's UI and the tap-ordoro variant
on Meltano Hub use. Each value is resolved on its own, so a mix (``username`` with
``client_secret``) works too. Neither name can be JSON-schema ``required``, so the plugins
check the pair themselves with :func:`check_credentials`, as part of config validation and so
before any request: a value missing under both names, or given under both names with two
different values, is a config error that names the settings and never shows a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from ordoro_core.client import DEFAULT_API_URL, DEFAULT_REQUESTS_PER_MINUTE, OrdoroError


@dataclass(frozen=True)
class CredentialSetting:
    """One half of an API key and the two setting names it goes by."""

    label: str
    name: str
    alias: str

    def values(self, config: Mapping[str, Any]) -> set[str]:
        """The distinct non-empty values ``config`` gives this half, under either name."""
        found = (config.get(self.name), config.get(self.alias))
        return {str(value) for value in found if value not in (None, "")}

    def problem(self, config: Mapping[str, Any], *, required: bool = True) -> str | None:
        """What is wrong with this half in ``config``, or None; never shows a value."""
        values = self.values(config)
        if len(values) > 1:
            return (
                f"`{self.name}` and `{self.alias}` are both set and differ; they are the same "
                f"setting (the API key's {self.label}): set only one of them"
            )
        if not values and required:
            return f"no {self.label}: set `{self.name}` or `{self.alias}`"
        return None


CLIENT_ID = CredentialSetting("Client ID", "username", "client_id")
CLIENT_SECRET = CredentialSetting("Client Secret", "password", "client_secret")


@dataclass(frozen=True)
class Credentials:
    """The HTTP Basic user and password resolved from either pair of settings."""

    username: str
    password: str = field(repr=False)


class CredentialsError(ConfigValidationError, OrdoroError):
    """The settings name no Client ID or Client Secret, or name two different ones.

    A ``ConfigValidationError``, so the SDK's command line reports it like any other config
    error (one line per problem, exit code 1), and an ``OrdoroError``, so the plugins' entry
    points report it in one line where the SDK does not catch it (``--test``). Its message
    never holds a setting's value.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems), errors=problems)


def check_credentials(config: Mapping[str, Any], *, required: bool = True) -> None:
    """Raise :class:`CredentialsError` when the credential settings are wrong.

    Two names given with different values is always an error; a value given under neither
    name only when ``required`` (the plugins pass what the SDK validates with: it skips
    required settings in ``--discover`` of a static catalog, which sends no request).
    """
    problems = [
        problem
        for setting in (CLIENT_ID, CLIENT_SECRET)
        if (problem := setting.problem(config, required=required))
    ]
    if problems:
        raise CredentialsError(problems)


def resolve_credentials(config: Mapping[str, Any]) -> Credentials:
    """The Client ID and Client Secret from either pair of settings (see the module doc)."""
    check_credentials(config)
    (username,) = CLIENT_ID.values(config)
    (password,) = CLIENT_SECRET.values(config)
    return Credentials(username=username, password=password)


CONNECTION_SETTINGS = th.PropertiesList(
    th.Property(
        "username",
        th.StringType,
        title="Client ID",
        description=(
            "The API key's Client ID (Ordoro: Settings > Account Settings > API Keys), or a "
            "legacy user name; sent as the HTTP Basic user. Required: this or client_id."
        ),
    ),
    th.Property(
        "password",
        th.StringType,
        secret=True,
        title="Client Secret",
        description=(
            "Secret: never printed or logged. The API key's Client Secret (or a legacy "
            "password); sent as the HTTP Basic password. Required: this or client_secret."
        ),
    ),
    th.Property(
        "client_id",
        th.StringType,
        title="Client ID (alias of username)",
        description=(
            "Another name for username, the one Ordoro's UI and the hotgluexyz tap-ordoro "
            "variant use. Give one of the two; both given with different values is a config "
            "error."
        ),
    ),
    th.Property(
        "client_secret",
        th.StringType,
        secret=True,
        title="Client Secret (alias of password)",
        description=(
            "Secret: never printed or logged. Another name for password, the one Ordoro's UI "
            "and the hotgluexyz tap-ordoro variant use. Give one of the two; both given with "
            "different values is a config error."
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
