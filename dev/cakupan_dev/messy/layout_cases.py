"""Register layouts as regency offices make them (issue 19): letterheads of any height, one- to three-row headers
with group labels and vertical labels (merged, written once, or repeated), a printed column-number row, dotted,
abbreviated and misspelt labels, extra columns, reordered columns, sheets per district, ODS, XLS, XLSM and CSV.

Every family is built by `register_layout` from one description, so its expected outcome comes from the
description itself: the rows written, and which of them were made bad (with the reason each must get).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cakupan_dev.messy.formats import Sheet, csv_bytes, ods_bytes, xls_bytes, xlsx_bytes
from cakupan_dev.messy.outcomes import MessyCase, loaded, messy_file, rejected
from cakupan_dev.messy.people import PAREPARE, REGISTER_HEADER, SIGNATURE, register_row, workers

# (supergroup, group, label) per column of REGISTER_HEADER: the three-row header real templates print
GROUPS = {
    "NO": (None, None), "NIK": ("DATA PEKERJA", "IDENTITAS"), "Nama": ("DATA PEKERJA", "IDENTITAS"),
    "Tgl Lahir": ("DATA PEKERJA", "IDENTITAS"), "JK": ("DATA PEKERJA", "IDENTITAS"), "Pekerjaan": (None, None),
    "Desa": ("DATA PEKERJA", "ALAMAT"), "Kecamatan": ("DATA PEKERJA", "ALAMAT"),
    "Program": ("KEPESERTAAN BPJS KETENAGAKERJAAN", "KEPESERTAAN"),
    "TMT": ("KEPESERTAAN BPJS KETENAGAKERJAAN", "KEPESERTAAN"),
    "Iuran": ("KEPESERTAAN BPJS KETENAGAKERJAAN", "KEPESERTAAN"), "Sumber Dana": (None, None),
}


def letterhead(height: int, period: str = "APRIL 2025") -> list[list]:
    """A title block of `height` rows (>= 3), ending with the title that names the period."""
    lines = [["PEMERINTAH KOTA PAREPARE"], ["DINAS TENAGA KERJA DAN TRANSMIGRASI"],
             ["Jalan Jenderal Sudirman No. 1 Parepare, Telp. (0421) 000000"], ["=" * 40], [],
             ["Nomor", ": 560/123/Disnaker"], ["Lampiran", ": 1 (satu) berkas"], ["Perihal", ": Data peserta"], [],
             ["Kepada Yth. Kepala Kantor Cabang BPJS Ketenagakerjaan"], ["di -"], ["Parepare"], []]
    filler = [[f"Keterangan tambahan {i}"] for i in range(max(0, height - 2 - len(lines)))]
    body = (lines + filler)[: height - 2]
    return body + [[f"DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE BULAN {period}"], []]


@dataclass
class Layout:
    name: str
    covers: str
    fmt: str = "xlsx"                # xlsx | xlsm | xls | ods | csv
    title_height: int = 4
    header_rows: int = 1             # 1 | 2 | 3
    merge_style: str = "merge"       # merge (merged ranges) | once (label written once) | repeat (in every cell)
    numbers_row: bool = False        # "(1) (2) (3) ..." under the header
    labels: dict[str, str] = field(default_factory=dict)    # REGISTER_HEADER label -> as written
    order: tuple[str, ...] = ()      # column order (default REGISTER_HEADER's)
    extras: tuple[str, ...] = ()     # extra columns (after the second column; "" a blank column, `extra_cell`)
    n: int = 4
    bad: dict[int, tuple[dict, str]] = field(default_factory=dict)  # row index -> (changes, reason)
    district_merged: bool = False    # the district written once and merged down its block
    total_and_signature: bool = False
    lead_cols: int = 0               # blank columns left of the table
    seed: int = 19
    drop: tuple[str, ...] = ()       # required columns left out (the file must be rejected)


def _header(cols: list[str], lay: Layout) -> tuple[list[list], list[tuple[int, int, int, int, object]]]:
    """The header rows and merges for the columns (label as written), per the layout's style."""
    h = lay.header_rows
    rows: list[list] = [[None] * len(cols) for _ in range(h)]
    merges: list[tuple[int, int, int, int, object]] = []
    shown = [lay.labels.get(c, c) for c in cols]

    def put(r1: int, c1: int, r2: int, c2: int, v: str) -> None:
        if (r1, c1) == (r2, c2) or lay.merge_style == "repeat" or (lay.merge_style == "once" or lay.fmt == "csv"):
            if lay.merge_style == "repeat":
                for r in range(r1, r2 + 1):
                    for c in range(c1, c2 + 1):
                        rows[r][c] = v
            else:
                rows[r1][c1] = v
            return
        merges.append((r1, c1, r2, c2, v))

    levels = [[(GROUPS.get(c, (None, None))[k] if h == 3 or k == 1 else None) for c in cols] for k in (0, 1)]
    if h == 2:
        levels = [levels[1]]
    elif h == 1:
        levels = []
    for k, names in enumerate(levels):       # group rows: runs of the same group label
        j = 0
        while j < len(cols):
            g = names[j]
            end = j
            while end + 1 < len(cols) and names[end + 1] == g:
                end += 1
            if g is not None:
                put(k, j, k, end, g)
            j = end + 1
    for j in range(len(cols)):               # each label: in the row under its lowest group, down to the last row
        top = max([k + 1 for k, names in enumerate(levels) if names[j] is not None], default=0)
        if shown[j]:                         # a blank column has no label
            put(top, j, h - 1, j, shown[j])
    return rows, merges


def extra_cell(label: str, i: int, seed: int) -> str | None:
    """What data row i holds in an extra column: nothing under a blank header, a synthetic mobile number under a
    phone column ("No. HP ..."), else a note."""
    if not label:
        return None
    if "hp" in label.lower().replace(".", " ").split():
        return f"0812{(i * 7919 + seed * 104729) % 10**8:08d}"
    return f"catatan {i}"


def register_layout(lay: Layout) -> MessyCase:
    order = list(lay.order or REGISTER_HEADER)
    cols = [c for c in order if c not in lay.drop]
    if lay.extras:
        at = cols.index(cols[1]) + 1
        cols = cols[:at] + list(lay.extras) + cols[at:]
    ws = workers(lay.n, seed=lay.seed)
    full = []
    for i, w in enumerate(ws):
        changes, _ = lay.bad.get(i, ({}, ""))
        r = register_row(i + 1, w, **changes)
        full.append(dict(zip(REGISTER_HEADER, r, strict=True)))
    title = letterhead(lay.title_height) if lay.title_height >= 3 else []
    head, merges = _header(cols, lay)
    top = len(title)
    merges = [(r1 + top, c1, r2 + top, c2, v) for r1, c1, r2, c2, v in merges]
    rows = title + head
    if lay.numbers_row:
        rows.append([f"({k + 1})" for k in range(len(cols))])
    first = len(rows)
    for i, rec in enumerate(full):
        row = [rec.get(c, extra_cell(c, i, lay.seed) if c in lay.extras else None) for c in cols]
        if lay.district_merged and i > 0 and "Kecamatan" in cols:
            row[cols.index("Kecamatan")] = None
        rows.append(row)
    if lay.district_merged and lay.fmt != "csv":
        k = cols.index("Kecamatan")
        merges.append((first, k, first + lay.n - 1, k, full[0]["Kecamatan"]))
        rows[first][k] = None
    if lay.total_and_signature:
        tot = [None] * len(cols)
        tot[0] = "JUMLAH"
        rows.append(tot)
        rows.extend(SIGNATURE)
    if lay.lead_cols:
        rows = [[None] * lay.lead_cols + r for r in rows]
        merges = [(r1, c1 + lay.lead_cols, r2, c2 + lay.lead_cols, v) for r1, c1, r2, c2, v in merges]
    sheet = Sheet("Peserta", rows, merges)
    name = f"register_parepare_{lay.name}.{lay.fmt}"
    data = {"xlsx": lambda: xlsx_bytes([sheet]), "xlsm": lambda: xlsx_bytes([sheet]), "xls": lambda: xls_bytes([sheet]),
            "ods": lambda: ods_bytes([sheet]), "csv": lambda: csv_bytes(rows)}[lay.fmt]()
    if lay.drop:
        return MessyCase(f"layout_{lay.name}", "register", lay.covers, (messy_file(name, data,
                         rejected("HEADER_NOT_FOUND")),))
    sheet_rows = tuple(("" if lay.fmt == "csv" else "Peserta", first + 1 + i) for i in range(lay.n)
                       if i not in lay.bad)
    bad = [reason for _, reason in (lay.bad[i] for i in sorted(lay.bad))]
    expect = loaded(lay.n, bad, regency=PAREPARE, period="2025-04", loaded_rows=sheet_rows,
                    values={"nik": tuple(w.nik for i, w in enumerate(ws) if i not in lay.bad)},
                    findings=("EXTRA_COLUMNS",) if any(lay.extras) else ())
    return MessyCase(f"layout_{lay.name}", "register", lay.covers, (messy_file(name, data, expect),))


DOTTED = {"NIK": "N.I.K.", "JK": "L / P", "Desa": "Desa / Kelurahan", "TMT": "T.M.T", "NO": "No."}
ABBREV = {"Tgl Lahir": "Tgl. Lhr", "JK": "Jns. Kelamin", "Kecamatan": "Kec.", "Desa": "Kel.", "Iuran": "Iuran/Bln"}
TYPOS = {"Pekerjaan": "Pekerjan", "Sumber Dana": "Sumber Dnaa", "Nama": "Nama Lengkp", "Kecamatan": "Kecamatn"}
REORDERED = ("Nama", "NIK", "Sumber Dana", "Iuran", "TMT", "Program", "Pekerjaan", "JK", "Tgl Lahir", "Kecamatan",
             "Desa", "NO")
NIK_MISSING = ({"NIK": ""}, "NIK_MISSING")

LAYOUTS = (
    Layout("flat", "one header row under a four-row title"),
    Layout("letterhead14_flat", "a 14-row letterhead (Nomor, Lampiran, Perihal) above a one-row header",
           title_height=14),
    Layout("two_row_merged", "two-row header: IDENTITAS / ALAMAT / KEPESERTAAN over sub-labels, Pekerjaan and "
           "Sumber Dana merged vertically", header_rows=2),
    Layout("two_row_once", "two-row header, group labels written once (no merge)", header_rows=2, merge_style="once"),
    Layout("two_row_repeated", "two-row header, group labels repeated in every cell", header_rows=2,
           merge_style="repeat"),
    Layout("two_row_numbers", "two-row merged header and a printed column-number row", header_rows=2,
           numbers_row=True),
    Layout("letterhead14_three_row_numbers", "14-row letterhead, three-row header with groups, vertical merges and "
           "the column-number row (the issue's file)", title_height=14, header_rows=3, numbers_row=True),
    Layout("three_row_once", "three-row header, labels written once", header_rows=3, merge_style="once"),
    Layout("three_row_repeated", "three-row header, labels repeated", header_rows=3, merge_style="repeat"),
    Layout("flat_numbers", "one header row and a column-number row", numbers_row=True),
    Layout("dotted_labels", "dotted and slashed labels: N.I.K., L / P, Desa / Kelurahan, T.M.T", labels=DOTTED),
    Layout("abbreviated_labels", "abbreviations: Tgl. Lhr, Jns. Kelamin, Kec., Kel.", labels=ABBREV),
    Layout("typo_labels", "small typos: Pekerjan, Sumber Dnaa, Nama Lengkp", labels=TYPOS),
    Layout("extra_columns", "extra columns between the known ones", extras=("Keterangan", "Status Verifikasi")),
    Layout("extra_columns_phone", "extra columns under a two-row header: a note, the RT head's mobile number "
           "(personal: raw zone only) and a blank column", header_rows=2, extras=("Keterangan", "No. HP Ketua RT", ""),
           bad={2: NIK_MISSING}),
    Layout("reordered", "columns in another order", order=REORDERED),
    Layout("reordered_two_row", "reordered columns under a two-row header", order=REORDERED, header_rows=2),
    Layout("district_merged_down", "the district merged down its block of rows", district_merged=True),
    Layout("letterhead30", "a 30-row preamble above the header", title_height=30),
    Layout("three_row_at_row_40", "a three-row header ending on row 40", title_height=37, header_rows=3),
    Layout("total_signature_three_row", "three-row header, a JUMLAH row and a signature block",
           header_rows=3, total_and_signature=True),
    Layout("lead_column", "the table starts in column C", lead_cols=2, header_rows=2),
    Layout("bad_rows_two_row", "two-row header with a row that lacks its NIK", header_rows=2, bad={1: NIK_MISSING}),
    Layout("ods_flat", "OpenDocument spreadsheet, one header row", fmt="ods"),
    Layout("ods_two_row", "OpenDocument, two-row header with merged group labels (read from content.xml)", fmt="ods",
           header_rows=2),
    Layout("ods_letterhead_three_row", "OpenDocument, letterhead and three-row header", fmt="ods",
           title_height=14, header_rows=3, numbers_row=True),
    Layout("xlsm_two_row", "a macro-enabled workbook (.xlsm) with a two-row merged header", fmt="xlsm",
           header_rows=2),
    Layout("xls_two_row", "an old .xls with a two-row merged header", fmt="xls", header_rows=2),
    Layout("xls_three_row", "an old .xls, letterhead and three-row header", fmt="xls", header_rows=3,
           title_height=14),
    Layout("csv_two_row", "a CSV with a two-row header (labels once)", fmt="csv", header_rows=2),
    Layout("csv_letterhead_three_row", "a CSV with a letterhead, three-row header and number row", fmt="csv",
           header_rows=3, title_height=10, numbers_row=True),
    Layout("missing_occupation", "no Pekerjaan column: rejected, naming what is missing",
           header_rows=2, drop=("Pekerjaan",)),
)


MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def _recap(fmt: str, name: str, covers: str, paid_march: object = 2_000_000) -> MessyCase:
    """A contributions recap: a column per month, rows Jumlah Peserta / Tagihan / Dibayar, three months filled."""
    from cakupan_dev.messy.people import D

    people, billed = (100, 110, 120), (1_680_000, 1_848_000, 2_016_000)
    paid = (1_680_000, 1_848_000, paid_march)
    blank = [None] * 9
    rows = [["PEMERINTAH KOTA PAREPARE"], ["REKAPITULASI IURAN BPJS KETENAGAKERJAAN PEKERJA RENTAN TAHUN 2025"],
            ["Sumber Dana : APBD"], [],
            ["NO", "URAIAN", *MONTHS, "JUMLAH"],
            [1, "Jumlah Peserta", *people, *blank, None],
            [2, "Tagihan (Rp)", *billed, *blank, sum(billed)],
            [3, "Dibayar (Rp)", *paid, *blank, None]]
    sheet = Sheet("Iuran 2025", rows)
    data = {"xlsx": xlsx_bytes, "ods": ods_bytes, "xls": xls_bytes}[fmt]([sheet])
    bad = () if isinstance(paid_march, int) else ("NUMBER_INVALID",)
    ok = 3 - len(bad)
    expect = loaded(3, bad, regency=PAREPARE, sheets=("Iuran 2025",),
                    values={"period": tuple(D(2025, m, 1) for m in (1, 2, 3))[:ok],
                            "participants_billed": people[:ok], "amount_billed": billed[:ok],
                            "amount_paid": paid[:ok], "regency_code": (PAREPARE,) * ok})
    return MessyCase(f"layout_{name}", "contributions", covers,
                     (messy_file(f"iuran_parepare_rekap_2025.{fmt}", data, expect),))


def sheet_cases() -> list[MessyCase]:
    """Wide recaps, sheets per district, a hidden sheet, stacked tables under two-row headers."""
    out = [_recap("xlsx", "recap_wide_xlsx", "contributions recap: a column per month Jan ... Des, rows Jumlah "
                  "Peserta / Tagihan / Dibayar, three months filled: one row per month"),
           _recap("ods", "recap_wide_ods", "the same recap saved as OpenDocument"),
           _recap("xls", "recap_wide_bad_cell", "a recap whose March payment is typed as text 'belum'",
                  paid_march="belum")]
    ws = workers(6, seed=23)
    sheets, loaded_rows = [], []
    for k, district in enumerate(("Bacukiki", "Soreang", "Ujung")):
        lay = Layout("s", "", header_rows=2, n=2)
        head, merges = _header(list(REGISTER_HEADER), lay)
        title = letterhead(4)
        rows = title + head + [register_row(i + 1, w, Kecamatan=district) for i, w in enumerate(ws[2 * k:2 * k + 2])]
        sheets.append(Sheet(f"Kec. {district}", rows, [(a + 4, b, c + 4, d, v) for a, b, c, d, v in merges]))
        loaded_rows += [(f"Kec. {district}", 7), (f"Kec. {district}", 8)]
    out.append(MessyCase("layout_sheet_per_district", "register", "one sheet per district, each with its "
                         "letterhead and two-row merged header",
                         (messy_file("register_parepare_per_kecamatan.xlsx", xlsx_bytes(sheets),
                                     loaded(6, regency=PAREPARE, period="2025-04",
                                            sheets=tuple(s.name for s in sheets),
                                            loaded_rows=tuple(loaded_rows))),)))
    hidden = Sheet("Lama", letterhead(4, "MARET 2025") + [REGISTER_HEADER]
                   + [register_row(1, w) for w in workers(5, seed=29)], hidden=True)
    shown = Sheet("Baru", letterhead(4) + [REGISTER_HEADER] + [register_row(i + 1, w) for i, w in enumerate(ws[:3])])
    out.append(MessyCase("layout_hidden_sheet", "register", "a hidden sheet with last month's list: not read",
                         (messy_file("register_parepare_hidden.xlsx", xlsx_bytes([shown, hidden]),
                                     loaded(3, regency=PAREPARE, period="2025-04", sheets=("Baru",))),)))
    return out


MONTH_NAMES = ("JANUARI", "FEBRUARI", "MARET")


def _month_sheets(fmt: str, names: tuple[str, ...], month_in_title: bool) -> tuple[list[Sheet], tuple, tuple]:
    """Three sheets, one per month (January to March 2025), each under the same two-row merged header: the same
    three workers every month, a fourth from February, and in March that fourth without a NIK. Returns the sheets,
    the (sheet, row) of every loaded row and each loaded row's (period, NIK)."""
    from cakupan_dev.messy.people import D

    ws = workers(4, seed=31)
    head, merges = _header(list(REGISTER_HEADER), Layout("m", "", header_rows=2))
    sheets, where, values = [], [], []
    for m, name in enumerate(names):
        title = [["PEMERINTAH KOTA PAREPARE"],
                 [f"DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE BULAN {MONTH_NAMES[m]} 2025" if month_in_title
                  else "DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE TAHUN 2025"], []]
        people = ws[:3] if m == 0 else ws
        rows = [register_row(i + 1, w, TMT="01/01/2025", **({"NIK": ""} if (m, i) == (2, 3) else {}))
                for i, w in enumerate(people)]
        top = len(title)
        sheets.append(Sheet(name, title + head + rows, [(a + top, b, c + top, d, v) for a, b, c, d, v in merges]))
        for i, w in enumerate(people):
            if (m, i) != (2, 3):
                where.append((name, top + len(head) + i + 1))
                values.append((D(2025, m + 1, 1), w.nik))
    return sheets, tuple(where), tuple(values)


def _stacked(header_rows: int, stated_b: int | None, bad_b: bool) -> tuple[list[list], list, tuple, tuple, int]:
    """Two tables on one sheet under a letterhead, each under its own merged header of `header_rows` rows and
    closed by its own JUMLAH row (the monthly contributions added up): A, workers whose contribution the
    regency's budget pays (APBD Kota), B, those the province's budget pays (APBD Provinsi), as Penajam Paser
    Utara reported in 2025 (Rp16.800 a month for JKK + JKM, the province paying for part of the workers).
    `stated_b`: the total B's JUMLAH row states (None: the true sum); `bad_b`: B's first row lacks its NIK.
    Returns rows, merges, the (sheet, row) of each loaded row, each loaded row's (NIK, funding source cell) and
    the rows in."""
    title = letterhead(4)
    head, merges = _header(list(REGISTER_HEADER), Layout("s", "", header_rows=header_rows))
    rows, out_merges, where, values = list(title), [], [], []
    iuran = REGISTER_HEADER.index("Iuran")
    ws = workers(5, seed=37)
    n_in = 0
    for label, people, fund, stated in (("A. IURAN DITANGGUNG APBD KOTA", ws[:3], "APBD Kota", None),
                                        ("B. IURAN DITANGGUNG APBD PROVINSI", ws[3:], "APBD Provinsi", stated_b)):
        rows.append([label])
        top = len(rows)
        out_merges += [(a + top, b, c + top, d, v) for a, b, c, d, v in merges]
        rows += [list(r) for r in head]
        for i, w in enumerate(people):
            blank_nik = bad_b and fund == "APBD Provinsi" and i == 0
            rows.append(register_row(i + 1, w, Sumber_Dana=fund, **({"NIK": ""} if blank_nik else {})))
            n_in += 1
            if not blank_nik:
                where.append(("Peserta", len(rows)))
                values.append((w.nik, "APBD"))
        total = [None] * len(REGISTER_HEADER)
        total[0], total[iuran] = "JUMLAH", 16_800 * len(people) if stated is None else stated
        rows += [total, []]
    return rows + SIGNATURE, out_merges, tuple(where), tuple(values), n_in


def table_cases() -> list[MessyCase]:
    """Sheets per month and stacked tables under merged headers of two and three rows (issue 19)."""
    out = []
    for fmt, names, in_title, covers in (
            ("xlsx", ("Jan", "Feb", "Mar"), False, ("a sheet per month named Jan, Feb, Mar under one title 'TAHUN "
             "2025', the same two-row merged header on each: each sheet's rows are that month's")),
            ("ods", ("Data 1", "Data 2", "Data 3"), True, ("an OpenDocument workbook, a sheet per month whose title "
             "names the month, two-row merged headers (merges read from content.xml)"))):
        sheets, where, values = _month_sheets(fmt, names, in_title)
        data = xlsx_bytes(sheets) if fmt == "xlsx" else ods_bytes(sheets)
        expect = loaded(11, ("NIK_MISSING",), regency=PAREPARE, sheets=names, loaded_rows=where,
                        quarantine_at=((names[2], 9, "NIK_MISSING"),),
                        values={"period": tuple(p for p, _ in values), "nik": tuple(n for _, n in values)})
        out.append(MessyCase(f"layout_sheet_per_month_{fmt}", "register", covers,
                             (messy_file(f"register_parepare_2025_per_bulan.{fmt}", data, expect),)))
    for name, header_rows, stated_b, bad_b, covers in (
            ("stacked_three_row", 3, None, False, ("two tables on one sheet (workers paid by the city's budget, then "
             "by the province's), each under its own three-row merged header and closed by its own JUMLAH row")),
            ("stacked_two_row_wrong_total", 2, 16_800 * 3, True, ("two stacked tables under two-row merged headers: "
             "the second's JUMLAH row is wrong (a finding) and its first row has no NIK"))):
        rows, merges, where, values, n_in = _stacked(header_rows, stated_b, bad_b)
        expect = loaded(n_in, ("NIK_MISSING",) if bad_b else (), regency=PAREPARE, period="2025-04",
                        sheets=("Peserta",), loaded_rows=where,
                        findings=("TOTAL_MISMATCH",) if stated_b is not None else (),
                        values={"nik": tuple(n for n, _ in values), "funding_source": tuple(f for _, f in values)})
        out.append(MessyCase(f"layout_{name}", "register", covers, (messy_file(
            f"register_parepare_{name}.xlsx", xlsx_bytes([Sheet("Peserta", rows, merges)]), expect),)))
    return out


def layout_cases() -> list[MessyCase]:
    return [register_layout(lay) for lay in LAYOUTS] + sheet_cases() + table_cases()
