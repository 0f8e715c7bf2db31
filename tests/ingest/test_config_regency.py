"""A new regency is configuration, not code: one YAML file (aliases, header overrides, defaults, sheet rules)
and its inbox folder; a wrong configuration fails with a message naming the file and the key."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from cakupan.core.config import ConfigError
from cakupan.core.settings import PROJECT_ROOT
from cakupan.ingest.loader import Loader
from cakupan.ingest.run import ingest_paths
from cakupan_dev.messy import Sheet, csv_bytes, nik, xlsx_bytes


@pytest.fixture(autouse=True)
def _english(settings_factory, monkeypatch):
    """These tests read the English text of the catalogue's error messages (tests/i18n reads both languages);
    after settings_factory, which cleans every CAKUPAN_ variable."""
    monkeypatch.setenv("CAKUPAN_LANG", "en")

PINRANG = """\
# Kabupaten Pinrang: added by configuration only.
code: "73.15"
name: Kabupaten Pinrang
aliases: [Pinrang, Kab. Pinrang, Kab Pinrang]
inbox: "73.15"
default_funding_source: APBDes      # its register has no Sumber Dana column
branch: Kantor Cabang Parepare
header_overrides:
  register:
    Nama Pekerja Rentan: full_name
    Bidang Usaha: occupation
  contributions:
    Bulan Iuran: period
sheet_rules: {skip: [Rekap]}
"""


@pytest.fixture
def config_dir(tmp_path) -> Path:
    """A copy of the project's config folder."""
    dest = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", dest)
    return dest


def _pinrang_register() -> bytes:
    header = ["No", "NIK", "Nama Pekerja Rentan", "JK", "Bidang Usaha", "Desa", "Program", "TMT", "Iuran"]
    rows = [[i + 1, nik(dt.date(1980, 1, i + 1), i % 2 == 1, i + 1, district="731501"), name, "L" if i % 2 == 0
             else "P", "Petani", "Lampa", "JKK, JKM", "01/05/2025", "16.800"]
            for i, name in enumerate(["La Tunru", "Hasnah", "Ambo Dalle"])]
    title = [["DAFTAR PEKERJA RENTAN KABUPATEN PINRANG — BULAN MEI 2025"], []]
    return xlsx_bytes([Sheet("Data", title + [header] + rows),
                       Sheet("Rekap", [["REKAP"], ["Desa", "Jumlah Peserta"], ["Lampa", 3]])])


def _pinrang_contributions() -> bytes:
    return csv_bytes([["Bulan Iuran", "Kab/Kota", "Sumber Dana", "Jumlah Peserta", "Tagihan", "Pembayaran"],
                      ["Mei 2025", "Kab. Pinrang", "APBDes", "3", "50.400", "50.400"],
                      ["Juni 2025", "PINRANG", "APBDes", "3", "50.400", "0"]], ";")


def test_new_regency_is_one_yaml_file(home_factory, config_dir):
    (config_dir / "regencies" / "73.15.yml").write_text(PINRANG, encoding="utf-8")
    home = home_factory(config_dir=config_dir)
    folder = home.inbox / "73.15"
    folder.mkdir(parents=True)
    (folder / "register_pinrang_2025-05.xlsx").write_bytes(_pinrang_register())
    (folder / "iuran_pinrang_2025.csv").write_bytes(_pinrang_contributions())
    results = {r.file: r for r in ingest_paths(home, None, run_id="pinrang")}    # the inbox is discovered
    reg, con_ = results["73.15/register_pinrang_2025-05.xlsx"], results["73.15/iuran_pinrang_2025.csv"]
    assert (reg.status, reg.regency_code, reg.period, reg.rows_loaded, reg.rows_quarantined) == (
        "loaded", "73.15", "2025-05", 3, 0), reg.error_message
    assert (con_.status, con_.rows_loaded) == ("loaded", 2), con_.error_message
    loader = Loader(home)
    try:
        rows = loader.con.execute("select full_name, occupation, funding_source, regency_code, sheet "
                                  "from raw.register order by source_row").fetchall()
        assert rows == [(n, "Petani", "APBDES", "73.15", "Data") for n in ("La Tunru", "Hasnah", "Ambo Dalle")]
        assert loader.con.execute("select list(regency_code order by period), list(period order by period) "
                                  "from raw.contributions").fetchone() == (
            ["73.15", "73.15"], [dt.date(2025, 5, 1), dt.date(2025, 6, 1)])
        # the Rekap sheet is skipped by configuration: no finding about it
        assert loader.con.execute("select count(*) from audit.load_findings").fetchone()[0] == 0
    finally:
        loader.con.close()


def test_without_the_header_override_the_odd_header_is_not_found(home_factory, config_dir):
    text = PINRANG.replace("    Nama Pekerja Rentan: full_name\n", "")
    (config_dir / "regencies" / "73.15.yml").write_text(text, encoding="utf-8")
    home = home_factory(config_dir=config_dir)
    path = home.inbox / "73.15" / "register_pinrang_2025-05.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(_pinrang_register())
    [r] = ingest_paths(home, [path], run_id="x")
    assert (r.status, r.error_code) == ("rejected", "HEADER_NOT_FOUND")
    assert "full_name" in r.error_message


BAD = [
    ("unknown code", PINRANG.replace('code: "73.15"', 'code: "73.99"'), "key 'code'", "73.99"),
    ("missing code", PINRANG.replace('code: "73.15"\n', ""), "key 'code' is missing", None),
    ("bad header_overrides column", PINRANG.replace("full_name", "nama_lengkap"),
     "key 'header_overrides.register.Nama Pekerja Rentan'", "nama_lengkap"),
    ("bad header_overrides source", PINRANG.replace("  register:", "  peserta:"), "key 'header_overrides.peserta'",
     None),
    ("bad default_funding_source", PINRANG.replace("APBDes      #", "Dana Hibah  #"), "key 'default_funding_source'",
     "Dana Hibah"),
    ("aliases not a list", PINRANG.replace("[Pinrang, Kab. Pinrang, Kab Pinrang]", "Pinrang"), "key 'aliases'", None),
    ("invalid YAML", PINRANG.replace("aliases: [Pinrang,", "aliases: [Pinrang: {,"), "not valid YAML", None),
    ("duplicate code", PINRANG.replace('"73.15"', '"73.72"'), "already configured", "73.72"),
]


@pytest.mark.parametrize(("why", "text", "key", "value"), BAD, ids=[b[0] for b in BAD])
def test_bad_configuration_names_file_and_key(home_factory, config_dir, why, text, key, value):
    path = config_dir / "regencies" / "73.15.yml"
    path.write_text(text, encoding="utf-8")
    home = home_factory(config_dir=config_dir)
    with pytest.raises(ConfigError) as info:
        Loader(home)
    msg = str(info.value)
    assert str(path) in msg and key in msg, msg
    if value:
        assert value in msg, msg
