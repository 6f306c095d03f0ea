"""A throwaway PostgreSQL cluster for one test: initdb, start, stop, delete.

It uses the PostgreSQL server binaries that ``pg_config --bindir`` names (Debian's
``postgresql`` package; ``scripts/test.sh`` installs it where it can). ``initdb`` refuses to
run as root, so as root the cluster is created and run as the ``postgres`` user (which that
package creates), otherwise as the current user. The cluster lives in a fresh directory under
the system's temporary directory, listens on 127.0.0.1 only, on a free port, with no Unix
socket, and takes password logins only (scram-sha-256) for its one superuser.

The server's ``timezone`` is set to ``America/Chicago`` on purpose: not UTC, and with the DST
switch the sandbox's data spans, so a loader that lets the server's zone leak into stored
timestamps is caught.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

#: What a failing test says when no server is installed.
INSTALL_HINT = (
    "PostgreSQL's server is not installed (no `pg_config` on PATH, or its --bindir has no "
    "initdb/pg_ctl). On Debian/Ubuntu: `sudo apt-get install -y postgresql` "
    "(scripts/test.sh does this by itself when it runs as root with apt-get available); "
    "elsewhere install a PostgreSQL 12+ server and put its pg_config on PATH."
)
SERVER_TIMEZONE = "America/Chicago"
SUPERUSER = "postgres"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def server_bindir() -> Path:
    """The folder of initdb and pg_ctl, from ``pg_config --bindir``."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        raise PostgresUnavailableError(INSTALL_HINT)
    bindir = Path(
        subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    if not all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
        raise PostgresUnavailableError(f"{bindir}: no initdb/pg_ctl/postgres. {INSTALL_HINT}")
    return bindir


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresCluster:
    """One running throwaway cluster; use it as a context manager."""

    bindir: Path = field(default_factory=server_bindir)
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    user: str = SUPERUSER
    password: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)
    database: str = "postgres"
    root: Path | None = None

    @property
    def data_dir(self) -> Path:
        assert self.root is not None, "the cluster is not started"
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        assert self.root is not None, "the cluster is not started"
        return self.root / "server.log"

    def _os_user(self) -> str | None:
        """The system user that runs the server: ``postgres`` when we are root, else us."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailableError(
                f"running as root, but there is no `postgres` system user to run initdb as. "
                f"{INSTALL_HINT}"
            ) from None
        return "postgres"

    def _run(self, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
        os_user = self._os_user()
        extra = {"user": os_user, "group": os_user, "extra_groups": []} if os_user else {}
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8", TZ="UTC")
        if os_user:
            env["HOME"] = str(self.root)
        result = subprocess.run(
            [str(arg) for arg in args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
            env=env,
            check=False,
            **extra,
        )
        if result.returncode != 0:
            log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
            raise RuntimeError(
                f"{Path(str(args[0])).name} exited {result.returncode}\n{result.stdout}\n"
                f"{result.stderr}\n--- server log ---\n{log[-4000:]}"
            )
        return result

    def start(self) -> PostgresCluster:
        """initdb in a new temporary directory, configure, and start the server."""
        self.root = Path(tempfile.mkdtemp(prefix="ordoro-pg-"))
        os_user = self._os_user()
        password_file = self.root / "password"
        password_file.write_text(self.password + "\n", encoding="utf-8")
        if os_user:
            record = pwd.getpwnam(os_user)
            for path in (self.root, password_file):
                os.chown(path, record.pw_uid, record.pw_gid)
        self._run(
            self.bindir / "initdb",
            "--pgdata", self.data_dir,
            "--username", self.user,
            "--pwfile", password_file,
            "--auth", "scram-sha-256",
            "--encoding", "UTF8",
            "--no-instructions",
        )  # fmt: skip
        password_file.unlink()
        settings = {
            "listen_addresses": f"'{self.host}'",
            "port": str(self.port),
            "unix_socket_directories": "''",
            "timezone": f"'{SERVER_TIMEZONE}'",
            "log_timezone": "'UTC'",
            # A throwaway cluster: durability costs time and buys nothing.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# tests/meltano/pg_cluster.py\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        self._run(
            self.bindir / "pg_ctl", "--pgdata", self.data_dir, "--log", self.log_file,
            "--wait", "--timeout", "60", "start",
        )  # fmt: skip
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory."""
        if self.root is None:
            return
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run(
                    self.bindir / "pg_ctl", "--pgdata", self.data_dir, "--mode", "fast",
                    "--wait", "--timeout", "60", "stop",
                )  # fmt: skip
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> PostgresCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
