"""Every messy delivery in cakupan_dev.messy loads or is rejected with its reason, against a real DuckDB warehouse.

The expected outcome of each case is written in the case itself (which rows were made bad, which reason each
must get); the test loads the files through `Loader.load` and reads back audit.loads, raw.<source>,
quarantine.rows and audit.load_findings.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest
from cakupan.core.contracts import reason, reasons
from cakupan.ingest.loader import Loader, LoadResult
from cakupan_dev.messy import MessyCase, MessyFile, cases, write_case

CASES = cases()
RAW_SOURCES = ("register", "contributions", "claims", "city_report")


def _state(path: Path) -> tuple[str, int, int]:
    st = os.stat(path)
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns


def _fragments(code: str) -> list[str]:
    """The fixed words of a reason's message (the parts around {column} / {value})."""
    return [p.strip(" '") for p in re.split(r"\{\w+\}", reason(code).message) if len(p.strip(" '")) > 3]


def _raw_count(con, load_id: int) -> int:
    return sum(con.execute(f"select count(*) from raw.{s} where load_id = ?", [load_id]).fetchone()[0]
               for s in RAW_SOURCES)


def _check_rejected(con, f: MessyFile, r: LoadResult) -> None:
    e = f.expect
    assert r.error_code == e.error_code, r.error_message
    status, code, msg, rows_in = con.execute(
        "select status, error_code, error_message, rows_in from audit.loads where load_id = ?", [r.load_id]).fetchone()
    assert (status, code, rows_in) == (e.status, e.error_code, 0)
    assert msg.startswith(f"{f.name}: "), msg                       # names the file ...
    assert all(frag in msg for frag in _fragments(code)), msg       # ... and the reason, in words
    assert _raw_count(con, r.load_id) == 0
    assert con.execute("select count(*) from quarantine.rows where load_id = ?", [r.load_id]).fetchone()[0] == 0


def _check_loaded(con, case: MessyCase, f: MessyFile, r: LoadResult, path: Path) -> None:
    e = f.expect
    source = r.source
    row = con.execute("select status, source, rows_in, rows_loaded, rows_quarantined, regency_code, period, sheets, "
                      "file_sha256 from audit.loads where load_id = ?", [r.load_id]).fetchone()
    status, src, rows_in, n_loaded, n_quar, regency, period, sheets, sha = row
    assert (status, rows_in, n_loaded, n_quar) == ("loaded", e.rows_in, e.loaded, e.quarantined), r
    assert rows_in == n_loaded + n_quar
    assert src == source and (case.source == "other" or source == case.source)
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    if e.regency is not None:
        assert regency == e.regency
    if e.period is not None:
        assert period is not None and period.isoformat()[:7] == e.period
    if e.sheets is not None:
        assert tuple(sheets.split(",")) == e.sheets

    # rows: raw + quarantine = rows in, with the expected reasons, rows and values
    assert con.execute(f"select count(*) from raw.{source} where load_id = ?", [r.load_id]).fetchone()[0] == e.loaded
    q = con.execute("select sheet, source_row, reason_code, message, reasons from quarantine.rows "
                    "where load_id = ? order by sheet, source_row", [r.load_id]).fetchall()
    assert Counter(x[2] for x in q) == Counter(e.reasons)
    if e.quarantine_at:
        assert {(s or "", n, c) for s, n, c, *_ in q} == set(e.quarantine_at)
    for sheet, src_row, code, message, problems in q:
        assert code in reasons() and reasons()[code].level == "row"
        assert message.startswith(f"{f.name}, lembar {sheet or '-'}, baris {src_row}: "), message   # Bahasa Indonesia
        assert all(frag in message for frag in _fragments(code)), message
        assert json.loads(problems)[0]["code"] == code
    findings = con.execute("select code, message from audit.load_findings where load_id = ?", [r.load_id]).fetchall()
    assert Counter(c for c, _ in findings) == Counter(e.findings)

    order = {s: i for i, s in enumerate(e.sheets or ())}
    cols = ["sheet", "source_row", "load_id", "source_file", "file_sha256", "raw_cells", *e.values]
    raw = con.execute(f"select {', '.join(cols)} from raw.{source} where load_id = ?", [r.load_id]).fetchall()
    raw.sort(key=lambda x: (order.get(x[0], 0), x[1]))
    if e.loaded_rows:
        assert [(s or "", n) for s, n, *_ in raw] == list(e.loaded_rows)
    for x in raw:
        assert x[2] == r.load_id and x[3] == r.file and x[4] == sha and x[1] > 0
        cells = json.loads(x[5])
        assert isinstance(cells, dict) and len(cells) >= 2 and all(k for k in cells)
    for k, name in enumerate(e.values, start=6):
        assert tuple(x[k] for x in raw) == tuple(e.values[name]), name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_messy_case(case: MessyCase, home):
    """The case's files, loaded in order, give exactly the expected outcome; the files are left untouched."""
    paths = write_case(case, home.inbox)
    before = {p: _state(p) for p in paths}
    loader = Loader(home)
    try:
        first_load: dict[bytes, int] = {}
        for f, p in zip(case.files, paths, strict=True):
            r = loader.load(p)
            assert r.status == f.expect.status, (r.status, r.error_code, r.error_message)
            if f.expect.status == "loaded":
                _check_loaded(loader.con, case, f, r, p)
                first_load.setdefault(f.data, r.load_id)
            elif f.expect.status == "duplicate":
                assert r.error_code == "DUPLICATE_FILE" and r.duplicate_of == first_load[f.data]
                assert _raw_count(loader.con, r.load_id) == 0
            else:
                _check_rejected(loader.con, f, r)
            assert r.error_code != "INTERNAL_ERROR"
        # every loaded delivery stays in raw (a corrected file does not replace the first one here)
        n_loaded = loader.con.execute("select count(*) from audit.loads where status = 'loaded'").fetchone()[0]
        assert n_loaded == sum(1 for f in case.files if f.expect.status == "loaded")
    finally:
        loader.con.close()
    assert {p: _state(p) for p in paths} == before


def test_cases_cover_the_issue():
    """The catalogue covers every file-level reason and the row reasons the issue names."""
    file_codes = {f.expect.error_code for c in CASES for f in c.files if f.expect.status != "loaded"}
    assert file_codes >= {"FILE_EMPTY", "FILE_ENCRYPTED", "FILE_CORRUPT", "FILE_TYPE_UNSUPPORTED", "WRONG_KIND",
                          "REGENCY_UNRESOLVED", "HEADER_NOT_FOUND", "NO_DATA_ROWS", "PERIOD_UNKNOWN",
                          "DUPLICATE_FILE"}
    row_codes = {code for c in CASES for f in c.files for code in f.expect.reasons}
    assert row_codes >= {"NIK_PRECISION_LOST", "NIK_15_DIGITS", "NIK_17_DIGITS", "NIK_NOT_DIGITS", "NIK_MISSING",
                         "NIK_REGION_UNKNOWN", "NIK_BIRTH_DATE_INVALID", "REGENCY_UNKNOWN", "REGENCY_MISMATCH",
                         "NO_PARTICIPANT_ID", "DATE_INVALID", "DATE_OUT_OF_RANGE", "MONTH_INVALID", "NUMBER_INVALID",
                         "NUMBER_NEGATIVE", "PROGRAM_UNKNOWN", "SEX_INVALID", "OCCUPATION_MISSING"}
    assert {"TOTAL_MISMATCH", "SHEET_NO_HEADER", "EXTRA_COLUMNS"} <= {
        x for c in CASES for f in c.files for x in f.expect.findings}
    assert {c.source for c in CASES} >= {"register", "contributions", "claims", "city_report"}
    names = {f.name.rsplit(".", 1)[-1] for c in CASES for f in c.files}
    assert {"xlsx", "xls", "csv", "ods", "xlsm"} <= names


def test_messy_files_are_deterministic():
    """Building the catalogue twice gives the same bytes (so 'sent twice' really is the same file)."""
    again = {(c.name, f.name): f.data for c in cases() for f in c.files}
    assert again == {(c.name, f.name): f.data for c in CASES for f in c.files}
