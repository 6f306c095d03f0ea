"""The examples in the packages' docstrings run, and every module imports on its own.

Each module of ``ordoro_core``, ``ordoro_sandbox``, ``tap_ordoro`` and ``target_ordoro`` is
imported (the sandbox's ``__main__``, which starts a server, is the one exception) and its
doctests are run.
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil

import pytest

PACKAGES = ("ordoro_core", "ordoro_sandbox", "tap_ordoro", "target_ordoro")
#: Modules that carry examples: a doctest run that finds none there is broken.
WITH_EXAMPLES = (
    "ordoro_core.bodies",
    "ordoro_core.client",
    "ordoro_core.errors",
    "ordoro_core.retries",
    "ordoro_core.urls",
    "ordoro_core.order_numbers",
    "ordoro_core.values",
    "target_ordoro.dead_letter",
    "target_ordoro.validation",
    "target_ordoro.writers.results",
)
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def module_names() -> list[str]:
    names = []
    for package in PACKAGES:
        names.append(package)
        path = importlib.import_module(package).__path__
        for info in pkgutil.walk_packages(path, prefix=f"{package}."):
            if info.name.rsplit(".", 1)[-1] != "__main__":
                names.append(info.name)
    return sorted(names)


def run_doctests(name: str) -> tuple[doctest.TestResults, str]:
    """Run one module's doctests; the results and the report of any failure."""
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report = io.StringIO()
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test, out=report.write)
    return runner.summarize(verbose=False), report.getvalue()


@pytest.mark.parametrize("name", module_names())
def test_module_doctests_pass(name):
    results, report = run_doctests(name)
    assert results.failed == 0, report


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_modules_with_examples_have_them_found(name):
    results, _ = run_doctests(name)
    assert results.attempted > 0
