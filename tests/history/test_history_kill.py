"""kill -9 of a publish at any point, including between the rename and its history record: the published file's
sha256 always has exactly one complete history record afterwards, and `cakupan history list` lists no half entry.

Each publish below makes a state of its own (its run id is in the file), so every sha256 is distinct and "exactly
one record" is a real check. The kills land at random moments of a publishing loop, and at three fixed points: a
real SIGKILL the process sends itself right after the intended record, right after the rename, and in the middle
of the completion (the hard link made, the record not yet completed).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _support import cakupan_env, run_cli
from cakupan.core.files import sha256_file

HERE = Path(__file__).resolve().parent

PUBLISHER = """
import os, signal, sys
from cakupan.core.settings import Settings
from cakupan.targets import history
from cakupan.targets.published_file import swap_in
from history_states import write_state

point, tag = sys.argv[1], sys.argv[2]
s = Settings.from_env()
s.ensure_dirs()

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if point == "after-intend":
    begin = history.begin
    history.begin = lambda *a, **k: (begin(*a, **k), die())
elif point == "after-rename":
    history.complete = lambda *a, **k: die()
elif point == "mid-complete":
    describe = history.describe
    history.describe = lambda path: die()
print("ready", flush=True)
for i in range(100000):
    run = f"run-{tag}-{i}"
    cand = s.candidate_db(run)
    write_state(cand, run, {("73.72", "2025-03"): 10 + i})
    swap_in(s, cand, run)
"""


def listed(home: Path) -> list[dict]:
    out = run_cli(home, "history", "list", "--json").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def consistent(s) -> list[dict]:
    """Assert the history after a kill: one complete record of the published file, listed last, no half entry."""
    hist = listed(s.home)     # the listing settles what the killed writer left (no writer is at work)
    sha = sha256_file(s.published_db)
    assert [e["sha256"] for e in hist].count(sha) == 1, (sha, hist[-3:])
    assert hist[-1]["sha256"] == sha and hist[-1]["file"], hist[-1]
    assert all(e["state"] == "complete" for e in hist)
    states = [json.loads(p.read_text())["state"] for p in s.history_dir.glob("*.json")]
    assert "intended" not in states, "an intended record was left unsettled"
    return hist


def run_publisher(s, point: str, tag: str, wait: float | None) -> subprocess.Popen:
    env = cakupan_env(s.home, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", PUBLISHER, point, tag], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()[-2000:]
    if wait is not None:
        time.sleep(wait)
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()[-2000:]
    return proc


@pytest.fixture
def first(settings_factory):
    s = settings_factory()
    run_publisher(s, "random", "zero", 1.5)     # a few whole publishes to start from
    consistent(s)
    return s


@pytest.mark.parametrize("point", ["after-intend", "after-rename", "mid-complete"])
def test_kill_9_at_each_step_of_a_publish(first, point):
    s = first
    before = sha256_file(s.published_db)
    n = len(listed(s.home))
    run_publisher(s, point, point, None)        # the process kills itself at that point of its first publish
    hist = consistent(s)
    if point == "after-intend":       # not renamed: the state and the listing are as before, the record abandoned
        assert sha256_file(s.published_db) == before and len(hist) == n
        records = [json.loads(p.read_text()) for p in s.history_dir.glob("*.json")]
        assert [r["state"] for r in records].count("abandoned") == 1
    else:                             # renamed: the new state is published and its record completed
        assert sha256_file(s.published_db) != before and len(hist) == n + 1
        assert hist[-1]["run_id"] == f"run-{point}-0"


def test_kill_9_at_random_points_of_publishing(first):
    s = first
    rng = random.Random(2121)
    for k in range(8):
        run_publisher(s, "random", f"r{k}", rng.uniform(0.05, 0.6))
        consistent(s)
