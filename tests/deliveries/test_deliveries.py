"""Deliveries that go wrong in real life (issue 25), each as what the clerk, the engineer or the auditor sees:
real files in a real inbox, the real loader and a real DuckDB warehouse; the CLI in a real process where the
user would use it. Expected values come from the definitions (domain.md, reasons.yml), never from the code."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from _support import TEST_KEY, run_cli
from hostile_deliveries import (
    ARABIC_INDIC,
    CLAIMS_HEADER,
    CONTRIB_HEADER,
    FULL_WIDTH,
    OLD_MTIME,
    PALOPO,
    PAREPARE,
    Writer,
    csv_bytes,
    nik,
    palopo_register,
    register_row,
    write,
    xlsx_bytes,
)
from ingest.conftest import home_factory, initialised_warehouse  # noqa: F401 - the ingest tests' fixtures

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def home(home_factory):  # noqa: F811
    return home_factory()


def _ingest(settings, paths=None):
    from cakupan.ingest.run import ingest_paths

    return {r.file: r for r in ingest_paths(settings, paths, run_id="test")}


def _db(settings):
    return duckdb.connect(str(settings.work_db), read_only=True)


def _texts(db: Path) -> str:
    """Every text value of every table of a DuckDB file, one per line."""
    out = []
    with duckdb.connect(str(db), read_only=True) as con:
        for schema, table in con.execute("select table_schema, table_name from information_schema.tables").fetchall():
            for row in con.execute(f'select * from "{schema}"."{table}"').fetchall():
                out.extend(str(v) for v in row if v is not None)
    return "\n".join(out)


# ------------------------------------------------------------------------------------------ 1. numbers ------
def test_a_17_digit_iuran_is_one_quarantined_row_with_the_limit_in_words_and_the_file_loads(home):
    rows = [register_row(PAREPARE, i) for i in range(4)] + [register_row(PAREPARE, 4, Iuran="12345678901234567")]
    path = write(home.inbox / PAREPARE / "register_parepare_2025-04.csv", csv_bytes(rows), OLD_MTIME)
    book = write(home.inbox / PAREPARE / "register_parepare_2025-05.xlsx",   # the same in an Excel number cell
                 xlsx_bytes([[*register_row(PAREPARE, 10)[:11], 12345678901234567.0, "APBD"],
                             register_row(PAREPARE, 11)]), OLD_MTIME)
    contrib = write(home.inbox / PAREPARE / "iuran_parepare_2025.csv", csv_bytes(
        [["April 2025", "Parepare", "APBD", "9223372036854775808", "Rp 84.000", "Rp 84.000", "20/05/2025"],
         ["Mei 2025", "Parepare", "APBD", "5", "Rp 84.000", "Rp 84.000", "20/06/2025"]], CONTRIB_HEADER), OLD_MTIME)
    got = _ingest(home)
    r = got[f"{PAREPARE}/{path.name}"]
    assert (r.status, r.rows_in, r.rows_loaded, r.rows_quarantined, r.reasons) == (
        "loaded", 5, 4, 1, {"NUMBER_OUT_OF_RANGE": 1})
    assert (got[f"{PAREPARE}/{book.name}"].status, got[f"{PAREPARE}/{book.name}"].reasons) == (
        "loaded", {"NUMBER_OUT_OF_RANGE": 1})
    c = got[f"{PAREPARE}/{contrib.name}"]
    assert (c.status, c.rows_loaded, c.reasons) == ("loaded", 1, {"NUMBER_OUT_OF_RANGE": 1})
    with _db(home) as con:
        msg = con.execute("select message from quarantine.rows where source_file = ?",
                          [f"{PAREPARE}/{path.name}"]).fetchone()[0]
        count_msg = con.execute("select message from quarantine.rows where source_file = ?",
                                [f"{PAREPARE}/{contrib.name}"]).fetchone()[0]
    # the file, the row, the column and the limit, in words
    assert msg.startswith(f"{path.name}, lembar -, baris 6: '12345678901234567' pada kolom 'monthly_contribution' "
                          "terlalu besar: Cakupan menerima angka sampai 999.999.999.999.999"), msg
    assert "'participants_billed'" in count_msg and "999.999.999.999.999" in count_msg


def test_a_failed_load_is_tried_again_by_the_next_ingest(home, monkeypatch):
    """A file whose load failed for an unexpected reason is not 'processed': the next ingest loads it."""
    from cakupan.ingest import prepare

    path = write(home.inbox / PAREPARE / "register_parepare_2025-04.csv",
                 csv_bytes([register_row(PAREPARE, i) for i in range(3)]), OLD_MTIME)
    real = prepare.Preparer.prepare

    def broken(self, p, data=None):
        raise RuntimeError("an unexpected failure")

    monkeypatch.setattr(prepare.Preparer, "prepare", broken)
    [first] = _ingest(home).values()
    assert (first.status, first.error_code) == ("failed", "INTERNAL_ERROR")
    monkeypatch.setattr(prepare.Preparer, "prepare", real)
    [second] = _ingest(home).values()
    assert (second.file, second.status, second.rows_loaded) == (f"{PAREPARE}/{path.name}", "loaded", 3)
    assert _ingest(home) == {}
    with _db(home) as con:
        assert con.execute("select status from audit.loads order by load_id").fetchall() == [("failed",), ("loaded",)]


def test_every_status_a_load_can_end_in_is_accepted_by_the_load_quality_test():
    """No state of one file may make dbt's accepted_values test on mart_load_quality.status fail for everyone:
    the test accepts every status the manifest's definition lists (targets/zones.py)."""
    import re

    import yaml
    from cakupan.targets.zones import AUDIT_DDL

    statuses = set(re.search(r"status varchar not null, +-- ([a-z |]+)\n", AUDIT_DDL)[1].replace(" ", "").split("|"))
    spec = yaml.safe_load((Path(__file__).parents[2] / "dbt_project/models/marts/published/_published__models.yml")
                          .read_text())
    model = next(m for m in spec["models"] if m["name"] == "mart_load_quality")
    column = next(c for c in model["columns"] if c["name"] == "status")
    accepted = set(column["data_tests"][0]["accepted_values"]["arguments"]["values"])
    assert {"loaded", "rejected", "duplicate", "interrupted", "started", "failed"} <= statuses
    assert statuses <= accepted


# ------------------------------------------------------------------------------------------ 2. wrong folder --
def test_a_copy_of_palopos_register_in_parepares_folder_is_rejected_and_palopos_own_file_loads(home):
    write(home.inbox / PAREPARE / "register_palopo_2025-03.xlsx", palopo_register(), OLD_MTIME)
    write(home.inbox / PALOPO / "register_palopo_2025-03.xlsx", palopo_register(), OLD_MTIME)
    got = _ingest(home)
    copy, own = got[f"{PAREPARE}/register_palopo_2025-03.xlsx"], got[f"{PALOPO}/register_palopo_2025-03.xlsx"]
    assert (copy.status, copy.error_code, copy.rows_loaded) == ("rejected", "FILE_REGENCY_MISMATCH", 0)
    # which regency the file says, which folder it is in, and what to do
    assert copy.error_message.startswith(
        "register_palopo_2025-03.xlsx: Berkas ini untuk Kota Palopo, tetapi berada di folder Kota Parepare "
        "(folder 73.72); tidak ada data yang dimuat. Jika ini berkas Kota Palopo, pindahkan ke folder Kota Palopo"), \
        copy.error_message
    assert "judulnya menyebut Kota Palopo" in copy.error_message
    assert (own.status, own.regency_code, own.rows_loaded) == ("loaded", PALOPO, 10)
    with _db(home) as con:
        assert con.execute("select distinct regency_code from raw.register").fetchall() == [(PALOPO,)]


def test_a_register_most_of_whose_niks_are_another_regencys_is_rejected_without_a_title(home):
    path = write(home.inbox / PAREPARE / "register_2025-03.xlsx", palopo_register(title=False), OLD_MTIME)
    [r] = _ingest(home).values()
    assert (r.status, r.error_code) == ("rejected", "FILE_REGENCY_MISMATCH"), r.error_message
    assert r.error_message.startswith(f"{path.name}: Berkas ini untuk Kota Palopo, tetapi berada di folder "
                                      "Kota Parepare (folder 73.72)")
    assert "10 dari 10 NIK sahnya diterbitkan di Kota Palopo (empat digit pertamanya 7373)" in r.error_message


def test_one_worker_from_another_regency_does_not_reject_the_register(home):
    rows = [register_row(PAREPARE, i) for i in range(5)] + [register_row(PALOPO, 9)]
    write(home.inbox / PAREPARE / "register_parepare_2025-04.csv", csv_bytes(rows), OLD_MTIME)
    [r] = _ingest(home).values()
    assert (r.status, r.rows_loaded) == ("loaded", 6)


def test_a_byte_identical_resend_in_the_same_folder_is_still_a_duplicate(home):
    write(home.inbox / PALOPO / "register_palopo_2025-03.xlsx", palopo_register(), OLD_MTIME)
    write(home.inbox / PALOPO / "2025" / "register_palopo_2025-03_lagi.xlsx", palopo_register(), OLD_MTIME + 1)
    got = _ingest(home)
    again = got[f"{PALOPO}/2025/register_palopo_2025-03_lagi.xlsx"]
    assert (again.status, again.error_code) == ("duplicate", "DUPLICATE_FILE")
    assert again.duplicate_of == got[f"{PALOPO}/register_palopo_2025-03.xlsx"].load_id


# ------------------------------------------------------------------------------------------ 3. received -----
def test_received_time_is_when_cakupan_first_saw_the_file_not_its_modification_time(home):
    write(home.inbox / PAREPARE / "register_parepare_2025-04.csv",
          csv_bytes([register_row(PAREPARE, i) for i in range(3)]), OLD_MTIME)
    from cakupan.ingest.loader import Loader

    before = dt.datetime.now()
    loader = Loader(home)
    try:
        assert loader.pending_files()           # the first look
        seen = dt.datetime.now()
    finally:
        loader.con.close()
    time.sleep(0.05)
    [r] = _ingest(home).values()                # loaded by a later ingest: received = the first look
    with _db(home) as con:
        received = con.execute("select received_at from audit.loads where load_id = ?", [r.load_id]).fetchone()[0]
        raw = con.execute("select distinct received_at from raw.register").fetchall()
    assert before <= received <= seen, (before, received, seen)
    assert raw == [(received,)]
    assert received.year != 2025                # the zip's time (2025-06-01) is the sender's, not a receipt


def test_a_file_still_being_copied_waits_and_then_loads_whole(home_factory):  # noqa: F811
    s = home_factory(settle_seconds=0.3)
    path = write(s.inbox / PAREPARE / "register_parepare_2025-04.csv",
                 csv_bytes([register_row(PAREPARE, i) for i in range(3)]))
    writer = Writer(path, ";".join(register_row(PAREPARE, 100, No="@")))
    try:
        [r] = _ingest(s).values()
        assert (r.status, r.error_code, r.load_id) == ("waiting", "FILE_CHANGING", None), r
        assert r.error_message.startswith("register_parepare_2025-04.csv: Berkas ini masih berubah")
        with _db(s) as con:
            assert con.execute("select count(*) from audit.loads").fetchone()[0] == 0
    finally:
        writer.finish()
    data = path.read_bytes()
    [r] = _ingest(s).values()
    with _db(s) as con:
        sha = con.execute("select file_sha256 from audit.loads where load_id = ?", [r.load_id]).fetchone()[0]
    assert (r.status, r.rows_in) == ("loaded", data.count(b"\r\n") - 1)
    assert sha == hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------------------ 5. the key -------
def test_the_key_fingerprint_is_stored_on_first_use_and_never_the_key(home):
    write(home.inbox / PAREPARE / "register_parepare_2025-04.csv",
          csv_bytes([register_row(PAREPARE, i) for i in range(3)]), OLD_MTIME)
    _ingest(home)
    expected = hmac.new(TEST_KEY.encode(), b"cakupan pseudonym key fingerprint v1", "sha256").hexdigest()
    with _db(home) as con:
        assert con.execute("select fingerprint from audit.pseudonym_key").fetchall() == [(expected,)]
    assert TEST_KEY.encode() not in home.work_db.read_bytes()


def test_a_run_with_another_key_is_refused_before_writing_anything(tmp_path):
    home = tmp_path / "home"
    write(home / "inbox" / PAREPARE / "register_parepare_2025-04.csv",
          csv_bytes([register_row(PAREPARE, i) for i in range(3)]), OLD_MTIME)
    run_cli(home, "ingest", "--json")
    write(home / "inbox" / PAREPARE / "register_parepare_2025-05.csv",
          csv_bytes([register_row(PAREPARE, i) for i in range(4)]), OLD_MTIME)
    db = home / "warehouse" / "work.duckdb"

    def state():
        with duckdb.connect(str(db), read_only=True) as con:
            return [con.execute(f"select * from {t} order by all").fetchall()
                    for t in ("audit.loads", "audit.runs", "audit.inbox_files", "raw.register", "audit.pseudonym_key")]

    before = state()
    for verb in (["ingest"], ["run"]):
        proc = run_cli(home, *verb, check=False, CAKUPAN_PSEUDONYM_KEY="a-new-administrators-key",
                       COLUMNS="400", CAKUPAN_LANG="en")     # (the CLI's console wraps at the terminal's width)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert lines[0].startswith("error: CAKUPAN_PSEUDONYM_KEY is not the key this warehouse's pseudonyms were "
                                   "made with"), lines[0]
        assert "Set the old key back, or re-key every pseudonym with the new one: `cakupan rekey`" in lines[0]
        assert state() == before
    # the old key back: the new file loads
    out = [json.loads(x) for x in run_cli(home, "ingest", "--json").stdout.splitlines()]
    assert [(r["file"], r["status"]) for r in out] == [(f"{PAREPARE}/register_parepare_2025-05.csv", "loaded")]


def test_rekey_recomputes_every_pseudonym_with_the_new_key_and_only_that_key_loads_afterwards(tmp_path):
    home = tmp_path / "home"
    rows = [register_row(PAREPARE, i) for i in range(3)] + [register_row(PAREPARE, 3, JK="X")]
    write(home / "inbox" / PAREPARE / "register_parepare_2025-04.csv", csv_bytes(rows), OLD_MTIME)
    run_cli(home, "ingest")
    new = "a-new-administrators-key"
    proc = run_cli(home, "rekey", "--json", CAKUPAN_PSEUDONYM_KEY=new)
    assert json.loads(proc.stdout) == {"raw.claims": 0, "raw.register": 3, "quarantine.rows": 1}

    def keyed(nik_text: str, key: str) -> str:
        return hmac.new(key.encode(), nik_text.encode(), "sha256").hexdigest()

    with duckdb.connect(str(home / "warehouse" / "work.duckdb"), read_only=True) as con:
        raw = con.execute("select nik, participant_key from raw.register").fetchall()
        quarantined = con.execute("select participant_key from quarantine.rows").fetchall()
    assert sorted(k for _, k in raw) == sorted(keyed(nik(PAREPARE, i), new) for i in range(3))
    assert quarantined == [(keyed(nik(PAREPARE, 3), new),)]
    refused = run_cli(home, "ingest", check=False)                       # the old key is now the wrong one
    assert refused.returncode == 1 and "cakupan rekey" in refused.stderr
    write(home / "inbox" / PAREPARE / "register_parepare_2025-05.csv", csv_bytes(rows[:2]), OLD_MTIME)
    assert "loaded" in run_cli(home, "ingest", "--json", CAKUPAN_PSEUDONYM_KEY=new).stdout


# ------------------------------------------------------------------------------------------ 7. the inbox -----
def test_a_link_out_of_the_inbox_is_not_followed_and_its_target_is_never_recorded(home, tmp_path):
    secret = write(tmp_path / "elsewhere" / "passwd_like.csv", csv_bytes([register_row(PAREPARE, i)
                                                                          for i in range(3)]))
    (home.inbox / PAREPARE).mkdir(parents=True)
    (home.inbox / PAREPARE / "register_parepare_2025-04.csv").symlink_to(secret)
    (home.inbox / PAREPARE / "share").symlink_to(secret.parent, target_is_directory=True)
    (home.inbox / PALOPO).symlink_to(secret.parent, target_is_directory=True)        # a whole regency folder
    got = _ingest(home)
    assert {k: (r.status, r.error_code) for k, r in got.items()} == {
        f"{PAREPARE}/register_parepare_2025-04.csv": ("rejected", "LINK_OUTSIDE_INBOX"),
        f"{PAREPARE}/share": ("rejected", "LINK_OUTSIDE_INBOX"),
        PALOPO: ("rejected", "LINK_OUTSIDE_INBOX")}
    assert got[f"{PAREPARE}/register_parepare_2025-04.csv"].error_message.startswith(
        "register_parepare_2025-04.csv: Ini tautan (shortcut) ke berkas atau folder di luar folder kiriman")
    explicit = _ingest(home, [home.inbox / PAREPARE / "register_parepare_2025-04.csv"])   # named on purpose
    assert [r.status for r in explicit.values()] == ["already_processed"]
    assert _ingest(home) == {}                                                          # recorded once
    text = _texts(home.work_db)
    assert str(secret.parent) not in text and "passwd_like" not in text
    with _db(home) as con:
        assert con.execute("select count(*) from raw.register").fetchone()[0] == 0


def test_the_regency_is_the_first_folder_under_the_inbox(home):
    """inbox/73.72/73.73/file is Parepare's (73.72): a deeper folder is the clerk's own filing."""
    write(home.inbox / PAREPARE / PALOPO / "register_2025-04.csv",
          csv_bytes([register_row(PAREPARE, i) for i in range(3)]), OLD_MTIME)
    write(home.inbox / PAREPARE / PALOPO / "register_palopo_2025-03.xlsx", palopo_register(), OLD_MTIME)
    got = _ingest(home)
    ours = got[f"{PAREPARE}/{PALOPO}/register_2025-04.csv"]
    assert (ours.status, ours.regency_code) == ("loaded", PAREPARE)
    assert got[f"{PAREPARE}/{PALOPO}/register_palopo_2025-03.xlsx"].error_code == "FILE_REGENCY_MISMATCH"
    with _db(home) as con:
        assert con.execute("select distinct regency_code from raw.register").fetchall() == [(PAREPARE,)]


def test_a_named_pipe_is_recorded_and_never_opened_even_when_named_explicitly(tmp_path):
    home = tmp_path / "home"
    fifo = home / "inbox" / PAREPARE / "register_parepare_2025-04.csv"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    try:
        explicit = run_cli(home, "ingest", "--json", str(fifo), check=False)     # would block on open()
    except subprocess.TimeoutExpired:
        pytest.fail("`cakupan ingest FIFO` hung")
    [r] = [json.loads(x) for x in explicit.stdout.splitlines()]
    assert (r["status"], r["error_code"]) == ("rejected", "NOT_A_REGULAR_FILE"), explicit.stderr
    assert r["error_message"].startswith("register_parepare_2025-04.csv: Ini bukan berkas biasa")
    assert run_cli(home, "ingest", "--json").stdout.strip() == ""             # found by the scan: recorded already


# ------------------------------------------------------------------------------------------ 9. the bytes -----
def test_the_sha256_recorded_is_of_exactly_the_bytes_loaded_while_the_file_grows(home):
    """A file appended to while it is loaded: either it waits (FILE_CHANGING), or what was recorded is one
    consistent prefix of it — its SHA-256, its size and its rows."""
    path = write(home.inbox / PAREPARE / "register_parepare_2025-04.csv",
                 csv_bytes([register_row(PAREPARE, i) for i in range(20_000)]))
    writer = Writer(path, ";".join(register_row(PAREPARE, 9000, No="@")))
    try:
        outcomes = [_ingest(home, [path]) for _ in range(3)]
    finally:
        writer.finish()
    final = path.read_bytes()
    with _db(home) as con:
        loads = con.execute("select file_sha256, file_size, rows_in from audit.loads where status = 'loaded'"
                            ).fetchall()
    assert len(loads) + sum(r.status == "waiting" for o in outcomes for r in o.values()) == 3
    for sha, size, rows_in in loads:
        assert hashlib.sha256(final[:size]).hexdigest() == sha
        assert rows_in == final[:size].count(b"\r\n") - 1
    [r] = _ingest(home, [path]).values()                 # once it stops changing it loads, whole
    assert (r.status, r.rows_in) == ("loaded", final.count(b"\r\n") - 1)


# ------------------------------------------------------------------------------------------ 10. messages -----
def test_a_nik_formula_without_a_saved_result_is_not_called_empty(home):
    rows = [[f"K-{i}", nik(PAREPARE, i), "", "JKM", "04/05/2025", "21/05/2025", "Rp 2.000.000", "Parepare"]
            for i in range(3)]
    rows[1][1] = ""
    write(home.inbox / PAREPARE / "klaim_parepare_2025-05.xlsx",
          xlsx_bytes(rows, header=CLAIMS_HEADER, formulas={(1, 1): '="7372"&"014503850002"'}), OLD_MTIME)
    [r] = _ingest(home).values()
    assert (r.status, r.rows_loaded, r.reasons) == ("loaded", 2, {"FORMULA_NO_VALUE": 1})
    with _db(home) as con:
        [(msg,)] = con.execute("select message from quarantine.rows").fetchall()
    assert msg.startswith("klaim_parepare_2025-05.xlsx, lembar Peserta, baris 3: Sel pada kolom 'nik' berisi "
                          "rumus yang hasilnya tidak tersimpan"), msg
    assert "kosong" not in msg


def test_full_width_and_arabic_indic_nik_digits_are_read_as_digits(home):
    rows = [register_row(PAREPARE, i) for i in range(3)]
    rows[1][1] = rows[1][1].translate(FULL_WIDTH)
    rows[2][1] = rows[2][1].translate(ARABIC_INDIC)
    write(home.inbox / PAREPARE / "register_parepare_2025-04.csv", csv_bytes(rows), OLD_MTIME)
    [r] = _ingest(home).values()
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("loaded", 3, 0)
    with _db(home) as con:
        got = sorted(con.execute("select nik, participant_key from raw.register").fetchall())
    assert got == sorted((nik(PAREPARE, i), hmac.new(TEST_KEY.encode(), nik(PAREPARE, i).encode(),
                                                      "sha256").hexdigest()) for i in range(3))


def test_dates_are_accepted_from_1900_to_next_year_in_every_date_column(home):
    next_year = dt.date.today().year + 1
    rows = [register_row(PAREPARE, i) for i in range(6)]
    rows[1][9] = f"31-12-{next_year}"              # TMT: the last accepted day
    rows[2][9] = f"01-01-{next_year + 1}"          # the first refused
    rows[3][3] = "01-01-1900"                      # Tgl Lahir: the first accepted day
    rows[4][3] = "31-12-1899"                      # the last refused
    write(home.inbox / PAREPARE / "register_parepare_2025-04.csv", csv_bytes(rows), OLD_MTIME)
    [r] = _ingest(home).values()
    assert (r.rows_loaded, r.reasons) == (4, {"DATE_OUT_OF_RANGE": 2})
    with _db(home) as con:
        msgs = [m for (m,) in con.execute("select message from quarantine.rows order by source_row").fetchall()]
    assert all("di luar rentang yang wajar (tahun 1900 sampai tahun depan)" in m for m in msgs)


def test_a_file_name_a_spreadsheet_reads_as_a_formula_is_recorded_with_an_apostrophe(home):
    names = ["=HYPERLINK(\"http:evil\";\"x\") register_parepare_2025-04.csv", "+register_parepare_2025-05.csv",
             "-register_parepare_2025-06.csv", "@register_parepare_2025-07.csv"]
    for k, name in enumerate(names):
        rows = [register_row(PAREPARE, 10 * k + i) for i in range(2)] + [register_row(PAREPARE, 10 * k + 9, JK="X")]
        write(home.inbox / PAREPARE / name, csv_bytes(rows), OLD_MTIME)
    got = _ingest(home)
    assert {r.status for r in got.values()} == {"loaded"}
    with _db(home) as con:
        names_recorded = {n for (n,) in con.execute("select file_name from audit.loads").fetchall()}
        messages = [m for (m,) in con.execute("select message from quarantine.rows").fetchall()]
    assert names_recorded == {"'" + n for n in names}
    assert len(messages) == 4 and all(m.startswith("'") for m in messages)
