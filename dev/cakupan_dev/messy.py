"""Messy regency deliveries, each a named case with the outcome a correct loader must produce.

Every file here reproduces something regencies really send (sources.md, "Real files look like this"): title
blocks, headers on row 9 or 15 or over two merged rows, "NO" columns, blank rows, totals, sub-totals, notes and
signatures, one sheet per district, Indonesian numbers and dates, NIKs typed as numbers, CSVs in three
encodings and two delimiters, old `.xls` templates, files sent twice or corrected, empty, encrypted, corrupt or
misfiled files. All people, NIKs and amounts are synthetic.

The expected outcome of each file is written from the case's own definition (which rows were made bad and how),
never by running the loader. Files are built in memory (xlsxwriter, xlwt, csv) and are byte-for-byte
deterministic, so "the same file sent twice" really is the same bytes.

    from cakupan_dev.messy import cases, write_case
    for case in cases():
        paths = write_case(case, inbox)        # <inbox>/<folder>/<name>, in load order
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import struct
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import xlsxwriter
import xlwt

__all__ = [
    "MessyCase",
    "MessyFile",
    "Outcome",
    "Sheet",
    "case_by_name",
    "cases",
    "cfb_bytes",
    "csv_bytes",
    "nik",
    "write_all",
    "write_case",
    "xls_bytes",
    "xlsx_bytes",
]

D = dt.date
PAREPARE = "73.72"
FIXED_TIME = dt.datetime(2025, 1, 1)


# ------------------------------------------------------------------------------------------ outcomes --------
@dataclass(frozen=True)
class Outcome:
    """What loading one file must give (audit.loads, raw, quarantine.rows, audit.load_findings)."""

    status: str                                   # loaded | rejected | duplicate
    rows_in: int = 0
    loaded: int = 0
    quarantined: int = 0
    reasons: tuple[str, ...] = ()                 # reason code of each quarantined row (a multiset)
    error_code: str | None = None                 # the file-level code of a rejected/duplicate file
    findings: tuple[str, ...] = ()                # audit.load_findings codes (a multiset)
    regency: str | None = None                    # audit.loads.regency_code of a loaded file
    period: str | None = None                     # "YYYY-MM" of a single-period file
    sheets: tuple[str, ...] | None = None         # sheets read, in workbook order
    quarantine_at: tuple[tuple[str, int, str], ...] = ()   # (sheet, source row, reason) of quarantined rows
    loaded_rows: tuple[tuple[str, int], ...] = ()          # (sheet, source row) of every loaded row
    values: dict[str, tuple] = field(default_factory=dict)  # raw column -> values of loaded rows, in file order

    def __post_init__(self) -> None:
        if self.status == "loaded":
            assert self.rows_in == self.loaded + self.quarantined, "an outcome must balance"
            assert len(self.reasons) == self.quarantined, "one reason per quarantined row"


@dataclass(frozen=True)
class MessyFile:
    folder: str          # inbox sub-folder: a regency code, or any other name (an unconfigured folder)
    name: str
    data: bytes
    expect: Outcome


@dataclass(frozen=True)
class MessyCase:
    name: str
    source: str          # the source the file claims to be (register, contributions, claims, city_report, other)
    covers: str          # the real-world mess it reproduces
    files: tuple[MessyFile, ...]   # loaded in this order


def loaded(rows_in: int, bad: Sequence[str] = (), **kw) -> Outcome:
    """Outcome of a file that loads, with `bad` the reasons of its quarantined rows."""
    return Outcome("loaded", rows_in, rows_in - len(bad), len(bad), tuple(bad), **kw)


def rejected(code: str) -> Outcome:
    """Outcome of a file rejected as a whole."""
    return Outcome("rejected", error_code=code)


# ------------------------------------------------------------------------------------------ writers ---------
@dataclass
class Sheet:
    """One worksheet: rows of cells (str, int, float, date, datetime, bool or None) and merged ranges."""

    name: str
    rows: list[list]
    merges: list[tuple[int, int, int, int, object]] = field(default_factory=list)  # r1, c1, r2, c2, value (0-based)
    hidden: bool = False


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """Write sheets to XLSX bytes (deterministic); numbers stay numbers, text stays text, dates are dates."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
    wb.set_properties({"created": FIXED_TIME, "author": "cakupan_dev.messy"})
    fmt_date = wb.add_format({"num_format": "dd/mm/yyyy"})
    fmt_dt = wb.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    for sh in sheets:
        ws = wb.add_worksheet(sh.name)
        for r, row in enumerate(sh.rows):
            for c, v in enumerate(row):
                _xlsx_cell(ws, r, c, v, fmt_date, fmt_dt)
        for r1, c1, r2, c2, v in sh.merges:
            if isinstance(v, dt.date):
                ws.merge_range(r1, c1, r2, c2, "")
                _xlsx_cell(ws, r1, c1, v, fmt_date, fmt_dt)
            else:
                ws.merge_range(r1, c1, r2, c2, v)
        if sh.hidden:
            ws.hide()
    wb.close()
    return buf.getvalue()


def _xlsx_cell(ws, r: int, c: int, v: object, fmt_date, fmt_dt) -> None:
    if v is None:
        return
    if isinstance(v, bool):
        ws.write_boolean(r, c, v)
    elif isinstance(v, int | float | Decimal):
        ws.write_number(r, c, float(v))
    elif isinstance(v, dt.datetime):
        ws.write_datetime(r, c, v, fmt_dt)
    elif isinstance(v, dt.date):
        ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), fmt_date)
    else:
        ws.write_string(r, c, str(v))


def xls_bytes(sheets: Sequence[Sheet]) -> bytes:
    """Write sheets to an old-style BIFF8 .xls (xlwt)."""
    wb = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for sh in sheets:
        ws = wb.add_sheet(sh.name)
        merged = {(r1, c1) for r1, c1, *_ in sh.merges}
        for r, row in enumerate(sh.rows):
            for c, v in enumerate(row):
                if v is None or (r, c) in merged:
                    continue
                if isinstance(v, dt.date):
                    ws.write(r, c, dt.datetime(v.year, v.month, v.day), date_style)
                else:
                    ws.write(r, c, v)
        for r1, c1, r2, c2, v in sh.merges:
            ws.write_merge(r1, r2, c1, c2, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: Sequence[Sequence], delimiter: str = ";", encoding: str = "utf-8", bom: bool = False,
              newline: str = "\r\n") -> bytes:
    """Write rows as CSV text in the given encoding (cells rendered with str(); None is empty)."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def cfb_bytes(streams: dict[str, bytes]) -> bytes:
    """Write a minimal valid OLE2 compound file (CFB v3) holding the given streams in its root storage.

    Streams are padded to at least 4096 bytes so no mini stream is needed. With streams named
    "EncryptionInfo" and "EncryptedPackage" this is the container Excel uses for a password-protected workbook.
    """
    sector = 512
    end, free, fatsect, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    names = list(streams)
    blobs = [streams[n].ljust(4096, b"\0") for n in names]
    blobs = [b.ljust(-(-len(b) // sector) * sector, b"\0") for b in blobs]
    fat: list[int] = [fatsect, end]          # sector 0: the FAT, sector 1: the directory
    starts = []
    for b in blobs:
        n = len(b) // sector
        first = len(fat)
        starts.append(first)
        fat.extend(range(first + 1, first + n))
        fat.append(end)
    assert len(fat) <= sector // 4, "cfb_bytes writes one FAT sector only"
    fat_sector = struct.pack(f"<{sector // 4}I", *(fat + [free] * (sector // 4 - len(fat))))

    # children of the root sorted as CFB compares names (length first, then upper case): a right-leaning chain
    order = sorted(range(len(names)), key=lambda i: (len(names[i]), names[i].upper()))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", nostream, right, child) + b"\0" * 16 + struct.pack("<I", 0)
                + b"\0" * 16 + struct.pack("<IIII", start, size, 0, 0)[:8] + struct.pack("<I", 0))

    entries = [entry("Root Entry", 5, order[0] + 1 if names else nostream, nostream, end, 0)]
    for i, name in enumerate(names):
        pos = order.index(i)
        right = order[pos + 1] + 1 if pos + 1 < len(order) else nostream
        entries.append(entry(name, 2, nostream, right, starts[i], len(streams[name].ljust(4096, b"\0"))))
    assert len(entries) <= 4, "cfb_bytes writes one directory sector only"
    directory = b"".join(e.ljust(128, b"\0") for e in entries).ljust(sector, b"\0")
    for k in range(len(entries), 4):   # unused directory entries: empty, no siblings
        off = k * 128
        directory = directory[:off + 68] + struct.pack("<III", nostream, nostream, nostream) + directory[off + 80:]
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", 0, *([free] * 108)))
    assert len(header) == sector
    return header + fat_sector + directory + b"".join(blobs)


# ------------------------------------------------------------------------------------------ people ----------
NAMES = ("Andi Muh. Yusuf", "Hasmawati", "Jamaluddin", "Nurhayati", "Syamsul Bahri", "Ramlah", "Baharuddin",
         "Sitti Aisyah", "Kamaruddin", "Rosmini", "Abdul Rahman", "Marwah", "Sudirman", "Asriani", "Takdir",
         "Jumriah", "Lukman Hakim", "Hasnah", "Arsyad", "Rahmawati", "Firman", "Suryani")
OCCUPATIONS = ("NELAYAN", "Petani Penggarap", "ojol", "Pedagang Pasar", "Buruh Tani Harian", "Marbot Masjid",
               "Tukang Ojek", "nelayan tangkap")


def nik(birth: D, female: bool = False, serial: int = 1, district: str = "737201") -> str:
    """A synthetic NIK: 6-digit district code, birth date (day + 40 for women), 4-digit serial."""
    day = birth.day + (40 if female else 0)
    return f"{district}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


@dataclass
class Worker:
    nik: str
    name: str
    birth: D
    sex: str
    occupation: str

    @classmethod
    def make(cls, i: int, seed: int = 0) -> Worker:
        rng = random.Random(f"messy-{seed}-{i}")
        female = rng.random() < 0.5
        birth = D(rng.randint(1960, 2002), rng.randint(1, 12), rng.randint(1, 28))
        return cls(nik(birth, female, 100 * seed + i + 1), NAMES[(i + seed) % len(NAMES)], birth,
                   "P" if female else "L", OCCUPATIONS[(i + 3 * seed) % len(OCCUPATIONS)])


REGISTER_HEADER = ["NO", "NIK", "Nama", "Tgl Lahir", "JK", "Pekerjaan", "Desa", "Kecamatan", "Program", "TMT",
                   "Iuran", "Sumber Dana"]
COL = {h: i for i, h in enumerate(REGISTER_HEADER)}


def register_row(no: int, w: Worker, **changes) -> list:
    """One register row in REGISTER_HEADER order, typed the way clerks type it; `changes` by header name."""
    row = [no, w.nik, w.name, w.birth.strftime("%d-%m-%Y"), w.sex, w.occupation, "Lumpue", "Bacukiki",
           "JKK, JKM", "01/04/2025", "16.800", "APBD"]
    for k, v in changes.items():
        row[COL[k.replace("_", " ")]] = v
    return row


def workers(n: int, seed: int = 0) -> list[Worker]:
    return [Worker.make(i, seed) for i in range(n)]


def title_rows(text: str = "DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE — BULAN APRIL 2025") -> list[list]:
    return [["PEMERINTAH KOTA PAREPARE"], ["DINAS TENAGA KERJA"], [text], []]


SIGNATURE = [
    [],
    [None, "Mengetahui,", None, None, None, None, None, None, None, "Parepare, 2 Mei 2025"],
    [None, "Kepala Dinas Tenaga Kerja", None, None, None, None, None, None, None, "Pembuat Daftar"],
    [],
    [None, "( Drs. H. Abdul Rahman, M.Si )", None, None, None, None, None, None, None, "( Nurhayati )"],
    [None, "NIP. 19700101 199003 1 001"],
]


def _nik_digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _money(rows: Sequence[list]) -> int:
    return sum(int(str(r[COL["Iuran"]]).replace(".", "")) for r in rows)


def _pos(rows_before: int, k: int) -> int:
    """1-based sheet row of the k-th row written after `rows_before` rows."""
    return rows_before + k + 1


# ------------------------------------------------------------------------------------------ the cases -------
def _f(name: str, data: bytes, expect: Outcome, folder: str = PAREPARE) -> MessyFile:
    return MessyFile(folder, name, data, expect)


def _register_layout_cases() -> list[MessyCase]:
    out = []
    # --- title block, header on row 9, NO column, blank rows, TOTAL, notes and signatures
    ws = workers(6, seed=1)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    top = title_rows() + [["Dicetak: 02/05/2025"], [], [], []]          # 8 rows: header on row 9
    body = data[:3] + [[], []] + data[3:]
    rows = top + [REGISTER_HEADER] + body + [["TOTAL", None, None, None, None, None, None, None, None, None,
                                              f"{_money(data):,}".replace(",", ".")]] + \
        [[None, "Catatan: iuran dibayar dari APBD Kota Parepare"]] + SIGNATURE
    src_rows = [_pos(9, i) for i in (0, 1, 2, 5, 6, 7)]
    out.append(MessyCase(
        "register_title_block_total_signatures", "register",
        "title block above a header on row 9; NO column; blank rows; TOTAL row that agrees; notes and a "
        "two-person signature block below",
        (_f("register_parepare_april.xlsx", xlsx_bytes([Sheet("Peserta", rows)]),
            loaded(6, regency=PAREPARE, period="2025-04", sheets=("Peserta",),
                   loaded_rows=tuple(("Peserta", r) for r in src_rows),
                   values={"nik": tuple(w.nik for w in ws), "full_name": tuple(w.name for w in ws),
                           "monthly_contribution": (16800,) * 6, "birth_date": tuple(w.birth for w in ws)})),)))

    # --- header on row 15 (the last row a header may be on) and on row 16 (too low: rejected)
    ws = workers(3, seed=2)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    pre = title_rows() + [[f"Catatan {i}: lihat lampiran"] for i in range(1, 11)]   # 14 rows
    out.append(MessyCase(
        "register_header_on_row_15", "register", "a long preamble: the header is on row 15",
        (_f("register_parepare_2025-04_panjang.xlsx", xlsx_bytes([Sheet("Sheet1", pre + [REGISTER_HEADER] + data)]),
            loaded(3, regency=PAREPARE, period="2025-04",
                   loaded_rows=tuple(("Sheet1", 16 + i) for i in range(3)))),)))
    out.append(MessyCase(
        "register_header_on_row_18", "register", "the header is far below row 15: no header is searched there",
        (_f("register_parepare_2025-04_terlalu_panjang.xlsx",
            xlsx_bytes([Sheet("Sheet1", pre + [["Lampiran"], [], ["Daftar:"]] + [REGISTER_HEADER] + data)]),
            rejected("HEADER_NOT_FOUND")),)))

    # --- the title directly above the header (no blank row): a title is not the top row of a two-row header
    ws = workers(3, seed=7)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    out.append(MessyCase(
        "register_title_touching_header", "register",
        "the title line directly above the header, no blank row between (the period is in the title only)",
        (_f("daftar_peserta_parepare.xlsx",
            xlsx_bytes([Sheet("Peserta", [["DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE BULAN APRIL 2025"],
                                          REGISTER_HEADER] + data)]),
            loaded(3, regency=PAREPARE, period="2025-04",
                   loaded_rows=tuple(("Peserta", 3 + i) for i in range(3)))),)))

    # --- two-row header with merged cells
    ws = workers(4, seed=3)
    top_hdr = ["NO", "NIK", "Nama Lengkap", "Jenis Kelamin", "Pekerjaan", "Alamat", None, "Kepesertaan", None,
               "Iuran", "Sumber Dana"]
    bottom_hdr = [None, None, None, None, None, "Desa", "Kecamatan", "Program", "TMT", "per Bulan (Rp)", None]
    data = [[i + 1, w.nik, w.name, w.sex, w.occupation, "Lumpue", "Bacukiki", "JKK+JKM", "01/04/2025", 16800,
             "APBD"] for i, w in enumerate(ws)]
    merges = [(4, c, 5, c, top_hdr[c]) for c in (0, 1, 2, 3, 4, 10)] + [(4, 5, 4, 6, "Alamat"),
                                                                        (4, 7, 4, 8, "Kepesertaan")]
    rows = title_rows() + [top_hdr, bottom_hdr] + data + [["JUMLAH", None, None, None, None, None, None, None,
                                                           None, 16800 * 4]]
    out.append(MessyCase(
        "register_two_row_merged_header", "register",
        "header over two rows with merged cells (NIK merged down, 'Alamat' over Desa/Kecamatan, 'Kepesertaan' "
        "over Program/TMT, 'Iuran' over 'per Bulan (Rp)')",
        (_f("register_parepare_2025-04_dua_baris.xlsx", xlsx_bytes([Sheet("Peserta", rows, merges)]),
            loaded(4, regency=PAREPARE, period="2025-04",
                   loaded_rows=tuple(("Peserta", 7 + i) for i in range(4)),
                   values={"district": ("Bacukiki",) * 4, "programs": ("JKK,JKM",) * 4,
                           "coverage_start": (D(2025, 4, 1),) * 4, "sex": tuple(w.sex for w in ws)})),)))

    # --- total row that disagrees with the rows: loaded, with a TOTAL_MISMATCH finding
    ws = workers(4, seed=4)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    rows = title_rows() + [REGISTER_HEADER] + data + [["JUMLAH", None, None, None, None, None, None, None, None,
                                                       None, "Rp 90.000"]]
    merges = [(9, 0, 9, 9, "JUMLAH")]
    out.append(MessyCase(
        "register_total_mismatch", "register", "a JUMLAH row (merged across) whose total is not the sum of the rows",
        (_f("register_parepare_2025-04_jumlah_salah.xlsx", xlsx_bytes([Sheet("Peserta", rows, merges)]),
            loaded(4, regency=PAREPARE, period="2025-04", findings=("TOTAL_MISMATCH",))),)))

    # --- a total row of number cells with three decimals: a number cell is never read as a thousands group
    ws = workers(3, seed=8)
    data = [register_row(i + 1, w, Iuran=100.111) for i, w in enumerate(ws)]
    rows = title_rows() + [REGISTER_HEADER] + data + [["JUMLAH", None, None, None, None, None, None, None, None,
                                                       None, 300.333]]
    out.append(MessyCase(
        "register_total_of_number_cells", "register",
        "Iuran and its JUMLAH typed as numbers with three decimals (100.111 and 300.333): they agree",
        (_f("register_parepare_2025-04_desimal.xlsx", xlsx_bytes([Sheet("Peserta", rows)]),
            loaded(3, regency=PAREPARE, period="2025-04",
                   values={"monthly_contribution": (Decimal("100.11"),) * 3})),)))

    # --- sub-totals per village and a grand total: all agree, every data row kept
    ws = workers(5, seed=5)
    a = [register_row(i + 1, w, Desa="Lumpue") for i, w in enumerate(ws[:3])]
    b = [register_row(i + 4, w, Desa="Watang Soreang") for i, w in enumerate(ws[3:])]
    rows = title_rows() + [REGISTER_HEADER] + a + [["Sub Total", None, None, None, None, None, None, None, None,
                                                    None, "50.400"]] + b + \
        [["Sub Total", None, None, None, None, None, None, None, None, None, "33.600"],
         ["TOTAL", None, None, None, None, None, None, None, None, None, "84.000"]]
    out.append(MessyCase(
        "register_subtotals", "register", "sub-total rows per village between the data and a grand TOTAL",
        (_f("register_parepare_2025-04_subtotal.xlsx", xlsx_bytes([Sheet("Peserta", rows)]),
            loaded(5, regency=PAREPARE, period="2025-04",
                   loaded_rows=tuple(("Peserta", r) for r in (6, 7, 8, 10, 11)),
                   values={"village": ("Lumpue",) * 3 + ("Watang Soreang",) * 2})),)))

    # --- column-number row under the header and the header repeated mid-table (a printed page break)
    ws = workers(4, seed=6)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    numbers = [f"({i})" for i in range(1, len(REGISTER_HEADER) + 1)]
    rows = title_rows() + [REGISTER_HEADER, numbers] + data[:2] + [REGISTER_HEADER] + data[2:]
    out.append(MessyCase(
        "register_column_numbers_and_repeated_header", "register",
        "the '(1) (2) (3) ...' row under the header, and the header printed again on page 2",
        (_f("register_parepare_2025-04_halaman.xlsx", xlsx_bytes([Sheet("Peserta", rows)]),
            loaded(4, regency=PAREPARE, period="2025-04",
                   loaded_rows=tuple(("Peserta", r) for r in (7, 8, 10, 11)))),)))

    # --- one sheet per district (+ a recap sheet without a data header)
    sheets, expected_rows, bad_at = [], [], []
    layout = [("Kec. Bacukiki", 3, 1), ("Kec. Ujung", 4, 3), ("Kec. Soreang", 2, 0)]
    for k, (name, n, extra_title) in enumerate(layout):
        ws = workers(n, seed=10 + k)
        data = [register_row(i + 1, w, Kecamatan=name[5:]) for i, w in enumerate(ws)]
        if name == "Kec. Ujung":
            data[2][COL["NIK"]] = ws[2].nik[:15]           # 15 digits
        top = [[f"DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE — {name.upper()} — APRIL 2025"]] + \
            [[f"Keterangan {j + 1}"] for j in range(extra_title)] + [[]]
        rows = top + [REGISTER_HEADER] + data + [["JUMLAH", None, None, None, None, None, None, None, None, None,
                                                  f"{16800 * n:,}".replace(",", ".")]]
        sheets.append(Sheet(name, rows))
        first = len(top) + 2
        for i in range(n):
            if name == "Kec. Ujung" and i == 2:
                bad_at.append((name, first + i, "NIK_15_DIGITS"))
            else:
                expected_rows.append((name, first + i))
    sheets.append(Sheet("Rekap", [["REKAPITULASI PER KECAMATAN"], ["Kecamatan", "Jumlah"], ["Bacukiki", 3],
                                  ["Ujung", 4], ["Soreang", 2]]))
    out.append(MessyCase(
        "register_one_sheet_per_district", "register",
        "three district (kecamatan) sheets, each with its own title length, header row and JUMLAH; a recap "
        "sheet with no data header (recorded as a finding); a bad NIK on sheet 2",
        (_f("register_parepare_2025-04_per_kecamatan.xlsx", xlsx_bytes(sheets),
            loaded(9, ("NIK_15_DIGITS",), regency=PAREPARE, period="2025-04",
                   sheets=("Kec. Bacukiki", "Kec. Ujung", "Kec. Soreang"), quarantine_at=tuple(bad_at),
                   loaded_rows=tuple(expected_rows), findings=("SHEET_NO_HEADER",),
                   values={"district": ("Bacukiki",) * 3 + ("Ujung",) * 3 + ("Soreang",) * 2})),)))

    # --- hidden sheet and a sheet per district in an .xls? (old template, below)
    return out


def _register_value_cases() -> list[MessyCase]:
    out = []
    # --- Indonesian numbers, as text and as number cells (including non-integral floats)
    money = [("16.800", 16800), ("Rp 16.800,00", 16800), ("Rp16.800", 16800), ("Rp 16.800,-", 16800),
             (16800, 16800), (16800.5, Decimal("16800.5")), (123.456, Decimal("123.46")), ("16,800.00", 16800),
             ("1.234.567", 1234567), ("Rp 16.800 /bulan", 16800), ("16800", 16800)]
    ws = workers(len(money) + 2, seed=20)
    data = [register_row(i + 1, w, Iuran=m) for i, (w, (m, _)) in enumerate(zip(ws, money, strict=False))]
    data.append(register_row(len(data) + 1, ws[-2], Iuran="enam belas ribu"))      # NUMBER_INVALID
    data.append(register_row(len(data) + 1, ws[-1], Iuran="-16.800"))              # NUMBER_NEGATIVE
    out.append(MessyCase(
        "register_indonesian_numbers", "register",
        "Iuran as '16.800', 'Rp 16.800,00', 'Rp 16.800,-', '1.234.567', number cells 16800, 16800.5 and 123.456 "
        "(a non-integral number cell is not a thousands group), words and a negative amount",
        (_f("register_parepare_2025-04_angka.xlsx", xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER]
                                                                        + data)]),
            loaded(len(data), ("NUMBER_INVALID", "NUMBER_NEGATIVE"), regency=PAREPARE, period="2025-04",
                   quarantine_at=(("Peserta", 6 + len(money), "NUMBER_INVALID"),
                                  ("Peserta", 7 + len(money), "NUMBER_NEGATIVE")),
                   values={"monthly_contribution": tuple(v for _, v in money)})),)))

    # --- every date format, in a register (coverage start) and its TTL birth dates
    start = D(2025, 3, 13)
    dates = ["13/03/2025", "13-03-2025", "13 Maret 2025", "13 Mar 2025", "2025-03-13", 45729, start,
             dt.datetime(2025, 3, 13, 10, 30), 45729.5, "13.03.2025", "Kamis, 13 Maret 2025", "2025-03-13 10:30:00",
             "13/3/25"]
    ws = workers(len(dates) + 2, seed=21)
    header = REGISTER_HEADER.copy()
    header[COL["Tgl Lahir"]] = "TTL"
    data = [register_row(i + 1, w, TMT=d, Tgl_Lahir=f"Parepare, {w.birth:%d-%m-%Y}")
            for i, (w, d) in enumerate(zip(ws, dates, strict=False))]
    data.append(register_row(len(data) + 1, ws[-2], TMT="31/02/2025"))
    data.append(register_row(len(data) + 1, ws[-1], TMT="13/03/1925"))
    out.append(MessyCase(
        "register_date_formats", "register",
        "coverage start as 13/03/2025, 13-03-2025, 13 Maret 2025, 13 Mar 2025, 2025-03-13, an Excel serial, "
        "a date cell, a datetime cell, a serial with a time fraction, a weekday prefix, a two-digit year; "
        "TTL 'Parepare, 12-05-1980'; an impossible date and one out of range",
        (_f("register_parepare_2025-04_tanggal.xlsx",
            xlsx_bytes([Sheet("Peserta", title_rows() + [header] + data)]),
            loaded(len(data), ("DATE_INVALID", "DATE_OUT_OF_RANGE"), regency=PAREPARE, period="2025-04",
                   values={"coverage_start": (start,) * len(dates),
                           "birth_date": tuple(w.birth for w in ws[:len(dates)])})),)))

    # --- program lists and sex codes (CSV, so every cell is text)
    programs = [("JKK, JKM", "JKK,JKM"), ("JKK+JKM", "JKK,JKM"), ("JKK/JKM", "JKK,JKM"), ("jkk & jkm", "JKK,JKM"),
                ("JKK dan JKM", "JKK,JKM"), ("Jaminan Kecelakaan Kerja, Jaminan Kematian", "JKK,JKM"),
                ("JKM", "JKM"), ("JKK;JKM", "JKK,JKM")]
    sexes = [("L", "L"), ("P", "P"), ("Laki-laki", "L"), ("Perempuan", "P"), ("laki laki", "L"),
             ("PEREMPUAN", "P"), ("Lk", "L"), ("Pr", "P")]
    ws = workers(len(programs) + 2, seed=22)
    data = [register_row(i + 1, w, Program=p, JK=s)
            for i, (w, (p, _), (s, _)) in enumerate(zip(ws, programs, sexes, strict=False))]
    data.append(register_row(len(data) + 1, ws[-2], Program="JKN"))
    data.append(register_row(len(data) + 1, ws[-1], JK="X"))
    out.append(MessyCase(
        "register_programs_and_sex_codes", "register",
        "programs 'JKK, JKM', 'JKK+JKM', 'JKK/JKM', 'jkk & jkm', 'JKK dan JKM', names in words; sex L/P, "
        "Laki-laki/Perempuan in any case, Lk/Pr; an unknown program and sex",
        (_f("register_parepare_2025-04_program.csv", csv_bytes([REGISTER_HEADER] + data, delimiter=","),
            loaded(len(data), ("PROGRAM_UNKNOWN", "SEX_INVALID"), regency=PAREPARE, period="2025-04",
                   values={"programs": tuple(v for _, v in programs), "sex": tuple(v for _, v in sexes)})),)))

    # --- NIKs: typed as text with noise, wrong lengths, letters, impossible dates, unknown regions, numbers
    base = workers(14, seed=23)
    good = [("'" + base[0].nik, base[0].nik),
            (" ".join([base[1].nik[:4], base[1].nik[4:8], base[1].nik[8:12], base[1].nik[12:]]), base[1].nik),
            (".".join([base[2].nik[:4], base[2].nik[4:8], base[2].nik[8:12], base[2].nik[12:]]), base[2].nik),
            (nik(D(1980, 5, 5), False, 120), nik(D(1980, 5, 5), False, 120)),        # ends in 0, typed as text
            (nik(D(1980, 5, 12), True, 126), nik(D(1980, 5, 12), True, 126))]        # day + 40
    bad = [(base[5].nik[:15], "NIK_15_DIGITS"), (base[6].nik + "7", "NIK_17_DIGITS"),
           (base[7].nik[:10] + "O" + base[7].nik[11:], "NIK_NOT_DIGITS"),
           ("737201" + "3213800128", "NIK_BIRTH_DATE_INVALID"), ("990101" + "4505800129", "NIK_REGION_UNKNOWN"),
           ("7.37201450580012E+15", "NIK_PRECISION_LOST"), (None, "NIK_MISSING"),
           (int("737201" + "4505800130"), "NIK_PRECISION_LOST"),         # a number cell (16th digit lost)
           (int("737201" + "4505800123"), "NIK_PRECISION_LOST")]         # a number cell, whatever its last digit
    # (synthetic NIKs are written in two parts so no 16-digit identifier stands in a committed source file)
    data = [register_row(i + 1, base[i], NIK=v) for i, (v, _) in enumerate(good)]
    data += [register_row(len(good) + i + 1, base[5 + i], NIK=v) for i, (v, _) in enumerate(bad)]
    out.append(MessyCase(
        "register_nik_variants", "register",
        "NIK with a leading apostrophe, spaces, dots, ending in 0 as text, a woman's (day + 40); 15 and 17 "
        "digits, a letter O, an impossible birth date, an unknown region, scientific notation, empty, and two "
        "NIKs typed as numbers (precision lost)",
        (_f("register_parepare_2025-04_nik.xlsx", xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER]
                                                                     + data)]),
            loaded(len(data), tuple(r for _, r in bad), regency=PAREPARE, period="2025-04",
                   quarantine_at=tuple(("Peserta", 6 + len(good) + i, r) for i, (_, r) in enumerate(bad)),
                   values={"nik": tuple(n for _, n in good)})),)))

    ws = workers(3, seed=24)
    data = [register_row(1, ws[0]), register_row(2, ws[1], NIK="7,37201E+15"),
            register_row(3, ws[2], NIK="7.372014505800E+15")]
    out.append(MessyCase(
        "register_nik_scientific_csv", "register",
        "a CSV exported from a sheet where the NIK column was a number: '7,37201E+15' (Indonesian decimal comma)",
        (_f("register_parepare_2025-04_nik.csv", csv_bytes([REGISTER_HEADER] + data),
            loaded(3, ("NIK_PRECISION_LOST", "NIK_PRECISION_LOST"), regency=PAREPARE, period="2025-04",
                   quarantine_at=(("", 3, "NIK_PRECISION_LOST"), ("", 4, "NIK_PRECISION_LOST")))),)))

    # --- a register naming its regency per row: one row for another regency
    ws = workers(3, seed=25)
    header = REGISTER_HEADER + ["Kab/Kota"]
    data = [register_row(1, ws[0]) + ["Kota Parepare"], register_row(2, ws[1]) + ["PAREPARE"],
            register_row(3, ws[2]) + ["Kota Palopo"]]
    out.append(MessyCase(
        "register_row_regency_mismatch", "register",
        "a Kab/Kota column: names of this regency in two spellings, and a row for another regency",
        (_f("register_parepare_2025-04_wilayah.xlsx", xlsx_bytes([Sheet("Peserta", title_rows() + [header] + data)]),
            loaded(3, ("REGENCY_MISMATCH",), regency=PAREPARE, period="2025-04")),)))

    # --- an occupation missing, a required cell empty
    ws = workers(3, seed=26)
    data = [register_row(1, ws[0]), register_row(2, ws[1], Pekerjaan=None), register_row(3, ws[2], Program="")]
    out.append(MessyCase(
        "register_required_cells_empty", "register", "required cells left empty (occupation, program)",
        (_f("register_parepare_2025-04_kosong.xlsx", xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER]
                                                                        + data)]),
            loaded(3, ("OCCUPATION_MISSING", "REQUIRED_MISSING"), regency=PAREPARE, period="2025-04")),)))
    return out


def _csv_cases() -> list[MessyCase]:
    out = []
    ws = workers(3, seed=30)
    accents = ["Lompoé", "Bukit Indah – Timur", "Lumpue"]
    header = REGISTER_HEADER.copy()
    header[COL["Desa"]] = "Désa"
    data = [register_row(i + 1, w, Desa=a) for i, (w, a) in enumerate(zip(ws, accents, strict=True))]
    rows = [["DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE — BULAN APRIL 2025"], [], header] + data + \
        [["JUMLAH", None, None, None, None, None, None, None, None, None, "50.400"], [],
         [None, None, None, None, None, None, None, None, None, "Parepare, 2 Mei 2025"]]
    common = {"regency": PAREPARE, "period": "2025-04", "values": {"village": tuple(accents)},
              "loaded_rows": (("", 4), ("", 5), ("", 6))}
    out.append(MessyCase(
        "register_csv_semicolon_utf8_bom", "register", "';' CSV, UTF-8 with BOM, CRLF, a title line above",
        (_f("daftar_peserta_parepare_bom.csv", csv_bytes(rows, ";", "utf-8", bom=True), loaded(3, **common)),)))
    out.append(MessyCase(
        "register_csv_comma_utf8", "register", "',' CSV, UTF-8 without BOM, LF, quoted 'JKK, JKM' cells",
        (_f("daftar_peserta_parepare_koma.csv", csv_bytes(rows, ",", "utf-8", newline="\n"), loaded(3, **common)),)))
    out.append(MessyCase(
        "register_csv_windows_1252", "register",
        "';' CSV in Windows-1252: 'Désa' header and 'é' / '–' (0x96) in values must survive",
        (_f("daftar_peserta_parepare_ansi.csv", csv_bytes(rows, ";", "cp1252"), loaded(3, **common)),)))

    # --- rows typed with another delimiter, and one enormous cell (both are row problems, not a broken file)
    ws = workers(5, seed=32)
    good = [";".join(str(v) for v in register_row(i + 1, w)) for i, w in enumerate(ws[:3])]
    bad = [",".join(str(v) for v in register_row(i + 4, w, Program="JKK+JKM")) for i, w in enumerate(ws[3:])]
    text = "\r\n".join([";".join(REGISTER_HEADER), *good, *bad]) + "\r\n"
    out.append(MessyCase(
        "register_mixed_delimiters", "register",
        "two rows separated with ',' in a ';' file: each lands in one cell; quarantined whole, never dropped",
        (_f("register_parepare_2025-04_campur.csv", text.encode("utf-8"),
            loaded(5, ("ROW_NOT_SPLIT", "ROW_NOT_SPLIT"), regency=PAREPARE, period="2025-04",
                   quarantine_at=(("", 5, "ROW_NOT_SPLIT"), ("", 6, "ROW_NOT_SPLIT")))),)))
    data = [register_row(i + 1, w) for i, w in enumerate(ws[:3])]
    data[1][COL["Nama"]] = "Sangat Panjang " * 20_000                   # 300 KB in one cell
    out.append(MessyCase(
        "register_enormous_cell", "register", "one 300 KB cell (a paste gone wrong): that row is quarantined",
        (_f("register_parepare_2025-04_sel_besar.csv", csv_bytes([REGISTER_HEADER] + data),
            loaded(3, ("VALUE_TOO_LONG",), regency=PAREPARE, period="2025-04")),)))

    # --- the period from the file name only, and no period anywhere
    ws = workers(2, seed=31)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    out.append(MessyCase(
        "register_period_from_file_name", "register", "no title, no period column: YYYY-MM in the file name",
        (_f("register_parepare_2025-06.csv", csv_bytes([REGISTER_HEADER] + data),
            loaded(2, regency=PAREPARE, period="2025-06")),)))
    out.append(MessyCase(
        "register_period_unknown", "register", "no title, no period column, no YYYY-MM in the file name",
        (_f("register_parepare.csv", csv_bytes([REGISTER_HEADER] + data), rejected("PERIOD_UNKNOWN")),)))
    return out


def _old_template_cases() -> list[MessyCase]:
    ws = workers(5, seed=40)
    header = ["NO", "NIK", "NAMA", "JK", "PEKERJAAN", "PROGRAM", "TMT", "IURAN/BLN", "SUMBER DANA"]
    data = []
    for i, w in enumerate(ws):
        tmt = D(2025, 4, 1) if i % 2 else "01-04-2025"
        data.append([i + 1, w.nik, w.name, w.sex, w.occupation, "JKK+JKM", tmt, 16800, "APBD"])
    data[3][1] = int(ws[3].nik[:15] + "0")                     # typed as a number: 16th digit zeroed
    rows = [["DAFTAR PESERTA BPU PEKERJA RENTAN KOTA PAREPARE - APRIL 2025"], [], header] + data + \
        [["JUMLAH", None, None, None, None, None, None, 16800 * 5], [],
         [None, None, None, None, None, "Parepare, 30 April 2025"], [None, None, None, None, None, "Kepala Dinas"]]
    return [MessyCase(
        "register_old_xls_template", "register",
        "an old .xls template: upper-case headers, date cells and text dates, numbers, a NIK typed as a number",
        (_f("register_parepare_2025-04_lama.xls", xls_bytes([Sheet("Sheet1", rows)]),
            loaded(5, ("NIK_PRECISION_LOST",), regency=PAREPARE, period="2025-04",
                   quarantine_at=(("Sheet1", 7, "NIK_PRECISION_LOST"),),
                   values={"coverage_start": (D(2025, 4, 1),) * 4})),))]


def _delivery_cases() -> list[MessyCase]:
    out = []
    ws = workers(5, seed=50)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    first = xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER] + data)])
    out.append(MessyCase(
        "register_sent_twice", "register", "the same bytes sent again under another name: loaded once",
        (_f("register_parepare_2025-04.xlsx", first, loaded(5, regency=PAREPARE, period="2025-04")),
         _f("register_parepare_2025-04 (1).xlsx", first, Outcome("duplicate", error_code="DUPLICATE_FILE")))))
    corrected = [register_row(i + 1, w) for i, w in enumerate(ws[:4])] + \
        [register_row(5, Worker.make(9, seed=51)), register_row(6, Worker.make(10, seed=51))]
    out.append(MessyCase(
        "register_corrected_delivery", "register",
        "a corrected file for the same regency and month a week later: both stay in raw (supersede is downstream)",
        (_f("register_parepare_2025-04.xlsx", first, loaded(5, regency=PAREPARE, period="2025-04")),
         _f("register_parepare_2025-04_koreksi.xlsx",
            xlsx_bytes([Sheet("Peserta", title_rows("DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE — BULAN APRIL 2025 "
                                                    "(REVISI)") + [REGISTER_HEADER] + corrected)]),
            loaded(6, regency=PAREPARE, period="2025-04")))))
    return out


def _rejected_file_cases() -> list[MessyCase]:
    out = []
    ws = workers(3, seed=60)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    good = xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER] + data)])

    def one(name: str, source: str, covers: str, fname: str, data: bytes, code: str, folder: str = PAREPARE):
        out.append(MessyCase(name, source, covers, (_f(fname, data, rejected(code), folder),)))

    one("empty_xlsx_zero_bytes", "register", "a 0-byte .xlsx", "register_parepare_2025-04.xlsx", b"", "FILE_EMPTY")
    one("empty_csv_zero_bytes", "register", "a 0-byte .csv", "register_parepare_2025-04.csv", b"", "FILE_EMPTY")
    one("empty_csv_blank_lines", "register", "a CSV of a BOM and blank lines", "register_parepare_2025-04.csv",
        b"\xef\xbb\xbf\r\n  \r\n\r\n", "FILE_EMPTY")
    one("empty_csv_only_delimiters", "register", "a CSV of empty cells", "register_parepare_2025-04.csv",
        b";;;;;\r\n;;;;;\r\n", "FILE_EMPTY")
    one("empty_workbook", "register", "a workbook whose only sheet is empty", "register_parepare_2025-04.xlsx",
        xlsx_bytes([Sheet("Sheet1", [])]), "FILE_EMPTY")
    one("password_protected_xlsx", "register", "a password-protected workbook (OLE container, EncryptedPackage)",
        "register_parepare_2025-04.xlsx",
        cfb_bytes({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + b"<encryption/>",
                   "EncryptedPackage": struct.pack("<Q", 9000) + bytes(random.Random(1).randbytes(9000))}),
        "FILE_ENCRYPTED")
    one("corrupt_truncated_xlsx", "register", "an XLSX cut off half-way (a failed download)",
        "register_parepare_2025-04.xlsx", good[: len(good) // 2], "FILE_CORRUPT")
    one("corrupt_random_bytes_xlsx", "register", "random bytes with an .xlsx name",
        "register_parepare_2025-04.xlsx", random.Random(2).randbytes(3000), "FILE_CORRUPT")
    one("corrupt_random_bytes_xls", "register", "random bytes with an .xls name",
        "register_parepare_2025-04.xls", random.Random(3).randbytes(3000), "FILE_CORRUPT")
    one("corrupt_ole_garbage_xls", "register", "an OLE container with no workbook stream, named .xls",
        "register_parepare_2025-04.xls", cfb_bytes({"Foo": b"bar"}), "FILE_CORRUPT")
    one("corrupt_xlsx_bad_xml", "register", "a zip with the XLSX parts but broken XML",
        "register_parepare_2025-04.xlsx", _broken_xlsx(good), "FILE_CORRUPT")
    one("xls_truncated", "register", "an old .xls cut off part-way (the OLE container is incomplete)",
        "register_parepare_2025-04.xls", _old_template_cases()[0].files[0].data[:3000], "FILE_CORRUPT")
    one("stray_cell_far_away", "register",
        "a stray cell typed in XFD1048576: the used range is the whole sheet (rejected, never a crash)",
        "register_parepare_2025-04.xlsx", _with_stray_cell(good), "FILE_CORRUPT")
    one("xlsx_saved_as_csv", "register", "a workbook saved with a .csv name", "register_parepare_2025-04.csv",
        good, "FILE_CORRUPT")
    one("pdf_in_inbox", "other", "a PDF in the inbox", "register_parepare_2025-04.pdf",
        b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", "FILE_TYPE_UNSUPPORTED")
    one("png_in_inbox", "other", "a PNG (a photo of the list)", "register_parepare_2025-04.png",
        b"\x89PNG\r\n\x1a\n" + random.Random(4).randbytes(200), "FILE_TYPE_UNSUPPORTED")
    one("zip_named_xlsx", "other", "a plain zip archive with an .xlsx name", "register_parepare_2025-04.xlsx",
        _zip({"daftar.txt": b"lihat lampiran"}), "FILE_TYPE_UNSUPPORTED")
    one("png_named_csv", "other", "binary data with a .csv name", "register_parepare_2025-04.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "FILE_CORRUPT")

    claims = [["No Klaim", "NIK", "No KPJ", "Jenis Klaim", "Tgl Kejadian", "Tgl Bayar", "Nominal", "Kab/Kota"],
              ["KLM-1", ws[0].nik, "", "JKM", "03/06/2025", "19/06/2025", "Rp42.000.000", "Parepare"]]
    one("wrong_kind_claims_named_register", "claims", "a claims file delivered as register_*.csv",
        "register_parepare_2025-06.csv", csv_bytes(claims), "WRONG_KIND")
    one("unconfigured_folder_no_title", "register",
        "a register in an inbox folder that is not a configured regency, its title naming none",
        "register_2025-04.csv", csv_bytes([REGISTER_HEADER] + data), "REGENCY_UNRESOLVED", folder="kiriman-lain")
    one("unconfigured_regency_folder", "register", "a register in the folder of a regency not configured (73.15)",
        "register_pinrang_2025-04.csv", csv_bytes([REGISTER_HEADER] + data), "REGENCY_UNRESOLVED", folder="73.15")
    one("no_recognisable_header", "other", "a sheet of something else (an activity list)",
        "register_parepare_2025-04.xlsx",
        xlsx_bytes([Sheet("Kegiatan", [["LAPORAN KEGIATAN"], ["Tanggal", "Kegiatan", "Tempat"],
                                       ["02/05/2025", "Sosialisasi", "Aula"]])]), "HEADER_NOT_FOUND")
    one("header_missing_required_columns", "register", "a register header without Pekerjaan, Program, TMT, Iuran",
        "register_parepare_2025-04.csv",
        csv_bytes([["NO", "NIK", "Nama", "Desa"], [1, ws[0].nik, ws[0].name, "Lumpue"]]), "HEADER_NOT_FOUND")
    one("header_only", "register", "a title and a header, no data rows", "register_parepare_2025-04.xlsx",
        xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER])]), "NO_DATA_ROWS")
    one("header_total_and_signature_only", "register", "a header, a TOTAL of 0 and signatures, no data",
        "register_parepare_2025-04.xlsx",
        xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER]
                          + [["TOTAL", None, None, None, None, None, None, None, None, None, 0]] + SIGNATURE)]),
        "NO_DATA_ROWS")
    # a register in an unconfigured folder whose title names a configured regency: resolved from the title
    out.append(MessyCase(
        "unconfigured_folder_title_names_regency", "register",
        "a register in an unconfigured folder whose title names Kota Palopo: the regency comes from the title",
        (_f("daftar_2025-04.xlsx",
            xlsx_bytes([Sheet("Peserta", title_rows("DAFTAR PESERTA PEKERJA RENTAN KOTA PALOPO BULAN APRIL 2025")[2:]
                              + [REGISTER_HEADER] + data)]),
            loaded(3, regency="73.73", period="2025-04"), folder="kiriman-lain"),)))
    return out


def _with_stray_cell(good: bytes) -> bytes:
    """The same workbook with one more cell, "x", in the last cell of the sheet (XFD1048576)."""
    src = zipfile.ZipFile(io.BytesIO(good))
    parts = {n: src.read(n) for n in src.namelist()}
    name = "xl/worksheets/sheet1.xml"
    xml = parts[name].decode("utf-8")
    xml = xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
                      "</sheetData>")
    parts[name] = xml.encode("utf-8")
    return _zip(parts)


def _broken_xlsx(good: bytes) -> bytes:
    """The parts of a valid XLSX with the worksheet XML cut off mid-tag."""
    src = zipfile.ZipFile(io.BytesIO(good))
    parts = {n: src.read(n) for n in src.namelist()}
    for n in parts:
        if n.startswith("xl/worksheets/"):
            parts[n] = parts[n][: len(parts[n]) // 2]
        if n == "xl/workbook.xml":
            parts[n] = b"<workbook><sheets><sheet name="
    return _zip(parts)


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return buf.getvalue()


def _other_source_cases() -> list[MessyCase]:
    out = []
    # --- contributions: numbers in every style, months in every style, a JUMLAH that agrees (UTF-8 BOM, ',')
    header = ["Periode", "Kab/Kota", "Sumber Dana", "Jumlah Tenaga Kerja", "Tagihan (Rp)", "Pembayaran (Rp)",
              "Tanggal Pembayaran"]
    rows = [("April 2025", "Kota Parepare", "APBD", "4.000 orang", "Rp 67.200.000,00", "Rp 67.200.000,00",
             "13/05/2025"),
            ("05/2025", "Parepare", "APBD", "4.000", "Rp67,2 juta", "67.200.000", "13-06-2025"),
            ("2025-06", "73.72", "APBD", "4000", "67.200.000", "0", ""),
            ("Juli 2025", "7372", "CSR", "1.000", "Rp16,8 juta", "16.800.000", "13 Agustus 2025"),
            ("Agustus 2025", "Kota Pare-Pare", "APBD", "71.428", "Rp1,2 miliar", "1.199.990.400", "2025-09-15")]
    billed = (4000, 4000, 4000, 1000, 71428)
    amounts = (67_200_000, 67_200_000, 67_200_000, 16_800_000, 1_200_000_000)
    total = ["JUMLAH", None, None, f"{sum(billed):,}".replace(",", "."), None, None, None]
    out.append(MessyCase(
        "contributions_numbers_and_months", "contributions",
        "periods 'April 2025', '05/2025', '2025-06'; regency as name, alias, dotted and plain code; counts "
        "'4.000 orang'; amounts 'Rp 67.200.000,00', 'Rp67,2 juta', 'Rp1,2 miliar'; a JUMLAH row that agrees",
        (_f("contributions_parepare_2025.csv", csv_bytes([header, *rows, total], ",", "utf-8", bom=True),
            loaded(5, regency=PAREPARE,
                   values={"period": (D(2025, 4, 1), D(2025, 5, 1), D(2025, 6, 1), D(2025, 7, 1), D(2025, 8, 1)),
                           "participants_billed": billed, "amount_billed": amounts,
                           "amount_paid": (67_200_000, 67_200_000, 0, 16_800_000, 1_199_990_400),
                           "paid_date": (D(2025, 5, 13), D(2025, 6, 13), None, D(2025, 8, 13), D(2025, 9, 15)),
                           "regency_code": (PAREPARE,) * 5})),)))

    # --- contributions: month cells of every kind in a workbook; an unknown regency; a JUMLAH that disagrees
    header = ["Bulan", "Wilayah", "Sumber Dana", "Jml TK", "Jumlah Tagihan", "Jumlah Dibayar"]
    months = ["April 2025", "04/2025", "2025-04", D(2025, 4, 1), "Apr 2025", 45748]
    funds = ["APBD", "APBDes", "CSR", "BAZNAS", "Mandiri", "Dana Desa"]
    data = [[m, "Kota Parepare", f, 10, 168000, 168000] for m, f in zip(months, funds, strict=True)]
    data.append(["Mei 2025", "Kabupaten Antah Berantah", "APBD", 10, 168000, 168000])
    data.append(["Mei 2025", "Kota Palopo", "APBD", 10, 168000, 168000])
    data.append(["2025", "Kota Parepare", "APBD", 10, 168000, 168000])
    rows = [["REKAP IURAN PEKERJA RENTAN"], []] + [header] + data + [["JUMLAH", None, None, 90, 999, None]]
    out.append(MessyCase(
        "contributions_months_unknown_regency_total_mismatch", "contributions",
        "month cells 'April 2025', '04/2025', '2025-04', a date cell, 'Apr 2025', an Excel serial; a row for "
        "'Kabupaten Antah Berantah', one for another regency, a bare year; a JUMLAH that disagrees",
        (_f("iuran_parepare_2025-04.xlsx", xlsx_bytes([Sheet("Iuran", rows)]),
            loaded(9, ("REGENCY_UNKNOWN", "REGENCY_MISMATCH", "MONTH_INVALID"), regency=PAREPARE,
                   findings=("TOTAL_MISMATCH",),
                   quarantine_at=(("Iuran", 10, "REGENCY_UNKNOWN"), ("Iuran", 11, "REGENCY_MISMATCH"),
                                  ("Iuran", 12, "MONTH_INVALID")),
                   values={"period": (D(2025, 4, 1),) * 6, "funding_source": ("APBD", "APBDES", "CSR", "BAZNAS",
                                                                               "MANDIRI", "APBDES")})),)))

    # --- claims: Windows-1252, ';', NIK or KPJ or both or neither, one claim naming two programs
    ws = workers(5, seed=70)
    header = ["No Klaim", "NIK", "No KPJ", "Jenis Klaim", "Tanggal Kejadian/Meninggal", "Tgl Bayar", "Manfaat (Rp)",
              "Kab/Kota", "Keterangan"]
    rows = [header,
            ["KLM-2025-0007", ws[0].nik, "", "JKM", "03/06/2025", "19/06/2025", "Rp42.000.000", "Parepare",
             "Ahli waris – istri"],
            ["KLM-2025-0011", "", "11 1111 1111", "JKK", "12 Jun 2025", "30 Jun 2025", "Rp3.250.000", "Parepare",
             "Pengobatan"],
            ["KLM-2025-0012", ws[2].nik, "22222222222", "Jaminan Kematian", "14 Juni 2025", "01/07/2025",
             "Rp 42.000.000,00", "Kota Parepare", "Santunan"],
            ["KLM-2025-0013", "", "", "JKK", "14 Jun 2025", "01 Jul 2025", "Rp1.100.000", "Parepare", "Tanpa identitas"],
            ["KLM-2025-0014", ws[4].nik, "", "JKK, JKM", "15 Jun 2025", "01 Jul 2025", "Rp1.100.000", "Parepare", ""]]
    out.append(MessyCase(
        "claims_windows_1252", "claims",
        "Windows-1252 ';' claims: NIK only, KPJ with spaces only, both, neither, two programs in one claim",
        (_f("klaim_parepare_2025-06.csv", csv_bytes(rows, ";", "cp1252"),
            loaded(5, ("NO_PARTICIPANT_ID", "PROGRAM_UNKNOWN"), regency=PAREPARE, period="2025-06",
                   quarantine_at=(("", 5, "NO_PARTICIPANT_ID"), ("", 6, "PROGRAM_UNKNOWN")),
                   values={"kpj": (None, "1111111111", "22222222222"), "program": ("JKM", "JKK", "JKM"),
                           "amount_paid": (42_000_000, 3_250_000, 42_000_000),
                           "event_date": (D(2025, 6, 3), D(2025, 6, 12), D(2025, 6, 14))})),)))

    # --- claims in a workbook: number and date cells
    header = ["Nomor Klaim", "Nomor NIK", "KPJ", "Program", "Tgl Kejadian", "Tanggal Pembayaran", "Jumlah Dibayar"]
    data = [["KLM-1", ws[0].nik, 12345678901, "JKM", D(2025, 6, 3), dt.datetime(2025, 6, 19, 9, 0), 42000000],
            ["KLM-2", ws[1].nik, None, "JKK", 45820, "19/06/2025", 1250000.5]]
    out.append(MessyCase(
        "claims_workbook_typed_cells", "claims",
        "claims as number, date, datetime and serial cells; the regency from the folder (no Kab/Kota column)",
        (_f("klaim_parepare_2025-06.xlsx", xlsx_bytes([Sheet("Klaim", [header] + data)]),
            loaded(2, regency=PAREPARE, period="2025-06",
                   values={"kpj": ("12345678901", None), "event_date": (D(2025, 6, 3), D(2025, 6, 12)),
                           "paid_date": (D(2025, 6, 19), D(2025, 6, 19)),
                           "amount_paid": (42_000_000, Decimal("1250000.5")), "regency_code": (PAREPARE,) * 2})),)))

    # --- the structured city report, with a two-row header and words in numbers
    top = ["Periode", "Kabupaten/Kota", "Penduduk Bekerja", "Peserta Aktif", "Target Pekerja Rentan",
           "Pekerja Rentan Terlindungi", "Anggaran (Rp)", None]
    bottom = [None] * 6 + ["Pagu", "Realisasi"]
    data = [["Juni 2025", "Kota Parepare", "152.340", "93.120 orang", "4.000 orang", "2.500", "Rp1,2 miliar",
             "Rp 750.000.000,00"]]
    merges = [(2, c, 3, c, top[c]) for c in range(6)] + [(2, 6, 2, 7, "Anggaran (Rp)")]
    out.append(MessyCase(
        "city_report_two_row_header", "city_report",
        "the structured city report: title, a header over two rows ('Anggaran (Rp)' merged over Pagu / "
        "Realisasi), '93.120 orang', 'Rp1,2 miliar'",
        (_f("laporan_parepare_2025-06.xlsx",
            xlsx_bytes([Sheet("Laporan", [["LAPORAN PERLINDUNGAN PEKERJA RENTAN — JUNI 2025"], [], top, bottom]
                              + data, merges)]),
            loaded(1, regency=PAREPARE, period="2025-06", loaded_rows=(("Laporan", 5),),
                   values={"employed_population": (152340,), "active_participants_total": (93120,),
                           "vulnerable_target": (4000,), "vulnerable_covered": (2500,),
                           "budget_allocated": (1_200_000_000,), "budget_realized": (750_000_000,)})),)))
    return out


_BUILDERS: tuple[Callable[[], list[MessyCase]], ...] = (
    _register_layout_cases, _register_value_cases, _csv_cases, _old_template_cases, _delivery_cases,
    _rejected_file_cases, _other_source_cases)


def cases() -> list[MessyCase]:
    """Every messy case, in a stable order, with unique names."""
    out = [c for build in _BUILDERS for c in build()]
    names = [c.name for c in out]
    assert len(names) == len(set(names)), "case names must be unique"
    return out


def case_by_name(name: str) -> MessyCase:
    for c in cases():
        if c.name == name:
            return c
    raise KeyError(name)


def write_case(case: MessyCase, inbox: Path) -> list[Path]:
    """Write a case's files under <inbox>/<folder>/ and return their paths in load order."""
    paths = []
    for f in case.files:
        p = Path(inbox) / f.folder / f.name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f.data)
        paths.append(p)
    return paths


def write_all(out_dir: Path) -> dict[str, list[Path]]:
    """Write every case under out_dir/<case name>/<folder>/<file> (one inbox per case)."""
    return {c.name: write_case(c, Path(out_dir) / c.name) for c in cases()}
