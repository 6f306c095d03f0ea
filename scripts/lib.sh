# Shared helpers for scripts/quickstart.sh and scripts/test.sh. Source it; don't run it.
#
# Environments it creates in the repository root (all git-ignored):
#   .venv/          the project (tap-ordoro, target-ordoro, ordoro-sandbox) and its test tools
#   .venv-meltano/  Meltano itself, apart from the project so their dependencies never clash
#   .meltano/       the plugins' own virtualenvs, built by `meltano install` (uv backend)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROJECT_VENV="${REPO_ROOT}/.venv"
MELTANO_VENV="${REPO_ROOT}/.venv-meltano"
MELTANO="${MELTANO_VENV}/bin/meltano"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The first Python 3.10+ found ($PYTHON first, if set).
find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python3.10 python; do
        [[ -n "${candidate}" ]] || continue
        command -v "${candidate}" >/dev/null 2>&1 || continue
        if "${candidate}" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            command -v "${candidate}"
            return 0
        fi
    done
    die "Python 3.10 or newer is needed (none of python3, python3.1x, python found; set PYTHON=...)"
}

# make_venv DIR: create a virtualenv unless a working one is there already.
make_venv() {
    local dir="$1" python
    if [[ -x "${dir}/bin/python" ]] && "${dir}/bin/python" -c 'import pip' 2>/dev/null; then
        return 0
    fi
    python="$(find_python)"
    log "Creating ${dir#"${REPO_ROOT}/"} with $("${python}" --version)"
    rm -rf "${dir}"
    "${python}" -m venv "${dir}" \
        || die "'${python} -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
}

# pip_install VENV ARGS...: quiet pip, no version nag.
pip_install() {
    local venv="$1"
    shift
    PIP_DISABLE_PIP_VERSION_CHECK=1 "${venv}/bin/python" -m pip install --quiet "$@"
}

# The project, editable, into .venv (extras as $1, e.g. "[test]").
install_project() {
    local extras="${1:-}"
    make_venv "${PROJECT_VENV}"
    log "Installing the project into .venv (pip install -e '.${extras}')"
    pip_install "${PROJECT_VENV}" -e "${REPO_ROOT}${extras}"
}

# Meltano into .venv-meltano, then every plugin of meltano.yml into .meltano/.
install_meltano() {
    make_venv "${MELTANO_VENV}"
    log "Installing Meltano into .venv-meltano ($(grep -v '^#' "${REPO_ROOT}/scripts/requirements-meltano.txt"))"
    pip_install "${MELTANO_VENV}" -r "${REPO_ROOT}/scripts/requirements-meltano.txt"
    log "meltano install (plugins from meltano.yml into .meltano/)"
    (cd "${REPO_ROOT}" && "${MELTANO}" --log-level=warning install)
}

# Whether PostgreSQL's server binaries are here: `pg_config --bindir` holds initdb and pg_ctl.
have_postgres_server() {
    local bindir
    command -v pg_config >/dev/null 2>&1 || return 1
    bindir="$(pg_config --bindir 2>/dev/null)" || return 1
    [[ -x "${bindir}/initdb" && -x "${bindir}/pg_ctl" ]]
}

# PostgreSQL's server for tests/meltano/test_postgres.py (which starts a throwaway cluster of
# its own): Debian's `postgresql` package when it is missing, through apt-get as root or with
# passwordless sudo. Otherwise only a warning: that test then fails saying how to install it.
ensure_postgres_server() {
    local sudo=()
    have_postgres_server && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        log "warning: no PostgreSQL server (pg_config) and no apt-get: install a PostgreSQL server, or tests/meltano/test_postgres.py fails"
        return 0
    fi
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            log "warning: no PostgreSQL server; run 'sudo apt-get install -y postgresql', or tests/meltano/test_postgres.py fails"
            return 0
        fi
    fi
    log "Installing PostgreSQL's server from Debian's packages (apt-get install postgresql)"
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    have_postgres_server || die "apt-get installed postgresql, but pg_config --bindir has no initdb"
}

# A free TCP port on 127.0.0.1: $1 if it is free, else one the kernel picks.
free_port() {
    "${PROJECT_VENV}/bin/python" - "$1" <<'PY'
import socket
import sys

def free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True

wanted = int(sys.argv[1])
if free(wanted):
    print(wanted)
else:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        print(sock.getsockname()[1])
PY
}

# wait_for_sandbox URL USER PASSWORD PID: until it answers an authenticated request (30 s).
wait_for_sandbox() {
    "${PROJECT_VENV}/bin/python" - "$@" <<'PY'
import base64
import os
import sys
import time
import urllib.error
import urllib.request

url, user, password, pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
token = base64.b64encode(f"{user}:{password}".encode()).decode()
request = urllib.request.Request(f"{url}/warehouse/", headers={"Authorization": f"Basic {token}"})
deadline = time.monotonic() + 30
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(f"the sandbox (pid {pid}) exited before it answered")
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            if response.status == 200:
                break
    except (urllib.error.URLError, OSError):
        pass
    if time.monotonic() > deadline:
        sys.exit(f"the sandbox did not answer on {url} within 30 s")
    time.sleep(0.2)
PY
}
