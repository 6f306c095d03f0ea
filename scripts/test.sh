#!/usr/bin/env bash
# Set up and run the whole test suite, the real Meltano pipelines in tests/meltano/ included.
#
#   bash scripts/test.sh [PYTEST ARGS...]
#
# Needs Python 3.10+ and bash. Safe to run again: it reuses .venv, .venv-meltano and .meltano/.
# Steps: .venv with the project and its test extras, .venv-meltano with Meltano, `meltano
# install`, PostgreSQL's server when missing (Debian's package, for tests/meltano/test_postgres.py),
# ruff, then pytest. pytest's "no tests collected" (exit code 5) fails this script.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${REPO_ROOT}"

install_project "[test]"
install_meltano
ensure_postgres_server

log "ruff check"
"${PROJECT_VENV}/bin/ruff" check .

# tests/meltano/ finds Meltano here and fails (instead of skipping) when it is missing.
export ORDORO_MELTANO="${MELTANO}"
export ORDORO_REQUIRE_MELTANO=1

log "pytest"
status=0
"${PROJECT_VENV}/bin/python" -m pytest "$@" || status=$?
if [[ ${status} -eq 5 ]]; then
    die "pytest collected no tests"
fi
exit "${status}"
