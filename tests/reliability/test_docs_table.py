"""docs/reliability.md's fault table is the tests' own: the same cases, the same record counts,
nothing lost, nothing duplicated."""

from __future__ import annotations

import re

from tests.reliability import test_tap_faults, test_target_faults
from tests.reliability.helpers import REPO_ROOT, make_target_input, tally_tap
from tests.reliability.test_crash_resume import CRASH_INPUT

DOC = REPO_ROOT / "docs" / "reliability.md"
#: Rows recorded by tests outside the parametrized matrices.
EXTRA_ROWS = {
    ("tap", "concurrent work hitting the rate limit (429s to the tap)"),
    ("tap", "501 (not transient)"),
    ("tap", "SIGKILL mid-sync"),
    ("target", "concurrent writes hitting the rate limit"),
    ("target", "501 on a write (not transient)"),
    ("target", "SIGKILL mid-write"),
}


def documented_rows() -> list[dict[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    table = re.search(r"<!-- BEGIN MEASURED.*?-->\n(.*?)<!-- END MEASURED -->", text, re.S)
    assert table, "the measured table's markers are missing"
    lines = [line for line in table.group(1).splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [
        dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True))
        for line in lines[2:]
    ]


def test_the_table_has_a_row_for_every_case_and_no_other():
    documented = {(row["plugin"], row["fault injected"]) for row in documented_rows()}
    expected = {("tap", case[0]) for case in test_tap_faults.CASES}
    expected |= {("target", case[0]) for case in test_target_faults.CASES}
    assert documented == expected | EXTRA_ROWS


def test_nothing_documented_was_lost_or_duplicated():
    for row in documented_rows():
        assert (row["lost"], row["duplicated"]) == ("0", "0"), row
        assert int(row["answers changed"]) > 0, row


def test_the_documented_record_counts_are_what_the_tests_use(read_sandbox, write_sandbox):
    tap_records = tally_tap(read_sandbox, []).records
    target_records = {
        "concurrent writes hitting the rate limit": make_target_input(
            write_sandbox, **test_target_faults.CONTENTION_INPUT
        ).records,
        "SIGKILL mid-write": make_target_input(write_sandbox, **CRASH_INPUT).records,
    }
    matrix = make_target_input(write_sandbox, **test_target_faults.MATRIX_INPUT).records
    for row in documented_rows():
        if row["plugin"] == "tap":
            assert int(row["records"]) == tap_records, row
        else:
            assert int(row["records"]) == target_records.get(row["fault injected"], matrix), row
