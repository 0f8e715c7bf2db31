"""Fuzz the readers and the loader with random bytes, random text and damaged workbooks.

Whatever the bytes, `read_file` returns blocks or raises `FileRejected` with a registered file-level code, and
`Loader.load` ends the file loaded or rejected: never an internal error, never an exception, never a crash of
the process (a damaged workbook can make the native spreadsheet reader panic or abort; that happens in a child).
"""

from __future__ import annotations

import os

from cakupan.core.contracts import reasons
from cakupan.ingest.readers import FileRejected, read_file
from cakupan_dev.messy import case_by_name
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

FILE_CODES = {c for c, r in reasons().items() if r.level == "file"}
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
PREFIXES = st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\xef\xbb\xbf",
                            b"NIK;Nama;Pekerjaan;Program;TMT;Iuran;Sumber Dana\r\n"])
XLSX = case_by_name("register_title_block_total_signatures").files[0].data
XLS = case_by_name("register_old_xls_template").files[0].data


def _load_and_check(settings_, loader, name: str, data: bytes) -> None:
    folder = settings_.inbox / "73.72"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    try:
        read_file(path)
    except FileRejected as exc:
        assert exc.code in FILE_CODES, exc.code
    r = loader.load(path)
    event(f"{path.suffix}: {r.status} {r.error_code or ''}")
    assert r.status in ("loaded", "rejected", "duplicate", "already_processed"), (r.status, r.error_message)
    assert r.error_code is None or r.error_code in FILE_CODES
    assert r.error_code != "INTERNAL_ERROR", r.error_message
    if r.status == "loaded":
        assert r.rows_in == r.rows_loaded + r.rows_quarantined


@FUZZ
@given(prefix=PREFIXES, body=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".xlsx", ".xls", ".CSV"]))
def test_random_bytes_load_or_are_rejected(fuzz_loader, counter, prefix, body, suffix):
    settings_, loader = fuzz_loader
    _load_and_check(settings_, loader, f"register_acak_2025-04_b{next(counter)}{suffix}", prefix + body)


@FUZZ
@given(text=st.text(max_size=2000), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
       header=st.booleans())
def test_random_text_csv_loads_or_is_rejected(fuzz_loader, counter, text, encoding, header):
    settings_, loader = fuzz_loader
    if header:
        text = "NIK;Nama;Pekerjaan;Program;TMT;Iuran;Sumber Dana\n" + text
    data = text.encode(encoding, errors="replace") if encoding != "cp1252" else text.encode("cp1252", "replace")
    _load_and_check(settings_, loader, f"register_teks_2025-04_t{next(counter)}.csv", data)


@FUZZ
@given(base=st.sampled_from(["xlsx", "xls"]),
       edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=12),
       cut=st.one_of(st.none(), st.floats(0.05, 1)))
def test_damaged_workbooks_are_rejected_or_load(fuzz_loader, counter, base, edits, cut):
    settings_, loader = fuzz_loader
    data = bytearray(XLSX if base == "xlsx" else XLS)
    for where, byte in edits:
        data[int(where * len(data))] = byte
    if cut is not None:
        data = data[: max(1, int(cut * len(data)))]
    _load_and_check(settings_, loader, f"register_rusak_2025-04_w{next(counter)}.{base}", bytes(data))
