"""Write the Meltano Hub definitions of plugins/ with the repository's URL filled in.

    ORDORO_SINGER_REPO_URL=https://github.com/<owner>/<repo> \\
        .venv/bin/python scripts/render_hub_definitions.py OUT_DIR

The files under plugins/ point at the project's repository and docs through one variable,
``${ORDORO_SINGER_REPO_URL}``, because where the project is published is not decided yet.
This script is the publication step: it replaces the variable with the URL given in the
environment (or ``--repo-url``) and writes each file to the same relative path under OUT_DIR
(e.g. OUT_DIR/extractors/tap-ordoro--ordoro.yml), ready to copy into the Hub's
``_data/meltano/<type>/<plugin>/<variant>.yml``. It refuses a missing or non-https URL, and
drops the comment block that explains the variable, checks that no variable is left and that
every file still parses as YAML.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import yaml

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"
VARIABLE = "ORDORO_SINGER_REPO_URL"
TOKEN = "${" + VARIABLE + "}"
#: An https URL of a repository: no trailing slash, no .git (the files add what they need).
URL = re.compile(r"https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~-]+)+")


def hub_files() -> list[Path]:
    """Every Hub definition under plugins/."""
    return sorted(PLUGINS.glob("*/*.yml"))


#: The comment block explaining the variable, which the published file no longer needs.
PUBLICATION_NOTE = re.compile(r"^# <publication>.*?^# </publication>\n", re.MULTILINE | re.DOTALL)


def render(text: str, repo_url: str) -> str:
    """``text`` with the variable replaced and its note dropped; fails if a variable is left."""
    rendered = PUBLICATION_NOTE.sub("", text).replace(TOKEN, repo_url)
    left = re.findall(r"\$\{[^}]*\}", rendered)
    if left:
        sys.exit(f"unknown variables left after rendering: {sorted(set(left))}")
    return rendered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="where the rendered files are written")
    parser.add_argument(
        "--repo-url",
        default=os.environ.get(VARIABLE),
        help=f"the public repository's https URL (default: ${VARIABLE})",
    )
    args = parser.parse_args()

    repo_url = (args.repo_url or "").strip()
    if not repo_url:
        sys.exit(f"set {VARIABLE} (or --repo-url) to the project's public repository URL")
    if not URL.fullmatch(repo_url) or repo_url.endswith(".git"):
        sys.exit(f"{VARIABLE} must be an https URL like https://github.com/<owner>/<repo>")

    for source in hub_files():
        text = source.read_text(encoding="utf-8")
        if TOKEN not in text:
            sys.exit(f"{source.relative_to(PLUGINS.parent)} does not use {TOKEN}")
        rendered = render(text, repo_url)
        definition = yaml.safe_load(rendered)
        target = args.out_dir / source.relative_to(PLUGINS)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rendered, encoding="utf-8")
        print(f"{target}: repo {definition['repo']}, docs {definition['docs']}")


if __name__ == "__main__":
    main()
