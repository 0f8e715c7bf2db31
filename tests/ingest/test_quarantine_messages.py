"""A quarantined row's reason, messages and reasons list, written out by hand from the reason registry's words.

Each row below fails the rules named beside it. Its message names the file, sheet and row, then each failed rule in
the contract's order, joined by "; ": the rule's words with its column and the cell as delivered (cut to 57
characters and "..." when longer than 60). The published message names the file by its inbox path and quotes no
personal column and no long run of digits. `reasons` lists every failed rule with its column, code and the cell as
published. The first failed rule is the row's reason.
"""

from __future__ import annotations

import json

import duckdb
from cakupan.core.contracts import reasons

NOT_SHOWN = "[data pribadi, tidak ditampilkan]"
LONG = "[angka panjang]"
NAME = "register_parepare_2025-03.csv"
REL = f"73.72/{NAME}"

HEADER = "NIK;Nama;Tgl Lahir;Pekerjaan;Program;TMT;Tgl Berakhir;Iuran;Sumber Dana"
LONG_TMT = "TMT lihat SK Bupati 7372011705840001 tanggal 3 Maret 2025 dan lampiran halaman 12"
ODD_MONEY = 'Rp "enam belas" ribu \\ é'
ROWS = [
    # row 2: a NIK of 15 digits, a birth date that is no date (personal), a TMT that is no date
    "737201170584001;Orang Sintetis 1;31/02/1990;nelayan;JKK, JKM;bukan tanggal;;16.800;APBD",
    # row 3: a TMT longer than 60 characters holding a NIK-like run of digits
    f"7372011705840002;Orang Sintetis 2;17/05/1984;nelayan;JKK, JKM;{LONG_TMT};;16.800;APBD",
    # row 4: money with quotes, a backslash and a letter above ASCII
    f"7372011705840003;Orang Sintetis 3;17/05/1984;nelayan;JKK, JKM;01-03-2025;;{ODD_MONEY};APBD",
    # row 5: coverage ending before it starts
    "7372011705840004;Orang Sintetis 4;17/05/1984;nelayan;JKK, JKM;01-03-2025;01-01-2025;16.800;APBD",
    # row 6: a clean row
    "7372011705840005;Orang Sintetis 5;17/05/1984;nelayan;JKK, JKM;01-03-2025;;16.800;APBD",
]


def words(code: str, column: str, value: str = "") -> str:
    return reasons()[code].template("id").replace("{column}", column).replace("{value}", value)


# (row, [(column, code, cell as quoted, cell as published)]) in the contract's order of rules
EXPECTED = {
    2: [("nik", "NIK_15_DIGITS", "", NOT_SHOWN),
        ("birth_date", "DATE_INVALID", "31/02/1990", NOT_SHOWN),
        ("coverage_start", "DATE_INVALID", "bukan tanggal", "bukan tanggal")],
    3: [("coverage_start", "DATE_INVALID", LONG_TMT[:57] + "...", LONG_TMT[:57].replace("7372011705840001", LONG) + "...")],
    4: [("monthly_contribution", "NUMBER_INVALID", ODD_MONEY, ODD_MONEY)],
    5: [("coverage_end", "COVERAGE_END_BEFORE_START", "01-01-2025", "01-01-2025")],
}


def test_each_failed_rule_is_named_in_order_in_both_messages_and_the_reasons(home):
    from cakupan.ingest.loader import Loader

    folder = home.inbox / "73.72"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NAME
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    ld = Loader(home)
    try:
        result = ld.load(path)
    finally:
        ld.con.close()
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (5, 1, 4)
    with duckdb.connect(str(home.work_db), read_only=True) as con:
        got = {r[0]: r[1:] for r in con.execute(
            "select source_row, reason_code, column_name, message, public_message, reasons::varchar "
            "from quarantine.rows order by source_row").fetchall()}
    assert sorted(got) == sorted(EXPECTED)
    for row, problems in EXPECTED.items():
        code, column, message, public, listed = got[row]
        assert (column, code) == problems[0][:2], row
        assert message == f"{NAME}, lembar -, baris {row}: " + "; ".join(
            words(c, col, quoted) for col, c, quoted, _ in problems), row
        assert public == f"{REL}, lembar -, baris {row}: " + "; ".join(
            words(c, col, shown) for col, c, _, shown in problems), row
        assert json.loads(listed) == [{"column": col, "code": c, "value": shown} for col, c, _, shown in problems]
    # no personal cell and no long run of digits in what is published
    for _, _, _, public, listed in got.values():
        for text in (public, listed):
            assert "31/02/1990" not in text and "7372011705840001" not in text and "Sintetis" not in text
