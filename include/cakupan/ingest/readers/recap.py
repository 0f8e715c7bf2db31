"""Contributions in the wide recap layout: one column per month ("Jan ... Des"), one row per figure ("Jumlah
Peserta", "Tagihan", "Dibayar"), turned into one row per month in the contributions contract's columns.

A sheet is a recap when one of its first HEADER_SCAN_ROWS rows names at least three consecutive months and rows
below it are labelled with the participants, billed and paid figures. The year comes from the month cells
("Jan 2025") or the title; the regency and the funding source from the title ("KOTA PAREPARE", "Sumber Dana :
APBD"). Each month's row points at the sheet row of the recap's first figure (its cells say which month).
"""

from __future__ import annotations

import re

from cakupan.ingest.readers.cells import row_texts
from cakupan.ingest.readers.header import HEADER_SCAN_ROWS
from cakupan.ingest.readers.labels import labels_for

MONTHS = {
    "jan": 1, "januari": 1, "feb": 2, "februari": 2, "pebruari": 2, "peb": 2, "mar": 3, "maret": 3, "apr": 4,
    "april": 4, "mei": 5, "may": 5, "jun": 6, "juni": 6, "jul": 7, "juli": 7, "agu": 8, "agt": 8, "ags": 8,
    "agustus": 8, "aug": 8, "sep": 9, "sept": 9, "september": 9, "okt": 10, "oktober": 10, "oct": 10, "nov": 11,
    "november": 11, "nopember": 11, "des": 12, "desember": 12, "dec": 12,
}
FIGURES = ("participants_billed", "amount_billed", "amount_paid")
RECAP_HEADER = ["Bulan", "Kab/Kota", "Sumber Dana", "Jumlah Peserta", "Jumlah Tagihan", "Jumlah Dibayar"]
_MONTH_CELL = re.compile(r"([a-z]+)\.?(?:\s*[-/']?\s*(\d{2}|\d{4}))?")
_YEAR = re.compile(r"\b(20\d\d)\b")
_REGENCY = re.compile(r"\b((?:kota|kabupaten|kab\.?)\s+[a-z][a-z ]{2,30}?)(?=\s+(?:bulan|tahun|periode|th|sumber)\b|"
                      r"\s*[\d,.:;(-]|$)", re.IGNORECASE)
_FUNDING = re.compile(r"sumber\s+(?:dana|pembiayaan)\s*:?\s*([a-z][a-z ]{1,20}?)(?=\s*(?:[\d,.;(-]|tahun|$))",
                      re.IGNORECASE)
_FUNDING_WORD = re.compile(r"\b(APBD|APBN|APBDes|CSR|DBHCHT|Dana Desa|BAZNAS)\b", re.IGNORECASE)


def _month(text: str) -> tuple[int, int | None] | None:
    m = _MONTH_CELL.fullmatch(text.strip().lower())
    if not m or m[1] not in MONTHS:
        return None
    year = int(m[2]) + (2000 if len(m[2]) == 2 else 0) if m[2] else None
    return MONTHS[m[1]], year


def recap_rows(rows: list[list]) -> tuple[list[list], list[int]] | None:
    """The recap as rows of the contributions contract (a header row, then one row per month) and the 0-based
    sheet row of each, or None when the sheet is not a recap."""
    scan = [row_texts(r) for r in rows[:HEADER_SCAN_ROWS]]
    labels = labels_for("contributions")
    for h, texts in enumerate(scan):
        months = {j: m for j, t in enumerate(texts) if t and (m := _month(t))}
        if len(months) < 3 or [m[0] for m in months.values()] != sorted(m[0] for m in months.values()):
            continue
        first_col = min(months)
        figures: dict[str, int] = {}
        for r in range(h + 1, min(len(rows), h + 12)):
            label = " ".join(t for t in row_texts(rows[r])[:first_col] if t and not t.strip("().").isdigit())
            col = labels.match(label).column if label else None
            if col in FIGURES and col not in figures:
                figures[col] = r
        if len(figures) < len(FIGURES):
            continue
        title = " ".join(t for row in scan[:h] for t in row if t)
        years = [m[1] for m in months.values() if m[1]] or [int(y) for y in _YEAR.findall(title)[:1]]
        if not years:
            continue
        lines = [" ".join(t for t in row if t) for row in scan[:h]]
        regency = next((m for line in lines if (m := _REGENCY.search(line))), None)
        funding = next((m for line in lines if (m := _FUNDING.search(line) or _FUNDING_WORD.search(line))), None)
        out = [list(r) for r in rows[:h]] + [list(RECAP_HEADER)]
        where = list(range(h)) + [h]
        first_figure = min(figures.values())
        for j, (month, year) in sorted(months.items()):
            values = [rows[figures[c]][j] if j < len(rows[figures[c]]) else None for c in FIGURES]
            if all(v is None or v == "" for v in values):
                continue                      # a month not reached yet
            out.append([f"{year or years[0]}-{month:02d}", regency[1].strip() if regency else None,
                        funding[1].strip() if funding else None, *values])
            where.append(first_figure)
        return out, where
    return None
