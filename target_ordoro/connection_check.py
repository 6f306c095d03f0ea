"""Meltano's loader test, answered with a credentials check that writes nothing.

``meltano config test <loader>`` (Meltano 4) pipes a SCHEMA, a RECORD and a STATE of a stream
named ``meltano_test_stream`` into the loader, and fails on a non-zero exit or on any output line
that mentions an error. A loader is expected to write the record somewhere; this target writes
into a merchant's live Ordoro account, so it answers that stream with one read instead
(``GET /authenticated/``): the credentials and ``api_url`` are checked, nothing is written, and
the test passes only when Ordoro accepts them. Refused credentials end the run with a one-line
reason and exit 1, as any run does.
"""

from __future__ import annotations

from typing_extensions import override

from target_ordoro.sinks import SkippedStreamSink

#: The stream Meltano's loader test sends.
MELTANO_TEST_STREAM = "meltano_test_stream"


class ConnectionCheckSink(SkippedStreamSink):
    """Answers Meltano's test stream: the credentials are checked once, its records dropped."""

    @override
    def setup(self) -> None:
        # Not SkippedStreamSink.setup: the stream is expected, so no warning.
        self.run.check_connection(self.stream_name)

    @override
    def process_record(self, record: dict, context: dict) -> None:
        self.run.report.count_checked_record(self.stream_name)
