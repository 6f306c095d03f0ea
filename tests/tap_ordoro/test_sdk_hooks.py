"""Guards for the private singer-sdk methods tap-ordoro overrides.

``OrdoroStream._increment_stream_state`` overrides a private SDK method (no public hook exists
for how replication-key values are compared: meltano/sdk#2753). If an SDK upgrade renames it,
changes its signature or stops calling it, these tests fail before bookmarks silently go wrong.
"""

from __future__ import annotations

import inspect

from singer_sdk import Stream
from singer_sdk.helpers import _state

from tap_ordoro.client import OrdoroStream
from tests.tap_ordoro.helpers import run_tap, tap_config


def test_the_sdk_still_has_the_overridden_method_with_the_same_signature():
    ours = inspect.signature(OrdoroStream._increment_stream_state)
    theirs = inspect.signature(Stream._increment_stream_state)
    assert list(ours.parameters) == list(theirs.parameters) == ["self", "latest_record", "context"]
    assert theirs.parameters["context"].kind is inspect.Parameter.KEYWORD_ONLY


def test_the_sdk_still_reads_only_the_replication_key_of_the_record_it_is_given():
    # The override hands the SDK a one-key record {replication_key: utc value}.
    source = inspect.getsource(_state.increment_state)
    assert "latest_record[replication_key]" in source


def test_the_override_is_called_and_stores_utc_bookmarks(seeded_sandbox):
    run = run_tap(tap_config(seeded_sandbox), streams=("orders",))
    bookmark = run.bookmark("orders")
    assert bookmark is not None
    assert bookmark.endswith("+00:00")  # the override's UTC form, not Ordoro's local offset
    assert "recently_emitted" in run.last_state["bookmarks"]["orders"]
