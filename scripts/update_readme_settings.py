"""Regenerate README.md's settings tables from the plugins' own `--about --format=markdown`.

    python scripts/update_readme_settings.py          # rewrite the sections in place
    python scripts/update_readme_settings.py --check  # exit 1 if README.md is out of date

Each plugin's section sits between two markers in README.md:

    <!-- BEGIN GENERATED: tap-ordoro settings -->
    ...
    <!-- END GENERATED: tap-ordoro settings -->

The CLIs are taken from the virtualenv of the running Python (else from PATH), so run it with
the project's .venv: `.venv/bin/python scripts/update_readme_settings.py`.
"""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
PLUGINS = ("tap-ordoro", "target-ordoro")


def executable(name: str) -> str:
    """The plugin's console script beside the running Python, else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        sys.exit(f"{name} is not installed (pip install -e . first)")
    return found


def about_markdown(name: str) -> str:
    result = subprocess.run(
        [executable(name), "--about", "--format=markdown"],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def section(markdown: str, heading: str) -> list[str]:
    """The lines under ``## heading`` up to the next heading, blank edges trimmed."""
    lines = markdown.splitlines()
    try:
        start = lines.index(f"## {heading}") + 1
    except ValueError:
        sys.exit(f"no '## {heading}' in the --about markdown")
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")), len(lines))
    body = lines[start:end]
    while body and not body[0].strip():
        body.pop(0)
    while body and not body[-1].strip():
        body.pop()
    return body


def generated_block(name: str) -> str:
    """Capabilities and settings table of one plugin, as README.md shows them."""
    markdown = about_markdown(name)
    capabilities = [line.strip("- `") for line in section(markdown, "Capabilities")]
    table = [line for line in section(markdown, "Settings") if line.startswith("|")]
    return "\n".join(
        [
            f"Generated from `{name} --about --format=markdown` by "
            "`scripts/update_readme_settings.py`; do not edit by hand.",
            "",
            "Capabilities: " + ", ".join(f"`{capability}`" for capability in capabilities) + ".",
            "",
            *table,
        ]
    )


def markers(name: str) -> tuple[str, str]:
    return (
        f"<!-- BEGIN GENERATED: {name} settings -->",
        f"<!-- END GENERATED: {name} settings -->",
    )


def render(readme: str) -> str:
    for name in PLUGINS:
        begin, end = markers(name)
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
        if not pattern.search(readme):
            sys.exit(f"README.md has no '{begin}' ... '{end}' section")
        block = f"{begin}\n{generated_block(name)}\n{end}"
        readme = pattern.sub(lambda _match, block=block: block, readme, count=1)
    return readme


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether it is current")
    args = parser.parse_args()

    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if current == wanted:
        print("README.md settings tables are up to date")
        return
    if args.check:
        diff = difflib.unified_diff(
            current.splitlines(), wanted.splitlines(), "README.md", "regenerated", lineterm=""
        )
        print("\n".join(diff))
        sys.exit(
            "README.md settings tables are out of date: "
            "run `.venv/bin/python scripts/update_readme_settings.py`"
        )
    README.write_text(wanted, encoding="utf-8")
    print("README.md settings tables regenerated")


if __name__ == "__main__":
    main()
