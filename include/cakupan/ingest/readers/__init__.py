"""Readers: open a delivered file (CSV, XLSX, XLS), find its header, and return its data rows as text cells.

A reader never decides whether a row is valid; it decides only which rows are data (not title, header, blank,
total, sub-total, repeated header, column numbers, notes or signatures), keeps each data row's sheet and source
row number, and keeps every mapped cell's text — and, for number and date cells, the value the workbook stored
(`Block.typed`), so a number cell 123.456 is never read back as the text "123.456" (= 123456). Problems with the
whole file raise `FileRejected` with a registered reason code.

Workbooks are opened in a forked child process (`read_workbook`): the native spreadsheet library can panic or
abort on a damaged file, and that must reject the file, not kill the loader. Large CSVs are read column-wise in
Arrow (`fast_csv_block`), with the row-by-row rules applied only to lines that could be anything but data; the
result is the same as the row-by-row path (tests/ingest/test_fast_csv.py).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import faulthandler
import functools
import io
import math
import os
import pickle
import re
import select
import signal
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import CalamineWorkbook

from cakupan.core.contracts import Contract, all_contracts, load_contract, normalise_header
from cakupan.ingest import parsing

HEADER_SCAN_ROWS = 15
MAX_CELL_CHARS = 1000
MAX_CSV_FIELD = 64 << 20        # csv's default (128 KiB) would reject a whole file for one enormous cell
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
CSV_SUFFIXES = {".csv", ".tsv"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FILENAME_KINDS = {
    "register": "register", "peserta": "register", "daftar": "register",
    "contributions": "contributions", "iuran": "contributions", "tagihan": "contributions",
    "claims": "claims", "klaim": "claims",
    "city_report": "city_report", "cityreport": "city_report", "laporan": "city_report",
}


class FileRejected(Exception):
    """The whole file cannot be read; `code` is a registered reason code."""

    def __init__(self, code: str, detail: str = "", *, column: str | None = None, value: object = None):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.column = column
        self.value = value

    def __reduce__(self):       # pickled with its fields (a reader process hands it to the writer)
        return (_file_rejected, (self.code, self.detail, self.column, self.value))


def _file_rejected(code: str, detail: str, column: str | None, value: object) -> FileRejected:
    return FileRejected(code, detail, column=column, value=value)


@dataclass
class Block:
    """The data rows of one sheet (or one CSV), mapped to a source contract, column by column."""

    source: str
    sheet: str
    header_row: int                               # 1-based index of the (last) header row
    mapping: dict[str, int]                       # canonical column -> 0-based column index
    headers: list[str]                            # header texts as written
    title_text: str                               # text above the header (title block)
    source_rows: list[int] = field(default_factory=list)             # 1-based source row (or CSV line) per data row
    cells: dict[str, list[str | None] | pa.Array] = field(default_factory=dict)  # column -> cell text per data row
    typed: dict[str, dict[int, object]] = field(default_factory=dict)  # column -> {data row: number/date cell}
    nik_numeric: list[bool] = field(default_factory=list)   # per row: the NIK cell was a number in Excel
    total_rows: list[tuple[int, int, dict[str, object]]] = field(default_factory=list)  # (row, rows above, cells)
    notes_skipped: int = 0
    unsplit: dict[int, str] = field(default_factory=dict)   # data row -> its text, when it did not split into cells

    @property
    def columns(self) -> list[str]:
        return list(self.mapping)

    @property
    def n_rows(self) -> int:
        return len(self.source_rows)

    def keys(self, column: str) -> list[str | None] | pa.Array:
        """The column's cells for the parsers: text, or the typed marker of a number/date cell (`typed_key`)."""
        texts = self.cells[column]
        typed = self.typed.get(column)
        if isinstance(texts, pa.Array):
            marked = pc.fill_null(pc.starts_with(texts, TYPED_MARK), False)
            if not typed and not pc.any(marked).as_py():
                return texts
            texts = texts.to_pylist()
        elif not typed and not any(t is not None and t.startswith(TYPED_MARK) for t in texts):
            return texts
        out = [TYPED_MARK + "s" + t if t is not None and t.startswith(TYPED_MARK) else t for t in texts]
        for i, v in (typed or {}).items():
            k = typed_key(v)
            if k is not None:
                out[i] = k
        return out


@dataclass
class ReadResult:
    path: Path
    source: str
    blocks: list[Block]
    encoding: str | None = None
    delimiter: str | None = None
    sheets_without_header: list[str] = field(default_factory=list)   # sheets with content but no known header

    @property
    def rows_in(self) -> int:
        return sum(b.n_rows for b in self.blocks)


# --------------------------------------------------------------------------------------------- typed cells --
TYPED_MARK = "\ue000"   # a private-use character: never part of a cell text the parsers are given


def typed_key(value: object) -> str | None:
    """Encode a number or date cell as text that `typed_value` turns back into the same value, or None."""
    if isinstance(value, bool):
        return f"{TYPED_MARK}b{int(value)}"
    if isinstance(value, float):
        return None if math.isnan(value) else f"{TYPED_MARK}f{value!r}"
    if isinstance(value, int):
        return f"{TYPED_MARK}i{value}"
    if isinstance(value, dt.datetime):
        return f"{TYPED_MARK}t{value.isoformat()}"
    if isinstance(value, dt.date):
        return f"{TYPED_MARK}d{value.isoformat()}"
    return None


def typed_value(key: str | None) -> object:
    """Decode a cell key made by `Block.keys`: the original number/date, or the text itself."""
    if key is None or not key.startswith(TYPED_MARK) or len(key) < 2:
        return key
    tag, body = key[1], key[2:]
    if tag == "f":
        return float(body)
    if tag == "i":
        return int(body)
    if tag == "b":
        return body == "1"
    if tag == "t":
        return dt.datetime.fromisoformat(body)
    if tag == "d":
        return dt.date.fromisoformat(body)
    return body


# --------------------------------------------------------------------------------------------- file kinds ---
def kind_from_filename(path: Path) -> str | None:
    """Guess the source from the file name's first word (register_, klaim_, ...), or None."""
    stem = path.stem.lower()
    for word in re.split(r"[_\-\s.]+", stem):
        if word in _FILENAME_KINDS:
            return _FILENAME_KINDS[word]
    if stem.startswith("city_report"):
        return "city_report"
    return None


def sniff_bytes(path: Path) -> bytes:
    """Read the first 8 KiB of the file."""
    with open(path, "rb") as f:
        return f.read(8192)


def check_container(path: Path) -> str:
    """Say whether the file is a 'spreadsheet' or 'csv', or reject it with a clear code."""
    size = path.stat().st_size
    if size == 0:
        raise FileRejected("FILE_EMPTY")
    head = sniff_bytes(path)
    suffix = path.suffix.lower()
    if head.startswith(_OLE_MAGIC):
        with open(path, "rb") as f:
            blob = f.read(min(size, 4 * 1024 * 1024))
        if "EncryptedPackage".encode("utf-16-le") in blob or b"EncryptedPackage" in blob:
            raise FileRejected("FILE_ENCRYPTED")
        if suffix in CSV_SUFFIXES:
            raise FileRejected("FILE_CORRUPT", "an Excel workbook saved with a .csv name")
        return "spreadsheet"
    if head.startswith(b"PK\x03\x04"):
        if suffix in CSV_SUFFIXES:
            raise FileRejected("FILE_CORRUPT", "a zip/XLSX file saved with a .csv name")
        try:
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
                names = set(z.namelist())
        except Exception as exc:  # noqa: BLE001 - zipfile raises BadZipFile, zlib.error, RuntimeError, ...
            if "encrypted" in str(exc).lower() or "password" in str(exc).lower():
                raise FileRejected("FILE_ENCRYPTED", "a zip member is password-protected") from None
            raise FileRejected("FILE_CORRUPT", f"the workbook's zip container is damaged ({exc})") from None
        if bad is not None:
            raise FileRejected("FILE_CORRUPT", f"damaged part {bad!r} inside the workbook")
        if "[Content_Types].xml" not in names:
            raise FileRejected("FILE_TYPE_UNSUPPORTED", "a zip archive, not a workbook")
        return "spreadsheet"
    if suffix in SPREADSHEET_SUFFIXES:
        raise FileRejected("FILE_CORRUPT", f"the file has a {suffix} name but is not a workbook")
    if suffix in CSV_SUFFIXES:
        if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise FileRejected("FILE_CORRUPT", "binary data, not text")
        return "csv"
    raise FileRejected("FILE_TYPE_UNSUPPORTED", f"files ending in {suffix or '(no extension)'} are not read")


# --------------------------------------------------------------------------------------------- header -------
@dataclass
class HeaderMatch:
    source: str
    row: int                 # 0-based index of the (last) header row
    rows_used: int           # 1 or 2
    mapping: dict[str, int]
    headers: list[str]
    score: float


def _row_texts(row: list) -> list[str]:
    return [_text(v) or "" for v in row]


@functools.lru_cache(maxsize=1 << 16)
def _norm(text: str) -> str:
    """`normalise_header`, remembered: header candidates repeat across rows, sheets and files."""
    return normalise_header(text)


@functools.lru_cache(maxsize=256)
def _alias_map(source: str, overrides: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The contract's alias map with a regency's header overrides, built once per (source, overrides)."""
    return load_contract(source).alias_map(dict(overrides))


def _match_row(texts: list[str], amap: dict[str, str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for i, t in enumerate(texts):
        canon = amap.get(_norm(t)) if t else None
        if canon and canon not in mapping:
            mapping[canon] = i
    return mapping


def _two_row_texts(top: list[str], bottom: list[str]) -> list[str]:
    """Combine a two-row header: merged top cells are forward-filled over the columns below them."""
    width = max(len(top), len(bottom))
    top = top + [""] * (width - len(top))
    bottom = bottom + [""] * (width - len(bottom))
    filled, last = [], ""
    for i in range(width):
        if top[i]:
            last = top[i]
        elif not bottom[i]:
            last = ""
        filled.append(top[i] or (last if bottom[i] else ""))
    return [f"{filled[i]} {bottom[i]}".strip() if filled[i] and bottom[i] else (bottom[i] or filled[i])
            for i in range(width)], bottom, filled


def _score(contract: Contract, mapping: dict[str, int], defaults: set[str]) -> float:
    required = [c for c in contract.required if c not in defaults and c not in _column_optional_via(contract)]
    if not required:
        return 0.0
    have = sum(1 for c in required if c in mapping)
    one_of_ok = all(any(c in mapping for c in group) for group in contract.one_of)
    if have < len(required) or not one_of_ok:
        return have / len(required) - 1.0   # negative: incomplete
    return 1.0 + len(mapping) / len(contract.columns)


def _column_optional_via(contract: Contract) -> set[str]:
    """Required columns that a title block or configuration can stand in for."""
    out = set()
    if "title" in contract.period_from or "filename" in contract.period_from:
        out.add("period")
    if "title" in contract.regency_from or "config" in contract.regency_from:
        out.add("regency")
    return out


def find_header(rows: list[list], contracts: dict[str, Contract], overrides: dict[str, dict[str, str]],
                defaults: dict[str, set[str]]) -> HeaderMatch | None:
    """Find the best header among the first rows, for the contract it matches best (1- or 2-row headers)."""
    best: HeaderMatch | None = None
    scan = [_row_texts(r) for r in rows[:HEADER_SCAN_ROWS + 1]]
    for source, contract in contracts.items():
        amap = _alias_map(source, tuple(sorted((overrides.get(source) or {}).items())))
        for i in range(min(HEADER_SCAN_ROWS, len(scan))):
            candidates = [(i, 1, scan[i])]
            if i + 1 < len(scan):
                combined, bottom, filled = _two_row_texts(scan[i], scan[i + 1])
                # a header cell of the second row may match alone, the merged parent alone, or both together
                texts = []
                for j in range(len(combined)):
                    for t in (combined[j], bottom[j], filled[j]):
                        if t and _norm(t) in amap:
                            texts.append(t)
                            break
                    else:
                        texts.append("")
                candidates.append((i + 1, 2, texts))
            for row_idx, used, texts in candidates:
                mapping = _match_row(texts, amap)
                score = _score(contract, mapping, defaults.get(source, set()))
                if used == 2 and len(mapping) <= max(len(_match_row(scan[i], amap)),
                                                     len(_match_row(scan[i + 1], amap))):
                    continue   # one of the two rows is the whole header (the other is a title or data)
                if best is None or score > best.score + 1e-9:
                    headers = [scan[i][k] if used == 1 else texts[k] for k in range(len(texts))]
                    best = HeaderMatch(source, row_idx, used, mapping, headers, score)
    if best is None or best.score < 1.0:
        return best if best is not None and best.score >= 1.0 else None
    return best


def best_partial_header(rows: list[list], contracts: dict[str, Contract]) -> tuple[str, list[str]] | None:
    """Name the contract a header nearly matches and the required columns it lacks (for a clear error)."""
    best = None
    scan = [_row_texts(r) for r in rows[:HEADER_SCAN_ROWS]]
    for source, contract in contracts.items():
        amap = _alias_map(source, ())
        for texts in scan:
            mapping = _match_row(texts, amap)
            if len(mapping) >= 2 and (best is None or len(mapping) > best[0]):
                missing = [c for c in contract.required if c not in mapping and c not in _column_optional_via(contract)]
                best = (len(mapping), source, missing)
    return (best[1], best[2]) if best else None


# --------------------------------------------------------------------------------------------- rows ---------
_NOTE_WORDS = (
    "catatan", "keterangan", "ket", "nb", "sumber", "sumber data", "mengetahui", "menyetujui", "disetujui",
    "diketahui", "dibuat", "dibuat oleh", "yang membuat", "pembuat daftar", "kepala", "kadis", "plt", "plh",
    "sekretaris", "kabid", "kasi", "kasubag", "nip", "ttd", "tertanda", "an", "a n", "petugas", "operator",
    "pengelola", "bendahara", "camat", "lurah", "pejabat", "dicetak", "tanggal cetak", "tgl cetak",
)
_NOTE_RE = re.compile(r"(?:" + "|".join(sorted(map(re.escape, _NOTE_WORDS), key=len, reverse=True)) + r")(?: |$)",
                      re.ASCII)
_MONTH_WORDS = ("januari|februari|pebruari|maret|april|mei|juni|juli|agustus|september|oktober|november|nopember"
                "|desember|jan|feb|mar|apr|jun|jul|agu|agt|ags|aug|sep|sept|okt|oct|nov|nop|des|dec|may")
_PLACE_DATE_RE = re.compile(rf"[a-z][a-z ]* [0-9]{{1,2}} (?:{_MONTH_WORDS}) [0-9]{{4}}", re.ASCII)
_RULE_RE = re.compile(r"[\s_.\-=*]{3,}")


def _folded(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def is_note_text(text: str) -> bool:
    """Return True for a note or signature-block cell ("Catatan: ...", "Parepare, 2 Mei 2025", "NIP. ...")."""
    f = _folded(text)
    return bool(_NOTE_RE.match(f) or _PLACE_DATE_RE.fullmatch(f) or _RULE_RE.fullmatch(text)
                or (text.startswith("(") and text.endswith(")")))


def _is_column_numbers(texts: list[str]) -> bool:
    """Return True for the "(1) (2) (3) ..." row many templates print under the header."""
    nums = []
    for t in texts:
        m = re.fullmatch(r"\(?([0-9]{1,2})\)?", t)
        if not m:
            return False
        nums.append(int(m[1]))
    return len(nums) >= 3 and nums == list(range(nums[0], nums[0] + len(nums))) and nums[0] in (0, 1)


def _is_blank_row(row: list) -> bool:
    return all(_text(v) is None for v in row)


def _text(v: object) -> str | None:
    """`parsing.cell_text`, with a shortcut for the common clean cell (printable ASCII, nothing to trim)."""
    if type(v) is str and v.isascii() and v.isprintable() and (not v or (v[0] not in " '" and v[-1] != " "
                                                                           and "  " not in v)):
        return v or None
    return parsing.cell_text(v)


def _total_label(t: str | None) -> bool:
    """`parsing.is_total_label`, asked only of texts that could be one."""
    if not t:
        return False
    low = t.lower()
    return ("tot" in low or "jum" in low or "jml" in low) and parsing.is_total_label(t)


_ANY_DELIMITER = re.compile(r"[;,\t|]")


def classify_row(row: list, idx: list[int], header_keys: list[str], width: int = 0) -> tuple[str, list[str | None]]:
    """Classify one row below the header: 'blank', 'total', 'header' (repeated), 'note', 'unsplit' or 'data'.

    Returns the kind and the texts of the mapped cells (in `idx` order). A row is data when at least two mapped
    cells are filled and it is not a total, a repeated header, the column-number row, or a row whose every filled
    cell is a note or signature ("Mengetahui,", "Parepare, 2 Mei 2025", "(Nama Pejabat)", "NIP. ...").
    A row whose only cell holds about as many delimited parts as the header has columns ("4,7372...,Budi,...":
    another delimiter, or a line pasted into one cell) is 'unsplit': a data row that did not split, never a note.
    `width` is the number of header cells.
    """
    all_texts = [_text(v) for v in row]
    filled_all = [t for t in all_texts if t is not None]
    texts = [all_texts[i] if i < len(all_texts) else None for i in idx]
    if not filled_all:
        return "blank", texts
    if any(_total_label(t) for t in all_texts[:3]) or (
        all(t is None or _numeric_text(t) or _total_label(t) for t in texts)
        and any(_total_label(t) for t in filled_all)
    ):
        return "total", texts
    filled = [t for t in texts if t is not None]
    if len(filled) < 2:
        if width >= 4 and len(filled_all) == 1 and len(_ANY_DELIMITER.split(filled_all[0])) >= width - 1:
            return "unsplit", [None] * len(texts)
        return "note", texts
    same = sum(1 for t, h in zip(texts, header_keys, strict=True) if t is not None and h and t.lower() == h)
    if same >= 2 and same * 2 >= len(filled):
        return "header", texts
    if _is_column_numbers(filled_all) or all(is_note_text(t) for t in filled_all):
        return "note", texts
    return "data", texts


def block_from_rows(rows: list[list], sheet: str, header: HeaderMatch, source_row_of=None) -> Block:
    """Turn a sheet's rows (below its header) into data rows, excluding blanks, totals, notes and signatures.

    Number and date cells keep their own value next to their text (`Block.typed`), so the parsers read the cell
    Excel stored, not a rendering of it (a money cell 123.456 is one hundred and twenty-three, not 123456).
    """
    idx = list(header.mapping.values())
    cols = list(header.mapping)
    nik_i = header.mapping.get("nik")
    title = " ".join(t for r in rows[: header.row - header.rows_used + 1] for t in _row_texts(r) if t)
    header_keys = [(header.headers[i] or "").lower() for i in idx]
    width = sum(1 for h in header.headers if h)
    block = Block(header.source, sheet, header.row + 1, dict(header.mapping), header.headers, title)
    for c in cols:
        block.cells[c] = []
    for r_i in range(header.row + 1, len(rows)):
        row = rows[r_i]
        src_row = source_row_of(r_i) if source_row_of else r_i + 1
        kind, texts = classify_row(row, idx, header_keys, width)
        if kind == "blank":
            continue
        if kind == "total":   # number cells stay numbers (a total of 123.456 is not 123456)
            cells = {c: (row[i] if t is not None and not isinstance(row[i], str) else t)
                     for c, i, t in zip(cols, idx, texts, strict=True)}
            block.total_rows.append((src_row, block.n_rows, cells))
            continue
        if kind not in ("data", "unsplit"):
            block.notes_skipped += 1
            continue
        n = block.n_rows
        if kind == "unsplit":
            block.unsplit[n] = next(t for t in map(_text, row) if t is not None)
        block.source_rows.append(src_row)
        for c, i, t in zip(cols, idx, texts, strict=True):
            block.cells[c].append(t)
            if t is not None and not isinstance(row[i], str):
                block.typed.setdefault(c, {})[n] = row[i]
        block.nik_numeric.append(bool(nik_i is not None and nik_i < len(row)
                                      and parsing.nik_cell_is_numeric(row[nik_i])))
    return block


def _numeric_text(t: str) -> bool:
    return bool(re.fullmatch(r"[Rp\s\d.,]+", t))


# --------------------------------------------------------------------------------------------- CSV ----------
def detect_encoding(data: bytes) -> str:
    """Detect UTF-8 (with or without BOM), UTF-16 (BOM) or Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a multi-byte sequence cut at the end of the sample is still UTF-8
        if exc.start >= len(data) - 3 and exc.reason.startswith("unexpected end"):
            return "utf-8"
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def detect_delimiter(lines: list[str]) -> str:
    """Pick the delimiter (; , tab |) that splits the first lines most consistently."""
    best, best_score = ",", -1.0
    sample = [ln for ln in lines if ln.strip()][:30]
    for d in (";", ",", "\t", "|"):
        counts = [len(next(csv.reader([ln], delimiter=d))) for ln in sample] or [1]
        wide = [c for c in counts if c > 1]
        if not wide:
            continue
        mode = max(set(wide), key=wide.count)
        score = wide.count(mode) * mode
        if score > best_score:
            best, best_score = d, score
    return best


def decode_csv(path: Path, raw: bytes | None = None) -> tuple[str, str, str]:
    """Read a CSV's bytes as text; returns (text, encoding, delimiter) or rejects an empty or binary file."""
    raw = path.read_bytes() if raw is None else raw
    if not raw.strip(b"\xef\xbb\xbf \r\n\t"):
        raise FileRejected("FILE_EMPTY")
    encoding = detect_encoding(raw[:1 << 20])
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        encoding = "cp1252"
        text = raw.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t")
    if controls > 8:
        raise FileRejected("FILE_CORRUPT", "binary data, not text")
    delimiter = detect_delimiter(text[:65536].splitlines())
    return text, encoding, delimiter


def split_csv(text: str, delimiter: str, limit: int | None = None) -> tuple[list[list[str]], list[int]]:
    """Split CSV text into records and the physical line each starts on (at most `limit` records)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, lines = [], []
    start = 1
    limit_before = csv.field_size_limit(MAX_CSV_FIELD)   # one huge cell is a row problem, not a broken file
    try:
        for rec in reader:
            rows.append(rec)
            lines.append(start)
            start = reader.line_num + 1
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as exc:
        raise FileRejected("FILE_CORRUPT", f"the CSV cannot be split into fields near line {reader.line_num} ({exc})")
    finally:
        csv.field_size_limit(limit_before)
    return rows, lines


def _split_line(line: str, delimiter: str) -> list[str]:
    """Split one CSV line (with balanced quotes) into its cells, as `split_csv` would."""
    if not line:
        return []
    limit_before = csv.field_size_limit(MAX_CSV_FIELD)
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error as exc:
        raise FileRejected("FILE_CORRUPT", f"the CSV cannot be split into fields ({exc})") from None
    finally:
        csv.field_size_limit(limit_before)


def read_csv_rows(path: Path) -> tuple[list[list[str]], list[int], str, str]:
    """Read a CSV into rows of text with their physical line numbers; returns (rows, lines, encoding, delimiter)."""
    text, encoding, delimiter = decode_csv(path)
    rows, lines = split_csv(text, delimiter)
    return rows, lines, encoding, delimiter


# --------------------------------------------------------------------------------------------- CSV, fast ----
FAST_CSV_MIN_LINES = 2000     # smaller files take the row-by-row path (same result, simpler to follow)
ODD_LINES_ROW_BY_ROW = 1000   # up to this many lines with odd cells (or 2 %) are classified row by row
_CLEAN_CELL = r"^[!-&(-~](?:[ -~]*[!-~])?$"      # printable ASCII, no edge spaces, no leading apostrophe
_NOTE_LINE = (r"(?i)(?:^|{d})[^\pL\pN]*(?:" + "|".join(w.replace(" ", r"[^\pL\pN]+") for w in _NOTE_WORDS)
              + r")(?:[^\pL\pN]|$)|(?:^|{d})[^\pL\pN]*\(|[\s_.\-=*]{{3}}|[A-Za-z],\s*[0-9]{{1,2}}\s+[A-Za-z]+\s+[0-9]{{4}}")
_TOTAL_LINE = r"(?i)total|jumlah|jml"
_SCIENTIFIC = r"(?i)^[+-]?[0-9]+(?:[.,][0-9]+)?\s*e\s*[+-]?[0-9]+$"


def vector_cell_text(arr: pa.Array) -> pa.Array:
    """`parsing.cell_text` of every string in arr (null for a blank cell), computed once per distinct odd value."""
    clean = pc.and_(pc.match_substring_regex(arr, _CLEAN_CELL), pc.invert(pc.match_substring(arr, "  ")))
    clean = pc.fill_null(clean, False)
    odd = pc.filter(arr, pc.and_(pc.invert(clean), pc.fill_null(pc.not_equal(arr, ""), False)))
    if len(odd) == 0:
        return pc.if_else(clean, arr, pa.nulls(len(arr), pa.string()))
    uniq = pc.unique(odd)
    texts = pa.array([parsing.cell_text(v) for v in uniq.to_pylist()], pa.string())
    mapped = texts.take(pc.index_in(arr, value_set=uniq))
    return pc.if_else(clean, arr, mapped)


def np_bools(arr: pa.Array) -> np.ndarray:
    """A boolean Arrow array (null as False) as numpy, from its bitmap (pyarrow's own path imports pandas)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        arr = pc.fill_null(arr, False)
    bits = np.unpackbits(np.frombuffer(arr.buffers()[1], np.uint8), bitorder="little")
    return bits[arr.offset: arr.offset + len(arr)].astype(bool)


def pa_bools(mask: np.ndarray) -> pa.Array:
    """A numpy boolean mask as an Arrow boolean array (no pandas import)."""
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(np.packbits(mask, bitorder="little"))])


def pa_ints(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A numpy int32/int64 array as an Arrow array, null where `valid` is False."""
    values = np.ascontiguousarray(values)
    typ = pa.int64() if values.dtype == np.int64 else pa.int32()
    bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(typ, len(values), [bitmap, pa.py_buffer(values)])


_CSV_PREFIX_BYTES = 65536 * 4     # enough bytes for the 65,536 characters the delimiter is detected on


def _csv_head(raw: bytes) -> tuple[str, bool, str, str] | None:
    """Decode the start of a CSV exactly as `decode_csv` decodes the whole: (head text, whether it is the whole
    text, encoding, delimiter). When the start alone cannot decide, the whole file is decoded as `decode_csv`
    does; None when that rejects it (the exact path then says why).
    """
    blank = b"\xef\xbb\xbf \r\n\t"
    if not raw[:4096].strip(blank) and not raw.strip(blank):     # (the first test spares a copy of a big file)
        return None
    encoding = detect_encoding(raw[:1 << 20])
    if len(raw) > _CSV_PREFIX_BYTES and encoding in ("utf-8", "utf-8-sig", "cp1252", "latin-1"):
        try:
            head = raw[: raw.rfind(b"\n", 0, _CSV_PREFIX_BYTES) + 1].decode(encoding)
        except UnicodeDecodeError:
            head = ""
        if len(head) >= 65536:
            controls = sum(1 for ch in head[:4096] if ord(ch) < 32 and ch not in "\r\n\t")
            if controls > 8:
                return None
            return head, False, encoding, detect_delimiter(head[:65536].splitlines())
    try:
        text, encoding, delimiter = decode_csv(Path(), raw)
    except FileRejected:
        return None
    return text, True, encoding, delimiter


@dataclass
class _FastCsv:
    """A large CSV split into lines below its header (what every part of `fast_csv_parts` reads from)."""

    header: HeaderMatch
    title: str
    lines: pa.Array
    quotes: np.ndarray | None       # quote characters per line (None: the file has none)
    first_line: int                 # the file's line number of lines[0]
    encoding: str
    delimiter: str
    maybe_odd: bool                 # some cell may need cleaning (see _maybe_odd_cells)


def fast_csv_block(raw: bytes, contracts: dict[str, Contract],
                   options: ReadOptions) -> tuple[HeaderMatch, Block, str, str] | None:
    """Read a large CSV's data rows column by column (Arrow), or return None when the file needs the exact path.

    The result is the same as `decode_csv` + `block_from_rows` give: the bytes are split into lines and cells
    in bulk and cleaned per distinct odd value; only lines that could be anything but a plain data row (quoted,
    a total or note word, fewer than two filled cells, a repeated header, column numbers) go through
    `classify_row` one by one. Files with multi-line quoted cells, lone carriage returns, NUL characters or
    bytes that are not valid in their encoding take the exact path. Returns (header, block, encoding, delimiter).
    """
    f = _fast_csv_lines(raw, contracts, options)
    if f is None:
        return None
    return f.header, _fast_csv_part(f, 0, len(f.lines)), f.encoding, f.delimiter


def fast_csv_parts(raw: bytes, contracts: dict[str, Contract], options: ReadOptions, part_lines: int,
                   first_lines: int | None = None) -> tuple[Block, str, str, list[Callable[[], Block]]] | None:
    """`fast_csv_block` in parts of `part_lines` lines (the first of `first_lines`, so that a writer can start
    sooner): each part is read when its function is called, from any thread (so a writer can write one part while
    the next ones are read). Concatenated, the parts are `fast_csv_block`'s block. Returns (the block without its
    rows: header and title, encoding, delimiter, part readers), or None when the file needs the exact path."""
    f = _fast_csv_lines(raw, contracts, options)
    if f is None:
        return None
    n = len(f.lines)
    first = min(n, first_lines or part_lines)
    starts = [0, *range(first, n, part_lines)]
    return _header_block(f), f.encoding, f.delimiter, [functools.partial(_fast_csv_part, f, a, min(n, b))
                                                       for a, b in zip(starts, [*starts[1:], n], strict=True)]


def _header_block(f: _FastCsv) -> Block:
    """The block of a fast-read CSV before any data row is added (header, mapping, title)."""
    h = f.header
    return Block(h.source, "", h.row + 1, dict(h.mapping), h.headers, f.title)


def merge_parts(parts: list[Block], cells: bool = True) -> Block:
    """One block from consecutive parts of the same sheet (`fast_csv_parts`): rows, totals and notes in order,
    each total row's count of rows above it over the whole sheet. `cells=False` leaves the cells out."""
    first = parts[0]
    out = Block(first.source, first.sheet, first.header_row, dict(first.mapping), first.headers, first.title_text)
    offset = 0
    for b in parts:
        out.total_rows += [(row, above + offset, total) for row, above, total in b.total_rows]
        out.unsplit.update({i + offset: t for i, t in b.unsplit.items()})
        out.notes_skipped += b.notes_skipped
        offset += b.n_rows
    out.source_rows = pa.concat_arrays([as_arrow(b.source_rows, pa.int32()) for b in parts])
    out.nik_numeric = pa.concat_arrays([as_arrow(b.nik_numeric, pa.bool_()) for b in parts])
    if cells:
        out.cells = {c: pa.concat_arrays([as_arrow(b.cells[c], pa.string()) for b in parts]) for c in first.cells}
    return out


def as_arrow(values, arrow_type: pa.DataType) -> pa.Array:
    """A list or an Arrow array as an Arrow array of the given type."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(arrow_type) if isinstance(values, pa.Array) else pa.array(values, arrow_type)


def _fast_csv_lines(raw: bytes, contracts: dict[str, Contract], options: ReadOptions) -> _FastCsv | None:
    """Decode and split a large CSV below its header, or None when it needs the exact path."""
    sniffed = _csv_head(raw)
    if sniffed is None:
        return None
    head_text, whole, encoding, delimiter = sniffed
    if encoding in ("utf-8", "utf-8-sig"):
        data = raw
    elif whole:
        data = head_text.encode("utf-8")
    else:
        try:
            data = raw.decode(encoding).encode("utf-8")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    crs = data.count(b"\r") if b"\r" in data else 0
    limit = HEADER_SCAN_ROWS + 2
    head, head_lines = split_csv(head_text, delimiter, limit=limit + 1)
    if len(head) <= limit and not whole:     # the last record read may continue past the decoded start
        return None
    head, head_lines = head[:limit], head_lines[:limit]
    if not any(not _is_blank_row(r) for r in head):
        return None
    header = find_header(head, contracts, options.overrides, options.defaults)
    if header is None or header.row + 1 >= len(head):
        return None
    first_line = head_lines[header.row + 1]
    # lines: pure CRLF files split on CRLF, others on LF (a CRLF among LFs is trimmed); a lone carriage return
    # takes the exact path
    bom = 3 if data.startswith(codecs.BOM_UTF8) else 0
    whole_buffer = pa.Array.from_buffers(pa.large_binary(), 1, [None, pa.py_buffer(np.array([bom, len(data)], np.int64)),
                                                               pa.py_buffer(data)])     # no copy of the bytes
    sep = b"\n"
    if crs:
        lines = pc.split_pattern(whole_buffer, b"\r\n").values
        if len(lines) - 1 != crs:
            return None
        if data.count(b"\n") == crs:
            sep = b"\r\n"
    if sep == b"\n":
        lines = pc.split_pattern(whole_buffer, sep).values
    del whole_buffer
    if len(lines) and data.endswith(sep):
        lines = lines.slice(0, len(lines) - 1)
    lines = lines.slice(first_line - 1)
    # where each line starts in `data` (the split dropped one separator per line)
    line_starts = (np.frombuffer(lines.buffers()[1], np.int64)[lines.offset: lines.offset + len(lines)]
                   + np.arange(lines.offset, lines.offset + len(lines), dtype=np.int64) * len(sep))
    try:
        lines = lines.cast(pa.large_string()).cast(pa.string())     # validates UTF-8
    except (pa.ArrowInvalid, pa.ArrowCapacityError):
        return None
    if crs and sep == b"\n":
        lines = pc.utf8_rtrim(lines, characters="\r")
    quotes = _quotes_per_line(data, lines, bom + line_starts) if b'"' in data else None
    if quotes is not None and (quotes & 1).any():
        return None                 # a quoted cell spans lines (or a stray quote): the exact path decides
    title = " ".join(t for r in head[: header.row - header.rows_used + 1] for t in _row_texts(r) if t)
    return _FastCsv(header, title, lines, quotes, first_line, encoding, delimiter,
                    _maybe_odd_cells(data, delimiter))


QUOTES_FOUND_ONE_BY_ONE = 100_000     # up to this many quote characters are found by a byte search


def _quotes_per_line(data: bytes, lines: pa.Array, starts: np.ndarray) -> np.ndarray:
    """The number of quote characters on each line (`starts`: each line's offset in `data`)."""
    found, find = [], data.find
    pos = find(b'"')
    while pos >= 0:
        if len(found) == QUOTES_FOUND_ONE_BY_ONE:
            return np.asarray(pc.count_substring(lines, '"').to_numpy(zero_copy_only=False), dtype=np.int64)
        found.append(pos)
        pos = find(b'"', pos + 1)
    at = np.array(found, dtype=np.int64)
    line = np.searchsorted(starts, at, side="right") - 1
    line = line[line >= 0]              # quotes above the first data line (the header, the title)
    return np.bincount(line, minlength=len(lines)).astype(np.int64)


def _fast_csv_part(f: _FastCsv, start: int, stop: int) -> Block:
    """The data rows of lines [start, stop) below the header, as `block_from_rows` would give them (row numbers
    are the file's; a total row's count of rows above is within this part)."""
    header, delimiter, lines = f.header, f.delimiter, f.lines.slice(start, stop - start)
    first_line = f.first_line + start
    n = len(lines)
    cols = list(header.mapping)
    idx = list(header.mapping.values())
    header_keys = [(header.headers[i] or "").lower() for i in idx]
    header_width = sum(1 for h in header.headers if h)
    width = max(idx) + 1
    d = re.escape(delimiter)
    quotes = f.quotes[start:stop] if f.quotes is not None else None
    note_or_total = (r"(?i)(?:" + _TOTAL_LINE.removeprefix("(?i)") + ")|(?:"
                     + _NOTE_LINE.format(d=d).removeprefix("(?i)") + rf")|(?:^[\s0-9(){d}\"]*$)")

    odd_cell = rf"[^ -~{d}]|  | {d}|{d} |^ | $|^'|{d}'"
    few = max(ODD_LINES_ROW_BY_ROW, n // 50)

    def line_checks() -> tuple[np.ndarray | None, np.ndarray]:
        """Whole-line scans: lines that might hold an odd cell (not printable ASCII, edge or double spaces, a
        leading apostrophe), and total, note and number-only lines. They run in a second thread while this one
        splits the cells (Arrow releases the GIL). Both kinds are first found in one scan: when they are few,
        every one of them goes row by row anyway, and the two kinds need not be told apart."""
        if not f.maybe_odd:
            return None, np_bools(pc.match_substring_regex(lines, note_or_total))
        either = np_bools(pc.match_substring_regex(lines, f"(?:{odd_cell})|{note_or_total}"))
        if either.sum() <= few:
            return None, either
        return (np_bools(pc.match_substring_regex(lines, odd_cell)),
                np_bools(pc.match_substring_regex(lines, note_or_total)))

    with ThreadPoolExecutor(1) as pool:
        checks = pool.submit(line_checks)
        parts = pc.split_pattern(lines, delimiter, max_splits=width)
        offsets = np.frombuffer(parts.buffers()[1], np.int32)[parts.offset: parts.offset + len(parts) + 1]
        n_parts, starts = np.diff(offsets), offsets[:-1]
        flat = parts.values
        flat_offsets = np.frombuffer(flat.buffers()[1], np.int32)[flat.offset: flat.offset + len(flat) + 1]
        flat_bytes = np.frombuffer(flat.buffers()[2], np.uint8)
        cell_len = np.diff(flat_offsets)
        texts: dict[str, pa.Array] = {}
        present: dict[str, np.ndarray] = {}
        maybe_header: dict[str, np.ndarray] = {}
        for c, i, key in zip(cols, idx, header_keys, strict=True):
            has = n_parts > i
            at = np.where(has, starts + i, 0)
            present[c] = has & (cell_len[at] > 0)
            texts[c] = flat.take(pa_ints(at, present[c]))
            # a repeated header cell has the header's length and first letter (any case): compare only those
            maybe_header[c] = present[c] & (cell_len[at] == len(key.encode("utf-8")))
            if key and key[0].isascii() and key[0].isalpha():
                sel = np.flatnonzero(maybe_header[c])
                maybe_header[c][sel[(flat_bytes[flat_offsets[at[sel]]] | 0x20) != ord(key[0].lower())]] = False
        del parts, flat, flat_bytes     # the split copy of the whole file is not needed any more
        odd_line, marked = checks.result()
    candidate = (quotes > 0) | marked if quotes is not None else marked
    # lines with odd cells: when few they go the row-by-row way (as candidates); when many, their cells are
    # cleaned column-wise
    odd_mask = None
    if odd_line is not None:
        if odd_line.sum() <= few:
            candidate |= odd_line
        else:
            odd_mask = pa_bools(odd_line)
    filled = np.zeros(n, dtype=np.int32)
    for c, key in zip(cols, header_keys, strict=True):
        col = texts[c]
        if odd_mask is not None:
            col = texts[c] = pc.replace_with_mask(col, odd_mask, vector_cell_text(col.filter(odd_mask)))
            present[c] = maybe_header[c] = np_bools(pc.is_valid(col))
        filled += present[c]
        if key and maybe_header[c].any():
            hit = np.zeros(n, dtype=bool)
            hit[np.flatnonzero(maybe_header[c])] = np_bools(
                pc.equal(_lower(col.filter(pa_bools(maybe_header[c]))), pa.scalar(key, pa.string())))
            candidate |= hit
    candidate |= filled < 2
    nik_i = header.mapping.get("nik")
    nik_numeric = (np_bools(pc.match_substring_regex(texts["nik"], _SCIENTIFIC)) if nik_i is not None
                   else np.zeros(n, dtype=bool))
    data_rows = ~candidate
    cand_idx = np.flatnonzero(candidate)
    kinds, replaced, totals, unsplit = [], {c: [] for c in cols}, {}, {}
    for k in cand_idx.tolist():
        line = lines[k].as_py()
        row = _split_line(line, delimiter)
        kind, row_texts = classify_row(row, idx, header_keys, header_width)
        kinds.append(kind)
        if kind == "total":
            totals[k] = dict(zip(cols, row_texts, strict=True))
        elif kind in ("data", "unsplit"):
            if kind == "unsplit":
                unsplit[k] = next(t for t in map(_text, row) if t is not None)
            data_rows[k] = True
            for c, t in zip(cols, row_texts, strict=True):
                replaced[c].append(t)
            nik_numeric[k] = bool(nik_i is not None and nik_i < len(row) and parsing.nik_cell_is_numeric(row[nik_i]))
    cand_data = np.zeros(n, dtype=bool)
    cand_data[cand_idx[[i for i, kd in enumerate(kinds) if kd in ("data", "unsplit")]]] = True
    block = _header_block(f)
    above = np.cumsum(data_rows) - data_rows
    block.unsplit = {int(above[k]): text for k, text in unsplit.items()}
    for k, kind in zip(cand_idx.tolist(), kinds, strict=True):
        if kind == "total":
            block.total_rows.append((first_line + k, int(above[k]), totals[k]))
        elif kind in ("note", "header"):
            block.notes_skipped += 1
    # one take per column: a data line's bulk cells, or (after them) the cells classify_row gave a candidate line
    keep = np.flatnonzero(data_rows).astype(np.int32)
    source = keep.copy()
    source[cand_data[keep]] = n + np.arange(int(cand_data.sum()), dtype=np.int32)
    for c in cols:
        col = texts[c]
        if cand_data.any():
            col = pa.chunked_array([col, pa.array(replaced[c], pa.string())])
        block.cells[c] = col.take(pa_ints(source))
        if isinstance(block.cells[c], pa.ChunkedArray):
            block.cells[c] = block.cells[c].combine_chunks()
    block.source_rows = pa_ints(keep + np.int32(first_line))
    block.nik_numeric = pa_bools(nik_numeric[keep])
    return block


def _lower(arr: pa.Array) -> pa.Array:
    """`utf8_lower`, by `ascii_lower` when every text is ASCII (the same result): Arrow's first `utf8_lower` in a
    process builds its Unicode tables, 0.1 s on a big file's first part."""
    return pc.ascii_lower(arr) if pc.all(pc.string_is_ascii(arr)).as_py() is not False else pc.utf8_lower(arr)


def _maybe_odd_cells(data: bytes, delimiter: str) -> bool:
    """False when no cell of the file can need cleaning: all printable ASCII, no edge or double spaces, no
    apostrophes (cheap whole-buffer checks; a True sends every line through one regex)."""
    d = delimiter.encode()
    if not data.isascii() or data.translate(None, _PRINTABLE + d + b"\r\n"):
        return True
    return (any(p in data for p in (b"  ", b" " + d, d + b" ", b"\n ", b" \n", b" \r", b"'"))
            or data.startswith(b" ") or data.endswith(b" "))


_PRINTABLE = bytes(range(0x20, 0x7F))


# --------------------------------------------------------------------------------------------- workbooks ----
WORKBOOK_TIMEOUT_S = 600
CHILD_EXTRA_MEMORY = 6 << 30     # address space a workbook reader child may add to what the parent already uses


def _sheets_in_process(path: Path, skip_sheets: Sequence[str]) -> list[tuple[str, list[list]]]:
    """Read every visible, not skipped sheet of a workbook as rows of cell values (python-calamine)."""
    skip = {s.lower() for s in skip_sheets}
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except BaseException as exc:  # calamine errors, and pyo3 PanicException (a BaseException)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        msg = str(exc)
        if "password" in msg.lower() or "encrypt" in msg.lower():
            raise FileRejected("FILE_ENCRYPTED") from None
        raise FileRejected("FILE_CORRUPT", msg[:200]) from None
    out = []
    for meta in wb.sheets_metadata:
        name = meta.name
        if name.lower() in skip or str(getattr(meta, "visible", "Visible")).lower().endswith("hidden"):
            continue
        try:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            raise FileRejected("FILE_CORRUPT", f"sheet {name!r}: {str(exc)[:200]}") from None
        out.append((name, rows))
    return out


def _limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (used + CHILD_EXTRA_MEMORY, resource.RLIM_INFINITY))
    except (OSError, ValueError, ImportError):
        pass


def _last_line(path: str) -> str:
    """The last line a child wrote to its captured stderr (shortened), or ''."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 4096))
            lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    firsts = [ln for ln in lines if not ln.startswith(("note:", "stack backtrace", "at "))]
    return (firsts[0] if firsts else "")[:160]


IN_PROCESS_MAX_BYTES = 4 << 20          # an .xlsx up to this size whose cells all lie in a small area ...
IN_PROCESS_MAX_CELLS = 2_000_000        # ... is read in-process: a fork per file cost more than reading it
_XLSX_REFS = re.compile(rb"<(?:\w+:)?(row|c|dimension)\b([^>]*)>")
_XLSX_REF_ATTR = re.compile(rb'\sr(?:ef)?="([A-Z]*)([0-9]*)(?::([A-Z]*)([0-9]*))?"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _small_plain_xlsx(path: Path) -> bool:
    """True when a workbook is a small .xlsx whose every row, cell and dimension reference lies within
    IN_PROCESS_MAX_CELLS (the spreadsheet library allocates the whole used range: a far-away cell aborts it).
    Anything else, or any doubt (an .xls, a cell without a reference, a damaged zip), says False."""
    try:
        if path.suffix.lower() not in (".xlsx", ".xlsm") or path.stat().st_size > IN_PROCESS_MAX_BYTES:
            return False
        with zipfile.ZipFile(path) as zf:
            sheets = [i for i in zf.infolist() if i.filename.startswith("xl/worksheets/") and
                      i.filename.endswith(".xml")]
            if not sheets or sum(i.file_size for i in sheets) > 16 * IN_PROCESS_MAX_BYTES:
                return False
            for info in sheets:
                max_row = max_col = 0
                for tag, attrs in _XLSX_REFS.findall(zf.read(info)):
                    ref = _XLSX_REF_ATTR.search(attrs)
                    if ref is None:
                        if tag == b"dimension":
                            continue
                        return False                    # a position the reader has to infer: be careful
                    for letters, digits in ((ref[1], ref[2]), (ref[3] or b"", ref[4] or b"")):
                        if tag == b"row" and letters:
                            return False
                        if len(letters) > 3 or len(digits) > 7:
                            return False
                        max_col = max(max_col, _column_number(letters) if letters else 0)
                        max_row = max(max_row, int(digits) if digits else 0)
                if max_row * max(max_col, 1) > IN_PROCESS_MAX_CELLS:
                    return False
        return True
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError, NotImplementedError, EOFError):
        return False


def read_workbook(path: Path, skip_sheets: Sequence[str] = ()) -> list[tuple[str, list[list]]]:
    """Read a workbook's sheets in a forked child process, so a damaged file cannot take the loader down.

    The spreadsheet library is native code: a damaged .xls can make it panic, and a stray cell in XFD1048576
    makes it allocate the whole used range and abort the process. In a child (with a memory cap and a time
    limit) either ends as FILE_CORRUPT for this file only. Without fork(), and for a small .xlsx whose cells
    all lie in a small area (`_small_plain_xlsx`), the workbook is read in-process.
    """
    if not hasattr(os, "fork") or _small_plain_xlsx(path):
        return _sheets_in_process(path, skip_sheets)
    fd, tmp = tempfile.mkstemp(prefix="cakupan-workbook-", suffix=".pickle")
    os.close(fd)
    err = tmp + ".stderr"
    done_r, done_w = os.pipe()          # the child holds the write end: EOF on the read end = the child is gone
    try:
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 0
            try:
                os.close(done_r)
                faulthandler.disable()                       # a native abort is expected here, not a bug to dump
                fd_err = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(fd_err, 2)                           # keep the native reader's last words for the detail
                _limit_memory()
                try:
                    result: tuple = ("ok", _sheets_in_process(path, skip_sheets))
                except FileRejected as exc:
                    result = ("rejected", exc.code, exc.detail)
                except BaseException as exc:  # noqa: BLE001
                    result = ("rejected", "FILE_CORRUPT", f"{type(exc).__name__}: {str(exc)[:200]}")
                with open(tmp, "wb") as f:
                    pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                os._exit(code)
        os.close(done_w)
        done_w = -1
        ready, _, _ = select.select([done_r], [], [], WORKBOOK_TIMEOUT_S)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise FileRejected("FILE_CORRUPT", f"reading the workbook took longer than {WORKBOOK_TIMEOUT_S} s")
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) or os.WEXITSTATUS(status) != 0:
            why = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}")
            last = _last_line(err)
            raise FileRejected("FILE_CORRUPT", f"the workbook reader stopped ({why}{': ' + last if last else ''}); "
                               "the file is damaged or its used range is far too large (a stray cell far below or "
                               "right of the data?)")
        with open(tmp, "rb") as f:
            result = pickle.load(f)
    finally:
        for fd_ in (done_r, done_w):
            if fd_ >= 0:
                os.close(fd_)
        for name in (tmp, err):
            try:
                os.unlink(name)
            except OSError:
                pass
    if result[0] == "rejected":
        raise FileRejected(result[1], result[2])
    return result[1]


# --------------------------------------------------------------------------------------------- entry --------
@dataclass
class ReadOptions:
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)   # source -> {header: canonical}
    defaults: dict[str, set[str]] = field(default_factory=dict)          # source -> columns a config default fills
    skip_sheets: tuple[str, ...] = ()


def read_file(path: Path, options: ReadOptions | None = None) -> ReadResult:
    """Read any delivered file into blocks of data rows, or raise FileRejected."""
    options = options or ReadOptions()
    contracts = all_contracts()
    container = check_container(path)
    if container == "csv":
        raw = path.read_bytes()
        if raw.count(b"\n") >= FAST_CSV_MIN_LINES:
            fast = fast_csv_block(raw, contracts, options)
            if fast is not None:
                return ReadResult(path, fast[0].source, [fast[1]], fast[2], fast[3])
        text, encoding, delimiter = decode_csv(path, raw)
        rows, lines = split_csv(text, delimiter)
        if not any(not _is_blank_row(r) for r in rows):
            raise FileRejected("FILE_EMPTY")
        header = find_header(rows, contracts, options.overrides, options.defaults)
        if header is None:
            _raise_no_header(rows, contracts)
        block = block_from_rows(rows, "", header, source_row_of=lambda i: lines[i])
        return ReadResult(path, header.source, [block], encoding, delimiter)

    blocks: list[Block] = []
    sources: set[str] = set()
    unreadable: list[tuple[str, list[list]]] = []
    any_content = False
    for name, rows in read_workbook(path, options.skip_sheets):
        if not any(not _is_blank_row(r) for r in rows):
            continue
        any_content = True
        header = find_header(rows, contracts, options.overrides, options.defaults)
        if header is None:
            unreadable.append((name, rows[:HEADER_SCAN_ROWS]))
            continue
        blocks.append(block_from_rows(rows, name, header))
        sources.add(header.source)
    if not any_content:
        raise FileRejected("FILE_EMPTY")
    if not blocks:
        names = ", ".join(repr(n) for n, _ in unreadable)
        for _, head in unreadable:
            partial = best_partial_header(head, contracts)
            if partial and partial[1]:
                raise FileRejected("HEADER_NOT_FOUND", f"sheet(s) {names}: looks like a {partial[0]} file but lacks "
                                   "required columns: " + ", ".join(partial[1]))
        raise FileRejected("HEADER_NOT_FOUND", f"no sheet has a recognisable header ({names})")
    if len(sources) > 1:
        raise FileRejected("WRONG_KIND", f"sheets of different kinds in one workbook: {sorted(sources)}",
                           column=min(sources), value=max(sources))
    return ReadResult(path, blocks[0].source, blocks, sheets_without_header=[n for n, _ in unreadable])


def _raise_no_header(rows: list[list], contracts: dict[str, Contract]) -> None:
    partial = best_partial_header(rows, contracts)
    if partial and partial[1]:
        raise FileRejected("HEADER_NOT_FOUND", f"looks like a {partial[0]} file but lacks required columns: "
                           + ", ".join(partial[1]))
    raise FileRejected("HEADER_NOT_FOUND")
