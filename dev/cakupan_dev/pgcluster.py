"""A real, throwaway PostgreSQL cluster for tests: initdb + pg_ctl on a free loopback port in a temporary folder.

    with PgCluster.start() as pg:          # or the session fixture `pg_cluster` (tests/postgres/conftest.py)
        env = pg.env()                     # CAKUPAN_PG_HOST/PORT/USER/PASSWORD/DB for the pipeline role
        con = pg.connect()                 # psycopg2, as the pipeline role `cakupan` (owner of database `cakupan`)

The cluster trusts every local connection (tests only), listens on 127.0.0.1 only, keeps its socket in the temporary
folder, runs without fsync (throwaway data), and is stopped (`pg_ctl stop -m fast`) and deleted at the end — also
at interpreter exit if a test run is interrupted. initdb refuses to run as root, so as root the server runs as the
`postgres` system user (runuser) and the folder is handed to it.

Roles: `postgres` (bootstrap superuser, used only to set up), `cakupan` (the pipeline: LOGIN CREATEROLE, owner of
database `cakupan`, not a superuser, so privilege tests are real).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PIPELINE_ROLE = "cakupan"
DATABASE = "cakupan"


class ClusterError(RuntimeError):
    """The throwaway cluster could not be created or started; the message carries the server log."""


def find_bindir() -> Path:
    """Return the folder holding initdb / pg_ctl: CAKUPAN_PG_BINDIR, the newest /usr/lib/postgresql/*/bin, or PATH."""
    env = os.environ.get("CAKUPAN_PG_BINDIR")
    if env and (Path(env) / "initdb").exists():
        return Path(env)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]) if
                   p.split("/")[4].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    if which:
        return Path(which).parent
    raise ClusterError("PostgreSQL server binaries (initdb, pg_ctl) not found: install them (`make postgres-deps`, "
                       "apt-get install postgresql) or set CAKUPAN_PG_BINDIR")


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgCluster:
    """A running throwaway cluster; `stop()` (or leaving the `with` block) stops and deletes it."""

    root: Path
    bindir: Path
    port: int
    host: str = "127.0.0.1"
    run_as: str | None = None           # system user running the server (postgres when we are root)
    _stopped: bool = field(default=False, repr=False)

    # ------------------------------------------------------------------------------------------------ lifecycle
    @classmethod
    def start(cls, bindir: Path | None = None, attempts: int = 3, bootstrap: bool = True) -> PgCluster:
        """Create a cluster in a new temporary folder and start it on a free loopback port; `bootstrap`: create the
        pipeline role and its database (without it, only the `postgres` superuser exists: a DBA's starting point)."""
        bindir = Path(bindir) if bindir else find_bindir()
        run_as = "postgres" if os.geteuid() == 0 else None
        root = Path(tempfile.mkdtemp(prefix="cakupan-pg-"))
        data, sock = root / "data", root / "sock"
        sock.mkdir()
        if run_as:
            shutil.chown(root, run_as, run_as)
            shutil.chown(sock, run_as, run_as)
        cluster = cls(root=root, bindir=bindir, port=0, run_as=run_as)
        try:
            cluster._run(["initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
                          "--no-sync", "--no-instructions"], timeout=180)
            last = None
            for _ in range(attempts):  # the free port may be taken between choosing it and binding it
                cluster.port = free_port()
                try:
                    cluster._pg_ctl_start()
                    break
                except ClusterError as exc:
                    last = exc
            else:
                raise last or ClusterError("could not start the cluster")
            atexit.register(cluster.stop)
            if bootstrap:
                cluster._bootstrap()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _cmd(self, args: list[str]) -> list[str]:
        exe = [str(self.bindir / args[0]), *args[1:]]
        return ["runuser", "-u", self.run_as, "--", *exe] if self.run_as else exe

    def _run(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        proc = subprocess.run(self._cmd(args), capture_output=True, text=True, timeout=timeout, cwd=self.root,
                              check=False)
        if proc.returncode != 0:
            raise ClusterError(f"{args[0]} failed ({proc.returncode}): {proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
                               f"\n{self.server_log()}")
        return proc

    def _pg_ctl_start(self) -> None:
        opts = " ".join([
            f"-c port={self.port}", "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.root / 'sock'}",
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
            "-c max_connections=60", "-c shared_buffers=64MB", "-c log_min_messages=warning",
        ])
        self._run(["pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "server.log"), "-o", opts,
                   "-w", "-t", "60", "start"], timeout=90)

    def server_log(self) -> str:
        """The tail of the server log (for error messages)."""
        log = self.root / "server.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""

    def _bootstrap(self) -> None:
        con = self.connect(user="postgres", dbname="postgres")
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(f"create role {PIPELINE_ROLE} login createrole")
                cur.execute(f"create database {DATABASE} owner {PIPELINE_ROLE}")
        finally:
            con.close()

    def stop(self) -> None:
        """Stop the server (fast mode) and delete its folder; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if (self.root / "data" / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                subprocess.run(self._cmd(["pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "-t", "60",
                                          "stop"]), capture_output=True, timeout=90, check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgCluster:  # noqa: PYI034 - Python 3.11 floor; Self adds nothing here
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------------------ access
    def dsn(self, user: str = PIPELINE_ROLE, dbname: str = DATABASE) -> str:
        """libpq keyword DSN for a role and database (trust auth: no password)."""
        return f"host={self.host} port={self.port} user={user} dbname={dbname}"

    def connect(self, user: str = PIPELINE_ROLE, dbname: str = DATABASE, **kw):
        """Open a psycopg2 connection."""
        import psycopg2

        kw.setdefault("application_name", "cakupan-tests")
        return psycopg2.connect(host=self.host, port=self.port, user=user, dbname=dbname, **kw)

    def env(self, dbname: str = DATABASE, user: str = PIPELINE_ROLE) -> dict[str, str]:
        """CAKUPAN_PG_* variables pointing the pipeline (and profiles.yml) at this cluster."""
        return {"CAKUPAN_PG_HOST": self.host, "CAKUPAN_PG_PORT": str(self.port), "CAKUPAN_PG_USER": user,
                "CAKUPAN_PG_PASSWORD": "", "CAKUPAN_PG_DB": dbname}

    def require_password(self, role: str) -> None:
        """Make `role` authenticate with its password over TCP (scram-sha-256); every other role stays trusted."""
        hba = self.root / "data" / "pg_hba.conf"
        line = f"host all {role} 127.0.0.1/32 scram-sha-256\n"
        text = hba.read_text()
        if line not in text:
            hba.write_text(line + text)
        con = self.connect(user="postgres", dbname="postgres")
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute("select pg_reload_conf()")
        finally:
            con.close()
        time.sleep(0.2)

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create a database owned by the pipeline role (optionally a copy of `template`); return its name."""
        con = self.connect(user="postgres", dbname="postgres")
        try:
            con.autocommit = True
            with con.cursor() as cur:
                if template:  # no session may be connected to the template while it is copied
                    cur.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s "
                                "and pid <> pg_backend_pid()", [template])
                    time.sleep(0.1)
                cur.execute(f'create database "{name}" owner {PIPELINE_ROLE}'
                            + (f' template "{template}"' if template else ""))
        finally:
            con.close()
        return name
