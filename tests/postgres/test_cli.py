"""The CLI against PostgreSQL when something is wrong: a wrong password, an unreachable server, a missing database
each end in one line saying what to check (exit 1, no traceback); and the `.env` the CLI reads, with its paths
relative to the file's folder, not to the current directory."""

from __future__ import annotations

import os
import subprocess

import pytest
from cakupan_dev.pgcluster import free_port
from pg_support import CAKUPAN, KEY
from pg_support import cli as pg_cli

pytestmark = pytest.mark.postgres

PW_ROLE = "cakupan_pwcheck"


def cli(*args, env: dict[str, str] | None = None, **kw):
    """The CLI with its lines in English (what these tests read; the Indonesian line is checked once below)."""
    return pg_cli(*args, env={"CAKUPAN_LANG": "en", **(env or {})}, **kw)


@pytest.fixture(scope="module")
def password_role(pg_cluster):
    """A role that must give its password (the test cluster trusts every other one)."""
    con = pg_cluster.connect(user="postgres", dbname="postgres")
    con.autocommit = True
    with con, con.cursor() as cur:
        cur.execute("select 1 from pg_roles where rolname = %s", [PW_ROLE])
        if not cur.fetchone():
            cur.execute(f"create role {PW_ROLE} login password 'the-right-one'")
    con.close()
    pg_cluster.require_password(PW_ROLE)
    return PW_ROLE


def _one_line(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 1, out.stdout[-2000:] + out.stderr[-2000:]
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot connect to PostgreSQL at "), out.stderr
    return lines[0]


def test_a_wrong_password_is_one_line(pg_cluster, password_role, tmp_path):
    out = cli(tmp_path, "run", target="postgres", pg=pg_cluster, check=False,
              env={"CAKUPAN_PG_USER": password_role, "CAKUPAN_PG_PASSWORD": "a-wrong-one"})
    line = _one_line(out)
    assert f"the password of role {password_role} was refused: check CAKUPAN_PG_PASSWORD" in line, line
    assert "a-wrong-one" not in line


def test_an_unreachable_server_is_one_line(pg_cluster, tmp_path):
    port = free_port()     # nothing listens there
    line = _one_line(cli(tmp_path, "publish", target="postgres", pg=pg_cluster, check=False,
                         env={"CAKUPAN_PG_PORT": str(port)}))
    assert f"127.0.0.1:{port}" in line and "the server cannot be reached" in line, line
    out = pg_cli(tmp_path, "publish", target="postgres", pg=pg_cluster, check=False, env={"CAKUPAN_PG_PORT": str(port)})
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert f"tidak dapat terhubung ke PostgreSQL di 127.0.0.1:{port}" in out.stderr, out.stderr   # by default
    assert "server tidak dapat dihubungi" in out.stderr, out.stderr


def test_a_missing_database_is_one_line(pg_cluster, tmp_path):
    line = _one_line(cli(tmp_path, "ingest", target="postgres", pg=pg_cluster, dbname="no_such_warehouse",
                         check=False))
    assert "database no_such_warehouse does not exist on that server" in line, line


def test_the_cli_reads_dotenv_with_paths_relative_to_its_folder(pg_cluster, tmp_path):
    """The .env's CAKUPAN_HOME=./home is the folder beside the .env, whatever the current directory; its
    PostgreSQL settings are used; a variable already set wins over the file."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text(
        "# as in .env.example\nCAKUPAN_HOME=./home\nCAKUPAN_TARGET=postgres\n"
        f"CAKUPAN_PG_DSN=postgresql://cakupan@127.0.0.1:{pg_cluster.port}/dotenv_missing_db\n"
        f"CAKUPAN_PSEUDONYM_KEY={KEY}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAKUPAN_", "AIRFLOW_CONN_"))}
    env.update(CAKUPAN_ENV_FILE=str(project / ".env"), NO_COLOR="1")

    def run(*args, **more):
        return subprocess.run([str(CAKUPAN), *args], env={**env, **more}, cwd=elsewhere, capture_output=True,
                              text=True, timeout=300, check=False)

    out = run("coverage")
    assert out.returncode == 1 and f"belum ada yang diterbitkan di {project / 'home' / 'published'}" in out.stderr, \
        out.stderr
    assert not (elsewhere / "home").exists()
    line = _one_line(run("ingest", CAKUPAN_LANG="en"))
    assert "database dotenv_missing_db does not exist" in line and "CAKUPAN_PG_DSN" in line, line
    out = run("coverage", CAKUPAN_HOME=str(tmp_path / "from-env"))
    assert f"belum ada yang diterbitkan di {tmp_path / 'from-env' / 'published'}" in out.stderr, out.stderr
