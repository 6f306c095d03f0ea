"""The SDK's standard target tests that apply to an API target, run against the sandbox.

Included:

* ``TargetCliPrintsTest``: version and ``--about`` (text and JSON) print.
* ``TargetInvalidSchemaTest``: a SCHEMA without properties ends the run.
* ``TargetRecordBeforeSchemaTest``: a RECORD before its SCHEMA ends the run.

Left out, and why:

* ``TargetArrayData``, ``TargetCamelcaseTest``, ``TargetCamelcaseComplexSchema``,
  ``TargetDuplicateRecords``, ``TargetEncodedStringData``, ``TargetNoPrimaryKeys``,
  ``TargetOptionalAttributes``, ``TargetPrimaryKeyUpdates``, ``TargetRecordMissingOptionalFields``,
  ``TargetRecordMissingRequiredProperty``, ``TargetSchemaNoProperties``, ``TargetSchemaUpdates``,
  ``TargetSpecialCharsInAttributes``: they send arbitrary stream names (``test_*``) with
  arbitrary columns, for targets that create a table or file per stream (SQL, files). An API
  target writes a fixed set of streams: by default these end the run as unknown streams (tested
  in ``test_target_streams.py``), and with ``unknown_streams: skip`` they would pass by dropping
  every record, which proves nothing.
* ``TargetRecordMissingKeyProperty``: expects ``MissingKeyPropertiesError`` to end the run.
  target-ordoro's contract is the opposite: a record without its key (no SKU, no order id) is
  dead-lettered with a reason and the run goes on (``test_target_bad_input.py``).
* ``TargetMultipleStateMessages`` (also left out of the SDK's own suite): expects every STATE to
  be relayed as it arrives; target-ordoro emits a STATE only once every record before it is
  written, and holds it back while records wait for their retry (``test_target_ordering.py``).
"""

from __future__ import annotations

import pytest
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.runners import TargetTestRunner
from singer_sdk.testing.suites import SingerTestSuite
from singer_sdk.testing.target_tests import (
    TargetCliPrintsTest,
    TargetInvalidSchemaTest,
    TargetRecordBeforeSchemaTest,
)

from target_ordoro.target import TargetOrdoro

APPLICABLE_TESTS = SingerTestSuite(
    kind="target",
    tests=[TargetCliPrintsTest, TargetInvalidSchemaTest, TargetRecordBeforeSchemaTest],
)

_StandardTests = get_target_test_class(
    TargetOrdoro, custom_suites=[APPLICABLE_TESTS], include_target_tests=False
)


class TestTargetOrdoroStandard(_StandardTests):
    """The applicable standard tests, configured for the session's sandbox."""

    @pytest.fixture
    def runner(self, make_config) -> TargetTestRunner:
        # The sandbox's URL is only known once it runs, so the runner is built here rather
        # than from a config fixed when the class is created.
        return TargetTestRunner(
            target_class=TargetOrdoro, config=make_config(), parse_env_config=False
        )
