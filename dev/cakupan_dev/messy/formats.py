"""Files built in memory, byte-for-byte deterministic: XLSX, old BIFF8 XLS, CSV in any encoding, and the
OLE2 container of a password-protected workbook.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import struct
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import xlsxwriter
import xlwt

FIXED_TIME = dt.datetime(2025, 1, 1)


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


_ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
           'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
           'xmlns:fo="urn:oasis:names:tc:xsl-fo:xmlns:xsl-fo-compatible:1.0" '
           'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"')


def ods_bytes(sheets: Sequence[Sheet]) -> bytes:
    """Write sheets to an OpenDocument spreadsheet (.ods, as LibreOffice saves one): the zip with its `mimetype`
    first and stored, a manifest and content.xml; merged ranges as spanned cells over covered cells."""
    import zipfile
    from xml.sax.saxutils import escape, quoteattr

    body = []
    for sh in sheets:
        spans = {(r1, c1): (r2 - r1 + 1, c2 - c1 + 1, v) for r1, c1, r2, c2, v in sh.merges}
        covered = {(r, c) for r1, c1, r2, c2, _ in sh.merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
                   if (r, c) != (r1, c1)}
        n_rows = max([len(sh.rows)] + [r2 + 1 for _, _, r2, _, _ in sh.merges])
        width = max([len(r) for r in sh.rows] + [c2 + 1 for _, _, _, c2, _ in sh.merges] + [1])
        style = ' table:style-name="hid"' if sh.hidden else ""
        body.append(f"<table:table table:name={quoteattr(sh.name)}{style}>"
                    f'<table:table-column table:number-columns-repeated="{width}"/>')
        rows_xml = []
        for r in range(n_rows):
            row = sh.rows[r] if r < len(sh.rows) else []
            cells = []
            for c in range(width):
                if (r, c) in covered:
                    cells.append("<table:covered-table-cell/>")
                    continue
                v = row[c] if c < len(row) else None
                attrs = ""
                if (r, c) in spans:
                    nr, nc, v = spans[(r, c)]
                    attrs = f' table:number-rows-spanned="{nr}" table:number-columns-spanned="{nc}"'
                cells.append(_ods_cell(v, attrs, escape))
            rows_xml.append("<table:table-row>" + "".join(_ods_runs(cells, "table:number-columns-repeated"))
                            + "</table:table-row>")
        body.extend(_ods_runs(rows_xml, "table:number-rows-repeated"))
        body.append("</table:table>")
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} office:version="1.2">'
               '<office:automatic-styles><style:style style:name="hid" style:family="table">'
               '<style:table-properties table:display="false"/></style:style></office:automatic-styles>'
               "<office:body><office:spreadsheet>" + "".join(body)
               + "</office:spreadsheet></office:body></office:document-content>")
    manifest = (f'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest {_ODS_NS} manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    buf = io.BytesIO()
    stamp = (2025, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype", stamp), "application/vnd.oasis.opendocument.spreadsheet",
                   compress_type=zipfile.ZIP_STORED)
        for name, text in (("META-INF/manifest.xml", manifest), ("content.xml", content)):
            z.writestr(zipfile.ZipInfo(name, stamp), text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _ods_runs(elements: list[str], attr: str) -> list[str]:
    """Equal neighbours written once with a repeat count, as LibreOffice writes blank stretches and covered cells
    (`<table:table-cell table:number-columns-repeated="5"/>`, a run of equal rows with number-rows-repeated)."""
    out: list[str] = []
    i = 0
    while i < len(elements):
        j = i
        while j + 1 < len(elements) and elements[j + 1] == elements[i]:
            j += 1
        e = elements[i]
        if j > i:
            tag_end = len(e.split(">", 1)[0]) - (1 if e.split(">", 1)[0].endswith("/") else 0)
            e = f'{e[:tag_end]} {attr}="{j - i + 1}"{e[tag_end:]}'
        out.append(e)
        i = j + 1
    return out


def _ods_cell(v: object, attrs: str, escape) -> str:
    if v is None or v == "":
        return f"<table:table-cell{attrs}/>"
    if isinstance(v, bool):
        return (f'<table:table-cell{attrs} office:value-type="boolean" office:boolean-value="{str(v).lower()}">'
                f"<text:p>{str(v).upper()}</text:p></table:table-cell>")
    if isinstance(v, int | float | Decimal):
        return (f'<table:table-cell{attrs} office:value-type="float" office:value="{v}">'
                f"<text:p>{v}</text:p></table:table-cell>")
    if isinstance(v, dt.date):
        iso = v.isoformat() if isinstance(v, dt.datetime) else f"{v.isoformat()}"
        return (f'<table:table-cell{attrs} office:value-type="date" office:date-value="{iso}">'
                f"<text:p>{v.strftime('%d/%m/%Y')}</text:p></table:table-cell>")
    return f'<table:table-cell{attrs} office:value-type="string"><text:p>{escape(str(v))}</text:p></table:table-cell>'


def with_parts(data: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    """A zip container (an .xlsx, an .ods) with some parts changed by `change` (given every part by name, it
    changes them in place), written again in the same order and with each part's own compression."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i) for i in infos}
    change(parts)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as w:
        for info in infos:
            w.writestr(info, parts[info.filename])
    return out.getvalue()
