"""The personal-data scan the tests run over everything Cakupan publishes, exports, logs or reports.

Written from the definitions (domain.md "Identifiers": a NIK is 16 digits, typed with spaces, dots or hyphens, or
mangled by Excel into a number or scientific notation; NIK, names and birth dates are personal data), and from what
the synthetic generator wrote: its register files are read back here, by the generator's own column layout, for every
person's NIK (as typed), name, birth date (as written: dd-mm-yyyy, dd/mm/yyyy, ISO, an Excel serial) and KPJ. Nothing
here asks Cakupan's code what is personal.

Hex strings of 32 characters or more (pseudonyms, SHA-256 hashes) are what the published file is made of; a digit
run inside one is part of it, not a NIK, and is not reported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

HEX = re.compile(r"[0-9a-fA-F]{32,}")
DIGIT_RUN = re.compile(r"[0-9](?:[ .\-]?[0-9])*")                 # digits with single separators between them
STANDALONE_16 = re.compile(r"(?<![0-9A-Za-z.])[0-9]{16}(?![0-9A-Za-z.])")
SCIENTIFIC = re.compile(r"([0-9])[.,]([0-9]{5,15})[eE]\+?(1[4-6])")
EXCEL_EPOCH = dt.date(1899, 12, 30)


@dataclass
class PersonalData:
    """Every personal value the test inbox holds, in the forms it was delivered."""

    niks: set[str] = field(default_factory=set)          # digits only (15 to 17 of them: mis-typed ones too)
    names: set[str] = field(default_factory=set)
    birth_dates: set[dt.date] = field(default_factory=set)
    kpjs: set[str] = field(default_factory=set)
    literals: set[str] = field(default_factory=set)      # other cells as typed (an unparseable birth date…)

    def merge(self, other: PersonalData) -> PersonalData:
        for f in ("niks", "names", "birth_dates", "kpjs", "literals"):
            getattr(self, f).update(getattr(other, f))
        return self

    def forms_of_dates(self) -> set[str]:
        out = set()
        for d in self.birth_dates:
            out |= {f"{d:%d-%m-%Y}", f"{d:%d/%m/%Y}", d.isoformat(), f"'{(d - EXCEL_EPOCH).days}'"}
        return out


# ------------------------------------------------------------------------------------------ the generator's rows
def _cells_of(path: Path) -> list[list]:
    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
        delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
        return list(csv.reader(io.StringIO(text), delimiter=delimiter))
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return [row for name in wb.sheet_names for row in wb.get_sheet_by_name(name).to_python()]


def _birth(cell) -> dt.date | None:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return EXCEL_EPOCH + dt.timedelta(days=int(cell))
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(str(cell).strip(), fmt).date()
        except ValueError:
            continue
    return None


def from_registers(inbox: Path) -> PersonalData:
    """Every person in the generator's register files under `inbox`, read by the generator's column layout."""
    from cakupan_dev.synth.regency import COL_BIRTH, COL_NAME, COL_NIK, HEADER_CHOICES

    found = PersonalData()
    for path in sorted(inbox.rglob("*")):
        if path.suffix.lower() not in (".csv", ".xlsx", ".xls") or not path.name.startswith("register"):
            continue
        rows = _cells_of(path)
        header = next((i for i, r in enumerate(rows) if len(r) > COL_NAME and str(r[COL_NIK]).strip()
                       in HEADER_CHOICES[COL_NIK] and str(r[COL_NAME]).strip() in HEADER_CHOICES[COL_NAME]), None)
        if header is None:
            continue
        head = [str(c).strip() for c in rows[header]]
        kpj_col = head.index("No KPJ") if "No KPJ" in head else None
        for r in rows[header + 1:]:
            if len(r) <= COL_BIRTH or not str(r[COL_NAME]).strip() or str(r[COL_NIK]).strip() in ("", "None"):
                continue
            nik = r[COL_NIK]
            digits = str(int(nik)) if isinstance(nik, float) else re.sub(r"[^0-9]", "", str(nik))
            if 15 <= len(digits) <= 17:
                found.niks.add(digits)
            found.names.add(str(r[COL_NAME]).strip())
            born = _birth(r[COL_BIRTH])
            if born is not None:
                found.birth_dates.add(born)
            if kpj_col is not None and str(r[kpj_col]).strip():
                found.kpjs.add(str(r[kpj_col]).strip())
    return found


# ------------------------------------------------------------------------------------------ the scan ----------
def _context(text: str, start: int, end: int) -> str:
    return "…" + text[max(0, start - 60):end + 30].replace("\n", " ") + "…"


def find(text: str, people: PersonalData | None = None) -> list[str]:
    """Every personal value in `text`: any standalone 16-digit number, and the given people's NIKs in any form
    (spaces, dots, hyphens, an Excel number or scientific notation), names, birth dates and KPJs."""
    people = people or PersonalData()
    text = HEX.sub(lambda m: "#" * len(m.group(0)), text)        # pseudonyms and hashes: not personal data
    hits = [f"a 16-digit number {_context(text, m.start(), m.end())}" for m in STANDALONE_16.finditer(text)]
    prefixes = {n[:15] for n in people.niks}
    for m in DIGIT_RUN.finditer(text):
        digits = re.sub(r"[^0-9]", "", m.group(0))
        if len(digits) >= 15 and (any(n in digits for n in people.niks) or any(p in digits for p in prefixes)):
            hits.append(f"a NIK {_context(text, m.start(), m.end())}")
        elif people.kpjs and any(k == digits for k in people.kpjs):
            hits.append(f"a KPJ {_context(text, m.start(), m.end())}")
    for m in SCIENTIFIC.finditer(text):
        mantissa = m.group(1) + m.group(2)
        if any(n.startswith(mantissa) for n in people.niks) and len(mantissa) >= 12:
            hits.append(f"a NIK in scientific notation {_context(text, m.start(), m.end())}")
    for name in people.names:
        if len(name) >= 4:
            for m in re.finditer(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", text):
                hits.append(f"the name {name!r} {_context(text, m.start(), m.end())}")
    for form in people.forms_of_dates() | people.literals:
        i = text.find(form)
        if i >= 0:
            hits.append(f"{form!r} {_context(text, i, i + len(form))}")
    return hits


def scan(named_texts: Iterable[tuple[str, str]], people: PersonalData) -> list[str]:
    """`find` over (where, text) pairs; each hit says where."""
    return [f"{where}: {hit}" for where, text in named_texts for hit in find(text, people)]


def published_texts(db: Path) -> list[tuple[str, str]]:
    """Every table of a published DuckDB file, each value as text, one text per table."""
    import duckdb

    out = []
    with duckdb.connect(str(db), read_only=True) as con:
        for schema, table in con.execute("select table_schema, table_name from information_schema.tables").fetchall():
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            out.append((f"{db.name} {schema}.{table}", "\n".join("\t".join("" if v is None else str(v) for v in r)
                                                                   for r in rows)))
    return out


def file_texts(folder: Path) -> list[tuple[str, str]]:
    """Every file under a folder, as text."""
    return [(str(p), p.read_text(encoding="utf-8", errors="replace")) for p in sorted(folder.rglob("*")) if p.is_file()]
