"""A throwaway PostgreSQL cluster for the tests: Debian's binaries, run as an unprivileged user.

``make test`` installs Debian's ``postgresql`` when missing. The cluster lives in a temp folder
owned by ``nobody`` (``initdb`` refuses to run as root, and CI runs as root), listens on
127.0.0.1 at a free port only, and is stopped by its postmaster's PID at the end of the session.
A missing PostgreSQL fails loudly: these tests never skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run `make test`, "
            "or `apt-get install postgresql`."
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_user() -> list[str]:
    """Run as ``nobody`` when we are root (initdb refuses root), as ourselves otherwise."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """A running cluster; yields the base URI ``postgresql+psycopg://postgres@127.0.0.1:PORT``."""
    bin_dir = _bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="nbstudio-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        user = pwd.getpwnam("nobody")
        os.chown(folder, user.pw_uid, user.pw_gid)
    os.chmod(folder, 0o700)
    port = _free_port()
    run = _as_user()
    subprocess.run(
        [*run, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
         "--encoding=UTF8", "--locale=C", "--no-sync"],
        check=True, capture_output=True, cwd=folder,
    )  # fmt: skip
    options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c full_page_writes=off"
    subprocess.run(
        [*run, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
         str(folder / "log"), "-w", "-t", "60", "start"],
        check=True, capture_output=True, cwd=folder,
    )  # fmt: skip
    pid = int((data / "postmaster.pid").read_text().split()[0])
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        os.kill(pid, signal.SIGINT)  # "fast" shutdown of the postmaster we started
        for _ in range(200):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        shutil.rmtree(folder, ignore_errors=True)


def new_database(base_uri: str) -> str:
    """A new empty database on the cluster; its URI."""
    import sqlalchemy as sa

    name = f"mlflow_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(f"{base_uri}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as db:
        db.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{base_uri}/{name}"


def use_new_database(workspace, base_uri: str) -> None:
    """Point the workspace's store at a new empty database of the cluster (nbstudio.toml)."""
    from nbstudio.session import reset_session

    uri = new_database(base_uri)
    (workspace / "nbstudio.toml").write_text(f'tracking_uri = "{uri}"\n')
    reset_session()
