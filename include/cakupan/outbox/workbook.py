"""`cakupan rejections export`: for every delivered file with rejected rows, a workbook in `outbox/<regency>/`.

The workbook holds the rejected rows exactly as delivered (each cell's text, the NIK as text, the file's own column
labels in their order), the offending cells highlighted, the reason in Bahasa Indonesia, and the sheet and row each
came from; a second sheet sums the delivery up. It carries personal data: it is written only into that regency's
outbox folder (mode 0700, the file 0600), never into the published file, the report or a log line.

The clerk fixes the rows and puts the workbook back into the inbox: its document property `cakupan_fixes_load`
names the load it fixes, and `fixes.record_fixes` joins the fixed rows to that delivery (docs: README "Rejected rows
back to the regency").
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

from cakupan.core.config import load_regencies
from cakupan.core.contracts import load_contract, normalise_header
from cakupan.core.settings import Settings
from cakupan.ingest.programflags import flag_columns, programs_column
from cakupan.outbox.fixes import record_fixes
from cakupan.outbox.texts import MONTHS_ID, TEXTS_ID, reason_id
from cakupan.targets import for_settings

FIXES_PROPERTY = "cakupan_fixes_load"
HIGHLIGHT = "#FFC7CE"      # Excel's "bad" red fill: the cells to change


def outbox_root(settings: Settings) -> Path:
    """The outbox: one folder per regency (its inbox folder name), beside the inbox, never published."""
    return settings.home / "outbox"


@dataclass
class RejectedRow:
    sheet: str | None
    source_row: int
    cells: dict[str, str | None]          # header as written -> text as delivered, in the file's column order
    problems: list[dict]                  # [{column, code}]


@dataclass
class Delivery:
    load_id: int
    source: str
    regency_code: str
    source_file: str
    file_name: str
    received_at: dt.datetime | None
    period: dt.date | None
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows: list[RejectedRow] = field(default_factory=list)


def pending_rejections(settings: Settings, regency: str | None = None) -> list[Delivery]:
    """Every loaded delivery with rejected rows no workbook sent back has answered (fixed, or owed again by that
    workbook's own load), with those rows (raw zone)."""
    where = "and l.regency_code = ?" if regency else ""
    with for_settings(settings).records() as con:
        fixed = ("and not exists (select 1 from audit.load_fixes f where f.fixes_load_id = q.load_id "
                 "and coalesce(f.fixes_sheet, '') = coalesce(q.sheet, '') and f.fixes_source_row = q.source_row)")
        rows = con.execute(f"""
            select l.load_id, l.source, l.regency_code, l.source_file, l.file_name, l.received_at, l.period,
                   l.rows_in, l.rows_loaded, l.rows_quarantined, q.sheet, q.source_row,
                   cast(q.raw_cells as varchar), cast(q.reasons as varchar)
            from audit.loads l join quarantine.rows q on q.load_id = l.load_id
            where l.status = 'loaded' {where} {fixed}
            order by l.load_id, q.sheet, q.source_row""", [regency] if regency else []).fetchall()
    out: dict[int, Delivery] = {}
    for r in rows:
        d = out.get(r[0]) or out.setdefault(r[0], Delivery(*r[:10]))
        d.rows.append(RejectedRow(r[10], r[11], json.loads(r[12]) if r[12] else {},
                                  json.loads(r[13]) if r[13] else []))
    return list(out.values())


def export_rejections(settings: Settings, regency: str | None = None) -> list[Path]:
    """Write one workbook per delivery with unfixed rejected rows into its regency's outbox; remove the workbook of a
    delivery whose rows are all fixed since. Return the workbooks written."""
    record_fixes(settings)          # workbooks sent back since: their rows are answered
    regencies = load_regencies(settings.config_dir)
    deliveries = pending_rejections(settings, regency)
    written = []
    root = outbox_root(settings)
    wanted: dict[Path, set[str]] = {}
    for d in deliveries:
        reg = regencies.get(d.regency_code)
        folder = root / (reg.inbox if reg else d.regency_code)
        _private_dir(root)
        _private_dir(folder)
        path = folder / workbook_name(d)
        _write_private(path, render(d, reg.name if reg else d.regency_code))
        written.append(path)
        wanted.setdefault(folder, set()).add(path.name)
    # a workbook whose rows were all fixed since is no longer owed to the clerk
    for folder in ([root / (r.inbox) for r in regencies.values() if not regency or r.code == regency]):
        if folder.is_dir():
            for old in folder.glob("perbaikan-*.xlsx"):
                if old.name not in wanted.get(folder, set()):
                    old.unlink()
    return written


def workbook_name(d: Delivery) -> str:
    period = f"{d.period:%Y-%m}-" if d.period else ""
    return f"perbaikan-{d.source}-{period}muatan-{d.load_id}.xlsx"


def _private_dir(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)


def _write_private(path: Path, data: bytes) -> None:
    """Write the bytes to a 0600 file beside the target, then rename it over the target (never a half file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _labels(d: Delivery) -> list[str]:
    """The column labels as written, in the file's order (the first rejected row's; other sheets' extra labels after)."""
    labels: list[str] = []
    for row in d.rows:
        for k in row.cells:
            if k not in labels:
                labels.append(k)
    return labels


def _label_of(source: str, labels: list[str]) -> dict[str, str]:
    """Contract column -> the header as written that holds it ('Header [column]' for a repeated header)."""
    amap = load_contract(source).alias_map()
    out = {}
    for label in labels:
        if label.endswith("]") and " [" in label:
            out.setdefault(label.rsplit(" [", 1)[1][:-1], label)
            continue
        col = amap.get(normalise_header(label))
        if col:
            out.setdefault(col, label)
    return out


def _flag_labels(source: str, labels: list[str], by_column: dict[str, str]) -> dict[str, list[str]]:
    """The contract's programs column -> the headers of the flag columns that stood in for it (a register with a
    column per program, `cakupan.ingest.programflags`), when no header holds the programs themselves."""
    column = programs_column(load_contract(source))
    if column is None or column in by_column:
        return {}
    found = flag_columns([[label] for label in labels], set())
    return {column: [labels[j] for j in found.values()]} if found else {}


def render(d: Delivery, regency_name: str) -> bytes:
    """The workbook's bytes: the rejected rows sheet, then the summary sheet."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    wb.set_custom_property(FIXES_PROPERTY, int(d.load_id))
    wb.set_custom_property("cakupan_source", d.source)
    wb.set_properties({"title": f"Perbaikan {d.file_name}", "comments": TEXTS_ID["summary_personal"]})
    text = wb.add_format({"num_format": "@"})
    bad = wb.add_format({"num_format": "@", "bg_color": HIGHLIGHT, "border": 1})
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    ws = wb.add_worksheet(TEXTS_ID["rows_sheet"])
    period = f"{MONTHS_ID[d.period.month - 1]} {d.period.year}" if d.period else "-"
    ws.write_string(0, 0, TEXTS_ID["title"].format(source_name=TEXTS_ID.get(f"source_{d.source}", d.source.upper()),
                                                   regency=regency_name.upper(), period=period), bold)
    ws.write_string(1, 0, TEXTS_ID["instructions"])
    labels = _labels(d)
    by_column = _label_of(d.source, labels)
    flags = _flag_labels(d.source, labels, by_column)
    header = 3
    extra = [TEXTS_ID["reason_header"], TEXTS_ID["origin_sheet_header"], TEXTS_ID["origin_row_header"]]
    for i, label in enumerate(labels + extra):
        ws.write_string(header, i, label, head)
        ws.set_column(i, i, max(12, min(40, len(label) + 4)), text)
    for n, row in enumerate(d.rows, start=header + 1):
        columns = {c for p in row.problems for c in str(p.get("column") or "").split("/")}
        marked = {by_column.get(c, c) for c in columns} | {f for c in columns for f in flags.get(c, ())}
        if any(p.get("column") == "(row)" for p in row.problems):
            marked |= set(labels)
        for i, label in enumerate(labels):
            value = row.cells.get(label)
            fmt = bad if label in marked else text
            if value is None:
                ws.write_blank(n, i, None, fmt)
            else:
                ws.write_string(n, i, str(value), fmt)
        reasons = []
        for p in row.problems:
            col = str(p.get("column") or "")
            label = by_column.get(col, col)
            # (the value a rule quoted where no one cell holds it: a register's programs as its flag columns)
            value = row.cells.get(label) if label in row.cells else p.get("value")
            reasons.append(reason_id(p.get("code", ""), label, value))
        ws.write_string(n, len(labels), "; ".join(dict.fromkeys(reasons)))
        ws.write_string(n, len(labels) + 1, row.sheet or "")
        ws.write_number(n, len(labels) + 2, row.source_row)
    ws.set_column(len(labels), len(labels), 60)
    ws.freeze_panes(header + 1, 0)
    _summary(wb, d, bold)
    wb.close()
    return buf.getvalue()


def _summary(wb, d: Delivery, bold) -> None:
    ws = wb.add_worksheet(TEXTS_ID["summary_sheet"])
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    pairs = [("summary_file", d.file_name), ("summary_load", d.load_id), ("summary_received", d.received_at),
             ("summary_period", f"{MONTHS_ID[d.period.month - 1].title()} {d.period.year}" if d.period else "-"),
             ("summary_rows_in", d.rows_in), ("summary_loaded", d.rows_loaded),
             ("summary_rejected", d.rows_quarantined)]
    for i, (key, value) in enumerate(pairs):
        ws.write_string(i, 0, TEXTS_ID[key], bold)
        if isinstance(value, dt.datetime):
            ws.write_datetime(i, 1, value, date_fmt)
        elif isinstance(value, int):
            ws.write_number(i, 1, value)
        else:
            ws.write_string(i, 1, "" if value is None else str(value))
    counts: dict[str, int] = {}
    for row in d.rows:
        for code in dict.fromkeys(p.get("code") for p in row.problems):
            counts[code] = counts.get(code, 0) + 1
    r = len(pairs) + 1
    ws.write_string(r, 0, TEXTS_ID["summary_by_reason"], bold)
    ws.write_string(r + 1, 0, TEXTS_ID["summary_reason_code"], bold)
    ws.write_string(r + 1, 1, TEXTS_ID["summary_reason_text"], bold)
    ws.write_string(r + 1, 2, TEXTS_ID["summary_count"], bold)
    for i, (code, n) in enumerate(sorted(counts.items()), start=r + 2):
        ws.write_string(i, 0, code)
        ws.write_string(i, 1, reason_id(code, "", "").replace("''", "").replace("  ", " "))
        ws.write_number(i, 2, n)
    ws.write_string(r + 3 + len(counts), 0, TEXTS_ID["summary_personal"])
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 70)
