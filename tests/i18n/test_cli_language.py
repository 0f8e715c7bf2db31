"""The command line speaks Bahasa Indonesia unless told otherwise: a delivery with an Excel-mangled NIK and a
missing occupation, ingested by the real CLI in a subprocess, gets its table and its reasons in the language of
`--lang` / CAKUPAN_LANG; a wrong language is refused in one line (issue 23)."""

from __future__ import annotations

import pytest
from _support import run_cli

HEADER = "NIK,Nama,Jenis Kelamin,Tanggal Lahir,Pekerjaan,Program,Iuran,Sumber Dana,Tanggal Mulai,Bulan\n"
# synthetic people; the first NIK is valid, the second was typed as a number and lost its last digit (Excel)
ROWS = ("7372014101900001,Ani Sintetis,P,1990-01-01,Nelayan,JKK+JKM,16800,APBD,2025-04-01,2025-04\n"
        "7.37201410119E+15,Budi Sintetis,L,1990-01-01,,JKK+JKM,16800,APBD,2025-04-01,2025-04\n")

@pytest.fixture
def delivery(tmp_path):
    home = tmp_path / "home"
    inbox = home / "inbox" / "73.72"
    inbox.mkdir(parents=True)
    (inbox / "register_2025-04.csv").write_text(HEADER + ROWS, encoding="utf-8")
    return home

@pytest.mark.integration
def test_ingest_speaks_indonesian_by_default_and_english_on_the_switch(delivery, tmp_path):
    table = run_cli(delivery, "ingest").stdout
    assert "dikarantina" in table and "quarantined" not in table        # the table's headers
    import duckdb

    with duckdb.connect(str(delivery / "warehouse" / "work.duckdb"), read_only=True) as con:
        msgs = [r[0] for r in con.execute("select public_message from quarantine.rows order by source_row").fetchall()]
    assert msgs and all(", baris " in m for m in msgs), msgs              # "<file>, lembar -, baris 3: …"
    assert any("Ketik NIK sebagai teks" in m for m in msgs), msgs         # what to do, in the clerk's words

    other = tmp_path / "home-en"
    (other / "inbox" / "73.72").mkdir(parents=True)
    (other / "inbox" / "73.72" / "register_2025-04.csv").write_text(HEADER + ROWS, encoding="utf-8")
    table_en = run_cli(other, "--lang", "en", "ingest").stdout
    assert "quarantined" in table_en and "dikarantina" not in table_en
    with duckdb.connect(str(other / "warehouse" / "work.duckdb"), read_only=True) as con:
        msgs_en = [r[0] for r in con.execute("select public_message from quarantine.rows order by source_row").fetchall()]
    assert len(msgs_en) == len(msgs) and all(", row " in m for m in msgs_en), msgs_en
    with duckdb.connect(str(other / "warehouse" / "work.duckdb"), read_only=True) as con:
        codes = con.execute("select reason_code from quarantine.rows order by source_row").fetchall()
    with duckdb.connect(str(delivery / "warehouse" / "work.duckdb"), read_only=True) as con:
        assert con.execute("select reason_code from quarantine.rows order by source_row").fetchall() == codes

def test_a_wrong_language_is_one_line(tmp_path):
    proc = run_cli(tmp_path / "home", "--lang", "fr", "coverage", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "CAKUPAN_LANG" in proc.stderr, proc.stderr
    proc = run_cli(tmp_path / "home", "coverage", check=False, CAKUPAN_LANG="xx")
    assert len(proc.stderr.strip().splitlines()) == 1 and "'xx'" in proc.stderr, proc.stderr
