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

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR

from ordoro_core.errors import OrdoroError
from ordoro_core.pacing import DEFAULT_REQUESTS_PER_MINUTE
from ordoro_core.urls import DEFAULT_API_URL

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


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


#: How JSON Schema errors name the JSON type of a value they do not show.
_JSON_TYPE_WORDS = (
    (bool, "a boolean"),
    ((int, float, Decimal), "a number"),
    (str, "a string"),
    (list, "a list"),
    (Mapping, "an object"),
)


def secret_settings(schema: Mapping[str, Any]) -> frozenset[str]:
    """The settings a config schema marks secret (``secret`` or ``writeOnly``)."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return frozenset()
    return frozenset(
        name
        for name, prop in properties.items()
        if isinstance(prop, Mapping) and (prop.get("secret") or prop.get("writeOnly"))
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return next((word for kind, word in _JSON_TYPE_WORDS if isinstance(value, kind)), "a value")


def _setting_path(path: Iterable[Any]) -> str:
    """Where in the config, as the SDK writes it: ``config['password']``."""
    return "config[" + "][".join(repr(part) for part in path) + "]"


def _without_value(error: ValidationError) -> str:
    """What is wrong, naming the setting and the kind of value, never the value."""
    keyword = str(error.validator)
    if not error.absolute_path:
        return f"the config (not shown: it holds a secret) fails the {keyword!r} rule"
    where = _setting_path(error.absolute_path)
    given = _json_type(error.instance)
    if keyword == "type":
        wanted = error.validator_value
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        kinds = " or ".join(repr(kind) for kind in wanted)
        return f"{given} (not shown: secret) is not of type {kinds} in {where}"
    return f"{given} (not shown: secret) fails the {keyword!r} rule of {where}"


def config_errors(
    schema: Mapping[str, Any], config: Mapping[str, Any], fallback: Iterable[str] = ()
) -> list[str]:
    """The config's validation errors, worded like the SDK's, but never showing a secret.

    An error about a secret setting (one :func:`secret_settings` names), or whose message would
    quote a secret's value (an error about the whole config), names the setting and the problem
    without the value: "a number (not shown: secret) is not of type 'string' in
    config['password']". ``fallback``: the SDK's own messages, used (with every secret's value
    masked) only if this validation finds nothing the SDK found.
    """
    secrets = secret_settings(schema)
    values = sorted(
        {
            text
            for name in secrets
            if config.get(name) not in (None, "")
            for text in (str(config[name]), repr(config[name]))
        },
        key=len,
        reverse=True,
    )

    def quotes_a_secret(text: str) -> bool:
        return any(value in text for value in values)

    validator = DEFAULT_JSONSCHEMA_VALIDATOR(schema)
    errors = []
    for error in validator.iter_errors(copy.deepcopy(dict(config))):
        path = list(error.absolute_path)
        message = error.message
        if path:
            message += f" in {_setting_path(path)}"
        if (path and path[0] in secrets) or quotes_a_secret(message):
            message = _without_value(error)
        errors.append(message)
    if errors:
        return errors
    masked = []
    for message in fallback:
        for value in values:
            message = message.replace(value, "(secret, not shown)")
        masked.append(message)
    return masked


class ChecksCredentials:
    """Mixin for the tap and the target: the config is checked without showing a secret, and
    the credential settings are checked with it.

    ``_validate_config`` is a private singer-sdk method, overridden because it is where the SDK
    validates the config before anything runs, and the only place that knows whether this
    run requires the settings (``--discover`` of a static catalog does not). There is no
    public hook for a check JSON Schema cannot express ("both names given and different"), nor
    for how config errors are worded: the SDK's messages quote the offending value, a secret's
    too ("12345 is not of type 'string' in config['password']"), so when the SDK finds errors
    they are worded again by :func:`config_errors`, which never shows a secret. Checked against
    singer-sdk 0.54.x; ``tests/test_credential_settings.py`` fails if an upgrade stops calling
    it or changes what it raises.
    """

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        try:
            errors = super()._validate_config(raise_errors=raise_errors)  # type: ignore[misc]
        except ConfigValidationError as error:
            schema = error.schema or self.config_jsonschema  # type: ignore[attr-defined]
            safe = config_errors(schema, self.config, error.errors)  # type: ignore[attr-defined]
            # "from None": the SDK's error (its messages quote values) is not chained.
            raise ConfigValidationError(str(error), errors=safe, schema=error.schema) from None
        if errors:
            schema = self.config_jsonschema  # type: ignore[attr-defined]
            errors = config_errors(schema, self.config, errors)  # type: ignore[attr-defined]
        check_credentials(self.config, required=raise_errors)  # type: ignore[attr-defined]
        return errors


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
            "process and held as an even pace (at 480, one request every 125 ms). Ordoro "
            "answers 429 above 500 a minute; lower it when other tools use the same account "
            "at the same time."
        ),
    ),
)
