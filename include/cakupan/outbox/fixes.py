"""A rejection workbook sent back: its fixed rows join the delivery they fix.

A workbook of only the fixed rows is a partial delivery. Were it a delivery of its own, the supersede rule
(domain.md: the latest delivery of a period governs) would make every worker of the original delivery vanish. So
a load whose workbook carries `cakupan_fixes_load = M` (written by `cakupan rejections export`) is recorded in
`audit.load_fixes` row by row: each of its rows names the row of load M it replaces ('Lembar asal', 'Baris asal'),
and `delivery_load_id`, the original delivery (M, or the delivery M itself fixed). dbt reads a register or
contributions row's delivery as that original load, so the fixed rows count with the delivery they belong to; a
later full delivery for the period still supersedes both. A row of the fix that loaded marks the original rejected
row "fixed by load N" (`audit.quarantine_rows.fixed_by_load_id` in the published file).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from python_calamine import CalamineWorkbook

from cakupan.core.settings import Settings
from cakupan.outbox.texts import TEXTS_ID
from cakupan.targets import for_settings

_PROPERTY_RE = re.compile(rb'name="cakupan_fixes_load"[^>]*>\s*<vt:(?:i4|i8|r8|lpwstr)>\s*(\d+)\s*<')


def fixes_load_of(path: Path) -> int | None:
    """The load a workbook sent back fixes (its `cakupan_fixes_load` property), or None."""
    try:
        with zipfile.ZipFile(path) as z:
            m = _PROPERTY_RE.search(z.read("docProps/custom.xml"))
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    return int(m.group(1)) if m else None


def _origins(path: Path) -> list[tuple[str, int, str | None, int | None]]:
    """(sheet, row, origin sheet, origin row) of every data row of the workbook's sheets with a 'Baris asal' column."""
    out = []
    wb = CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for h, row in enumerate(rows[:20]):
            texts = [str(c).strip() for c in row]
            if TEXTS_ID["origin_row_header"] in texts:
                i_row = texts.index(TEXTS_ID["origin_row_header"])
                i_sheet = texts.index(TEXTS_ID["origin_sheet_header"]) if TEXTS_ID["origin_sheet_header"] in texts else None
                for n, data in enumerate(rows[h + 1:], start=h + 2):
                    origin = data[i_row] if i_row < len(data) else None
                    try:
                        origin_row = int(float(origin)) if origin not in (None, "") else None
                    except ValueError:
                        origin_row = None
                    o_sheet = data[i_sheet] if i_sheet is not None and i_sheet < len(data) else None
                    out.append((name, n, (str(o_sheet) or None) if o_sheet not in (None, "") else None, origin_row))
                break
    return out


def record_fixes(settings: Settings) -> int:
    """Link every newly loaded workbook that was sent back to the delivery it fixes; return the links made."""
    made = 0
    with for_settings(settings).records() as con:
        todo = con.execute("""
            select load_id, source_file from audit.loads
            where status = 'loaded' and lower(source_file) like '%.xlsx'
              and load_id not in (select load_id from audit.fix_scans) order by load_id""").fetchall()
        for load_id, rel in todo:
            path = settings.inbox / rel
            fixes = fixes_load_of(path) if path.is_file() else None
            if fixes is not None and con.execute("select count(*) from audit.loads where load_id = ? and "
                                                 "status = 'loaded'", [fixes]).fetchone()[0] == 0:
                fixes = None         # names no delivery we loaded: an ordinary delivery
            if fixes is not None:
                root = con.execute("select min(delivery_load_id) from audit.load_fixes where load_id = ?",
                                   [fixes]).fetchone()[0] or fixes
                rejected = {(s or "", r) for s, r in con.execute(
                    "select sheet, source_row from quarantine.rows where load_id = ?", [load_id]).fetchall()}
                for sheet, row, o_sheet, o_row in _origins(path):
                    if o_row is None:
                        continue
                    fixed = (sheet, row) not in rejected
                    links = [(fixes, o_sheet, o_row)]
                    # a fix of a fix: the row also fixes the row of the first delivery its origin replaced
                    links += con.execute("select fixes_load_id, fixes_sheet, fixes_source_row from audit.load_fixes "
                                         "where load_id = ? and coalesce(sheet, '') = coalesce(?, '') and "
                                         "source_row = ?", [fixes, o_sheet, o_row]).fetchall()
                    for f_load, f_sheet, f_row in links:
                        con.execute("insert into audit.load_fixes values (?, ?, ?, ?, ?, ?, ?, ?)",
                                    [load_id, sheet, row, f_load, f_sheet, f_row, root, fixed])
                    made += 1
            con.execute("insert into audit.fix_scans values (?, ?)", [load_id, fixes])
    return made
