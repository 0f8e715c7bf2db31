"""The layout of a sheet: where its header is, which contract it matches, and which rows below it are data.

A row below the header is data unless it is blank, a total or sub-total, a repeated header, the column-number row,
or a note or signature ("Mengetahui,", "Parepare, 2 Mei 2025", "NIP. ..."). Totals are kept aside (the loader
compares them with the rows above); notes are only counted.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from cakupan.core.contracts import Contract, load_contract, normalise_header
from cakupan.ingest import parsing
from cakupan.ingest.readers.blocks import Block, FileRejected

HEADER_SCAN_ROWS = 15


# --------------------------------------------------------------------------------------------- cells --------
def cell_text(v: object) -> str | None:
    """`parsing.cell_text`, with a shortcut for the common clean cell (printable ASCII, nothing to trim)."""
    if type(v) is str and v.isascii() and v.isprintable() and (not v or (v[0] not in " '" and v[-1] != " "
                                                                           and "  " not in v)):
        return v or None
    return parsing.cell_text(v)


def row_texts(row: list) -> list[str]:
    """Every cell of a row as text ('' for a blank cell)."""
    return [cell_text(v) or "" for v in row]


def is_blank_row(row: list) -> bool:
    return all(cell_text(v) is None for v in row)


def title_text(rows: list[list], header: HeaderMatch) -> str:
    """The text above the header (the title block), in reading order."""
    return " ".join(t for r in rows[: header.row - header.rows_used + 1] for t in row_texts(r) if t)


# --------------------------------------------------------------------------------------------- header -------
@dataclass
class HeaderMatch:
    source: str
    row: int                 # 0-based index of the (last) header row
    rows_used: int           # 1 or 2
    mapping: dict[str, int]
    headers: list[str]
    score: float

    def block(self, sheet: str, title: str) -> Block:
        """An empty block for this header (the rows are added by the reader)."""
        return Block(self.source, sheet, self.row + 1, dict(self.mapping), self.headers, title)


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


def _two_row_texts(top: list[str], bottom: list[str]) -> tuple[list[str], list[str], list[str]]:
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


def _two_row_candidate(top: list[str], bottom: list[str], amap: dict[str, str]) -> list[str]:
    """The texts of a two-row header: per column, the combined text, the lower cell or the merged parent,
    whichever the contract knows (a header cell of the second row may match alone, the parent alone, or both)."""
    combined, lower, filled = _two_row_texts(top, bottom)
    texts = []
    for j in range(len(combined)):
        texts.append(next((t for t in (combined[j], lower[j], filled[j]) if t and _norm(t) in amap), ""))
    return texts


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
    scan = [row_texts(r) for r in rows[:HEADER_SCAN_ROWS + 1]]
    for source, contract in contracts.items():
        amap = _alias_map(source, tuple(sorted((overrides.get(source) or {}).items())))
        for i in range(min(HEADER_SCAN_ROWS, len(scan))):
            candidates = [(i, 1, scan[i])]
            if i + 1 < len(scan):
                candidates.append((i + 1, 2, _two_row_candidate(scan[i], scan[i + 1], amap)))
            for row_idx, used, texts in candidates:
                mapping = _match_row(texts, amap)
                score = _score(contract, mapping, defaults.get(source, set()))
                if used == 2 and len(mapping) <= max(len(_match_row(scan[i], amap)),
                                                     len(_match_row(scan[i + 1], amap))):
                    continue   # one of the two rows is the whole header (the other is a title or data)
                if best is None or score > best.score + 1e-9:
                    headers = [scan[i][k] if used == 1 else texts[k] for k in range(len(texts))]
                    best = HeaderMatch(source, row_idx, used, mapping, headers, score)
    return best if best is not None and best.score >= 1.0 else None


def best_partial_header(rows: list[list], contracts: dict[str, Contract]) -> tuple[str, list[str]] | None:
    """Name the contract a header nearly matches and the required columns it lacks (for a clear error)."""
    best = None
    scan = [row_texts(r) for r in rows[:HEADER_SCAN_ROWS]]
    for source, contract in contracts.items():
        amap = _alias_map(source, ())
        for texts in scan:
            mapping = _match_row(texts, amap)
            if len(mapping) >= 2 and (best is None or len(mapping) > best[0]):
                missing = [c for c in contract.required if c not in mapping and c not in _column_optional_via(contract)]
                best = (len(mapping), source, missing)
    return (best[1], best[2]) if best else None


def raise_no_header(rows: list[list], contracts: dict[str, Contract], where: str = "") -> None:
    """Reject a file without a recognisable header, naming the columns a near match lacks."""
    partial = best_partial_header(rows, contracts)
    if partial and partial[1]:
        raise FileRejected("HEADER_NOT_FOUND", f"{where}looks like a {partial[0]} file but lacks required columns: "
                           + ", ".join(partial[1]))


# --------------------------------------------------------------------------------------------- rows ---------
NOTE_WORDS = (
    "catatan", "keterangan", "ket", "nb", "sumber", "sumber data", "mengetahui", "menyetujui", "disetujui",
    "diketahui", "dibuat", "dibuat oleh", "yang membuat", "pembuat daftar", "kepala", "kadis", "plt", "plh",
    "sekretaris", "kabid", "kasi", "kasubag", "nip", "ttd", "tertanda", "an", "a n", "petugas", "operator",
    "pengelola", "bendahara", "camat", "lurah", "pejabat", "dicetak", "tanggal cetak", "tgl cetak",
)
_NOTE_RE = re.compile(r"(?:" + "|".join(sorted(map(re.escape, NOTE_WORDS), key=len, reverse=True)) + r")(?: |$)",
                      re.ASCII)
_MONTH_WORDS = ("januari|februari|pebruari|maret|april|mei|juni|juli|agustus|september|oktober|november|nopember"
                "|desember|jan|feb|mar|apr|jun|jul|agu|agt|ags|aug|sep|sept|okt|oct|nov|nop|des|dec|may")
_PLACE_DATE_RE = re.compile(rf"[a-z][a-z ]* [0-9]{{1,2}} (?:{_MONTH_WORDS}) [0-9]{{4}}", re.ASCII)
_RULE_RE = re.compile(r"[\s_.\-=*]{3,}")
_ANY_DELIMITER = re.compile(r"[;,\t|]")


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


def total_label(t: str | None) -> bool:
    """`parsing.is_total_label`, asked only of texts that could be one."""
    if not t:
        return False
    low = t.lower()
    return ("tot" in low or "jum" in low or "jml" in low) and parsing.is_total_label(t)


def _numeric_text(t: str) -> bool:
    return bool(re.fullmatch(r"[Rp\s\d.,]+", t))


def classify_row(row: list, idx: list[int], header_keys: list[str], width: int = 0) -> tuple[str, list[str | None]]:
    """Classify one row below the header: 'blank', 'total', 'header' (repeated), 'note', 'unsplit' or 'data'.

    Returns the kind and the texts of the mapped cells (in `idx` order). A row is data when at least two mapped
    cells are filled and it is not a total, a repeated header, the column-number row, or a row whose every filled
    cell is a note or signature ("Mengetahui,", "Parepare, 2 Mei 2025", "(Nama Pejabat)", "NIP. ...").
    A row whose only cell holds about as many delimited parts as the header has columns ("4,7372...,Budi,...":
    another delimiter, or a line pasted into one cell) is 'unsplit': a data row that did not split, never a note.
    `width` is the number of header cells.
    """
    all_texts = [cell_text(v) for v in row]
    filled_all = [t for t in all_texts if t is not None]
    texts = [all_texts[i] if i < len(all_texts) else None for i in idx]
    if not filled_all:
        return "blank", texts
    if any(total_label(t) for t in all_texts[:3]) or (
        all(t is None or _numeric_text(t) or total_label(t) for t in texts)
        and any(total_label(t) for t in filled_all)
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


def header_keys(header: HeaderMatch) -> list[str]:
    """The lower-cased header text of each mapped column (a repeated header row matches them)."""
    return [(header.headers[i] or "").lower() for i in header.mapping.values()]


def header_width(header: HeaderMatch) -> int:
    """The number of header cells that are filled."""
    return sum(1 for h in header.headers if h)


def block_from_rows(rows: list[list], sheet: str, header: HeaderMatch, source_row_of=None) -> Block:
    """Turn a sheet's rows (below its header) into data rows, excluding blanks, totals, notes and signatures.

    Number and date cells keep their own value next to their text (`Block.typed`), so the parsers read the cell
    Excel stored, not a rendering of it (a money cell 123.456 is one hundred and twenty-three, not 123456).
    """
    idx = list(header.mapping.values())
    cols = list(header.mapping)
    nik_i = header.mapping.get("nik")
    keys, width = header_keys(header), header_width(header)
    block = header.block(sheet, title_text(rows, header))
    for c in cols:
        block.cells[c] = []
    for r_i in range(header.row + 1, len(rows)):
        row = rows[r_i]
        src_row = source_row_of(r_i) if source_row_of else r_i + 1
        kind, texts = classify_row(row, idx, keys, width)
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
            block.unsplit[n] = next(t for t in map(cell_text, row) if t is not None)
        block.source_rows.append(src_row)
        for c, i, t in zip(cols, idx, texts, strict=True):
            block.cells[c].append(t)
            if t is not None and not isinstance(row[i], str):
                block.typed.setdefault(c, {})[n] = row[i]
        block.nik_numeric.append(bool(nik_i is not None and nik_i < len(row)
                                      and parsing.nik_cell_is_numeric(row[nik_i])))
    return block
