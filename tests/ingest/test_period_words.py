"""A register whose title or file name names two months is rejected PERIOD_UNKNOWN with the words that disagree,
so the clerk is not told the name has no month when it has two (`register_mei_2025-06.csv`: a May file saved
over June's name)."""

from __future__ import annotations

import datetime as dt

import pytest
from cakupan.ingest.loader import Loader
from cakupan.ingest.periodtext import find_period_in_text, months_named
from cakupan_dev.messy import Sheet, csv_bytes, nik, xlsx_bytes

HEADER = ["No", "NIK", "Nama", "JK", "Pekerjaan", "Desa/Kelurahan", "Program", "TMT", "Iuran", "Sumber Dana"]


def _rows(n: int = 3) -> list[list]:
    return [[i + 1, nik(dt.date(1979, 3, i + 1), i % 2 == 1, 50 + i), f"Peserta Uji {i + 1}", "L" if i % 2 == 0 else "P",
             "Nelayan", "Lumpue", "JKK, JKM", "01/06/2025", "16.800", "APBD"] for i in range(n)]


@pytest.mark.parametrize(("text", "period", "words"), [
    ("register_mei_2025-06.csv", None, ["mei_2025", "2025-06"]),
    ("Register_Peserta_Juli_2025-06.xlsx", None, ["Juli_2025", "2025-06"]),
    ("DAFTAR PESERTA BULAN JANUARI - MARET 2025", None, ["JANUARI", "MARET 2025"]),
    ("register 2024-06 salinan 2025-06.csv", None, ["2024-06", "2025-06"]),
    ("peserta_2025_06_revisi_agustus.xlsx", None, ["2025_06", "agustus"]),
    ("Register Juni 2025 (perbaikan JUNI 2025)", dt.date(2025, 6, 1), []),
    ("dicetak 02/05/2025, periode Mei 2025", dt.date(2025, 5, 1), []),     # a full date is a date, not a month
    ("register_parepare.csv", None, []),                                  # no month at all: nothing to name
    ("Laporan Mei", None, []),                                            # a month without its year: one month
])
def test_months_named(text, period, words):
    assert find_period_in_text(text) == period
    assert months_named(text) == words


def _load(home, name: str, data: bytes):
    path = home.inbox / "73.72" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    loader = Loader(home)
    try:
        r = loader.load(path)
        msg = loader.con.execute("select error_message from audit.loads where load_id = ?", [r.load_id]).fetchone()[0]
    finally:
        loader.con.close()
    return r, msg


def test_two_months_in_the_file_name_are_named(home):
    r, msg = _load(home, "register_mei_2025-06.csv", csv_bytes([HEADER, *_rows()]))
    assert (r.status, r.error_code) == ("rejected", "PERIOD_UNKNOWN")
    assert msg.startswith("register_mei_2025-06.csv: Bulan laporan berkas ini tidak dapat ditentukan"), msg
    assert "nama berkasnya menyebut lebih dari satu bulan: 'mei_2025', '2025-06'" in msg, msg


def test_two_months_in_a_workbook_title_are_named(home):
    title = [["DAFTAR PEKERJA RENTAN KOTA PAREPARE BULAN APRIL - MEI 2025"], []]
    r, msg = _load(home, "register_parepare.xlsx", xlsx_bytes([Sheet("Data", title + [HEADER] + _rows())]))
    assert (r.status, r.error_code) == ("rejected", "PERIOD_UNKNOWN")
    assert "judulnya menyebut lebih dari satu bulan: 'APRIL', 'MEI 2025'" in msg, msg


def test_no_month_anywhere_has_no_words(home):
    r, msg = _load(home, "register_parepare.csv", csv_bytes([HEADER, *_rows()]))
    assert (r.status, r.error_code) == ("rejected", "PERIOD_UNKNOWN")
    assert "menyebut lebih dari satu bulan" not in msg, msg


def test_one_month_in_the_title_wins_over_a_name_with_two(home):
    """The title names one month: the file loads for it, whatever its name says."""
    title = [["DAFTAR PEKERJA RENTAN KOTA PAREPARE BULAN JUNI 2025"], []]
    r, _ = _load(home, "register_mei_2025-06.xlsx", xlsx_bytes([Sheet("Data", title + [HEADER] + _rows())]))
    assert (r.status, r.rows_loaded) == ("loaded", 3), r
