"""Small files written in groups (`ingest.group`) give exactly what writing them one by one gives.

A synthetic inbox (three regencies, two months, registers as CSV and XLSX, contributions, planted bad rows and a
correction) plus a file that is no register at all, a second copy of a register (a duplicate) and, at a second
ingest, a register changed in place, is ingested twice into fresh warehouses: grouped, and one file at a time.
The manifest (load ids included), raw rows, quarantine rows and reasons, findings and inbox looks must be the
same, times aside; each file's counts must be the generator's ground truth.
"""

from __future__ import annotations

import logging
import os
import shutil

import duckdb
import pytest
from cakupan.ingest import group, run
from cakupan_dev.synth import SynthSpec, generate

RAW_SOURCES = ("register", "contributions")


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory):
    """The inbox both ways load (generated once): the generator's files, a bad file and a duplicate; and the
    ground truth."""
    root = tmp_path_factory.mktemp("deliveries")
    truth = generate(SynthSpec(regencies=["73.72", "73.73", "73.14"], months=["2025-03", "2025-04"], workers=15,
                               seed=7, scenarios=("bad_rows", "correction"), formats=("csv", "xlsx")), root)
    (root / "ground_truth.json").unlink()
    (root / "73.72" / "register_parepare_2025-05.csv").write_text("bukan data\nhanya catatan\n")   # no header
    shutil.copyfile(root / "73.73" / "register_palopo_2025-04.csv", root / "73.73" / "register_palopo_2025-04_lagi.csv")
    # first-seen order is modification-time order: fixed, in the past (no file waits to settle)
    for i, p in enumerate(sorted(root.rglob("*"))):
        if p.is_file():
            os.utime(p, ns=(1_700_000_000_000_000_000 + i * 10**9,) * 2)
    return root, truth


def _changed(inbox) -> None:
    """A register changed in place after it was loaded (a clerk's fix): a later ingest loads it again."""
    p = inbox / "73.14" / "register_sidenrengrappang_2025-03.csv"
    p.write_bytes(p.read_bytes().rstrip(b"\r\n").rsplit(b"\n", 1)[0] + b"\n")     # its last row taken out
    os.utime(p, ns=(1_800_000_000_000_000_000,) * 2)


def _tables(settings) -> dict[str, list[tuple]]:
    out = {}
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        out["loads"] = con.execute(
            "select * exclude (received_at, started_at, finished_at, run_id) from audit.loads order by load_id"
        ).fetchall()
        for s in RAW_SOURCES:
            out[s] = con.execute(f"select * exclude (received_at) from raw.{s} order by load_id, sheet, "
                                 "source_row").fetchall()
        out["quarantine"] = con.execute("select * from quarantine.rows order by all").fetchall()
        out["findings"] = con.execute("select * from audit.load_findings order by all").fetchall()
        out["looks"] = con.execute("select * exclude (first_seen_at) from audit.inbox_files order by all").fetchall()
        out["received_order"] = con.execute(
            "select load_id from audit.loads order by received_at, load_id").fetchall()
    return out


def _ingest_twice(settings, deliveries) -> list[list[dict]]:
    shutil.copytree(deliveries, settings.inbox, dirs_exist_ok=True)
    first = run.ingest_paths(settings, None, run_id="one")
    _changed(settings.inbox)
    second = run.ingest_paths(settings, None, run_id="two")
    return [[r.to_dict() for r in first], [r.to_dict() for r in second]]


def _both_ways(home_factory, monkeypatch, deliveries, **patch):
    out = {}
    for name, grouped in (("plain", False), ("grouped", True)):
        monkeypatch.setattr(group, "GROUPED", grouped)
        for attr, value in patch.items():
            monkeypatch.setattr(run, attr, value)
        s = home_factory(name)
        out[name] = (_ingest_twice(s, deliveries), _tables(s))
    return out["plain"], out["grouped"]


@pytest.mark.parametrize("readers", [False, True], ids=["writer_reads", "reader_processes"])
def test_grouped_and_one_by_one_write_the_same_rows(home_factory, monkeypatch, deliveries, readers, caplog):
    root, truth = deliveries
    groups = []
    real = group._write_group
    monkeypatch.setattr(group, "_write_group", lambda loader, members: groups.append(len(members)) or real(loader, members))
    with caplog.at_level(logging.WARNING, logger="cakupan.ingest.group"):
        plain, grouped = _both_ways(home_factory, monkeypatch, root,
                                    READERS_MIN_FILES=1 if readers else 10**9)
    assert not any("written one by one" in r.getMessage() for r in caplog.records)
    # the 10 new files of the first ingest in groups (the bad file and the duplicate alone), the changed one too
    assert sum(groups) == 11 and max(groups) > 1
    assert grouped[0] == plain[0]
    for table in plain[1]:
        assert grouped[1][table] == plain[1][table], table
    first, second = grouped[0]
    status = {r["file"]: r["status"] for r in first}
    assert status["73.72/register_parepare_2025-05.csv"] == "rejected"
    assert status["73.73/register_palopo_2025-04_lagi.csv"] == "duplicate"
    assert [(r["file"], r["status"]) for r in second] == [("73.14/register_sidenrengrappang_2025-03.csv", "loaded")]
    # every file's counts are the generator's (its last row taken out of the changed one), in = loaded + quarantined
    by_file = {r["file"]: r for r in first if r["status"] == "loaded"}
    assert set(by_file) == {f["path"] for f in truth["files"]}
    for f in truth["files"]:
        r = by_file[f["path"]]
        assert (r["rows_in"], r["rows_loaded"], r["rows_quarantined"]) == (f["rows_in"], f["loaded"], f["quarantined"])
        assert set(r["reasons"]) == set(f["reasons"])
        if f["source"] == "register":
            assert r["period"] == f["period"]
    changed = second[0]
    assert changed["rows_in"] == by_file[changed["file"]]["rows_in"] - 1
    assert changed["rows_in"] == changed["rows_loaded"] + changed["rows_quarantined"]


def test_a_group_that_fails_is_written_file_by_file(home_factory, monkeypatch, deliveries, caplog):
    """The grouped insert fails for every group holding one chosen file: each of its files is then written alone
    (the same rows as the plain path); the chosen file, failing alone too, is the only one not loaded."""
    root, _ = deliveries
    poisoned = "73.73/register_palopo_2025-03.xlsx"
    real_group, real_insert = group._insert_group, group.Loader._insert

    def failing_group(loader, members):
        if any(m.load.rel == poisoned for m in members):
            raise duckdb.OutOfMemoryException("could not allocate block (planted)")
        return real_group(loader, members)

    def failing_insert(self, batch, contract, load):
        if load.rel == poisoned:
            raise duckdb.OutOfMemoryException("could not allocate block (planted)")
        return real_insert(self, batch, contract, load)

    monkeypatch.setattr(group, "_insert_group", failing_group)
    monkeypatch.setattr(group.Loader, "_insert", failing_insert)
    with caplog.at_level(logging.WARNING, logger="cakupan.ingest.group"):
        plain, grouped = _both_ways(home_factory, monkeypatch, root, READERS_MIN_FILES=10**9)
    assert any("written one by one" in r.getMessage() for r in caplog.records)
    assert grouped[0] == plain[0]
    for table in plain[1]:
        assert grouped[1][table] == plain[1][table], table
    first = grouped[0][0]
    failed = [r for r in first if r["status"] == "failed"]
    assert [r["file"] for r in failed] == [poisoned] and failed[0]["error_code"] == "INTERNAL_ERROR"
    assert sum(r["status"] == "loaded" for r in first) == 9
    for r in first:
        assert r["rows_in"] == r["rows_loaded"] + r["rows_quarantined"]


def test_each_row_of_a_group_carries_its_own_files_lineage(home_factory, deliveries):
    """A group's rows are staged together: each raw row still gets its own file's load id, path, SHA-256 and
    received time (the files here were first seen a minute apart, so a row given a neighbour's would show)."""
    from cakupan.ingest.loader import Loader

    root, _ = deliveries
    s = home_factory("lineage")
    shutil.copytree(root, s.inbox, dirs_exist_ok=True)
    looker = Loader(s)
    try:
        assert len(looker.pending_files()) > 2
        looker.con.execute("update audit.inbox_files set first_seen_at = timestamp '2025-01-01' + to_minutes(r) from "
                           "(select source_file f, row_number() over (order by source_file) r from audit.inbox_files) "
                           "where source_file = f")
    finally:
        looker.con.close()
    groups = []
    real = group._write_group
    try:
        group._write_group = lambda loader, members: groups.append(len(members)) or real(loader, members)
        run.ingest_paths(s, None, run_id="lineage")
    finally:
        group._write_group = real
    assert max(groups) > 1
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        for source in RAW_SOURCES:
            rows, times, wrong = con.execute(
                f"select count(*), count(distinct r.received_at), count(*) filter (where r.received_at is distinct "
                f"from l.received_at or r.source_file is distinct from l.source_file or r.file_sha256 is distinct "
                f"from l.file_sha256) from raw.{source} r join audit.loads l using (load_id)").fetchone()
            assert rows > 0 and times > 1 and wrong == 0, source
