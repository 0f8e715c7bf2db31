"""Readers: open a delivered file (CSV, XLSX, XLS), find its header, and return its data rows as text cells.

A reader never decides whether a row is valid; it decides only which rows are data (not title, header, blank,
total, notes or signatures), keeps each data row's sheet and source row number, and keeps every mapped cell's
text. Problems with the whole file raise `FileRejected` with a registered reason code.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from python_calamine import CalamineWorkbook

from cakupan import parsing
from cakupan.contracts import Contract, all_contracts, normalise_header

HEADER_SCAN_ROWS = 15
MAX_CELL_CHARS = 1000
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


@dataclass
class Block:
    """The data rows of one sheet (or one CSV), mapped to a source contract."""

    source: str
    sheet: str
    header_row: int
    mapping: dict[str, int]                       # canonical column -> 0-based column index
    headers: list[str]                            # header texts as written
    title_text: str                               # text above the header (title block)
    rows: list[tuple[int, list[str | None]]]      # (1-based source row, cell texts in `columns` order)
    nik_numeric: list[bool] = field(default_factory=list)   # per row: the NIK cell was a number in Excel
    total_rows: list[tuple[int, dict[str, str | None]]] = field(default_factory=list)
    notes_skipped: int = 0

    @property
    def columns(self) -> list[str]:
        return list(self.mapping)


@dataclass
class ReadResult:
    path: Path
    source: str
    blocks: list[Block]
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def rows_in(self) -> int:
        return sum(len(b.rows) for b in self.blocks)


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
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
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
    return [parsing.cell_text(v) or "" for v in row]


def _match_row(texts: list[str], amap: dict[str, str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for i, t in enumerate(texts):
        canon = amap.get(normalise_header(t)) if t else None
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
        amap = contract.alias_map(overrides.get(source))
        for i in range(min(HEADER_SCAN_ROWS, len(scan))):
            candidates = [(i, 1, scan[i])]
            if i + 1 < len(scan):
                combined, bottom, filled = _two_row_texts(scan[i], scan[i + 1])
                # a header cell of the second row may match alone, the merged parent alone, or both together
                texts = []
                for j in range(len(combined)):
                    for t in (combined[j], bottom[j], filled[j]):
                        if t and normalise_header(t) in amap:
                            texts.append(t)
                            break
                    else:
                        texts.append("")
                candidates.append((i + 1, 2, texts))
            for row_idx, used, texts in candidates:
                mapping = _match_row(texts, amap)
                score = _score(contract, mapping, defaults.get(source, set()))
                if used == 2 and len(mapping) <= len(_match_row(scan[i], amap)):
                    continue   # the second row adds nothing: it is data, not a header
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
        amap = contract.alias_map()
        for texts in scan:
            mapping = _match_row(texts, amap)
            if len(mapping) >= 2 and (best is None or len(mapping) > best[0]):
                missing = [c for c in contract.required if c not in mapping and c not in _column_optional_via(contract)]
                best = (len(mapping), source, missing)
    return (best[1], best[2]) if best else None


# --------------------------------------------------------------------------------------------- rows ---------
def _is_blank_row(row: list) -> bool:
    return all(parsing.is_blank(v) for v in row)


def block_from_rows(rows: list[list], sheet: str, header: HeaderMatch, source_row_of=None) -> Block:
    """Turn a sheet's rows (below its header) into data rows, excluding blanks, totals, notes and signatures."""
    idx = list(header.mapping.values())
    cols = list(header.mapping)
    nik_i = header.mapping.get("nik")
    title = " ".join(t for r in rows[: header.row - header.rows_used + 1] for t in _row_texts(r) if t)
    block = Block(header.source, sheet, header.row + 1, dict(header.mapping), header.headers, title, [])
    after_total = False
    for r_i in range(header.row + 1, len(rows)):
        row = rows[r_i]
        src_row = source_row_of(r_i) if source_row_of else r_i + 1
        if _is_blank_row(row):
            continue
        texts = [parsing.cell_text(row[i]) if i < len(row) else None for i in idx]
        first_cells = [parsing.cell_text(v) for v in row[:3]]
        if any(t and parsing.is_total_label(t) for t in first_cells) or (
            texts and all(t is None or parsing.is_total_label(t) or _numeric_text(t) for t in texts)
            and any(t and parsing.is_total_label(t) for t in _row_texts(row))
        ):
            block.total_rows.append((src_row, dict(zip(cols, texts))))
            after_total = True
            continue
        filled = sum(1 for t in texts if t)
        if after_total or filled < 2:
            block.notes_skipped += 1
            continue
        block.rows.append((src_row, texts))
        block.nik_numeric.append(bool(nik_i is not None and nik_i < len(row) and parsing.nik_cell_is_numeric(row[nik_i])))
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


def read_csv_rows(path: Path) -> tuple[list[list[str]], list[int], str, str]:
    """Read a CSV into rows of text with their physical line numbers; returns (rows, lines, encoding, delimiter)."""
    raw = path.read_bytes()
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
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, lines = [], []
    start = 1
    try:
        for rec in reader:
            rows.append(rec)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileRejected("FILE_CORRUPT", f"the CSV cannot be split into fields near line {reader.line_num} ({exc})")
    return rows, lines, encoding, delimiter


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
        rows, lines, encoding, delimiter = read_csv_rows(path)
        if not any(not _is_blank_row(r) for r in rows):
            raise FileRejected("FILE_EMPTY")
        header = find_header(rows, contracts, options.overrides, options.defaults)
        if header is None:
            _raise_no_header(rows, contracts)
        block = block_from_rows(rows, "", header, source_row_of=lambda i: lines[i])
        return ReadResult(path, header.source, [block], encoding, delimiter)

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for every damaged container
        msg = str(exc)
        if "password" in msg.lower() or "encrypt" in msg.lower():
            raise FileRejected("FILE_ENCRYPTED") from None
        raise FileRejected("FILE_CORRUPT", msg[:200]) from None
    blocks: list[Block] = []
    sources: set[str] = set()
    unreadable: list[str] = []
    any_content = False
    skip = {s.lower() for s in options.skip_sheets}
    for meta in wb.sheets_metadata:
        name = meta.name
        if name.lower() in skip or str(getattr(meta, "visible", "Visible")).lower().endswith("hidden"):
            continue
        try:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:
            raise FileRejected("FILE_CORRUPT", f"sheet {name!r}: {str(exc)[:200]}") from None
        if not any(not _is_blank_row(r) for r in rows):
            continue
        any_content = True
        header = find_header(rows, contracts, options.overrides, options.defaults)
        if header is None:
            unreadable.append(name)
            continue
        blocks.append(block_from_rows(rows, name, header))
        sources.add(header.source)
    if not any_content:
        raise FileRejected("FILE_EMPTY")
    if not blocks:
        raise FileRejected("HEADER_NOT_FOUND", f"no sheet has a recognisable header ({', '.join(unreadable)})")
    if len(sources) > 1:
        raise FileRejected("WRONG_KIND", f"sheets of different kinds in one workbook: {sorted(sources)}",
                           column=sorted(sources)[0], value=sorted(sources)[1])
    return ReadResult(path, blocks[0].source, blocks)


def _raise_no_header(rows: list[list], contracts: dict[str, Contract]) -> None:
    partial = best_partial_header(rows, contracts)
    if partial and partial[1]:
        raise FileRejected("HEADER_NOT_FOUND", f"looks like a {partial[0]} file but lacks required columns: "
                           + ", ".join(partial[1]))
    raise FileRejected("HEADER_NOT_FOUND")
