"""A full disk or a read-only target during publish, in a real `cakupan publish` process: the published file stays
byte-for-byte as it was, the process fails, and the error says what happened."""

from __future__ import annotations

import resource
import signal
import subprocess
from pathlib import Path

import pytest
from _support import immutable
from faults_helpers import BIN, cakupan, env_for, open_ro, sha256

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def published_home(tmp_path_factory) -> Path:
    from cakupan_dev.synth import SynthSpec, generate

    home = tmp_path_factory.mktemp("publish_faults")
    generate(SynthSpec(regencies=["73.72", "73.73", "73.14"], months=["2025-03", "2025-04"], workers=30, seed=41),
             home / "inbox")
    cakupan(home, "run", "--json")
    return home


def _publish_with_limit(home: Path, max_bytes: int, run_id: str) -> subprocess.CompletedProcess:
    """`cakupan publish` with RLIMIT_FSIZE: writes past max_bytes fail with EFBIG (SIGXFSZ ignored), as on a full
    disk."""
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return subprocess.run([str(BIN / "cakupan"), "publish", "--run-id", run_id, "--json"], env=env_for(home),
                          capture_output=True, text=True, timeout=600, preexec_fn=limit, check=False)


def _readable(db: Path) -> int:
    with open_ro(db) as con:
        return con.execute("select count(*) from marts.mart_coverage_monthly").fetchone()[0]


def test_disk_full_while_writing_the_candidate(published_home):
    home = published_home
    published = home / "published" / "cakupan.duckdb"
    before, rows = sha256(published), _readable(published)
    proc = _publish_with_limit(home, 64 * 1024, "disk_full")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert sha256(published) == before, "the published file changed"
    assert _readable(published) == rows
    assert "disk penuh" in out and "tidak berubah" in out, out[-3000:]     # the line in Bahasa Indonesia (default)
    assert not (home / "published" / "next-disk_full.duckdb").exists(), "the partial candidate was left behind"
    # space back: the next publish works
    cakupan(home, "publish", "--run-id", "after_disk_full", "--json")
    assert sha256(published) != before and _readable(published) == rows


def test_read_only_published_folder(published_home):
    home = published_home
    folder = home / "published"
    published = folder / "cakupan.duckdb"
    with immutable(folder):
        before, rows = sha256(published), _readable(published)
        proc = cakupan(home, "publish", "--run-id", "read_only", "--json", check=False)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0
        assert sha256(published) == before
        assert _readable(published) == rows
        assert "hanya-baca" in out and "tidak berubah" in out, out[-3000:]
    cakupan(home, "publish", "--run-id", "after_read_only", "--json")
    assert _readable(published) == rows
