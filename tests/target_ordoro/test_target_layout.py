"""The target's modules import each other in one direction only: target -> sinks -> run ->
writers, never back (issue 8: no target <-> sinks import circle)."""

from __future__ import annotations

import subprocess
import sys

import pytest

#: Module -> target_ordoro modules it must never load, directly or through another.
NEVER_LOADS = {
    "target_ordoro.sinks": ("target_ordoro.target",),
    "target_ordoro.run": ("target_ordoro.target", "target_ordoro.sinks"),
    "target_ordoro.writers": ("target_ordoro.target", "target_ordoro.sinks", "target_ordoro.run"),
}


@pytest.mark.parametrize("module", sorted(NEVER_LOADS))
def test_a_module_does_not_load_what_sits_above_it(module):
    code = (
        f"import sys, {module}; "
        f"print(','.join(m for m in {NEVER_LOADS[module]!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "", f"{module} loads {loaded}"
