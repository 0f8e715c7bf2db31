"""A CSV read row by row (the exact path): decode its bytes, split it into records with their line numbers, find
its header and classify its rows. Every CSV can be read this way; `fastcsv` reads big ones faster, the same."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from cakupan.core.contracts import Contract
from cakupan.core.messages import Msg
from cakupan.ingest.readers.blocks import FileRejected, ReadOptions, ReadResult
from cakupan.ingest.readers.layout import block_from_rows, find_header, is_blank_row, raise_no_header
from cakupan.ingest.readers.sniff import decode_text, detect_delimiter

MAX_CSV_FIELD = 64 << 20        # csv's default (128 KiB) would reject a whole file for one enormous cell
DELIMITER_SAMPLE_CHARS = 65536
_BLANK_BYTES = b"\xef\xbb\xbf \r\n\t"
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")     # below space, other than tab, line feed, carriage return


def is_blank_bytes(raw: bytes) -> bool:
    """True for a file of nothing but a BOM and white space."""
    return not raw.strip(_BLANK_BYTES)


def looks_binary(text: str) -> bool:
    """True when the start of a decoded text holds control characters: binary data, not text."""
    return len(_CONTROL.findall(text, 0, 4096)) > 8


def decode_csv(path: Path, raw: bytes | None = None) -> tuple[str, str, str]:
    """Read a CSV's bytes as text; returns (text, encoding, delimiter) or rejects an empty or binary file."""
    raw = path.read_bytes() if raw is None else raw
    if is_blank_bytes(raw):
        raise FileRejected("FILE_EMPTY")
    text, encoding = decode_text(raw)
    if looks_binary(text):
        raise FileRejected("FILE_CORRUPT", Msg("error.ingest.binary"))
    delimiter = detect_delimiter(text[:DELIMITER_SAMPLE_CHARS].splitlines())
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
        raise FileRejected("FILE_CORRUPT", Msg("error.ingest.csv_split_line", line=reader.line_num, error=exc))
    finally:
        csv.field_size_limit(limit_before)
    return rows, lines


def split_line(line: str, delimiter: str) -> list[str]:
    """Split one CSV line (with balanced quotes) into its cells, as `split_csv` would."""
    if not line:
        return []
    limit_before = csv.field_size_limit(MAX_CSV_FIELD)
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error as exc:
        raise FileRejected("FILE_CORRUPT", Msg("error.ingest.csv_split", error=exc)) from None
    finally:
        csv.field_size_limit(limit_before)


def read_csv(path: Path, raw: bytes, contracts: dict[str, Contract], options: ReadOptions) -> ReadResult:
    """Read a CSV row by row into one block of data rows, or raise FileRejected."""
    text, encoding, delimiter = decode_csv(path, raw)
    rows, lines = split_csv(text, delimiter)
    if all(is_blank_row(r) for r in rows):
        raise FileRejected("FILE_EMPTY")
    header = find_header(rows, contracts, options.overrides, options.defaults)
    if header is None:
        raise_no_header(rows, contracts, overrides=options.overrides)
        raise FileRejected("HEADER_NOT_FOUND")
    block = block_from_rows(rows, "", header, source_row_of=lambda i: lines[i])
    return ReadResult(path, header.source, [block], encoding, delimiter)
