"""What a delivered file is, before it is read: its kind (from its name), its container, its text encoding and
its CSV delimiter. Standard library only, so any part of Cakupan that reads delivered text can use the one
encoding detector (`detect_encoding`, `decode_text`)."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from pathlib import Path

from cakupan.core.messages import Msg
from cakupan.ingest.readers.blocks import FileRejected

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
CSV_SUFFIXES = {".csv", ".tsv"}
ENCODING_SAMPLE_BYTES = 1 << 20
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CONTAINER_MAGICS = (b"PK\x03\x04", _OLE_MAGIC)     # a zip (.xlsx, .ods) or an OLE compound file (.xls): never a CSV
# a small workbook: up to this size, its worksheets' XML adding up to at most 16 times it. Its parts' check keeps
# that XML (`check_container`'s `worksheets`), and it is read in-process when its cells lie in a small area
# (`workbook.IN_PROCESS_MAX_BYTES`); a bigger one is read in a forked child, which unzips it itself
SMALL_WORKBOOK_MAX_BYTES = 4 << 20
_FILENAME_KINDS = {
    "register": "register", "peserta": "register", "daftar": "register",
    "contributions": "contributions", "iuran": "contributions", "tagihan": "contributions",
    "claims": "claims", "klaim": "claims",
    "city_report": "city_report", "cityreport": "city_report", "laporan": "city_report",
}
# an .xlsx workbook's sheet tags, their attributes and its relationships (`sheet_parts`, `workbook_rels`)
_XLSX_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_XLSX_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_XLSX_REL = re.compile(rb"<Relationship\b[^>]*>")


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


def check_container(path: Path, data: bytes | None = None, worksheets: dict[str, bytes] | None = None,
                    skip: frozenset[str] = frozenset()) -> str:
    """Say whether the file is a 'spreadsheet' or 'csv', or reject it with a clear code. `data`: the file's bytes,
    when they were read already (they are then all that is looked at). `worksheets`: a dict a small .xlsx's check
    fills with its worksheets' XML by part name, unzipped as every part is tested (the reader looks at them again:
    `workbook._small_plain_xlsx`), so that they are not unzipped twice. `skip`: zip parts not unzipped to test
    their CRC (a big workbook's big worksheets: its reader child tests them, `bookparts._untested_damaged`)."""
    size = path.stat().st_size if data is None else len(data)
    if size == 0:
        raise FileRejected("FILE_EMPTY")
    head = sniff_bytes(path) if data is None else data[:8192]
    suffix = path.suffix.lower()
    if head.startswith(_OLE_MAGIC):
        return _check_compound_file(path, size, suffix, data)
    if head.startswith(b"PK\x03\x04"):
        return _check_zip(path, suffix, data, worksheets, skip)
    if suffix in SPREADSHEET_SUFFIXES:
        raise FileRejected("FILE_CORRUPT", Msg("error.ingest.not_a_workbook", suffix=suffix))
    if suffix in CSV_SUFFIXES:
        if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise FileRejected("FILE_CORRUPT", Msg("error.ingest.binary"))
        return "csv"
    raise FileRejected("FILE_TYPE_UNSUPPORTED", Msg("error.ingest.suffix", suffix=suffix or Msg("error.ingest.no_suffix")))


def _check_compound_file(path: Path, size: int, suffix: str, data: bytes | None) -> str:
    """An OLE compound file: an .xls workbook, or an encrypted .xlsx inside its envelope."""
    if data is None:
        with open(path, "rb") as f:
            blob = f.read(min(size, 4 * 1024 * 1024))
    else:
        blob = data[: 4 * 1024 * 1024]
    if "EncryptedPackage".encode("utf-16-le") in blob or b"EncryptedPackage" in blob:
        raise FileRejected("FILE_ENCRYPTED")
    if suffix in CSV_SUFFIXES:
        raise FileRejected("FILE_CORRUPT", Msg("error.ingest.xls_as_csv"))
    return "spreadsheet"


def _check_zip(path: Path, suffix: str, data: bytes | None, worksheets: dict[str, bytes] | None = None,
               skip: frozenset[str] = frozenset()) -> str:
    """A zip file: an .xlsx workbook whose parts are intact, or not a workbook at all."""
    if suffix in CSV_SUFFIXES:
        raise FileRejected("FILE_CORRUPT", Msg("error.ingest.zip_as_csv"))
    if worksheets is not None and (suffix not in (".xlsx", ".xlsm") or SMALL_WORKBOOK_MAX_BYTES < (
            path.stat().st_size if data is None else len(data))):
        worksheets = None
    try:
        with zipfile.ZipFile(path if data is None else io.BytesIO(data)) as z:
            bad = _first_bad_part(z, worksheets, skip)
            names = set(z.namelist())
    except Exception as exc:  # noqa: BLE001 - zipfile raises BadZipFile, zlib.error, RuntimeError, ...
        if "encrypted" in str(exc).lower() or "password" in str(exc).lower():
            raise FileRejected("FILE_ENCRYPTED", Msg("error.ingest.zip_password")) from None
        raise FileRejected("FILE_CORRUPT", Msg("error.ingest.zip_damaged", error=exc)) from None
    if bad is not None:
        raise FileRejected("FILE_CORRUPT", Msg("error.ingest.zip_part", part=repr(bad)))
    if "[Content_Types].xml" not in names and not _is_ods(path, data, names):
        raise FileRejected("FILE_TYPE_UNSUPPORTED", Msg("error.ingest.zip_archive"))
    return "spreadsheet"


def is_worksheet_part(name: str) -> bool:
    """An .xlsx part that holds a worksheet (xl/worksheets/sheet1.xml, ...)."""
    return name.startswith("xl/worksheets/") and name.endswith(".xml")


def workbook_rels(zf: zipfile.ZipFile) -> dict[str, tuple[str, str]]:
    """Each of the workbook's relationships by id: the last word of its type ("worksheet", "sharedStrings",
    "styles") and the part it names (xl/worksheets/sheet1.xml)."""
    rels = {}
    for rel in _XLSX_REL.findall(zf.read("xl/_rels/workbook.xml.rels")):
        a = dict(_XLSX_ATTR.findall(rel))
        target = a.get(b"Target", b"").decode("utf-8", "replace")
        rels[a.get(b"Id", b"").decode()] = (a.get(b"Type", b"").rsplit(b"/", 1)[-1].decode("utf-8", "replace"),
                                            target.lstrip("/") if target.startswith("/") else "xl/" + target)
    return rels


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """The worksheet part (xl/worksheets/sheet1.xml) of each sheet name, from the workbook and its relationships."""
    rels = {rid: part for rid, (_, part) in workbook_rels(zf).items()}
    out = {}
    for sheet in _XLSX_SHEET.findall(zf.read("xl/workbook.xml")):
        a = {k.split(b":")[-1]: v for k, v in _XLSX_ATTR.findall(sheet)}
        part = rels.get(a.get(b"id", b"").decode())
        if part:
            out[part] = a.get(b"name", b"").decode("utf-8", "replace").replace("&amp;", "&").replace(
                "&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
    return out


def _first_bad_part(z: zipfile.ZipFile, worksheets: dict[str, bytes] | None,
                    skip: frozenset[str] = frozenset()) -> str | None:
    """`ZipFile.testzip`: every part but those in `skip` read through (its CRC checked at the end), the name of the
    first that is damaged, or None. With `worksheets`, the worksheets' XML is kept in it when the sizes the zip
    declares for them add up to at most 16 x SMALL_WORKBOOK_MAX_BYTES (a part is never unzipped beyond its declared
    size)."""
    if worksheets is not None and sum(i.file_size for i in z.infolist()
                                      if is_worksheet_part(i.filename)) > 16 * SMALL_WORKBOOK_MAX_BYTES:
        worksheets = None
    for info in z.infolist():
        if info.filename in skip:
            continue
        if worksheets is not None and is_worksheet_part(info.filename):
            try:
                with z.open(info.filename) as f:
                    worksheets[info.filename] = f.read()
            except zipfile.BadZipFile:
                return info.filename
        elif part_damaged(z, info.filename):
            return info.filename
    return None


def part_damaged(z: zipfile.ZipFile, name: str) -> bool:
    """Whether the zip part `name` fails its CRC, read through to its end (opened by name, as testzip opens it)."""
    try:
        with z.open(name) as f:
            while f.read(1 << 20):
                pass
    except zipfile.BadZipFile:
        return True
    return False


ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def _is_ods(path: Path, data: bytes | None, names: set[str]) -> bool:
    """An OpenDocument spreadsheet (.ods, LibreOffice): its `mimetype` part says so, and it has its content."""
    if "mimetype" not in names or "content.xml" not in names:
        return False
    with zipfile.ZipFile(path if data is None else io.BytesIO(data)) as z:
        return z.read("mimetype").strip() == ODS_MIMETYPE


def detect_encoding(data: bytes) -> str:
    """Detect UTF-8 (with or without BOM), UTF-16 (BOM) or Windows-1252 from a sample of the bytes."""
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


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode delivered bytes as text in their detected encoding; returns (text, encoding). Bytes that do not
    decode after all (the sample looked like UTF-8, a later part is not) are read as Windows-1252."""
    encoding = detect_encoding(raw[:ENCODING_SAMPLE_BYTES])
    try:
        return raw.decode(encoding), encoding
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "cp1252"


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
