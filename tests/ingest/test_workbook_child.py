"""The workbook reader's child process and signals: SIGTERM ends the child however the loader's process handles
it, and a wait cut short in the parent takes the child with it (no reader left behind).

Each case runs in its own Python process (its signal handlers are the case's, not pytest's). The workbook is a
named pipe with an .ods name: the child's spreadsheet library blocks opening it until it is ended, so the signal
always arrives while the child is reading, whatever this machine's speed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import json, os, signal, sys, threading, time
    from pathlib import Path
    from cakupan.ingest.readers import FileRejected, read_workbook

    case, workbook, marks = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    parent = os.getpid()

    def handler(signum, frame):
        # like Airflow's task runner: note it and carry on (in the parent: the "raise" case gives up the wait)
        with open(marks, "a") as f:
            f.write(f"{os.getpid()}\\n")
        if os.getpid() == parent and case == "parent_raises":
            raise SystemExit(3)

    signal.signal(signal.SIGTERM, handler)
    child = []

    def find_and_signal():
        for _ in range(500):
            found = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
            if found:
                child.append(int(found[0]))
                time.sleep(0.2)            # the child is blocked opening the pipe by now
                os.kill(child[0] if case == "child_terminated" else parent, signal.SIGTERM)
                return
            time.sleep(0.01)

    threading.Thread(target=find_and_signal, daemon=True).start()
    out = {}
    try:
        read_workbook(workbook)
        out["outcome"] = "read"
    except FileRejected as exc:
        out["outcome"] = "rejected"
        out["detail"] = exc.detail.render("en")
    except SystemExit as exc:
        out["outcome"] = f"exit {exc.code}"
    out["child"] = child[0] if child else None
    out["child_left"] = bool(child) and os.path.exists(f"/proc/{child[0]}")
    if out["child_left"]:
        os.kill(child[0], signal.SIGKILL)  # not to leave it behind the test
    out["handled_in"] = [int(x) for x in marks.read_text().split()] if marks.exists() else []
    out["parent"] = parent
    print(json.dumps(out))
""")


def _run(case: str, tmp_path: Path) -> dict:
    workbook = tmp_path / "register.ods"
    os.mkfifo(workbook)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT)])}
    # its own process group: a case that hangs is ended with every process it forked (none left behind)
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, case, str(workbook), str(tmp_path / "marks")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{case}: the reader did not end within 30 s")
    assert proc.returncode == 0, stderr[-2000:]
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not hasattr(os, "fork") or not Path("/proc/self/task").exists(), reason="Linux fork only")
def test_sigterm_ends_the_child_even_when_the_loader_handles_it(tmp_path):
    """The loader's process returns from its SIGTERM handler (Airflow's task runner does); its workbook reader
    child, sent SIGTERM, must end as the default does, not run that handler and read on."""
    out = _run("child_terminated", tmp_path)
    assert out["child"] is not None
    assert out["outcome"] == "rejected" and f"signal {signal.SIGTERM.value}" in out["detail"]
    assert out["child"] not in out["handled_in"] and not out["child_left"]


@pytest.mark.skipif(not hasattr(os, "fork") or not Path("/proc/self/task").exists(), reason="Linux fork only")
def test_a_wait_cut_short_takes_the_child_with_it(tmp_path):
    """A SIGTERM handler that raises in the loader's process (the task is being stopped) ends the wait: the child
    is killed and reaped before the exception goes on, not left reading (here: blocked for ever)."""
    out = _run("parent_raises", tmp_path)
    assert out["child"] is not None
    assert out["outcome"] == "exit 3" and out["handled_in"] == [out["parent"]]
    assert not out["child_left"]
