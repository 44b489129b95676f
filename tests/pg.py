"""A throw-away PostgreSQL server for the tests: a temporary data folder, 127.0.0.1 and a free port, stopped at the
end. Where the machine has no PostgreSQL (initdb, pg_ctl), `start` says why and the tests that need it skip."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Server:
    url: str
    folder: Path
    pg_ctl: str
    as_user: list[str]

    def stop(self) -> None:
        subprocess.run([*self.as_user, self.pg_ctl, "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)

    def restart(self) -> None:
        """Stopped and started again on the same port (the data kept): a server lost while the bot serves."""
        subprocess.run([*self.as_user, self.pg_ctl, "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)  # fmt: skip
        _start(self.pg_ctl, self.as_user, self.folder, int(self.url.rsplit(":", 1)[1].split("/")[0]))

    def halt(self) -> None:
        subprocess.run([*self.as_user, self.pg_ctl, "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)  # fmt: skip


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(pg_ctl: str, as_user: list[str], folder: Path, port: int) -> None:
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c max_connections=60"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(folder / "data"), "-l", str(folder / "server.log"), "-o", options, "-w", "start"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def start() -> Server | str:
    """A running server and its URL (user eventbot, password secret-pw, database eventbot), or why there is none."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        return "PostgreSQL is not installed here (no initdb / pg_ctl)"
    folder = Path(tempfile.mkdtemp(prefix="eventbot-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: as the postgres user
        if shutil.which("runuser") is None:
            return "running as root without runuser: cannot start PostgreSQL as another user"
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    password = folder / "password"
    password.write_text("secret-pw\n", encoding="utf-8")
    if as_user:
        shutil.chown(password, "postgres")
    try:
        subprocess.run(
            [*as_user, initdb, "-D", str(folder / "data"), "-U", "eventbot", "--pwfile", str(password), "-A", "scram-sha-256",
             "-E", "UTF8", "--locale", "C"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        port = _free_port()
        _start(pg_ctl, as_user, folder, port)
    except (subprocess.SubprocessError, OSError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return f"could not start PostgreSQL: {type(exc).__name__}"
    import psycopg

    base = f"postgresql://eventbot:secret-pw@127.0.0.1:{port}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as db:
        db.execute("CREATE DATABASE eventbot")
    return Server(f"{base}/eventbot", folder, pg_ctl, as_user)


def fresh_database(server: Server, name: str) -> str:
    """A new empty database on the server (one per test), as a URL."""
    import psycopg

    base = server.url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"
