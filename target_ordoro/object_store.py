"""The target's report files in an object store (``s3://``, ``gs://``, ``az://``) as well as on
disk: a pipeline in a fresh container keeps its dead letters and plans.

``dead_letter_path``, ``plan_path`` and ``order_map_path`` take a local path or an object-store
URL. URLs go through `smart-open <https://github.com/piskvorky/smart_open>`_, the library
Meltano's own state backends use, installed with an optional extra (``ordoro-singer[s3]``,
``[gcs]`` or ``[azure]``); a URL given without it is a settings error that names the extra,
reported before anything is written. The store's credentials come from its SDK's usual sources
(for S3: ``AWS_ACCESS_KEY_ID`` ... or an instance role, and ``AWS_ENDPOINT_URL`` for an
S3-compatible store); the target has no setting for them and never logs them.

An object cannot be appended to: the lines of a run are kept in memory and written at the end
of the run (also a failed one), after the object's earlier lines, so the object grows run after
run like the local file. Two runs writing the same object at the same moment can lose one
run's lines. Each dead letter is also one log line (see ``target_ordoro.sinks``), so a run that
is killed before its end still leaves them in Meltano's log.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from target_ordoro.errors import SettingsError
from target_ordoro.jsonl import JsonLinesFile, to_jsonable

#: URL scheme -> (the extra that installs its transport, the module that transport needs).
OBJECT_STORE_SCHEMES: dict[str, tuple[str, str]] = {
    "s3": ("s3", "boto3"),
    "gs": ("gcs", "google.cloud.storage"),
    "az": ("azure", "azure.storage.blob"),
}


def is_object_store_url(location: str) -> bool:
    """Whether ``location`` is an object-store URL rather than a local path."""
    return urlsplit(location).scheme in OBJECT_STORE_SCHEMES


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def check_location(setting: str, location: str) -> None:
    """Raise :class:`SettingsError` when ``location`` is an object-store URL whose transport is
    not installed, naming the extra that installs it."""
    scheme = urlsplit(location).scheme
    if scheme not in OBJECT_STORE_SCHEMES:
        return
    extra, module = OBJECT_STORE_SCHEMES[scheme]
    if not (_installed("smart_open") and _installed(module)):
        raise SettingsError(
            f"{setting} is a {scheme}:// URL, which needs smart-open with its {scheme} support: "
            f"install target-ordoro with the {extra!r} extra (pip install "
            f"'ordoro-singer[{extra}]'), or give a local path"
        )


class JsonLines(Protocol):
    """Where the target appends one JSON object per line."""

    @property
    def location(self) -> str:
        """The path or URL, as the summary names it."""
        ...

    def append(self, entry: Mapping[str, Any]) -> None:
        """Add one line."""
        ...

    def close(self) -> None:
        """Make every line durable (a no-op for a local file)."""
        ...


class LocalJsonLines:
    """A local JSON Lines file (:class:`target_ordoro.jsonl.JsonLinesFile`), written at once."""

    def __init__(self, path: str) -> None:
        self._file = JsonLinesFile(path)

    @property
    def location(self) -> str:
        return str(self._file.path.resolve())

    def append(self, entry: Mapping[str, Any]) -> None:
        self._file.append(entry)

    def close(self) -> None:
        return


class ObjectStoreJsonLines:
    """A JSON Lines object in an object store, written by :meth:`close` (see the module doc)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lines: list[str] = []
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        return self.url

    def append(self, entry: Mapping[str, Any]) -> None:
        line = json.dumps(entry, default=to_jsonable, ensure_ascii=False)
        with self._lock:
            self._lines.append(line)

    def close(self) -> None:
        """Write the object: its earlier lines, then this run's (nothing when there are none).

        Raises ``OSError`` (or the store SDK's error) when the object cannot be written.
        """
        import smart_open  # the optional extra, checked by check_location

        with self._lock:
            lines, self._lines = self._lines, []
        if not lines:
            return
        try:
            with smart_open.open(self.url, "r", encoding="utf-8") as handle:
                earlier = handle.read()
        except FileNotFoundError:
            earlier = ""
        if earlier and not earlier.endswith("\n"):
            earlier += "\n"
        text = earlier + "".join(line + "\n" for line in lines)
        with smart_open.open(self.url, "w", encoding="utf-8") as handle:
            handle.write(text)


def json_lines_at(location: str) -> JsonLines:
    """The JSON Lines file or object at ``location`` (a path or an object-store URL)."""
    if is_object_store_url(location):
        return ObjectStoreJsonLines(location)
    return LocalJsonLines(location)
