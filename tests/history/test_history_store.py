"""The history's changed-rows store (issue 21): with CAKUPAN_HISTORY_FILES=1 every state but the newest is kept only
as row versions in `published/history/changes.duckdb`, and every reader gets it back exactly.

Expected values come from the states' definitions (the figures each publish was given) and from each state's own
whole file, copied aside before it was compacted — never from the store's output.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import duckdb
import pytest
from _support import cakupan_env, run_cli
from cakupan.core.files import sha256_file
from cakupan.targets import changes, history
from cakupan.targets.published_file import swap_in
from history_states import publish_at, snapshot, write_state

HERE = Path(__file__).resolve().parent

ONE = {("73.72", "2025-03"): 40, ("73.72", "2025-04"): 42, ("73.73", "2025-04"): 7}
TWO = {("73.72", "2025-03"): 40, ("73.72", "2025-04"): 45, ("73.73", "2025-04"): 7, ("73.73", "2025-05"): 9}
THREE = {("73.72", "2025-03"): 41, ("73.72", "2025-04"): 45, ("73.73", "2025-04"): 7, ("73.73", "2025-05"): 9}


@pytest.fixture(autouse=True)
def _english(settings_factory, monkeypatch):
    monkeypatch.setenv("CAKUPAN_LANG", "en")


def publish(s, run_id: str, enrolled: dict, alter: str | None = None, padding_rows: int = 0) -> history.Entry:
    """Publish a state (the real swap and history record); `alter`: SQL run on the candidate first."""
    s.ensure_dirs()
    cand = s.candidate_db(run_id)
    write_state(cand, run_id, enrolled, padding_rows=padding_rows)
    if alter:
        with closing(duckdb.connect(str(cand))) as con:
            con.execute(alter)
    swap_in(s, cand, run_id)
    return history.find(s, run_id)


@pytest.fixture
def compacted(settings_factory, tmp_path):
    """Three publishes with one whole file kept; each state's file copied aside before the next publish."""
    s = settings_factory(history_files=1)
    aside = {}
    for run, figures in (("run-one", ONE), ("run-two", TWO), ("run-three", THREE)):
        e = publish(s, run, figures, padding_rows=500)
        aside[run] = tmp_path / f"{run}.duckdb"
        shutil.copyfile(e.path, aside[run])
        assert sha256_file(aside[run]) == e.sha256
    return s, aside


def coverage_json(home, *args) -> dict:
    out = run_cli(home, "coverage", "--json", *args, CAKUPAN_HISTORY_FILES="1").stdout
    return {(r["regency_code"], r["month"]): r for r in map(json.loads, out.splitlines())}


def test_only_the_newest_file_is_kept_and_the_others_read_back_exactly(compacted):
    s, aside = compacted
    one, two, three = history.entries(s)
    assert (one.kept, two.kept, three.kept) == (False, False, True)
    assert all(e.readable and e.stored is not None for e in (one, two, three))
    assert not one.path.exists() and not two.path.exists()
    # as-of of the compacted first state: exactly its figures (from its definition) ...
    then = coverage_json(s.home, "--as-of", one.published_at.isoformat())
    assert {k: r["enrolled"] for k, r in then.items()} == ONE
    assert {k: r["protected"] for k, r in then.items()} == {k: n - 1 for k, n in ONE.items()}
    assert {k: float(r["premium_paid"]) for k, r in then.items()} == {k: (n - 1) * 16800 for k, n in ONE.items()}
    # ... and every table of every compacted state equals the state's own whole file, types and column order too
    for e in (one, two):
        rebuilt = history.state_file(s, e)
        assert rebuilt.parent.name == "cache"
        assert snapshot(rebuilt) == snapshot(aside[e.run_id])
    listed = run_cli(s.home, "history", "list", CAKUPAN_HISTORY_FILES="1", CAKUPAN_LANG="en", COLUMNS="250").stdout
    assert listed.count("in the changed-rows store") == 2 and listed.count("kept") == 1


def test_diff_of_compacted_states(compacted):
    s, aside = compacted
    env = {"CAKUPAN_HISTORY_FILES": "1"}
    assert run_cli(s.home, "diff", "run-one", "run-one", "--json", **env).stdout == ""
    for a, b in (("run-one", "run-three"), ("run-two", "run-one")):   # compacted against kept, and both compacted
        got = [json.loads(x) for x in run_cli(s.home, "diff", a, b, "--json", **env).stdout.splitlines()]
        assert got == history.diff(aside[a], aside[b]) and got


def test_rollback_to_a_compacted_state_publishes_its_content_and_records_the_digest(compacted):
    s, aside = compacted
    run_cli(s.home, "rollback", "run-one", "--reason", "register withdrawn", CAKUPAN_HISTORY_FILES="1")
    assert snapshot(s.published_db) == snapshot(aside["run-one"])
    last = history.entries(s)[-1]
    assert (last.kind, last.restores, last.sha256) == ("rollback", "run-one", sha256_file(s.published_db))
    with closing(duckdb.connect(str(s.work_db), read_only=True)) as con:
        cand, pub, msg = con.execute("select candidate_sha256, published_sha256, message from audit.publishes "
                                     "where status = 'rolled_back'").fetchone()
    assert pub == last.sha256 and "run-one" in msg and "register withdrawn" in msg
    assert cand == "content:" + history.content_digest(s, history.find(s, "run-one"))


def test_a_tampered_store_row_is_damaged_never_a_wrong_answer(compacted):
    s, _ = compacted
    with closing(duckdb.connect(str(s.history_dir / "changes.duckdb"))) as con:
        changed = con.execute("update marts.mart_coverage_monthly set enrolled = enrolled + 1 where _from = 1 "
                              "and enrolled = 42").fetchone()[0]
    assert changed == 1
    before = sha256_file(s.published_db)
    one = history.find(s, "run-one")
    for args in (("coverage", "--as-of", one.published_at.isoformat()), ("diff", "run-one", "run-three"),
                 ("rollback", "run-one", "--reason", "x")):
        proc = run_cli(s.home, *args, check=False, CAKUPAN_HISTORY_FILES="1", CAKUPAN_LANG="en")
        assert proc.returncode == 1, proc.stdout
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "the stored state of run-one is damaged" in lines[0], proc.stderr
        assert "marts.mart_coverage_monthly (3 rows) does not match its recorded content digest" in lines[0]
        assert "Traceback" not in proc.stderr
    assert sha256_file(s.published_db) == before
    assert not list((s.history_dir / "cache").glob("*.duckdb"))


def test_an_added_column_and_a_changed_type_read_back_right(settings_factory, tmp_path):
    s = settings_factory(history_files=1)
    states = [("run-plain", ONE, None),
              ("run-note", TWO, ("alter table marts.mart_coverage_monthly add column note varchar; "
                                "update marts.mart_coverage_monthly set note = 'checked ' || regency_code")),
              ("run-typed", THREE, "alter table marts.mart_coverage_monthly alter enrolled type decimal(18,2)"),
              ("run-last", THREE, None)]
    aside = {}
    for run, figures, alter in states:
        e = publish(s, run, figures, alter)
        aside[run] = tmp_path / f"{run}.duckdb"
        shutil.copyfile(e.path, aside[run])
    for e in history.entries(s)[:-1]:
        assert not e.kept
        assert snapshot(history.state_file(s, e)) == snapshot(aside[e.run_id])
    cols = snapshot(aside["run-note"])["marts.mart_coverage_monthly"][0]
    assert cols[-1] == ("note", "VARCHAR") and ("enrolled", "DECIMAL(18,2)") in \
        snapshot(aside["run-typed"])["marts.mart_coverage_monthly"][0]


def test_retention_deletes_the_row_versions_no_kept_state_holds(settings_factory, monkeypatch):
    monkeypatch.setenv("CAKUPAN_HISTORY_KEEP", "1")
    monkeypatch.setenv("CAKUPAN_HISTORY_DAYS", "10")
    s = settings_factory(history_files=1)
    # 10 Jan is pruned once 20 Jun is published (neither recent, nor the last of January, nor the newest)
    for i, day in enumerate(("2025-01-10", "2025-01-20", "2025-06-20")):
        publish_at(s, f"run-{day}", dt.datetime.fromisoformat(day + "T08:00:00"),
                   {("73.72", "2025-01"): 10 + i}, padding_rows=1000)
    first = history.entries(s)[0]
    assert first.pruned_at is not None and not first.readable
    # each state: one coverage row and one publish record of its own, the same 1,000 padding rows; the pruned
    # state's two rows are gone, the padding rows it shared with the kept states stay (one version each)
    assert changes.row_versions(s.history_dir) == 2 * 2 + 1000
    with pytest.raises(history.HistoryError, match="was pruned by the retention policy"):
        history.state_file(s, first)
    assert history.as_of(s, "2025-01-25").run_id == "run-2025-01-20"


KILLER = """
import os, signal, sys
from cakupan.core.settings import Settings
from cakupan.targets import changes
from history_states import write_state
from cakupan.targets.published_file import swap_in

real = changes._append_table

def die(*args):
    real(*args)        # the first table's rows are written inside the open transaction, then the process dies
    os.kill(os.getpid(), signal.SIGKILL)

changes._append_table = die
s = Settings.from_env()
cand = s.candidate_db(sys.argv[1])
write_state(cand, sys.argv[1], {("73.72", "2025-03"): int(sys.argv[2])}, padding_rows=500)
swap_in(s, cand, sys.argv[1])
"""


def test_kill_9_during_an_append_leaves_the_store_at_the_previous_state(compacted, tmp_path):
    s, aside = compacted
    versions, names = changes.row_versions(s.history_dir), changes.stored(s.history_dir)
    env = cakupan_env(s.home, CAKUPAN_HISTORY_FILES="1",
                      PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", KILLER, "run-four", "77"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert changes.row_versions(s.history_dir) == versions and changes.stored(s.history_dir) == names
    four = history.find(s, "run-four")        # published and recorded; its file kept until it is in the store
    assert four.kept and four.stored is None and history.find(s, "run-three").kept
    four_aside = tmp_path / "run-four.duckdb"
    shutil.copyfile(four.path, four_aside)
    # the next history writer appends what the store lacks, then the usual retention applies
    publish(s, "run-five", ONE)
    four = history.find(s, "run-four")
    assert not four.kept and four.stored is not None
    assert snapshot(history.state_file(s, four)) == snapshot(four_aside)
    assert snapshot(history.state_file(s, history.find(s, "run-two"))) == snapshot(aside["run-two"])
