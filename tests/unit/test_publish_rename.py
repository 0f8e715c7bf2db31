"""The atomic publish is one rename, never a copy: the published path takes the candidate's inode and bytes, the
previous file stays whole (for a reader that has it open, and in history as a link to the same inode)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
from cakupan.targets import changes
from cakupan.targets.base import Candidate
from cakupan.targets.duckdb import DuckDBTarget


def _published_set(path: Path, value: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.mart_coverage_monthly as select ? as regency_code", [value])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_promote_renames_the_candidate_over_the_published_file(settings_factory):
    s = settings_factory()
    s.ensure_dirs()
    _published_set(s.published_db, "73.72")
    old_inode, old_sha = os.stat(s.published_db).st_ino, _sha256(s.published_db)
    candidate = s.candidate_db("run-2")
    _published_set(candidate, "73.73")
    cand_inode, cand_sha = os.stat(candidate).st_ino, _sha256(candidate)
    assert cand_sha != old_sha
    with open(s.published_db, "rb") as reader:     # a BI tool that opened the old file before the publish
        c = Candidate("run-2", cand_sha, candidate)
        DuckDBTarget(s).promote(c)
        now = os.stat(s.published_db)
        assert now.st_ino == cand_inode != old_inode, "the published file is a copy, not the renamed candidate"
        assert _sha256(s.published_db) == cand_sha == c.published_sha256
        assert not candidate.exists()
        assert hashlib.sha256(reader.read()).hexdigest() == old_sha   # the old file, whole, for its reader
    # the publish history links both states by inode (targets.history): the file published before (adopted, it had
    # no publish record) and the one just published; neither is a copy
    kept = {os.stat(p).st_ino: _sha256(p) for p in s.history_dir.glob("*.duckdb")
            if p != changes.store_path(s.history_dir)}     # (beside them: the changed-rows store)
    assert kept == {old_inode: old_sha, cand_inode: cand_sha}
    with duckdb.connect(str(s.published_db), read_only=True) as con:
        assert con.execute("select regency_code from marts.mart_coverage_monthly").fetchall() == [("73.73",)]
