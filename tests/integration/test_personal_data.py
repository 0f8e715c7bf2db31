"""No personal data in anything Cakupan publishes, exports, logs or reports (UU 27/2022; README "Personal data").

One home, run as an operator would with the real CLI: the synthetic generator's deliveries (registers with KPJ
numbers, claims, a press release, bad rows, identity anomalies), plus what real offices send that quotes people:

- a register whose rows are quarantined for a personal cell: an impossible birth date, one out of range, a KPJ with
  letters, and a whole row typed into one cell (name, NIK and birth date together); every row of it carries a
  column the contract does not know, the RT head's mobile number (kept in raw_cells, in the raw zone only);
- a press release quoting a worker's NIK (with spaces) and phone number in the sentence that states the promise;
- two press releases both called laporan.txt, in two regency folders, and a binary file saved as a .txt.

The scan (tests/pii.py) reads the generator's register files back for every NIK (in any form), name, birth date and
KPJ, adds the hostile rows' values, and looks for them in the published file (every table), the GX Data Docs, the
auditor site, every --json output and every log line.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pii
import pytest
from _support import SHARED, run_cli
from cakupan_dev.synth import SynthSpec, generate
from cakupan_dev.synth.people import make_nik

pytestmark = pytest.mark.integration

BORN = dt.date(1985, 3, 12)
HOSTILE = {   # synthetic people, in none of the generator's name lists
    "valid": (make_nik("73.72.01", BORN, True, 8101), "Sitti Marlina Rasyidah", "12-03-1985", "11112222333"),
    "bad_birth": (make_nik("73.72.02", BORN, False, 8102), "Andi Baharuddin Tompo", "31-02-1979", ""),
    "old_birth": (make_nik("73.72.01", BORN, False, 8103), "Laode Kamaruddin Pallawa", "12-05-1850", ""),
    "bad_kpj": (make_nik("73.72.02", BORN, True, 8104), "Hasniah Wulandari Mappa", "12-03-1985", "12AB5678901"),
    "unsplit": (make_nik("73.72.01", BORN, True, 8105), "Rahmawati Lestari Pallawa", "12-03-1985", ""),
}
RELEASE_NIK, RELEASE_PHONE = "7372 0145 0580 0123", "0812-3456-7890"
RT_PHONES = {key: f"08529{i:07d}" for i, key in enumerate(HOSTILE, start=4711)}   # "No. HP Ketua RT", per row
RELEASE = f"""PAREPARE — Pemerintah Kota Parepare menandatangani nota kesepahaman dengan BPJS Ketenagakerjaan,
Senin (12/5/2025).

Wali Kota Parepare mengatakan mulai Juni 2025 pemerintah kota menanggung iuran bagi total 1.200 pekerja rentan, termasuk Ibu Sitti yang terdaftar dengan NIK {RELEASE_NIK} (telepon {RELEASE_PHONE}).
"""


FORMULA_NAME = '=HYPERLINK("contoh.invalid","klik")+daftar.csv'


def hostile_people() -> pii.PersonalData:
    found = pii.PersonalData()
    for nik, name, born, kpj in HOSTILE.values():
        found.niks.add(nik)
        found.names.add(name)
        found.literals.add(born)
        if kpj:
            found.literals.add(kpj)
    found.birth_dates.add(BORN)
    found.niks.add(RELEASE_NIK.replace(" ", ""))
    found.literals |= {RELEASE_PHONE, RELEASE_PHONE.replace("-", "")} | set(RT_PHONES.values())
    return found


def write_hostile(inbox: Path) -> None:
    rows = ["NIK;Nama;Tgl Lahir;Pekerjaan;Program;TMT;Iuran;Sumber Dana;No KPJ;No. HP Ketua RT"]
    for key, (nik, name, born, kpj) in HOSTILE.items():
        line = f"{nik};{name};{born};nelayan;JKK, JKM;01-05-2025;16.800;APBD;{kpj};{RT_PHONES[key]}"
        rows.append(line.replace(";", ",") + ";" * rows[0].count(";") if key == "unsplit" else line)
    (inbox / "73.72" / "register_parepare_2025-05.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (inbox / "berita").mkdir(exist_ok=True)
    (inbox / "berita" / "siaran_pers_parepare_2025-05.txt").write_text(RELEASE, encoding="utf-8")
    shutil.copyfile(SHARED / "city_reports" / "000_ad4fca7776d9b668.txt", inbox / "73.72" / "laporan.txt")
    shutil.copyfile(SHARED / "city_reports" / "002_1f643c3dfab7203f.txt", inbox / "73.73" / "laporan.txt")
    (inbox / "berita" / "scan_mou.txt").write_bytes(b"%PDF-1.7\n\x00\x00binary\x00" * 40)
    (inbox / "73.73" / FORMULA_NAME).write_text("Catatan;Isi\nlihat lampiran;-\n", encoding="utf-8")


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """(home, {what: the text a command printed or a log holds}) after ingest, run, report and the read commands."""
    h = tmp_path_factory.mktemp("personal_data")
    generate(SynthSpec(regencies=["73.72", "73.73"], months=["2025-03", "2025-04"], workers=12, seed=23,
                       scenarios=("bad_rows", "duplicate_worker", "identity_anomaly"),
                       sources=("claims", "narrative")), h / "inbox")
    write_hostile(h / "inbox")
    outputs: dict[str, str] = {}

    def cli(*args: str, check: bool = True) -> str:
        proc = run_cli(h, *args, check=check)
        outputs[" ".join(args)], outputs[" ".join(args) + " (stderr)"] = proc.stdout, proc.stderr
        return proc.stdout

    cli("ingest", "--json", check=False)             # a file with failed rows exits 1; its manifest is the output
    cli("run", "--json")
    cli("report", "--json")
    cli("coverage", "--json")
    cli("reports", "extract", str(h / "inbox"), "--json")
    for f in map(json.loads, cli("findings", "--list", "--json").splitlines()):
        cli("trace", "finding", f["finding_id"], "--json")
    for row in map(json.loads, outputs["coverage --json"].splitlines()):
        if row["enrolled"] is not None:
            cli("trace", "mart_coverage_monthly", row["regency_code"], row["month"], "--measure", "protected",
                "--json")
    return h, outputs


def test_no_personal_data_in_anything_published_exported_logged_or_reported(home):
    h, outputs = home
    people = pii.from_registers(h / "inbox").merge(hostile_people())
    assert len(people.niks) > 40 and len(people.names) > 30 and len(people.birth_dates) > 40 and people.kpjs
    published = h / "published" / "cakupan.duckdb"
    texts = (pii.published_texts(published) + pii.file_texts(h / "reports" / "gx") + pii.file_texts(h / "reports"
             / "site") + pii.file_texts(h / "logs") + sorted(outputs.items()))
    assert len(outputs) > 10 and any(name.endswith(".html") for name, _ in texts)
    hits = pii.scan(texts, people)
    assert not hits, "\n".join(hits[:20])


def test_quarantine_messages_are_published_without_personal_columns(home):
    h, _ = home
    with duckdb.connect(str(h / "published" / "cakupan.duckdb"), read_only=True) as con:
        published = dict(con.execute("select source_row, message from audit.quarantine_rows "
                                     "where source_file = '73.72/register_parepare_2025-05.csv'").fetchall())
    with duckdb.connect(str(h / "warehouse" / "work.duckdb"), read_only=True) as con:
        own = dict(con.execute("select source_row, message from quarantine.rows "
                               "where source_file = '73.72/register_parepare_2025-05.csv'").fetchall())
    assert sorted(published) == sorted(own) == [3, 4, 5, 6]
    for row in (3, 4, 5, 6):   # the file, sheet and row, the column and the reason, no personal value
        assert published[row].startswith(f"73.72/register_parepare_2025-05.csv, lembar -, baris {row}: ")
        assert "[data pribadi, tidak ditampilkan]" in published[row]   # Bahasa Indonesia, the default
    assert "birth_date" in published[3] and "bukan tanggal" in published[3]
    # the regency's own message, in the raw zone, still quotes the cells to fix
    assert "31-02-1979" in own[3] and "12-05-1850" in own[4] and "12AB5678901" in own[5]
    assert HOSTILE["unsplit"][1] in own[6]


def test_an_extra_phone_column_stays_in_the_raw_zone(home):
    """The column the contract does not know is kept with every row in the raw zone, and the published file
    names it (once, a finding) without any of its numbers (the scan above looks for them everywhere)."""
    h, _ = home
    rel = "73.72/register_parepare_2025-05.csv"
    with duckdb.connect(str(h / "warehouse" / "work.duckdb"), read_only=True) as con:
        cells = [json.loads(c) for (c,) in con.execute(
            "select raw_cells from raw.register where source_file = ? union all select raw_cells "
            "from quarantine.rows where source_file = ?", [rel, rel]).fetchall()]
    kept = {c["No. HP Ketua RT"] for c in cells if "No. HP Ketua RT" in c}
    assert kept == {p for k, p in RT_PHONES.items() if k != "unsplit"}   # the unsplit row keeps its whole text
    assert len(cells) == len(HOSTILE)
    with duckdb.connect(str(h / "published" / "cakupan.duckdb"), read_only=True) as con:
        notes = con.execute("select f.message from audit.load_findings f join audit.loads_published l using (load_id) "
                            "where l.source_file = ? and f.code = 'EXTRA_COLUMNS'", [rel]).fetchall()
    assert len(notes) == 1 and "'No. HP Ketua RT'" in notes[0][0]


def test_a_nik_quoted_in_a_press_release_is_masked_in_the_promise_ledger(home):
    h, _ = home
    with duckdb.connect(str(h / "published" / "cakupan.duckdb"), read_only=True) as con:
        (sentence,) = con.execute("select sentence from marts.mart_promise_vs_delivery where source_file = "
                                  "'berita/siaran_pers_parepare_2025-05.txt' and promised_count = 1200").fetchone()
    assert "NIK **** **** **** ****" in sentence and "telepon ****-****-****" in sentence
    assert "1.200 pekerja rentan" in sentence


def test_two_press_releases_named_laporan_txt_in_two_folders_both_publish(home):
    h, outputs = home
    assert json.loads(outputs["run --json"])["published"]
    with duckdb.connect(str(h / "published" / "cakupan.duckdb"), read_only=True) as con:
        ids = [i for (i,) in con.execute("select promise_id from marts.mart_promise_vs_delivery "
                                         "where source_file like '%/laporan.txt'").fetchall()]
    assert {i.split("#")[0] for i in ids} == {"73.72/laporan.txt", "73.73/laporan.txt"}
    assert len(ids) == len(set(ids))
    skipped = [json.loads(line) for line in outputs[f"reports extract {h / 'inbox'} --json"].splitlines()
               if '"skipped"' in line]
    assert any(s["source_file"] == "berita/scan_mou.txt" and s["code"] == "REPORT_NOT_TEXT" for s in skipped)


def test_a_file_name_a_spreadsheet_would_run_reaches_the_auditor_site_as_text(home):
    """Excel opens the site's tables as a sheet: no cell may start a formula (a plain number such as -200 may)."""
    h, _ = home
    cells = table_cells((h / "reports" / "site" / "index.html").read_text(encoding="utf-8"))
    assert any(c.startswith("'" + FORMULA_NAME) for c in cells)      # the loads table: the file, as text
    risky = [c for c in cells if len(c) > 1 and c[0] in "=+-@\t\r" and not re.fullmatch(r"[-+]?[0-9][0-9.,]*%?", c)]
    assert not risky, risky[:5]


def table_cells(page: str) -> list[str]:
    """The text of every <td> of an HTML page (tags inside a cell dropped), as a spreadsheet would read it."""
    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.cells, self.depth = [], 0

        def handle_starttag(self, tag, attrs):
            if tag == "td":
                self.cells.append("")
                self.depth += 1

        def handle_endtag(self, tag):
            if tag == "td":
                self.depth -= 1

        def handle_data(self, data):
            if self.depth:
                self.cells[-1] += data

    parser = Cells()
    parser.feed(page)
    return [c.strip() for c in parser.cells]
