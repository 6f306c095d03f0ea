#!/usr/bin/env bash
# Quick start: set everything up and run the Meltano pipelines on a local Ordoro sandbox.
#
#   bash scripts/quickstart.sh
#
# Needs Python 3.10+ and bash, no Ordoro account. Safe to run again. Steps:
#   1. .venv with the project, .venv-meltano with Meltano, `meltano install` (uv backend)
#   2. ordoro-sandbox in the background on 127.0.0.1:8555 (or a free port), stopped on exit
#   3. meltano run tap-ordoro target-jsonl       -> output/sandbox/<stream>.jsonl
#      meltano run tap-ordoro target-duckdb      -> output/sandbox/landing.duckdb
#   4. meltano run tap-csv-folder target-ordoro  -> demo/supplier-feed/*.csv into Ordoro
#   5. scripts/demo_report.py: what landed, and the feed's on-hand values read back from the
#      sandbox's HTTP API
#
# Knobs (environment): ORDORO_SANDBOX_PORT (default 8555), PYTHON (the interpreter that creates
# the virtualenvs).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${REPO_ROOT}"

# The demo feed (demo/supplier-feed/) names SKUs and warehouses of the account seed 42 gives.
SEED=42
OUTPUT_DIR="${REPO_ROOT}/output/sandbox"
FEED_DIR="${REPO_ROOT}/demo/supplier-feed"

install_project ""
install_meltano

# The sandbox accepts only the credentials it was started with: a fresh random password per
# run, handed to the sandbox and to both plugins through environment variables only.
SANDBOX_USER="sandbox-user"
SANDBOX_PASSWORD="$("${PROJECT_VENV}/bin/python" -c 'import secrets; print(secrets.token_urlsafe(18))')"
PORT="$(free_port "${ORDORO_SANDBOX_PORT:-8555}")"
SANDBOX_URL="http://127.0.0.1:${PORT}"

SANDBOX_PID=""
stop_sandbox() {
    if [[ -n "${SANDBOX_PID}" ]] && kill -0 "${SANDBOX_PID}" 2>/dev/null; then
        log "Stopping the sandbox (pid ${SANDBOX_PID})"
        kill "${SANDBOX_PID}" 2>/dev/null || true
        wait "${SANDBOX_PID}" 2>/dev/null || true
    fi
}
trap stop_sandbox EXIT
trap 'exit 130' INT TERM   # run the EXIT trap on Ctrl-C too

mkdir -p "${OUTPUT_DIR}"
log "Starting ordoro-sandbox on ${SANDBOX_URL} (seed ${SEED}; log: output/sandbox/sandbox.log)"
"${PROJECT_VENV}/bin/ordoro-sandbox" --host 127.0.0.1 --port "${PORT}" --seed "${SEED}" \
    --username "${SANDBOX_USER}" --password "${SANDBOX_PASSWORD}" \
    >"${OUTPUT_DIR}/sandbox.log" 2>&1 &
SANDBOX_PID=$!
wait_for_sandbox "${SANDBOX_URL}" "${SANDBOX_USER}" "${SANDBOX_PASSWORD}" "${SANDBOX_PID}" \
    || { cat "${OUTPUT_DIR}/sandbox.log" >&2; exit 1; }

# Settings from the environment beat meltano.yml's, so these point the `sandbox` environment
# at this run's port and credentials.
export MELTANO_ENVIRONMENT=sandbox
export TAP_ORDORO_API_URL="${SANDBOX_URL}" TARGET_ORDORO_API_URL="${SANDBOX_URL}"
export TAP_ORDORO_USERNAME="${SANDBOX_USER}" TARGET_ORDORO_USERNAME="${SANDBOX_USER}"
export TAP_ORDORO_PASSWORD="${SANDBOX_PASSWORD}" TARGET_ORDORO_PASSWORD="${SANDBOX_PASSWORD}"

# Each run starts from a new sandbox, so from new landing files, dead-letter file and bookmarks
# (--full-refresh); against a long-lived account, leave those be: runs are then incremental, and
# replays write nothing twice (target-ordoro judges every record against what Ordoro holds).
find "${OUTPUT_DIR}" -mindepth 1 -maxdepth 1 ! -name sandbox.log -exec rm -rf {} +

# run_pipeline NAME TAP TARGET: one `meltano run`, its full log in output/sandbox/NAME.log.
run_pipeline() {
    local name="$1" logfile="${OUTPUT_DIR}/$1.log"
    shift
    log "meltano run --full-refresh $* (log: output/sandbox/${name}.log)"
    if ! "${MELTANO}" run --full-refresh "$@" >"${logfile}" 2>&1; then
        tail -n 40 "${logfile}" >&2
        die "meltano run $* failed; the whole log is in ${logfile}"
    fi
}
run_pipeline ordoro-to-jsonl tap-ordoro target-jsonl
run_pipeline ordoro-to-duckdb tap-ordoro target-duckdb
run_pipeline supplier-feed-to-ordoro tap-csv-folder target-ordoro

log "What landed"
"${PROJECT_VENV}/bin/python" scripts/demo_report.py \
    --output-dir "${OUTPUT_DIR}" --feed-dir "${FEED_DIR}" \
    --api-url "${SANDBOX_URL}" --username "${SANDBOX_USER}" \
    --target-log "${OUTPUT_DIR}/supplier-feed-to-ordoro.log" \
    --duckdb "${OUTPUT_DIR}/landing.duckdb" \
    --duckdb-python "${REPO_ROOT}/.meltano/loaders/target-duckdb/venv/bin/python"
