"""Restatements and rollback on the PostgreSQL target (issue 21): the late-correction case of
tests/history/test_restatements.py run on a server, then rollbacks under BI readers.

- A corrected register delivered after its month was published: the restated figures are stored in the server's
  audit.published_figures, and published.mart_restatements (and publish_history, and the published file) shows
  exactly the generator's truth: one enrolled change, old -> new, caused by the correcting load.
- `rollback RUN --reason` republishes an earlier state in one transaction, recorded (audit.publishes, history,
  publish_history) with the reason; BI readers looping meanwhile get no error and see the first state or the
  second, never a mix.
- kill -9 of a publish and of a rollback between the promote and the published file's switch: the next history read
  or publish brings the file to the server's state (`targets.postgres.settle`), one complete record per state.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from cakupan.core.files import sha256_file
from cakupan.core.settings import PROJECT_ROOT, Settings
from cakupan.targets import history
from cakupan.targets.postgres.params import connect
from cakupan.targets.postgres.rollback import rollback
from cakupan.targets.postgres.zones import DEFAULT_BI_ROLE
from cakupan_dev.pgcluster import PgCluster
from pg_support import KEY, child_env, cli

pytestmark = pytest.mark.postgres

RESTATED = ("select regency_code, to_char(month_start, 'YYYY-MM'), measure, old_value, new_value, previous_run_id, "
            "restated_in_run_id, caused_by from published.mart_restatements order by 1, 2, 3")


@dataclass
class Corrected:
    pg: PgCluster
    db: str
    home: Path
    fix: dict
    settings: Settings


@pytest.fixture(scope="module")
def corrected(pg_cluster, tmp_path_factory) -> Corrected:
    """Two publishes on a fresh database: 'first' without the correction, 'second' after it arrived."""
    from cakupan_dev.synth import SynthSpec, generate

    home = tmp_path_factory.mktemp("pgrestate")
    truth = generate(SynthSpec(regencies=["73.72", "73.73"], months=["2025-03", "2025-04", "2025-05"], workers=15,
                               seed=11, scenarios=("correction",), formats=("xlsx", "csv")), home / "inbox")
    fix = next(e for e in truth["injected"] if e["scenario"] == "correction")
    assert fix["enrolled_first_delivery"] != fix["enrolled_corrected"]
    held = home / "held"
    held.mkdir()
    shutil.move(home / "inbox" / fix["file"], held / "f")
    db = pg_cluster.create_database(f"restate_{uuid.uuid4().hex[:8]}")
    cli(home, "run", "--run-id", "first", target="postgres", pg=pg_cluster, dbname=db)
    shutil.move(held / "f", home / "inbox" / fix["file"])
    cli(home, "run", "--run-id", "second", target="postgres", pg=pg_cluster, dbname=db)
    s = Settings(home=home, inbox=home / "inbox", config_dir=PROJECT_ROOT / "config", target="postgres",
                 pseudonym_key=KEY, pg_dsn=pg_cluster.dsn(dbname=db))
    return Corrected(pg_cluster, db, home, fix, s)


def test_a_late_correction_is_restated_on_postgres_as_the_truth_says(corrected):
    c, fix = corrected, corrected.fix
    key = (fix["regency_code"], fix["month"])
    with closing(connect(c.settings)) as con, con.cursor() as cur:
        cur.execute(RESTATED)
        rows = cur.fetchall()
        cur.execute("select load_id from audit.loads where source_file = %s", [fix["file"]])
        (load,) = cur.fetchone()
        cur.execute("select run_id, value from audit.published_figures where regency_code = %s and "
                    "to_char(month_start, 'YYYY-MM') = %s and measure = 'enrolled' order by published_at", list(key))
        stored = cur.fetchall()
        cur.execute("select count(*) from publish_history.mart_restatements where run_id = 'second'")
        in_history = cur.fetchone()[0]
    enrolled = [r for r in rows if r[2] == "enrolled"]
    assert [(*r[:3], int(r[3]), int(r[4])) for r in enrolled] == [
        (*key, "enrolled", fix["enrolled_first_delivery"], fix["enrolled_corrected"])]
    assert enrolled[0][5] == "first" and enrolled[0][6] is None       # restated by the publish carrying the mart
    assert f"load {load} " in enrolled[0][7] and fix["file"].split("/")[1] in enrolled[0][7]
    assert {r[0] for r in rows} == {fix["regency_code"]}              # the other regency was not touched
    # stored in the server's audit zone, when it changed: the first figure, then the corrected one
    assert [(r, int(v)) for r, v in stored] == [("first", fix["enrolled_first_delivery"]),
                                                 ("second", fix["enrolled_corrected"])]
    assert in_history == len(rows)
    # the published file carries the same rows
    with closing(duckdb.connect(str(c.settings.published_db), read_only=True)) as d:
        in_file = d.execute(RESTATED.replace("to_char(month_start, 'YYYY-MM')", "strftime(month_start, '%Y-%m')")
                            .replace("published.", "marts.")).fetchall()
    assert in_file == rows


def _state(con, key) -> tuple:
    with con.cursor() as cur:
        cur.execute("select (select enrolled from published.mart_coverage_monthly where regency_code = %s and "
                    "to_char(month_start, 'YYYY-MM') = %s), (select count(*) from published.mart_restatements)",
                    list(key))
        return cur.fetchone()


class Reader(threading.Thread):
    """A BI session looping: two-statement REPEATABLE READ transactions (coverage, then restatements, a pause
    between) or single statements; records every (enrolled, restatements) pair and every error."""

    def __init__(self, c: Corrected, key, mode: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.c, self.key, self.mode, self.stop = c, key, mode, stop
        self.seen: list[tuple] = []
        self.errors: list[str] = []

    def run(self) -> None:
        rnd = random.Random(self.mode)
        with closing(self.c.pg.connect(user=DEFAULT_BI_ROLE, dbname=self.c.db)) as con:
            if self.mode == "statement":
                con.autocommit = True
            else:
                con.set_session(isolation_level="REPEATABLE READ", readonly=True)
            while not self.stop.is_set():
                try:
                    if self.mode == "statement":
                        self.seen.append(_state(con, self.key))
                        continue
                    with con.cursor() as cur:
                        cur.execute("select enrolled from published.mart_coverage_monthly where regency_code = %s "
                                    "and to_char(month_start, 'YYYY-MM') = %s", list(self.key))
                        e = cur.fetchone()[0]
                        time.sleep(rnd.uniform(0, 0.05))
                        cur.execute("select count(*) from published.mart_restatements")
                        self.seen.append((e, cur.fetchone()[0]))
                    con.commit()
                except Exception as exc:  # noqa: BLE001 - any failure is a finding
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                    con.rollback()


def test_rollback_on_postgres_is_atomic_and_recorded(corrected):
    c, fix = corrected, corrected.fix
    s, key = c.settings, (fix["regency_code"], fix["month"])
    first, second = history.find(s, "first"), history.find(s, "second")
    # the whole files, read before the rollbacks below move them into the changed-rows store (5 files are kept)
    whole = {"first": _file(first.path), "second": _file(second.path)}
    with closing(connect(s)) as con:
        state_second = _state(con, key)
    assert state_second[0] == fix["enrolled_corrected"] and state_second[1] >= 1
    state_first = (fix["enrolled_first_delivery"], 0)     # before the correction, nothing was restated
    stop = threading.Event()
    readers = [Reader(c, key, m, stop) for m in ("two-statements", "statement")]
    for r in readers:
        r.start()
    order = ["first", "second"] * 3
    try:
        time.sleep(0.3)
        for i, run in enumerate(order):
            done = rollback(s, run, f"drill {i}")
            assert done.kind == "rollback" and done.restores == run
            assert sha256_file(s.published_db) == done.sha256 and _file(s.published_db) == whole[run]
            if i < 3:     # still a whole file: restored byte for byte
                assert done.sha256 == (first if run == "first" else second).sha256
            with closing(connect(s)) as con:
                assert _state(con, key) == (state_first if run == "first" else state_second)
            time.sleep(0.1)
    finally:
        stop.set()
        for r in readers:
            r.join(timeout=60)
    for r in readers:
        assert not r.errors, f"{r.mode} reader errors: {r.errors[:5]}"
        assert len(r.seen) > 20, f"{r.mode} reader read only {len(r.seen)} times"
        assert set(r.seen) == {state_first, state_second}, f"{r.mode} reader saw {set(r.seen)}"

    rolled = [e for e in history.entries(s) if e.kind == "rollback"]
    assert [(e.restores, e.reason) for e in rolled] == [(run, f"drill {i}") for i, run in enumerate(order)]
    with closing(connect(s)) as con, con.cursor() as cur:
        cur.execute("select run_id, published_sha256, message from audit.publishes where status = 'rolled_back' "
                    "order by published_at")
        recorded = cur.fetchall()
        cur.execute("select run_id, published_sha256 from publish_history.publishes where run_id like 'rollback%%' "
                    "order by published_at")
        kept = cur.fetchall()
        cur.execute("select run_id, value, caused_by from audit.published_figures where measure = 'enrolled' and "
                    "regency_code = %s and to_char(month_start, 'YYYY-MM') = %s and run_id like 'rollback%%' "
                    "order by published_at", list(key))
        restated = cur.fetchall()
    assert [(r, sha) for r, sha, _ in recorded] == [(e.run_id, e.sha256) for e in rolled] == kept
    assert all(m.endswith(f": drill {i}") for i, (_, _, m) in enumerate(recorded))
    # each rollback restated the corrected figure (back and forth), caused by the rollback and its reason
    assert [(int(v), why) for _, v, why in restated] == [
        (fix["enrolled_first_delivery"] if run == "first" else fix["enrolled_corrected"], f"rollback to {run}: drill {i}")
        for i, run in enumerate(order)]

    # the CLI: no longer refused on PostgreSQL; one line for an unknown run
    out = cli(c.home, "rollback", "first", "--reason", "auditor asked", "--json", target="postgres", pg=c.pg,
              dbname=c.db)
    assert json.loads(out.stdout)["restores"] == "first"
    with closing(connect(s)) as con:
        assert _state(con, key) == state_first
    bad = cli(c.home, "rollback", "nope", "--reason", "x", target="postgres", pg=c.pg, dbname=c.db, check=False)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 and "nope" in bad.stderr


# ------------------------------------------------------------------------------------------------ kill -9 ---------
KILLER = """
import os, signal, sys

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if sys.argv[1] == "publish":     # promoted; the published file not yet exported
    from cakupan.targets.postgres.target import PostgresTarget
    PostgresTarget.export_published = die
else:                            # promoted; the kept file not yet renamed over the published one
    import cakupan.targets.postgres.rollback as rb
    rb.swap_and_record = die
from cakupan import cli
sys.argv = ["cakupan", *sys.argv[2:]]
cli.main()
"""
COVERAGE = ("select regency_code, {month}, enrolled, enrolled_apbd, protected, protected_apbd, promised, "
            "premium_billed, premium_paid from {table} order by 1, 2")


def _killed(c: Corrected, point: str, *args: str) -> None:
    """Run the real command in a subprocess that SIGKILLs itself between the promote and the file switch."""
    proc = subprocess.run([sys.executable, "-c", KILLER, point, *args], env=child_env(c.home, "postgres", c.pg, c.db),
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]


def _server(c: Corrected) -> list[tuple]:
    with closing(connect(c.settings)) as con, con.cursor() as cur:
        cur.execute(COVERAGE.format(month="to_char(month_start, 'YYYY-MM')", table="published.mart_coverage_monthly"))
        return [tuple(float(v) if isinstance(v, Decimal) else v for v in r) for r in cur.fetchall()]


def _file(path: Path) -> list[tuple]:
    with closing(duckdb.connect(str(path), read_only=True)) as d:
        rows = d.execute(COVERAGE.format(month="strftime(month_start, '%Y-%m')",
                                         table="marts.mart_coverage_monthly")).fetchall()
    return [tuple(float(v) if isinstance(v, Decimal) else v for v in r) for r in rows]


def _enrolled(rows: list[tuple], key) -> int:
    return next(int(r[2]) for r in rows if r[:2] == key)


def _listed(c: Corrected) -> list[dict]:
    out = cli(c.home, "history", "list", "--json", target="postgres", pg=c.pg, dbname=c.db).stdout
    hist = [json.loads(line) for line in out.splitlines() if line.strip()]
    sha = sha256_file(c.settings.published_db)
    assert hist[-1]["sha256"] == sha and [e["sha256"] for e in hist].count(sha) == 1, hist[-3:]
    states = [json.loads(p.read_text())["state"] for p in c.settings.history_dir.glob("*.json")]
    assert "intended" not in states and all(e["state"] == "complete" for e in hist)
    return hist


def test_kill_9_between_the_promote_and_the_file_switch_is_settled(corrected):
    """A publish and a rollback SIGKILLed after their promote, before the published file was switched: the server
    is on the new state, the file behind it; the next history read (publish) or the next publish (rollback) brings
    the file to the server's state and records it once, under the killed run."""
    c, fix = corrected, corrected.fix
    s, key = c.settings, (fix["regency_code"], fix["month"])
    rollback(s, "first", "kill drill: from the first state")    # marts still hold the corrected build ('second')

    # a publish killed after its promote: BI readers of the server see the correction, the file does not yet
    _killed(c, "publish", "publish", "--run-id", "third")
    assert _enrolled(_server(c), key) == fix["enrolled_corrected"]
    assert _enrolled(_file(s.published_db), key) == fix["enrolled_first_delivery"]     # the gap
    # a plain trace (no --as-of) reads the published file: it settles it first, so it shows the server's figure
    traced = json.loads(cli(c.home, "trace", "mart_coverage_monthly", *key, "--json", target="postgres", pg=c.pg,
                            dbname=c.db).stdout)
    assert traced["figure"] == fix["enrolled_corrected"], traced
    assert _file(s.published_db) == _server(c)
    hist = _listed(c)                                    # (settled already: the history read adds nothing)
    assert _file(s.published_db) == _server(c)
    assert _enrolled(_file(s.published_db), key) == fix["enrolled_corrected"]
    assert [e["run_id"] for e in hist].count("third") == 1 and hist[-1]["run_id"] == "third"
    assert hist[-1]["kind"] == "publish" and hist[-1]["gate"]["success"] is True
    sha = sha256_file(s.published_db)
    with closing(connect(s)) as con, con.cursor() as cur:
        cur.execute("select published_sha256, message from audit.publishes where run_id = 'third'")
        (recorded, message), = cur.fetchall()
        cur.execute("select published_sha256 from publish_history.publishes where run_id = 'third'")
        in_history = cur.fetchall()
        cur.execute("select kind, settled_at is not null from audit.promotes where run_id = 'third'")
        promoted = cur.fetchall()
    assert recorded == sha and "stopped after its promote" in message and in_history == [(sha,)]
    assert promoted == [("publish", True)]
    assert len(_listed(c)) == len(hist)                  # settled once: a second read adds nothing

    # a rollback killed after its promote: the server is back on 'first', the file still on 'third'
    _killed(c, "rollback", "rollback", "first", "--reason", "kill drill")
    assert _enrolled(_server(c), key) == fix["enrolled_first_delivery"]
    assert _enrolled(_file(s.published_db), key) == fix["enrolled_corrected"]
    cli(c.home, "publish", "--run-id", "fourth", target="postgres", pg=c.pg, dbname=c.db)   # settles it first
    hist = _listed(c)
    rolled = [e for e in hist if e["kind"] == "rollback" and e["reason"] == "kill drill"]
    assert len(rolled) == 1 and rolled[0]["restores"] == "first", rolled
    with closing(connect(s)) as con, con.cursor() as cur:     # the file the promote restored, renamed in place
        cur.execute("select sha256 from audit.promotes where run_id = %s", [rolled[0]["run_id"]])
        assert cur.fetchall() == [(rolled[0]["sha256"],)]
    assert _enrolled(_file(Path(rolled[0]["file"])), key) == fix["enrolled_first_delivery"]
    assert [e["run_id"] for e in hist[-3:]] == ["third", rolled[0]["run_id"], "fourth"]
    assert _file(s.published_db) == _server(c)
