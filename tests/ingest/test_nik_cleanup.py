"""The NIK clean-up list of domain.md ("Identifiers"), through the real loader on a delivered CSV.

"Before validation only these are removed: spaces, dots, hyphens, a leading apostrophe, zero-width characters and
a BOM; full-width or Arabic-Indic digits are mapped to 0-9; anything else left makes the NIK invalid."
Each cleaned NIK must load with the pseudonym of its plain 16 digits (HMAC-SHA256 with the key, per domain.md);
each NIK with anything else left must be quarantined as not digits.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb
from _support import TEST_KEY

PREFIX = "737201"     # Kota Parepare, district 01


def nik(serial: int) -> str:
    """A valid 16-digit NIK (born 17-05-1984), one per row so that no row repeats a person."""
    return f"{PREFIX}170584{serial:04d}"


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

# (how the clerk typed it, the NIK it is) for every clean-up the definition allows
CLEANED = {
    "spaces": (lambda n: f"{n[:4]} {n[4:8]} {n[8:12]} {n[12:]}"),
    "dots": (lambda n: f"{n[:2]}.{n[2:4]}.{n[4:6]}.{n[6:12]}.{n[12:]}"),
    "hyphens": (lambda n: f"{n[:6]}-{n[6:12]}-{n[12:]}"),
    "leading apostrophe": (lambda n: "'" + n),
    "zero-width characters": (lambda n: n[:8] + "\u200b" + n[8:] + "\u200d"),
    "a BOM": (lambda n: "\ufeff" + n),
}
DIGITS_MAPPED = {
    "full-width digits": (lambda n: n.translate(FULL_WIDTH)),
    "Arabic-Indic digits": (lambda n: n.translate(ARABIC_INDIC)),
}
# anything else left makes the NIK invalid
LEFT_OVER = {
    "a slash": (lambda n: n[:8] + "/" + n[8:]),
    "a letter": (lambda n: n[:15] + "O"),
    "a comma": (lambda n: n[:8] + "," + n[8:]),
    "an underscore": (lambda n: n[:8] + "_" + n[8:]),
    "an apostrophe inside": (lambda n: n[:8] + "'" + n[8:]),
    "a plus sign": (lambda n: "+" + n),
}


def key_of(plain: str) -> str:
    return hmac.new(TEST_KEY.encode(), plain.encode(), hashlib.sha256).hexdigest()


def load(home, cases: dict) -> tuple[dict[str, str], dict[int, str]]:
    """Deliver one register with a row per case; return (participant_key by row number, reason by row number)."""
    from cakupan.ingest.loader import Loader

    folder = home.inbox / "73.72"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["NIK;Nama;Pekerjaan;Program;TMT;Iuran;Sumber Dana"]
    for i, typed in enumerate(cases.values(), start=1):
        lines.append(f"{typed(nik(i))};Orang Sintetis {i};nelayan;JKK, JKM;01-03-2025;16.800;APBD")
    path = folder / "register_parepare_2025-03.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ld = Loader(home)
    try:
        result = ld.load(path)
    finally:
        ld.con.close()
    assert result.rows_in == len(cases)
    with duckdb.connect(str(home.work_db), read_only=True) as con:
        keys = dict(con.execute("select source_row, participant_key from raw.register").fetchall())
        reasons = dict(con.execute("select source_row, reason_code from quarantine.rows").fetchall())
    return keys, reasons


def test_spaces_dots_hyphens_apostrophe_zero_width_and_bom_are_removed(home):
    keys, reasons = load(home, CLEANED)
    assert not reasons
    assert [keys[row] for row in range(2, len(CLEANED) + 2)] == [key_of(nik(i)) for i in range(1, len(CLEANED) + 1)]


def test_full_width_and_arabic_indic_digits_are_mapped_to_0_9(home):
    keys, reasons = load(home, DIGITS_MAPPED)
    assert not reasons
    assert [keys[row] for row in (2, 3)] == [key_of(nik(1)), key_of(nik(2))]


def test_anything_else_left_makes_the_nik_invalid(home):
    keys, reasons = load(home, LEFT_OVER)
    assert not keys
    assert reasons == dict.fromkeys(range(2, len(LEFT_OVER) + 2), "NIK_NOT_DIGITS")
