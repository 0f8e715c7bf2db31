"""The six shared sample deliveries (Sidrap, 73.14) load exactly as EXPECTED.json says, with full lineage.

Also: files are never modified, a rerun is idempotent, the same bytes under another name are a duplicate, and an
interrupted load is detected and redone without doubled rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from _support import TEST_KEY
from cakupan.ingest.loader import Loader
from cakupan.ingest.run import ingest_paths

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
EXPECTED = json.loads((SAMPLES / "EXPECTED.json").read_text(encoding="utf-8"))
RAW_SOURCES = ("register", "contributions", "claims", "city_report")

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="the shared samples are not present")


def _state(path: Path) -> tuple[str, int, int]:
    st = os.stat(path)
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns


def _copy_samples(inbox: Path) -> list[Path]:
    dest = inbox / "73.14"
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for name in sorted(EXPECTED):
        shutil.copy2(SAMPLES / name, dest / name)
        out.append(dest / name)
    return out


def _counts(con) -> dict[str, int]:
    out = {s: con.execute(f"select count(*) from raw.{s}").fetchone()[0] for s in RAW_SOURCES}
    out["quarantine"] = con.execute("select count(*) from quarantine.rows").fetchone()[0]
    return out


@pytest.fixture
def sample_paths(home) -> list[Path]:
    return _copy_samples(home.inbox)


def test_samples_give_expected_json(home, sample_paths):
    """rows in / loaded / quarantined and the reasons (as a multiset) of every sample file, as EXPECTED.json."""
    before = {p: _state(p) for p in sample_paths}
    results = {Path(r.file).name: r for r in ingest_paths(home, sample_paths, run_id="samples")}
    assert {p: _state(p) for p in sample_paths} == before, "a delivered file was modified"
    import duckdb

    con = duckdb.connect(str(home.work_db), read_only=True)
    try:
        for name, exp in EXPECTED.items():
            r = results[name]
            assert r.status == "loaded", (name, r.error_message)
            assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (exp["rows_in"], exp["loaded"],
                                                                      exp["quarantined"]), name
            got = Counter(x[0] for x in con.execute(
                "select reason_code from quarantine.rows where load_id = ?", [r.load_id]).fetchall())
            assert got == Counter(exp.get("reasons", [])), name
            row = con.execute("select rows_in, rows_loaded, rows_quarantined, regency_code from audit.loads "
                              "where load_id = ?", [r.load_id]).fetchone()
            assert row == (exp["rows_in"], exp["loaded"], exp["quarantined"], "73.14"), name
            assert con.execute(f"select count(*) from raw.{r.source} where load_id = ?",
                               [r.load_id]).fetchone()[0] == exp["loaded"]
        # the correction loads 15 rows and both May deliveries stay in raw (supersede happens downstream)
        may = con.execute("select file_name, count(*) from raw.register join audit.loads using (load_id) "
                          "where raw.register.period = date '2025-05-01' group by file_name order by 1").fetchall()
        assert may == [("register_sidrap_2025-05.xlsx", 12), ("register_sidrap_2025-05_koreksi.xlsx", 15)]
        assert con.execute("select count(*) from audit.load_findings").fetchone()[0] == 0
    finally:
        con.close()


def test_raw_rows_keep_lineage_and_parsed_values(loader, sample_paths):
    """Raw keeps load id, file path, sha256, sheet, source row, every mapped cell as delivered and the values."""
    path = next(p for p in sample_paths if p.name == "register_sidrap_2025-05.xlsx")
    r = loader.load(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    rows = loader.con.execute(
        "select load_id, source_file, file_sha256, sheet, source_row, raw_cells, nik, participant_key, full_name, "
        "sex, occupation, programs, coverage_start, monthly_contribution, funding_source, regency_code, period "
        "from raw.register where load_id = ? order by source_row", [r.load_id]).fetchall()
    assert len(rows) == 12
    first, second = rows[0], rows[1]
    assert first[:5] == (r.load_id, "73.14/register_sidrap_2025-05.xlsx", sha, "Peserta", 10)
    cells = json.loads(first[5])
    assert cells == {"No. KTP": "7314022108760001", "Nama Tenaga Kerja": "Andi Muh. Yusuf", "L/P": "Laki-laki",
                     "Profesi": "nelayan tangkap", "Desa": "Amparita", "Kec": "Tellu Limpoe", "Program": "JKK, JKM",
                     "Mulai Kepesertaan": "2025-05-01", "Iuran": "16.800", "Sumber Dana": "APBD"}
    assert first[6:] == ("7314022108760001", first[7], "Andi Muh. Yusuf", "L", "nelayan tangkap", "JKK,JKM",
                         dt.date(2025, 5, 1), Decimal("16800.00"), "APBD", "73.14", dt.date(2025, 5, 1))
    # a pseudonym, never the NIK: RFC 2104 HMAC-SHA256 of the NIK with the home's key, by stdlib hmac
    assert first[7] == hmac.new(TEST_KEY.encode(), b"7314022108760001", hashlib.sha256).hexdigest()
    # row 11: the NIK typed with spaces, the start date as an Excel serial number
    assert json.loads(second[5])["No. KTP"] == "7314 0119 0469 0002"
    assert json.loads(second[5])["Mulai Kepesertaan"] == "45778"
    assert (second[4], second[6], second[12]) == (11, "7314011904690002", dt.date(2025, 5, 1))
    # quarantined rows keep their cells too, and a message naming file, sheet, row and reason
    q = loader.con.execute("select sheet, source_row, reason_code, message, raw_cells, file_sha256 "
                           "from quarantine.rows where load_id = ? order by source_row", [r.load_id]).fetchall()
    assert [(s, n, c) for s, n, c, *_ in q] == [("Peserta", 15, "NIK_17_DIGITS"), ("Peserta", 21, "OCCUPATION_MISSING")]
    assert q[0][3].startswith("register_sidrap_2025-05.xlsx, lembar Peserta, baris 15: NIK 17 digit")
    assert json.loads(q[1][4])["Profesi"] is None and q[1][5] == sha


def test_rerun_is_idempotent(home, sample_paths):
    """Running ingest twice over the same inbox loads nothing new and duplicates no row."""
    first = ingest_paths(home, None, run_id="one")
    assert sorted(Path(r.file).name for r in first if r.status == "loaded") == sorted(EXPECTED)
    loader = Loader(home)
    try:
        counts = _counts(loader.con)
        n_loads = loader.con.execute("select count(*) from audit.loads").fetchone()[0]
        assert loader.pending_files() == []
    finally:
        loader.con.close()
    assert ingest_paths(home, None, run_id="two") == []                    # nothing pending
    again = ingest_paths(home, sample_paths, run_id="three")                # named explicitly: already processed
    assert {r.status for r in again} == {"already_processed"}
    loader = Loader(home)
    try:
        assert _counts(loader.con) == counts
        assert loader.con.execute("select count(*) from audit.loads").fetchone()[0] == n_loads
    finally:
        loader.con.close()


def test_same_bytes_under_another_name_is_a_duplicate(loader, home, sample_paths):
    path = next(p for p in sample_paths if p.name == "claims_sidrap_2025-06.csv")
    first = loader.load(path)
    copy = path.with_name("klaim_juni_kirim_ulang.csv")
    shutil.copy2(path, copy)
    dup = loader.load(copy)
    assert (dup.status, dup.error_code, dup.duplicate_of) == ("duplicate", "DUPLICATE_FILE", first.load_id)
    row = loader.con.execute("select status, duplicate_of, rows_in, error_message from audit.loads "
                             "where load_id = ?", [dup.load_id]).fetchone()
    assert row[:3] == ("duplicate", first.load_id, 0)
    assert row[3].startswith("klaim_juni_kirim_ulang.csv: ") and "claims_sidrap_2025-06.csv" in row[3]
    assert loader.con.execute("select count(*) from raw.claims").fetchone()[0] == 2
    assert loader.load(copy).status == "already_processed"


def test_interrupted_load_is_redone_without_doubled_rows(loader, sample_paths):
    """A 'started' manifest row (a killed process) is marked interrupted; the file loads again exactly once."""
    path = next(p for p in sample_paths if p.name == "register_sidrap_2025-05.xlsx")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    con = loader.con
    dead = con.execute("select nextval('audit.load_id_seq')").fetchone()[0]
    con.execute("insert into audit.loads (load_id, run_id, source_file, file_name, file_sha256, file_size, "
                "started_at, status) values (?, 'killed', ?, ?, ?, ?, now(), 'started')",
                [dead, "73.14/" + path.name, path.name, sha, path.stat().st_size])
    # as if the killed process had written part of its rows outside a transaction
    con.execute("insert into raw.register (load_id, source_file, file_sha256, sheet, source_row, nik) "
                "values (?, ?, ?, 'Peserta', 10, 'partial')", [dead, "73.14/" + path.name, sha])
    assert path in loader.pending_files()
    r = loader.load(path)
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("loaded", 12, 2)
    status, code, msg = con.execute("select status, error_code, error_message from audit.loads where load_id = ?",
                                    [dead]).fetchone()
    assert (status, code) == ("interrupted", "LOAD_INTERRUPTED") and msg.startswith(path.name)
    assert con.execute("select count(*) from raw.register where load_id = ?", [dead]).fetchone()[0] == 0
    assert con.execute("select count(*) from raw.register").fetchone()[0] == 12
    assert con.execute("select count(*) from quarantine.rows").fetchone()[0] == 2
    assert path not in loader.pending_files()
    assert loader.load(path).status == "already_processed"


def test_unreadable_file_is_rejected_and_the_others_load(home, sample_paths, monkeypatch):
    """A file the loader cannot read (permissions on a shared drive) is recorded as FILE_UNREADABLE; the rest load."""
    from cakupan.ingest import discover, group
    from cakupan.ingest import loader as ingest
    from cakupan.ingest.readers import FileRejected

    locked = next(p for p in sample_paths if p.name == "claims_sidrap_2025-06.csv")
    real_read, real_sha = ingest.read_delivery, discover.sha256_of

    def read(path, inbox):          # the tests run as root, which no file permission stops: refused here
        if Path(path).name == locked.name:
            raise FileRejected("FILE_UNREADABLE", "PermissionError: Permission denied")
        return real_read(path, inbox)

    def sha(path):
        if Path(path).name == locked.name:
            raise PermissionError(13, "Permission denied", str(path))
        return real_sha(path)

    monkeypatch.setattr(ingest, "read_delivery", read)
    monkeypatch.setattr(group, "read_delivery", read)      # the files a group writes are read there
    monkeypatch.setattr(discover, "sha256_of", sha)
    results = {Path(r.file).name: r for r in ingest_paths(home, None, run_id="locked")}
    assert (results[locked.name].status, results[locked.name].error_code) == ("rejected", "FILE_UNREADABLE")
    assert results[locked.name].error_message.startswith(locked.name + ": ")
    assert sum(r.status == "loaded" for r in results.values()) == len(EXPECTED) - 1
    assert ingest_paths(home, None, run_id="again") == []                  # recorded once, not retried every run
    monkeypatch.setattr(ingest, "read_delivery", real_read)                 # readable again: it loads
    monkeypatch.setattr(group, "read_delivery", real_read)
    monkeypatch.setattr(discover, "sha256_of", real_sha)
    [r] = ingest_paths(home, None, run_id="fixed")
    assert (Path(r.file).name, r.status, r.rows_loaded) == (locked.name, "loaded", 2)
