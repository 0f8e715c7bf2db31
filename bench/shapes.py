"""The register CSV shapes of issue 22: the same generated participants written the ways regencies write them.

    python -m bench.shapes SOURCE_CSV OUT_DIR [--shapes issue,cp1252,styles]

`current` is the benchmark's own big CSV (`data.big_register_csv`: `;`, UTF-8 with BOM, dates dd/mm/yyyy or
yyyy-mm-dd by regency, "Rp 16.800,00"). The others re-write each of its rows (values from the synthetic
generator; dates and money read back with the project's parsers, once per distinct text):

- `issue`: `;`, UTF-8 without BOM, birth dates dd-mm-yyyy, TMT "13 April 2025", "Rp 16.800", an 11-digit KPJ
  column (the shape issue 22 was filed with);
- `cp1252`: `,` as delimiter, every field quoted, cp1252 bytes;
- `styles`: dates and money rotating, row by row, through every style the parsers accept (`DATE_STYLES`,
  `MONEY_STYLES`; tests/ingest/test_speed_shapes.py reads each one back to the value it was made from);
- `excel_nik`: a delivery gone wrong at full size: every NIK written as digits alone is shown as Excel shows the
  number it turned the cell into (General format, Indonesian locale: "1,10105E+15"; a NIK written in groups,
  "1108 1355 1188 0036", stays text), the rest as `current`. Those NIKs' digits are lost, so nearly every row is
  set apart (NIK_PRECISION_LOST): the quarantine path, each row with its messages, at 1 M rows;
- `pasted`: `current` with what text pasted in from elsewhere leaves (`PASTED`): a non-breaking space for the first
  space of every third row's village (a web page's), a quote typed inside every 50,000th name (`Ma"ruf`: a
  character to csv, its line's quotes odd), a NUL after every 333,333rd name from the 150th (a broken export; one
  in the first 8 KiB is taken for a binary file), and a carriage return alone in every 250,000th sub-district, for
  its first space (old Mac text: csv ends the line there, so that row is cut in two, both halves set apart).

- `office`: a register exported from a payroll system in a BPJS Ketenagakerjaan participant layout (the header
  list of a real export module; every value synthetic): a title, an export line and a blank line above an
  upper-case header of 19 columns, 8 of them none of the contract's (the place of birth before the date, an
  address, a phone number, a mother's name: kept in `raw_cells`), names in capitals, "LAKI-LAKI", dates dd-mm-yyyy,
  "16.800", `;`, CRLF, UTF-8 with BOM. Its lines are ~1.7 times `current`'s.

- `alt_enter`: `office` with a line break typed (Alt+Enter) into the address of every tenth row, before its RT/RW:
  Excel writes the cell quoted with the break inside, so each such row is a record of two lines (DuckDB and csv
  read it so) and every row below it starts a line further down.

- `blank_rows`: `current` as a sheet is saved as CSV with its formatted empty rows (rows cleared in place, a
  format dragged down the sheet): Excel writes each as a line of delimiters alone, and a public CSV library's issue
  tracker shows 200 real lines followed by 1.3 million of them. Here one after every fourth data row and, below the
  data, a quarter as many again as the data has rows: 1.5 M lines for 1 M rows.

- `unique_nik`: `current` with every participant a row of their own, as in one month's register. The source is a
  year of each regency's monthly registers one after another (`data.big_register_csv`: 103k NIKs in 1 M rows), so
  each NIK's serial (its last four digits) is made the count of the NIKs so far with its first twelve (region and
  birth date): 1 M NIKs, as valid as before. The NIK rule, the pseudonyms and the NIK's storage then work on ten
  times as many distinct values.

- `comma`: `current` saved as CSV by an English-locale Excel: `,` between cells, and only a cell holding a comma
  quoted (`"Rp 16.800,00"`), as csv's minimal quoting does; UTF-8 with BOM, CRLF. Most lines mix quoted and
  unquoted cells (`cp1252` quotes every field).

- `database`: a register kept in an office's own web application and exported with its database's tools
  (phpMyAdmin's CSV export): lower-case column names, `,`, every value in quotes and every missing one the bare
  marker NULL (the village, the end date, two in three KPJs, every phone number), the birth date as the system
  stores it in eight digits ("19850312", ISO 8601's basic form), the start and end as DATETIME ("2025-04-01
  00:00:00"), the contribution as DECIMAL ("16800.00"); LF.

Every shape keeps the source's rows in order, so rows in and the rows a correct loader keeps are the same for all
(but `pasted`'s cut rows).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import functools
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

SHAPES = ("current", "issue", "cp1252", "styles", "excel_nik", "pasted", "office", "alt_enter", "blank_rows",
          "unique_nik", "comma", "database")
ALT_ENTER_EVERY = 10    # `alt_enter`: a line break in the address of every this many rows
BLANK_EVERY = 4     # `blank_rows`: a line of delimiters alone after every this many data rows, and as many below

ID_MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember")
EN_MONTHS_SHORT = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ID_MONTHS_SHORT = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agst", "Sep", "Okt", "Nov", "Des")
ID_DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
EXCEL_EPOCH = dt.date(1899, 12, 30)


def _two_digit_year(d: dt.date) -> str | None:
    """d/m/yy: only for years a two-digit year reads back to (1970-2069)."""
    return f"{d.day}/{d.month}/{d.year % 100:02d}" if 1970 <= d.year <= 2069 else None


# every date style `parsing.parse_date` reads (day first); None: the style cannot write that date
DATE_STYLES: dict[str, Callable[[dt.date], str | None]] = {
    "dd/mm/yyyy": lambda d: f"{d:%d/%m/%Y}",
    "dd-mm-yyyy": lambda d: f"{d:%d-%m-%Y}",
    "dd.mm.yyyy": lambda d: f"{d:%d.%m.%Y}",
    "d/m/yyyy": lambda d: f"{d.day}/{d.month}/{d.year}",
    "d/m/yy": _two_digit_year,
    "yyyy-mm-dd": lambda d: f"{d:%Y-%m-%d}",
    "yyyy/mm/dd": lambda d: f"{d:%Y/%m/%d}",
    "d Bulan yyyy": lambda d: f"{d.day} {ID_MONTHS[d.month - 1]} {d.year}",
    "dd Mon yyyy": lambda d: f"{d:%d} {EN_MONTHS_SHORT[d.month - 1]} {d.year}",
    "dd-Mon-yyyy": lambda d: f"{d:%d}-{EN_MONTHS_SHORT[d.month - 1]}-{d.year}",
    "d-Mon-yy": lambda d: (f"{d.day}-{EN_MONTHS_SHORT[d.month - 1]}-{d.year % 100:02d}"     # Excel's d-mmm-yy
                           if 1970 <= d.year <= 2069 else None),
    "d Bln. yyyy": lambda d: f"{d.day} {ID_MONTHS_SHORT[d.month - 1]}. {d.year}",
    "Month d, yyyy": lambda d: f"{d:%B} {d.day}, {d.year}",
    "Hari, d Bulan yyyy": lambda d: f"{ID_DAYS[d.weekday()]}, {d.day} {ID_MONTHS[d.month - 1]} {d.year}",
    "yyyy-mm-dd hh:mm:ss": lambda d: f"{d:%Y-%m-%d} 00:00:00",
    "yyyy-mm-ddThh:mm:ss.000Z": lambda d: f"{d:%Y-%m-%d}T00:00:00.000Z",
    "dd/mm/yyyy hh.mm WIB": lambda d: f"{d:%d/%m/%Y} 08.00 WIB",
    "Excel serial": lambda d: str((d - EXCEL_EPOCH).days),
}


def _grouped(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


# every money style `parsing.parse_money` reads, for a whole Rupiah amount
MONEY_STYLES: dict[str, Callable[[int], str | None]] = {
    "Rp 16.800": lambda n: f"Rp {_grouped(n, '.')}",
    "Rp16.800,00": lambda n: f"Rp{_grouped(n, '.')},00",
    "Rp. 16.800,-": lambda n: f"Rp. {_grouped(n, '.')},-",
    "IDR 16,800.00": lambda n: f"IDR {_grouped(n, ',')}.00",
    "16800": str,
    "16.800": lambda n: _grouped(n, "."),
    "16,800": lambda n: _grouped(n, ","),
    "16800.00": lambda n: f"{n}.00",
    "16,8 ribu": lambda n: (f"{n // 1000},{n % 1000 // 100} ribu" if n % 100 == 0 and n >= 1000 else None),
    "Rp 16.800/bulan": lambda n: f"Rp {_grouped(n, '.')}/bulan",
}

ISSUE_HEADER = ["No", "NIK", "No KPJ", "Nama", "Tanggal Lahir", "JK", "Pekerjaan", "Desa", "Kecamatan", "Program",
                "TMT", "Tgl Berakhir", "Iuran", "Sumber Dana"]

# the source (data.big_register_csv) columns, by position
NO, NIK, NAME, BIRTH, SEX, JOB, VILLAGE, DISTRICT, PROGRAM, START, END, MONEY, FUNDING = range(13)


@functools.cache
def _date(text: str) -> dt.date | None:
    from cakupan.ingest import parsing

    try:
        return parsing.parse_date(text) if text else None
    except parsing.ParseError:
        return None


@functools.cache
def _money(text: str) -> int | None:
    from cakupan.ingest import parsing

    try:
        d = parsing.parse_money(text) if text else None
    except parsing.ParseError:
        return None
    return int(d) if d is not None and d == d.to_integral_value() else None


def styled_date(text: str, style: str) -> str:
    """The source cell's date in `style` (the cell itself when it is not a date or the style cannot write it)."""
    d = _date(text)
    out = DATE_STYLES[style](d) if d is not None else None
    return text if out is None else out


def styled_money(text: str, style: str) -> str:
    n = _money(text)
    out = MONEY_STYLES[style](n) if n is not None else None
    return text if out is None else out


def kpj(row_number: int) -> str:
    """A synthetic 11-digit KPJ number (deterministic per row)."""
    return f"{(row_number * 7919 + 12_345_678_901) % 90_000_000_000 + 10_000_000_000:011d}"


def _issue_row(rec: list[str], i: int) -> list[str]:
    d_birth = _date(rec[BIRTH])
    d_start, d_end = _date(rec[START]), _date(rec[END])
    n = _money(rec[MONEY])
    return [rec[NO], rec[NIK], kpj(i), rec[NAME], f"{d_birth:%d-%m-%Y}" if d_birth else rec[BIRTH], rec[SEX],
            rec[JOB], rec[VILLAGE], rec[DISTRICT], rec[PROGRAM],
            f"{d_start.day} {ID_MONTHS[d_start.month - 1]} {d_start.year}" if d_start else rec[START],
            f"{d_end.day} {ID_MONTHS[d_end.month - 1]} {d_end.year}" if d_end else rec[END],
            f"Rp {_grouped(n, '.')}" if n is not None else rec[MONEY], rec[FUNDING]]


def excel_general(digits: str) -> str:
    """A number as Excel's General format shows it in an Indonesian locale, in a column of the usual width: up to 11
    digits whole, more in scientific notation with at most five decimals (a 16-digit NIK beginning 110105 ->
    "1,10105E+15")."""
    if not digits.isdigit() or len(digits) <= 11:
        return digits
    mantissa, exponent = f"{float(digits):.5E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.').replace('.', ',')}E+{int(exponent)}"


def _excel_nik_row(rec: list[str], i: int) -> list[str]:
    out = list(rec)
    out[NIK] = excel_general(rec[NIK])
    return out


def _own_niks(recs: Iterable[list[str]]) -> Iterator[list[str]]:
    """`unique_nik`: each row with its NIK's serial (last four digits, of a NIK of 16 digits, written in groups or
    not) made the count, from 1 to 9999 and round again, of the NIKs so far with the same first twelve digits."""
    seen: Counter[str] = Counter()
    for rec in recs:
        nik = rec[NIK]
        digits = "".join(ch for ch in nik if ch.isdigit())
        if len(digits) == 16 and nik[-4:].isdigit():
            seen[digits[:12]] += 1
            rec = [*rec[:NIK], f"{nik[:-4]}{(seen[digits[:12]] - 1) % 9999 + 1:04d}", *rec[NIK + 1:]]
        yield rec


# `pasted`: (every how many data rows, from which one, the column, what is typed where)
PASTED = ((3, 3, VILLAGE, "nbsp"), (50_000, 7, NAME, "quote"), (333_333, 150, NAME, "nul"),
          (250_000, 11, DISTRICT, "cr"))


def _pasted_row(rec: list[str], i: int) -> list[str]:
    """Row i (data rows from 1) of `current` with what `PASTED` types into it; a quote or a carriage return as a
    stand-in (`_UNQUOTED`) csv's writer does not quote (a clerk's pasted one is not), put in after it."""
    out = list(rec)
    for every, first, col, what in PASTED:
        cell = out[col]
        if i % every != first % every or not cell or (what == "nbsp" and " " not in cell):
            continue
        cr = cell.replace(" ", _UNQUOTED["\r"], 1) if " " in cell else cell[:3] + _UNQUOTED["\r"] + cell[3:]
        out[col] = {"nbsp": cell.replace(" ", "\u00a0", 1), "quote": cell[:2] + _UNQUOTED['"'] + cell[2:],
                    "nul": cell + "\x00", "cr": cr}[what]
    return out


_UNQUOTED = {'"': "\ue001", "\r": "\ue002"}


OFFICE_HEADER = ["NO", "NIK", "NO KPJ", "NAMA LENGKAP", "TEMPAT LAHIR", "TANGGAL LAHIR", "JENIS KELAMIN",
                 "STATUS PERKAWINAN", "ALAMAT", "KELURAHAN", "KECAMATAN", "NO HP", "NAMA IBU KANDUNG", "PEKERJAAN",
                 "PROGRAM", "TMT KEPESERTAAN", "IURAN", "SUMBER DANA", "KETERANGAN"]
OFFICE_TITLE = ["LAPORAN DATA PESERTA BPJS KETENAGAKERJAAN PEKERJA RENTAN",
                "Tanggal Export: 02-07-2025 09:14 | Status: AKTIF", ""]
_PLACES = ("Tapaktuan", "Meulaboh", "Banda Aceh", "Medan", "Takengon")
_STREETS = ("Jl. Merdeka", "Jl. Sudirman", "Lrg. Mawar", "Dusun II", "Jl. Poros Desa")
_MOTHERS = ("SITI AMINAH", "NURHAYATI", "HASNAH", "FATIMAH")


def _office_row(rec: list[str], i: int, alt_enter: bool = False) -> list[str]:
    d_birth, d_start, n = _date(rec[BIRTH]), _date(rec[START]), _money(rec[MONEY])
    brk = "\n" if alt_enter and i % ALT_ENTER_EVERY == 0 else " "
    return [rec[NO], rec[NIK], kpj(i), rec[NAME].upper(), _PLACES[i % 5], f"{d_birth:%d-%m-%Y}" if d_birth else rec[BIRTH],
            {"L": "LAKI-LAKI", "P": "PEREMPUAN"}.get(rec[SEX], rec[SEX]), ("K", "TK", "K/1", "K/2")[i % 4],
            f"{_STREETS[i % 5]} No. {i % 97 + 1}{brk}RT {i % 9 + 1:03d}/RW {i % 5 + 1:03d}", rec[VILLAGE].upper(),
            rec[DISTRICT].upper(), f"08{(i * 7919) % 10**10:010d}", _MOTHERS[i % 4], rec[JOB].upper(), rec[PROGRAM],
            f"{d_start:%d-%m-%Y}" if d_start else rec[START], _grouped(n, ".") if n is not None else rec[MONEY],
            rec[FUNDING], "" if i % 11 else "pindah alamat"]


DATABASE_HEADER = ["nik", "nama", "tgl_lahir", "jenis_kelamin", "pekerjaan", "kelurahan", "kecamatan", "program",
                   "tmt", "tgl_berakhir", "iuran", "sumber_dana", "no_kpj", "no_hp"]


def _database_row(rec: list[str], i: int) -> list[str]:
    """`database`: one row as the export writes it ("" stands for NULL: `_database_line`)."""
    d_birth, d_start, d_end, n = _date(rec[BIRTH]), _date(rec[START]), _date(rec[END]), _money(rec[MONEY])
    return [rec[NIK], rec[NAME], f"{d_birth:%Y%m%d}" if d_birth else rec[BIRTH], rec[SEX], rec[JOB], rec[VILLAGE],
            rec[DISTRICT], rec[PROGRAM], f"{d_start:%Y-%m-%d} 00:00:00" if d_start else rec[START],
            f"{d_end:%Y-%m-%d} 00:00:00" if d_end else rec[END], f"{n}.00" if n is not None else rec[MONEY],
            rec[FUNDING], kpj(i) if i % 3 == 0 else "", ""]


def _database_line(row: list[str]) -> str:
    """A row as phpMyAdmin's CSV export writes it: each value in quotes (a quote doubled), a missing one NULL."""
    return ",".join("NULL" if v == "" else '"' + v.replace('"', '""') + '"' for v in row) + "\n"


def _styles_row(rec: list[str], i: int) -> list[str]:
    dates, money = list(DATE_STYLES), list(MONEY_STYLES)
    out = list(rec)
    out[BIRTH] = styled_date(rec[BIRTH], dates[i % len(dates)])
    out[START] = styled_date(rec[START], dates[(i // 3) % len(dates)])
    out[END] = styled_date(rec[END], dates[(i // 7) % len(dates)])
    out[MONEY] = styled_money(rec[MONEY], money[i % len(money)])
    return out


def write_shape(source: Path, shape: str, out: Path) -> int:
    """Write `shape` of the source register CSV to out; return its data rows."""
    out.parent.mkdir(parents=True, exist_ok=True)
    text = source.read_text(encoding="utf-8-sig")
    recs = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = next(recs)
    buf = io.StringIO()
    if shape == "issue":
        w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        w.writerow(ISSUE_HEADER)
        rows = (_issue_row(r, i) for i, r in enumerate(recs, start=1))
        encoding = "utf-8"
    elif shape == "cp1252":
        w = csv.writer(buf, delimiter=",", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(header)
        rows = recs
        encoding = "cp1252"
    elif shape in ("styles", "excel_nik"):
        w = csv.writer(buf, delimiter=";", lineterminator="\n")
        w.writerow(header)
        make_row = _styles_row if shape == "styles" else _excel_nik_row
        rows = (make_row(r, i) for i, r in enumerate(recs, start=1))
        encoding = "utf-8"
    elif shape in ("office", "alt_enter"):
        w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        for line in OFFICE_TITLE:
            w.writerow([line] + [""] * (len(OFFICE_HEADER) - 1))
        w.writerow(OFFICE_HEADER)
        rows = (_office_row(r, i, shape == "alt_enter") for i, r in enumerate(recs, start=1))
        encoding = "utf-8-sig"
    elif shape == "comma":
        w = csv.writer(buf, delimiter=",", lineterminator="\r\n")
        w.writerow(header)
        rows = recs
        encoding = "utf-8-sig"
    elif shape == "pasted":
        w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        w.writerow(header)
        rows = (_pasted_row(r, i) for i, r in enumerate(recs, start=1))
        encoding = "utf-8"
    elif shape == "blank_rows":
        w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        w.writerow(header)
        rows = recs
        encoding = "utf-8-sig"
    elif shape == "unique_nik":
        w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        w.writerow(header)
        rows = _own_niks(recs)
        encoding = "utf-8-sig"
    elif shape == "database":
        w = None
        buf.write(_database_line(DATABASE_HEADER))
        rows = (_database_row(r, i) for i, r in enumerate(recs, start=1))
        encoding = "utf-8"
    else:
        raise ValueError(f"unknown shape {shape!r}")
    n = 0
    for row in rows:
        if w is None:
            buf.write(_database_line(row))
        else:
            w.writerow(row)
        n += 1
        if shape == "blank_rows" and n % BLANK_EVERY == 0:
            w.writerow([""] * len(header))
    if shape == "blank_rows":
        w.writerows([[""] * len(header)] * (n // BLANK_EVERY))
    text = buf.getvalue()
    for char, stand_in in _UNQUOTED.items() if shape == "pasted" else ():
        text = text.replace(stand_in, char)
    out.write_bytes(text.encode(encoding, errors="replace"))
    return n


def csv_dialect(shape: str) -> dict:
    """What a peer is told about the file (bare DuckDB and dlt detect the rest): delimiter, encoding, the lines
    above the header (`office`'s title block, which DuckDB's sniffer takes for the header) and, for the polars
    peer's checks, where the NIK, the birth date, the coverage start and the contribution are."""
    columns = {"issue": (1, 4, 10, 12), "office": (1, 5, 15, 16), "alt_enter": (1, 5, 15, 16),
               "database": (0, 2, 8, 10)}.get(shape, (NIK, BIRTH, START, MONEY))
    return {"delimiter": "," if shape in ("cp1252", "comma", "database") else ";",
            "encoding": "cp1252" if shape == "cp1252" else "utf-8",
            "skip": len(OFFICE_TITLE) if shape in ("office", "alt_enter") else 0, "columns": list(columns),
            **({"read_csv": TOLD[shape]} if shape in TOLD else {})}


# What a user of bare DuckDB tells `read_csv` once its sniffer has failed on a shape (the peer `duckdb_told`; the
# ratio of such a shape is taken against it). `alt_enter`: the sniffer, given records of two lines, takes no escape
# character, so an office line's `"SOKA""AN"` is an unterminated quote; told the quote and escape, it reads every
# record. `pasted`: no dialect passes the sniffer (a cut row has fewer fields, a typed quote no closing one); told
# there is no quoting, that short rows are padded and not to stop on them, it loads every line, each cut row as
# two rows (nothing is checked).
TOLD = {"alt_enter": {"quote": '"', "escape": '"'},
        "pasted": {"delim": ";", "quote": "", "escape": "", "header": True, "strict_mode": False,
                   "null_padding": True}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--shapes", default="issue,cp1252,styles")
    a = ap.parse_args(argv)
    for shape in a.shapes.split(","):
        n = write_shape(a.source, shape, a.out_dir / f"register_{shape}_2025-06.csv")
        print(f"{shape}: {n} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
