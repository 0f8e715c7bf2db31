"""Rollback under a concurrent reader and under kill -9: a reader sees one whole published state or the other.

With CAKUPAN_HISTORY_FILES=1 every state but the newest is in the changed-rows store only, so each rollback here
publishes a state rebuilt from the store (digests checked), and each one appends its own state to the store: the
kills land in rebuilds, copies, renames and appends alike."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import duckdb
import pytest
from _support import cakupan_env, run_cli
from cakupan.core.files import sha256_file
from cakupan.targets.history import entries, state_file
from history_states import publish

ONE = {("73.72", "2025-03"): 40, ("73.72", "2025-04"): 42}
TWO = {("73.72", "2025-03"): 40, ("73.72", "2025-04"): 45, ("73.73", "2025-05"): 9}
# a state is whole when the publish record and the figures in the file agree
WHOLE = {("run-one", sum(ONE.values())), ("run-two", sum(TWO.values()))}

READER = """
import json, sys, time, duckdb
path, seconds = sys.argv[1], float(sys.argv[2])
seen, errors, end = {}, [], time.monotonic() + seconds
while time.monotonic() < end:
    try:
        with duckdb.connect(path, read_only=True) as con:
            run = con.execute("select run_id from audit.publishes where status = 'published'").fetchone()[0]
            total = con.execute("select sum(enrolled) from marts.mart_coverage_monthly").fetchone()[0]
        seen[f"{run}|{total}"] = seen.get(f"{run}|{total}", 0) + 1
    except Exception as exc:
        errors.append(str(exc)[:200])
print(json.dumps({"seen": seen, "errors": errors}))
"""

ROLLER = """
from cakupan.core.settings import Settings
from cakupan.targets.rollback import rollback
s = Settings.from_env()
print("ready", flush=True)
for i in range(int(__import__("sys").argv[1])):
    rollback(s, "run-one" if i % 2 == 0 else "run-two", f"drill {i}")
"""


@pytest.fixture
def two_states(settings_factory):
    s = settings_factory(history_files=1)
    one = publish(s, "run-one", ONE, padding_rows=100_000)   # a rollback (rebuild, copy, append) takes a while
    two = publish(s, "run-two", TWO, padding_rows=100_000)
    return s, one, two


def state_of(path) -> tuple[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        run = con.execute("select run_id from audit.publishes where status = 'published'").fetchone()[0]
        return run, int(con.execute("select sum(enrolled) from marts.mart_coverage_monthly").fetchone()[0])


def test_rollback_under_a_concurrent_reader(two_states):
    s, _, two = two_states
    env = cakupan_env(s.home, CAKUPAN_HISTORY_FILES="1")
    reader = subprocess.Popen([sys.executable, "-c", READER, str(s.published_db), "12"], env=env,
                              stdout=subprocess.PIPE, text=True)
    roller = subprocess.run([sys.executable, "-c", ROLLER, "30"], env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert roller.returncode == 0, roller.stderr[-2000:]
    got = json.loads(reader.communicate(timeout=120)[0])
    seen = {tuple(k.split("|")[:1]) + (int(k.split("|")[1]),) for k in got["seen"]}
    assert got["errors"] == []
    assert seen == WHOLE and sum(got["seen"].values()) > 20, got   # both states read, nothing else
    assert not two.kept and state_of(s.published_db) == ("run-two", sum(TWO.values()))   # the 30th: run-two
    assert entries(s)[-1].sha256 == sha256_file(s.published_db)
    assert [e.restores for e in entries(s)[2:]] == ["run-one", "run-two"] * 15


def test_kill_9_during_rollback_leaves_one_whole_state(two_states):
    s, *_ = two_states
    env = cakupan_env(s.home, CAKUPAN_HISTORY_FILES="1")
    rng = random.Random(21)
    outcomes = set()
    for _ in range(10):
        proc = subprocess.Popen([sys.executable, "-c", ROLLER, "1000"], env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 4.0))   # a rollback takes ~1-3 s here: kills land in every step
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        sha = sha256_file(s.published_db)
        assert state_of(s.published_db) in WHOLE
        # and the history agrees: the newest listed record is the published state, no half entry listed or left
        hist = [json.loads(x) for x in run_cli(s.home, "history", "list", "--json").stdout.splitlines()]
        assert hist[-1]["sha256"] == sha and {e["state"] for e in hist} == {"complete"}
        assert "intended" not in {json.loads(p.read_text())["state"] for p in s.history_dir.glob("*.json")}
        outcomes.add(state_of(s.published_db)[0])
    assert outcomes == {"run-one", "run-two"}, "the kills landed both before and after a rename"
    # every state the history lists is readable and whole: the store was never left half-appended
    assert {state_of(state_file(s, e)) for e in entries(s)} == WHOLE
