"""Copy the fault matrix the reliability tests measured into docs/reliability.md.

    .venv/bin/python -m pytest tests/reliability         # measures; writes output/reliability/
    .venv/bin/python scripts/update_reliability_table.py  # rewrites the table in place

The table sits between two markers in docs/reliability.md:

    <!-- BEGIN MEASURED: output/reliability/fault-matrix.md -->
    ...
    <!-- END MEASURED -->

The rows are the tests' own counts (``tests/reliability/helpers.py``, ``FaultTable``): nothing
in the table is typed by hand, so it says what the last measurement found.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
MEASURED = ROOT / "output" / "reliability" / "fault-matrix.md"
BLOCK = re.compile(
    r"(<!-- BEGIN MEASURED: output/reliability/fault-matrix\.md -->\n).*?(<!-- END MEASURED -->)",
    re.S,
)


def main() -> int:
    if not MEASURED.exists():
        sys.exit(f"{MEASURED.relative_to(ROOT)} is missing: run pytest tests/reliability first")
    table = MEASURED.read_text(encoding="utf-8")
    text = DOC.read_text(encoding="utf-8")
    if not BLOCK.search(text):
        sys.exit(f"{DOC.relative_to(ROOT)} has no measured-table markers")
    DOC.write_text(BLOCK.sub(lambda m: m.group(1) + table + m.group(2), text), encoding="utf-8")
    print(f"{DOC.relative_to(ROOT)}: {len(table.splitlines()) - 2} rows from the measurement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
