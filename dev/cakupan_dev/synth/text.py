"""Dates, months and money as Indonesian clerks write them, and the CSV files they save."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)
WEEKDAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_EXCEL_EPOCH = date(1899, 12, 30)


def id_date(d: date) -> str:
    return f"{d.day} {MONTHS_ID[d.month - 1]} {d.year}"


def rupiah(n: int, style: str) -> str:
    """Indonesian money text: style "dots" → "16.800", "rp" → "Rp 16.800,00"."""
    s = f"{n:,}".replace(",", ".")
    return f"Rp {s},00" if style == "rp" else s


def fmt_date(d: date, style: str) -> str:
    if style == "dmy-":
        return f"{d.day:02d}-{d.month:02d}-{d.year:04d}"
    if style == "dmy/":
        return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"
    return d.isoformat()


def excel_serial(d: date) -> int:
    return (d - _EXCEL_EPOCH).days


def dots(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def write_csv(path: Path, rows: Iterable[Sequence], delimiter: str, bom: bool) -> None:
    """Write rows (the header first) as a UTF-8 CSV file, with or without a byte-order mark."""
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        csv.writer(f, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL).writerows(rows)
