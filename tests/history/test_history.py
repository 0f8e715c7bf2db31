"""Publish history (issue 21): retention, as-of, diff and rollback on real published files and the real CLI."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import closing

import duckdb
import pytest
from _support import run_cli
from cakupan.core.files import sha256_file
from cakupan.core.settings import SettingsError
from cakupan.targets import history
from history_states import publish, publish_at


@pytest.fixture(autouse=True)
def _english(settings_factory, monkeypatch):
    """These tests read the English text of the catalogue's error messages (tests/i18n reads both languages);
    after settings_factory, which cleans every CAKUPAN_ variable."""
    monkeypatch.setenv("CAKUPAN_LANG", "en")

FIRST = {("73.72", "2025-03"): 40, ("73.72", "2025-04"): 42, ("73.73", "2025-04"): 7}
# the second publish: 73.72 April corrected 42 -> 45, 73.73 April unchanged, a new month for 73.73
SECOND = {("73.72", "2025-03"): 40, ("73.72", "2025-04"): 45, ("73.73", "2025-04"): 7, ("73.73", "2025-05"): 9}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


PUBLISHES = ["2025-01-10", "2025-01-20", "2025-02-05", "2025-02-25", "2025-03-15", "2025-06-01", "2025-06-10",
             "2025-06-20"]


@pytest.mark.parametrize(("env", "pruned"), [
    # 90 days before 20 June is 22 March: June's three stay; before it, the last publish of each month
    ({}, {"2025-01-10", "2025-02-05"}),
    # the last of each month for 2 months only (March, June); the newest 5 are kept anyway (25 Feb is 5th newest)
    ({"CAKUPAN_HISTORY_MONTHLY": "2"}, {"2025-01-10", "2025-01-20", "2025-02-05"}),
    ({"CAKUPAN_HISTORY_MONTHLY": "2", "CAKUPAN_HISTORY_KEEP": "1"},
     {"2025-01-10", "2025-01-20", "2025-02-05", "2025-02-25"}),
    # 10 days: 10 and 20 June are recent; 1 June is neither recent nor the last of June
    ({"CAKUPAN_HISTORY_DAYS": "10", "CAKUPAN_HISTORY_KEEP": "1"}, {"2025-01-10", "2025-02-05", "2025-06-01"}),
])
def test_retention_prunes_exactly_what_the_policy_says(settings_factory, monkeypatch, env, pruned):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    s = settings_factory()
    for day in PUBLISHES:
        publish_at(s, f"run-{day}", at(day + "T08:00:00"))
    listed = history.entries(s)
    assert [e.run_id for e in listed] == [f"run-{d}" for d in PUBLISHES]     # every record stays
    assert {e.run_id[4:] for e in listed if not e.readable} == pruned
    assert all(e.pruned_at is not None for e in listed if not e.readable)
    # whole files for the newest CAKUPAN_HISTORY_FILES (5) states the policy keeps; every kept state in the store
    readable = [e for e in listed if e.run_id[4:] not in pruned]
    files = {p.name for p in s.history_dir.glob("*.duckdb")} - {"changes.duckdb"}
    assert files == {e.path.name for e in readable[-5:]}
    with closing(duckdb.connect(str(s.history_dir / "changes.duckdb"), read_only=True)) as con:
        in_store = dict(con.execute("select name, readable from _store.states").fetchall())
    assert in_store == {e.name: e.run_id[4:] not in pruned for e in listed}


def test_history_settings_are_checked(settings_factory, monkeypatch):
    monkeypatch.setenv("CAKUPAN_HISTORY_MONTHLY", "forever")
    with pytest.raises(SettingsError, match="CAKUPAN_HISTORY_MONTHLY must be a whole number"):
        settings_factory()


@pytest.fixture
def two_publishes(settings_factory):
    s = settings_factory()
    one = publish(s, "run-one", FIRST)
    first_bytes = s.published_db.read_bytes()
    two = publish(s, "run-two", SECOND)
    return s, one, two, first_bytes


def coverage_json(home, *args) -> dict:
    out = run_cli(home, "coverage", "--json", *args).stdout
    return {(r["regency_code"], r["month"]): r for r in map(json.loads, out.splitlines())}


def test_as_of_is_exactly_what_was_published_then(two_publishes, tmp_path):
    s, one, two, first_bytes = two_publishes
    assert sha256_file(one.path) == one.sha256 and one.path.read_bytes() == first_bytes
    then = coverage_json(s.home, "--as-of", one.published_at.isoformat())
    assert {k: r["enrolled"] for k, r in then.items()} == FIRST
    assert {k: r["protected"] for k, r in then.items()} == {k: n - 1 for k, n in FIRST.items()}
    assert {k: r["enrolled"] for k, r in coverage_json(s.home).items()} == SECOND
    assert {k: r["enrolled"] for k, r in coverage_json(s.home, "--as-of", "2999-01-01").items()} == SECOND
    listed = [json.loads(x) for x in run_cli(s.home, "history", "list", "--json").stdout.splitlines()]
    assert [(e["run_id"], e["sha256"], e["rows"]["marts.mart_coverage_monthly"], e["gate"]["success"])
            for e in listed] == [("run-one", one.sha256, 3, True), ("run-two", two.sha256, 4, True)]


def test_diff_lists_the_changed_figures_and_nothing_with_itself(two_publishes):
    s, *_ = two_publishes
    assert run_cli(s.home, "diff", "run-one", "run-one", "--json").stdout == ""
    rows = [json.loads(x) for x in run_cli(s.home, "diff", "run-one", "run-two", "--json").stdout.splitlines()]
    changed = {(r["regency_code"], r["month"], r["measure"]): (r["old_value"], r["new_value"]) for r in rows}
    assert changed[("73.72", "2025-04", "enrolled")] == (42, 45)
    assert changed[("73.72", "2025-04", "protected")] == (41, 44)
    assert changed[("73.72", "2025-04", "premium_paid")] == (41 * 16800, 44 * 16800)
    assert changed[("73.73", "2025-05", "enrolled")] == (None, 9)
    assert {k[:2] for k in changed} == {("73.72", "2025-04"), ("73.73", "2025-05")}


def test_rollback_republishes_the_verified_state_and_records_why(two_publishes):
    s, one, two, first_bytes = two_publishes
    out = run_cli(s.home, "rollback", "run-one", "--reason", "April register withdrawn by the regency")
    assert "dikembalikan ke keadaan yang diterbitkan oleh run-one" in out.stdout      # Bahasa Indonesia by default
    assert s.published_db.read_bytes() == first_bytes
    assert {k: r["enrolled"] for k, r in coverage_json(s.home).items()} == FIRST
    last = history.entries(s)[-1]
    assert (last.kind, last.restores, last.reason, last.sha256) == (
        "rollback", "run-one", "April register withdrawn by the regency", one.sha256)
    with closing(duckdb.connect(str(s.work_db), read_only=True)) as con:
        status, msg, sha = con.execute("select status, message, published_sha256 from audit.publishes").fetchone()
    assert status == "rolled_back" and "run-one" in msg and "withdrawn" in msg and sha == one.sha256
    # and forward again: the later state, by its run id
    run_cli(s.home, "rollback", "run-two", "--reason", "register confirmed")
    assert sha256_file(s.published_db) == two.sha256


@pytest.mark.parametrize(("args", "says"), [
    (("rollback", "run-nine", "--reason", "x"), "no publish with run id 'run-nine'"),
    (("rollback", "run-one"), "a rollback needs a reason"),
    (("diff", "run-one", "nope"), "no publish with run id 'nope'"),
    (("coverage", "--as-of", "2001-01-01"), "nothing was published by 2001-01-01"),
    (("coverage", "--as-of", "last tuesday"), "is not a date"),
    (("trace", "mart_coverage_monthly", "73.72", "2025-04", "--as-of", "2001-01-01"), "nothing was published by"),
])
def test_history_failures_are_one_clear_line(two_publishes, args, says):
    s, *_ = two_publishes
    before = sha256_file(s.published_db)
    proc = run_cli(s.home, *args, check=False, CAKUPAN_LANG="en")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    assert sha256_file(s.published_db) == before


def test_rollback_refuses_a_damaged_state(two_publishes):
    s, one, _, _ = two_publishes
    before = sha256_file(s.published_db)
    with open(one.path, "ab") as f:     # a stored state changed behind the history's back
        f.write(b"\0")
    proc = run_cli(s.home, "rollback", "run-one", "--reason", "x", check=False, CAKUPAN_LANG="en")
    assert proc.returncode == 1 and "is damaged" in proc.stderr and "nothing was changed" in proc.stderr
    assert sha256_file(s.published_db) == before
    assert not list(s.published_dir.glob("next-*"))


def test_pruned_state_says_so(settings_factory, monkeypatch):
    monkeypatch.setenv("CAKUPAN_HISTORY_KEEP", "1")
    s = settings_factory()
    for day in ("2024-01-10", "2024-01-20", "2025-01-01"):
        publish_at(s, f"run-{day}", at(day + "T08:00:00"))
    with pytest.raises(history.HistoryError, match="was pruned by the retention policy"):
        history.as_of(s, "2024-01-15")
    assert history.as_of(s, "2024-01-25").run_id == "run-2024-01-20"
