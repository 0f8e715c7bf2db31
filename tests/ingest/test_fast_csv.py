"""The column-wise CSV reader (big files) gives exactly what the row-by-row reader gives.

`fastcsv.fast_csv_block` splits and cleans a large CSV in Arrow and sends only lines that could be anything but a
plain data row through `classify_row`. These tests read the same bytes both ways and compare every block field:
on every messy CSV case and on random registers with quotes, delimiters inside cells, odd whitespace,
apostrophes, notes, totals and repeated headers.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import itertools
import os
import re
import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from cakupan.core.contracts import all_contracts
from cakupan.ingest import readers
from cakupan.ingest.arrays import lower
from cakupan.ingest.readers import ReadOptions, csvlines, csvrecords, fastcsv, read_file, sniff
from cakupan.ingest.readers import cells as cells_module
from cakupan_dev.messy import REGISTER_HEADER, cases, nik
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

OPTIONS = ReadOptions(defaults={"register": {"funding_source"}})


def _plain(x):
    return x.to_pylist() if isinstance(x, pa.Array | pa.ChunkedArray) else list(x)


ORIGINAL_FAST = readers.fast_csv_block


def _blocks(path, fast: bool, odd_row_by_row: int = fastcsv.ODD_LINES_ROW_BY_ROW) -> tuple[list[tuple], list[bool]]:
    """Read path with the column-wise reader forced on (fast) or off; return the blocks and whether it was used.

    `odd_row_by_row=-1` makes the column-wise reader clean odd cells column-wise instead of row by row.
    """
    used = []

    def spy(*a, **k):
        out = ORIGINAL_FAST(*a, **k)
        used.append(out is not None)
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(readers, "FAST_CSV_MIN_LINES", 0 if fast else 10**9)
        mp.setattr(readers, "fast_csv_block", spy)
        mp.setattr(fastcsv, "ODD_LINES_ROW_BY_ROW", odd_row_by_row)
        try:
            result = read_file(path, OPTIONS)
        except readers.FileRejected as exc:
            return [("rejected", exc.code)], used
    return [(b.source, b.sheet, b.header_row, b.mapping, b.headers, b.title_text, _plain(b.source_rows),
             {c: _plain(v) for c, v in b.cells.items()}, _plain(b.nik_numeric), b.total_rows, b.notes_skipped,
             b.unsplit)
            for b in result.blocks], used


CSV_CASES = [(c.name, f) for c in cases() for f in c.files if f.name.endswith(".csv")]


@pytest.mark.parametrize(("case", "f"), CSV_CASES, ids=[f"{n}-{f.name}" for n, f in CSV_CASES])
def test_messy_csv_cases_read_the_same_both_ways(case, f, tmp_path):
    path = tmp_path / f.folder / f.name
    path.parent.mkdir(parents=True)
    path.write_bytes(f.data)
    slow, _ = _blocks(path, False)
    fast, used = _blocks(path, True)
    assert fast == slow
    if f.expect.status == "loaded":
        assert used == [True], "the column-wise reader should handle this file"


NIKS = st.builds(nik, birth=st.dates(), female=st.booleans(), serial=st.integers(1, 9999))
CELL = st.one_of(
    st.sampled_from(["", " ", "'", "JKK, JKM", "Rp 16.800,00", "16.800", "APBD", "L", "P", "Nelayan", "13/03/2025",
                     "JUMLAH", "Sub Total", "SUB TOTAL KEC. BACUKIKI", "Mengetahui,", "Parepare, 2 Mei 2025", "(Nama)", "NIP. 1970", "(1)",
                     "NIK", "Nama", "7.37201450580012E+15", "a\u00a0b", "  x  y ", "\ufeffz", "'007", "x;y", "x,y",
                     'say "hi"', "Désa – Ujung", "____", "2", "Jl. Poros\nRT 02", "Blok A\r\nNo. 3",
                     'Toko "Maju"\nJaya', "\n", "JUMLAH\n(Rp)", "Andi\x00", "\x00", "JUM\x00LAH"]),      # (a line break typed into a cell)
    NIKS, NIKS.map(lambda n: "'" + n), st.text(max_size=8))
ROW = st.one_of(st.lists(CELL, min_size=0, max_size=14),
                st.lists(CELL, min_size=10, max_size=14).map(lambda r: [",".join(r)]))   # a row that did not split


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=1, max_size=40), delimiter=st.sampled_from([";", ","]),
       line_end=st.sampled_from(["\n", "\r\n", "\r"]), title=st.booleans(), quote_all=st.booleans())
def test_random_registers_read_the_same_both_ways(tmp_path_factory, rows, delimiter, line_end, title, quote_all):
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator=line_end,
                   quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    if title:
        w.writerow(["DAFTAR PESERTA KOTA PAREPARE BULAN APRIL 2025"])
    w.writerow(REGISTER_HEADER)
    w.writerows(rows)
    path = tmp_path_factory.mktemp("fast") / "register_parepare_2025-04.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    slow, _ = _blocks(path, False)
    fast, used = _blocks(path, True)
    event("fast path" if used and used[0] else "exact path")
    assert fast == slow
    assert _blocks(path, True, odd_row_by_row=-1)[0] == slow
    whole = _merged_parts(path, part_lines=10**6)
    assert _merged_parts(path, part_lines=3) == whole
    assert _merged_parts(path, part_lines=3, first_lines=1) == whole


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=6, max_size=14), min_size=1, max_size=30),
       line_end=st.sampled_from(["\n", "\r\n"]),
       pasted=st.lists(st.tuples(st.floats(0, 1), st.sampled_from(['"', "\r", "\x00", '"\n', "\r\r\n"])),
                       max_size=4))
def test_characters_pasted_past_quoting_read_the_same_both_ways(tmp_path_factory, rows, line_end, pasted):
    """A register with quotes, lone carriage returns, NULs and line breaks typed anywhere below its header, past
    csv's quoting (as a clerk pastes them): read column-wise, in parts and from the file again, exactly as row by
    row, whichever path it takes."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator=line_end)
    w.writerow(REGISTER_HEADER)
    w.writerows(rows)
    text = out.getvalue()
    body = len(text.split(line_end, 1)[0]) + len(line_end)
    for where, char in sorted(pasted, reverse=True):
        at = body + int(where * (len(text) - body))
        text = text[:at] + char + text[at:]
    path = tmp_path_factory.mktemp("pasted") / "register_parepare_2025-04.csv"
    path.write_text(text, encoding="utf-8")
    slow, _ = _blocks(path, False)
    fast, used = _blocks(path, True)
    event("fast path" if used and used[0] else "exact path")
    assert fast == slow
    whole = _merged_parts(path, part_lines=10**6)
    assert _merged_parts(path, part_lines=3) == whole
    assert _merged_parts(path, part_lines=2, first_lines=1, chunk_bytes=7) == whole


def _merged_parts(path, part_lines: int, first_lines: int | None = None, chunk_bytes: int | None = None):
    """`fast_csv_parts` merged back into one block, in the form `_blocks` compares (`chunk_bytes`: the size of
    the chunks its lines are split in, default one chunk for these small files). Read both ways: parts holding
    their lines, and parts reading their bytes again (`reread`, here from memory, checking each range's CRC-32
    as `inbox.part_rereader` does) after a scan that makes no line: the same block, or both None."""
    raw, reread_ranges = path.read_bytes(), []

    def reread(start: int, stop: int, digest: bytes) -> bytes:
        assert zlib.crc32(raw[start:stop]).to_bytes(4, "big") == digest
        reread_ranges.append((start, stop))
        return raw[start:stop]

    both = []
    for how in (None, reread):
        with pytest.MonkeyPatch.context() as mp:
            if chunk_bytes:
                mp.setattr(fastcsv, "PART_CHUNK_BYTES", chunk_bytes)
            got = fastcsv.fast_csv_parts(raw, all_contracts(), OPTIONS, part_lines, first_lines, how)
        if got is None:
            both.append(None)
            continue
        b = fastcsv.merge_parts([read() for read in got[3]])
        both.append((b.source, b.header_row, b.mapping, b.headers, b.title_text, _plain(b.source_rows),
                     {c: _plain(v) for c, v in b.cells.items()}, _plain(b.nik_numeric), b.total_rows,
                     b.notes_skipped, b.unsplit))
    assert both[0] == both[1]
    if reread_ranges:       # the ranges follow each other to the file's end
        assert all(a[1] == b[0] for a, b in itertools.pairwise(reread_ranges)) and reread_ranges[-1][1] == len(raw)
    return both[0]


BIG_CELLS = ["Andi", "Sitti Aminah", "Ma'ruf", "Désa – Ujung", "  x  y ", "'7372014505800012", "Rp 16.800,00",
             "JKK, JKM", "13/03/2025", "", " ", "JUMLAH", "NELAYAN", "Nama", "(1)", "7.37201450580012E+15", "x,y"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
@pytest.mark.parametrize("odd_row_by_row", [fastcsv.ODD_LINES_ROW_BY_ROW, -1])
def test_big_csv_reads_the_same_both_ways(tmp_path, encoding, odd_row_by_row):
    """Past 256 KiB the column-wise reader decodes only the start to find the header; the result is unchanged."""
    import random

    rnd = random.Random(7)
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(["DAFTAR PESERTA KOTA PAREPARE BULAN APRIL 2025"])
    w.writerow(REGISTER_HEADER)
    for i in range(6000):
        row = [str(i + 1), nik(birth=dt.date(1980, 1, 1 + i % 28), female=i % 2 == 0, serial=i % 9999 + 1)]
        row += [rnd.choice(BIG_CELLS) if rnd.random() < 0.2 else f"cell{rnd.randint(0, 99)}"
                for _ in REGISTER_HEADER[2:]]
        w.writerow(row)
    path = tmp_path / "parepare" / "register_parepare_2025-04.csv"
    path.parent.mkdir()
    path.write_bytes(out.getvalue().encode(encoding))
    assert path.stat().st_size > 4 * 65536
    slow, _ = _blocks(path, False)
    fast, used = _blocks(path, True, odd_row_by_row)
    assert used == [True]
    assert fast == slow
    whole = _merged_parts(path, part_lines=10**6)
    assert whole[5] == slow[0][6] and whole[8] == slow[0][9]         # the same rows and totals as the exact path
    assert _merged_parts(path, part_lines=997) == whole
    assert _merged_parts(path, part_lines=997, chunk_bytes=4099) == whole     # lines split a chunk at a time


def test_a_comma_csv_excel_quoted_some_cells_of_reads_the_same_both_ways(tmp_path):
    """A register saved as CSV by an English-locale Excel: `,` between cells, and only the cells holding a comma
    quoted ("JKK, JKM", "Rp 16.800,00", an address, a name with a degree), so most lines mix quoted and unquoted
    cells, one an empty quoted cell. Such lines are rewritten all at once (`csvrecords.unquote_cells`); read column
    by column, the same as the exact path, whole and in parts."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=",", lineterminator="\r\n")
    w.writerow(REGISTER_HEADER + ["Alamat"])
    for i in range(6000):
        row = [str(i + 1), nik(birth=dt.date(1980, 1, 1 + i % 28), female=i % 2 == 0, serial=i % 9999 + 1),
               "Andi Baso, S.Pd" if i % 7 == 0 else f"Nama {i}", "01-02-1980", "L", "Nelayan", "Lumpue", "Bacukiki",
               "JKK, JKM" if i % 3 else "JKK", "01/04/2025", "Rp 16.800,00" if i % 2 else "16800", "APBD",
               "" if i % 5 else f"Jl. Poros No. {i}, RT 02"]
        w.writerow(row)
    # a cell quoted with no comma in it, and an empty quoted cell, as other writers leave them
    text = out.getvalue() + f'"6001",{nik(birth=dt.date(1990, 5, 5), female=True, serial=1)},"Nama, Lain",' \
                            '01-02-1980,P,Petani,"",Bacukiki,JKK,01/04/2025,16800,APBD,""\r\n'
    path = tmp_path / "parepare" / "register_parepare_2025-04.csv"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    assert text.count("\n") == 6002 and '"Rp 16.800,00"' in text
    slow, _ = _blocks(path, False)
    fast, used = _blocks(path, True)
    assert used == [True]
    assert fast == slow
    cells = slow[0][7]
    assert cells["programs"][1:3] == ["JKK, JKM", "JKK, JKM"] and cells["monthly_contribution"][1] == "Rp 16.800,00"
    whole = _merged_parts(path, part_lines=10**6)
    assert _merged_parts(path, part_lines=997) == whole


def test_an_export_that_pads_every_cell_is_trimmed_in_bulk(tmp_path, monkeypatch):
    """A register whose every cell is padded with spaces ("1; 7372…; Andi ; …", as some report exporters and
    hand-aligned files write it), half its NIKs typed after an apostrophe ('7372…, sources.md): every line holds
    odd cells, cleaned column-wise. Their edge spaces and apostrophes are dropped in bulk, so `cell_text` is not
    called for each NIK and name (each a distinct value): the same rows both ways,
    with `parsing.cell_text` run for few values but the first rows' (the header search)."""
    lines = ["; ".join(REGISTER_HEADER)]
    for i in range(6000):
        number = nik(birth=dt.date(1980, 1, 1 + i % 28), female=i % 2 == 0, serial=i % 9999 + 1)
        lines.append("; ".join([str(i + 1), f"'{number}" if i % 2 else number, f"Warga {i} ", "01/01/1980", "L",
                                "Nelayan",
                                "Ujung", "Soreang", "JKK, JKM" if i % 2 else "JKK/JKM", "01/04/2025", "16800",
                                " APBD"]))
    path = tmp_path / "parepare" / "register_parepare_2025-04.csv"
    path.parent.mkdir()
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    slow, _ = _blocks(path, False)
    calls = []
    cell_text = cells_module.parsing.cell_text

    def spy(value):
        calls.append(value)
        return cell_text(value)

    monkeypatch.setattr(cells_module.parsing, "cell_text", spy)
    fast, used = _blocks(path, True, odd_row_by_row=-1)
    assert used == [True]
    assert fast == slow
    assert slow[0][7]["nik"][:2] == [nik(birth=dt.date(1980, 1, d), female=d == 1, serial=d) for d in (1, 2)]
    assert slow[0][7]["full_name"][0] == "Warga 0" and slow[0][7]["funding_source"][0] == "APBD"
    assert len(calls) < 1000     # (the header search reads its first rows one by one; 6,000 NIKs and names: 12,000)


def _both_ways_counting_row_by_row(path, monkeypatch) -> tuple[list[tuple], list[tuple], int]:
    """`_blocks` of path row by row and column-wise (which must be used), and how many lines the column-wise
    reader classified one by one."""
    row_by_row = []
    classify = fastcsv._classify

    def spy(original, candidates, *a, **k):
        row_by_row.append(len(candidates))
        return classify(original, candidates, *a, **k)

    monkeypatch.setattr(fastcsv, "_classify", spy)
    slow, _ = _blocks(path, False)
    fast, used = _blocks(path, True)
    assert used == [True]
    return slow, fast, sum(row_by_row)


def test_quotes_typed_inside_unquoted_cells_are_characters_column_wise(tmp_path, monkeypatch):
    """A register from a system that quotes nothing: a nickname typed in quotes inside a name (`Andi "Baso"`),
    an inch mark in an address (`Lorong 5"`, an odd count of quotes on its line) and a few cells quoted after all
    (`"JKK; JKM"`). csv reads a quote that does not open a cell as a character; the column-wise reader does too:
    the same rows both ways, whole and in parts, and only the lines that mix both kinds read row by row."""
    rows = []
    for i in range(5000):
        name = f'Andi "Baso" {i}' if i % 5 == 0 else f"Warga {i}"
        village = 'Lorong 5"' if i % 97 == 0 else "Ujung"
        programs = '"JKK; JKM"' if i % 50 == 1 else "JKK/JKM"
        rows.append(";".join([str(i + 1), nik(birth=dt.date(1980, 1, 1 + i % 28), female=i % 2 == 0,
                                              serial=i % 9999 + 1), name, "01/01/1980", "L", "Nelayan", village,
                              "Soreang", programs, "01/04/2025", "16800", "APBD"]))
    rows[10] = rows[10].replace("JKK/JKM", '"JKK; JKM"')     # (a nickname and a quoted cell on one line)
    path = tmp_path / "parepare" / "register_parepare_2025-04.csv"
    path.parent.mkdir()
    path.write_text(";".join(REGISTER_HEADER) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    slow, fast, row_by_row = _both_ways_counting_row_by_row(path, monkeypatch)
    assert fast == slow
    assert row_by_row == 2     # (line 11, and 3,202 whose inch mark is beside a quoted cell)
    cells = slow[0][7]
    assert cells["full_name"][0] == 'Andi "Baso" 0' and cells["village"][0] == 'Lorong 5"'
    assert cells["programs"][1] == "JKK; JKM" and cells["programs"][10] == "JKK; JKM"
    whole = _merged_parts(path, part_lines=10**6)
    assert _merged_parts(path, part_lines=997) == whole


def test_a_database_export_with_quotes_doubled_inside_is_unquoted_column_wise(tmp_path, monkeypatch):
    """A register exported from a database as phpMyAdmin writes it: every value quoted but the bare NULLs, and a
    quote inside a value doubled (a village "Soka'an" typed with a quote, a nickname in quotes). csv reads one
    quote there; the column-wise reader now does too, with the file's other lines, where such lines went row by
    row. The same rows both ways, whole and in parts."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=",", lineterminator="\n", quoting=csv.QUOTE_ALL)
    w.writerow([h.lower().replace(" ", "_") for h in REGISTER_HEADER])
    villages = ['Soka"an', "Lumpue", 'Desa "Baru"', "Ujung"]
    for i in range(4000):
        w.writerow([i + 1, nik(birth=dt.date(1980, 1, 1 + i % 28), female=i % 2 == 0, serial=i % 9999 + 1),
                    f'Andi "Baso" {i}' if i % 11 == 0 else f"Warga {i}", "1980-02-01", "L", "Nelayan",
                    villages[i % 4], "Bacukiki", "JKK/JKM", "2025-04-01 00:00:00", "16800.00", "NULLMARK"])
    text = out.getvalue().replace('"NULLMARK"', "NULL")
    path = tmp_path / "parepare" / "register_parepare_2025-04.csv"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    assert text.count('Soka""an') == 1000 and text.count('""Baso""') == 364 and text.count(",NULL\n") == 4000
    slow, fast, row_by_row = _both_ways_counting_row_by_row(path, monkeypatch)
    assert fast == slow
    assert row_by_row == 0     # no line read row by row
    cells = slow[0][7]
    assert cells["village"][:3] == ['Soka"an', "Lumpue", 'Desa "Baru"'] and cells["full_name"][0] == 'Andi "Baso" 0'
    whole = _merged_parts(path, part_lines=10**6)
    assert _merged_parts(path, part_lines=997) == whole


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")) * 3, deadline=None)
@given(rows=st.lists(st.lists(st.text(alphabet='ab,;\té\n "', max_size=5), min_size=1, max_size=6), max_size=12),
       delimiter=st.sampled_from([",", ";", "\t"]), quote_all=st.booleans(), start=st.integers(0, 2),
       wide=st.booleans())
def test_lines_unquoted_at_once_give_the_cells_csv_reads(rows, delimiter, quote_all, start, wide):
    """`csvrecords.unquote_cells` on lines whose quotes bound cells, as csv's writer quotes them (a cell with the
    delimiter, a line break, a quote, doubled, or nothing in it): each line split at UNIT is the row written, both
    ways (split at the quotes, and by a mask of the bytes within them); on a slice and on large strings too."""
    lines = []
    for row in rows:
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="", quoting=csv.QUOTE_ALL if quote_all else
                   csv.QUOTE_MINIMAL).writerow(row)
        lines.append(out.getvalue())
    arr = pa.array(["x"] * start + lines, pa.large_string() if wide else pa.string()).slice(start)
    for way in (csvrecords.unquote_cells, csvrecords.unquote_by_pieces, csvrecords.unquote_by_mask):
        got = way(arr, delimiter, fastcsv.UNIT)
        assert got.type == arr.type
        assert [t.split(fastcsv.UNIT) for t in got.to_pylist()] == rows, way.__name__


# data cells that hold a word of a signature block: Kemendagri villages (11.04.18.2006 Kepala Akal, 11.12.04.2019
# Kepala Bandar, 12.05.09.2001 Kepala Sungai), occupations and an "An ..." name
NOTE_WORD_CELLS = {"Desa": ["Kepala Akal", "Kepala Bandar", "Kepala Sungai"], "Pekerjaan": ["Operator Mesin",
                   "Petugas Kebersihan", "Bendahara Koperasi"], "Nama": ["An Nisa Rahmawati", "Lurah Baso"]}


def test_a_few_data_lines_that_read_as_notes_are_data_both_ways(tmp_path):
    """Fewer data lines than go row by row hold a word of a signature block in some cell (a village "Kepala Akal"):
    each is a data row, both ways; the column-number row above them, the total and the signature block are not."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(REGISTER_HEADER)
    w.writerow([f"({i + 1})" for i in range(len(REGISTER_HEADER))])
    planted = 0
    for i in range(6000):
        row = [str(i + 1), nik(birth=dt.date(1980, 1, 1 + i % 28), female=i % 2 == 0, serial=i % 9999 + 1),
               f"Warga {i}", "01/01/1980", "L", "Nelayan", "Ujung", "Soreang", "JKK, JKM", "01/04/2025", "16800",
               "APBD"]
        if i % 25 == 7:     # 240 lines, below the 1,000 that go row by row
            column = list(NOTE_WORD_CELLS)[planted % 3]
            row[REGISTER_HEADER.index(column)] = NOTE_WORD_CELLS[column][planted % len(NOTE_WORD_CELLS[column])]
            if planted % 4 == 0:    # (and the NIK as a web export writes it for Excel, unquoted: ="7372…")
                row[1] = "FORMULA" + row[1]
            planted += 1
        w.writerow(row)
    w.writerow(["", "JUMLAH", "", "", "", "", "", "", "", "", "100800000", ""])
    for line in ("Mengetahui,", "Kepala Dinas Tenaga Kerja", "", "Drs. Nama Pejabat", "NIP. 19700101 199003 1 001"):
        w.writerow([line] + [""] * (len(REGISTER_HEADER) - 1))
    path = tmp_path / "parepare" / "register_parepare_2025-04.csv"
    path.parent.mkdir()
    path.write_bytes(re.sub(r"FORMULA([0-9]{16})", r'="\1"', out.getvalue()).encode("utf-8"))
    assert path.read_bytes().count(b';="') == 60
    slow, _ = _blocks(path, False)
    fast, used = _blocks(path, True)
    assert used == [True]
    assert fast == slow
    rows, cells, total_rows, notes = slow[0][6], slow[0][7], slow[0][9], slow[0][10]
    assert all(len(v) == 16 and v.isdigit() for v in cells["nik"])      # (the formulas' NIKs unwrapped)
    assert planted == 240 and len(rows) == 6000 and rows[0] == 3 and rows[-1] == 6002
    assert sum(v in ("Kepala Akal", "Kepala Bandar", "Kepala Sungai") for v in cells["village"]) == 80
    assert len(total_rows) == 1 and total_rows[0][0] == 6003
    assert notes == 5       # the column numbers and the signature's four lines (the blank one is no note)


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None)
@given(rows=st.lists(st.lists(st.text(alphabet='ab";, ', max_size=6), min_size=1, max_size=5), max_size=30),
       crlf=st.booleans(), bom=st.booleans(), title=st.sampled_from(["", 'DAFTAR "PESERTA" 2025']))
def test_quote_counts_per_line_both_ways(rows, crlf, bom, title):
    """Quotes are counted per line by a byte search when few, by Arrow when many: both give each line's count
    (the title's and header's quotes belong to no data line)."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n" if crlf else "\n")
    if title:
        w.writerow([title])
    w.writerow(REGISTER_HEADER)
    w.writerows([[r[0], "7372014505800012", *r[1:]] for r in rows])     # a line may start with a quote
    data = ("\ufeff" if bom else "").encode() + out.getvalue().encode()
    expected = [line.count('"') for line in out.getvalue().splitlines()[(2 if title else 1):]]
    got = []
    for threshold, chunk in ((10**6, None), (0, None), (10**6, 5), (0, 5)):     # (chunk: lines split in chunks)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(fastcsv, "QUOTES_FOUND_ONE_BY_ONE", threshold)
            f = fastcsv._fast_csv_lines(data, all_contracts(), OPTIONS, chunk)
        got.append(None if f is None else (f.quotes.tolist() if f.quotes is not None else [0] * len(f.lines)))
    for chunk in (1 << 24, 7):          # no line made (`scan_lines`), in chunks of whole lines
        f = fastcsv._fast_csv_lines(data, all_contracts(), OPTIONS, chunk, lines=False)
        assert f is None or f.lines is None
        got.append(None if f is None else (f.quotes.tolist() if f.quotes is not None else [0] * len(f.starts)))
    assert got[0] == got[2] == got[4] == got[5]
    assert got[0] == got[1]
    if got[0] is not None:
        assert got[0] == expected


def _scanned_records(data: bytes, fused: bool, sample: int = 1000):
    """What `_fast_csv_lines` finds of a big CSV's records without making its lines: with its lines of quoted cells
    matched once before their quotes are counted (`fused`: `every_cell_quoted_lines`), or every line's quotes
    counted; None when it leaves the file to the exact path."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(csvrecords, "SAMPLE_LINES", sample)
        if not fused:
            mp.setattr(csvrecords, "every_cell_quoted_lines", lambda *a, **k: None)
        f = fastcsv._fast_csv_lines(data, all_contracts(), OPTIONS, 7, lines=False)
    if f is None:
        return None
    return (f.starts.tolist(), (f.quotes > 0).tolist(), (f.quotes & 1).tolist(),
            _plain(f.joined if f.joined is not None else []), _plain(f.numbers if f.numbers is not None else []),
            None if f.cells_quoted is None else [a.tolist() for a in f.cells_quoted], f.encoding)


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None)
@given(rows=st.lists(st.lists(st.text(alphabet='ab";,\n ', max_size=6), min_size=1, max_size=4), min_size=1,
                     max_size=30), sample=st.sampled_from([1000, 2]), crlf=st.booleans(),
       encoding=st.sampled_from(["utf-8", "cp1252"]))
def test_a_file_of_quoted_cells_is_scanned_as_when_each_line_s_quotes_are_counted(tmp_path_factory, rows, sample,
                                                                                  crlf, encoding):
    """Every cell quoted (a cell may hold a quote, doubled, or a line break; the file's start ASCII, so a cp1252
    file is found cp1252 only after it): the lines whose every cell is quoted without a quote inside are matched
    once and their quotes not counted. The records, which hold quotes and how many odd, and the cells' flags are
    those found with every line's quotes counted; part by part, the file reads the same both ways."""
    out = io.StringIO()
    csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n" if crlf else "\n").writerows(
        [REGISTER_HEADER, *([r[0], "7372014505800012", *r[1:], "Soka’an"] for r in rows)])
    data = out.getvalue().encode(encoding)
    fused = _scanned_records(data, True, sample)
    assert fused == _scanned_records(data, False, sample)
    event("fast path" if fused is not None else "exact path")
    path = tmp_path_factory.mktemp("quoted") / "register_x_2025-06.csv"
    path.write_bytes(data)
    _merged_parts(path, part_lines=3, first_lines=1, chunk_bytes=7)


def test_a_file_of_quoted_cells_has_only_its_other_lines_quotes_counted(monkeypatch):
    """The lines of quoted cells are given 2 quotes each, not counted (26 in the file); a line with a quote
    doubled in a cell keeps its own count (28), and one with a cell over two lines its odd counts (25, 1): when
    they are no more than a sixteenth of the lines."""
    line = ('"1";"7372014505800012";"Andi";"13/03/2025";"L";"NELAYAN";"Bontoa";"Mandai";"JKK";"01/01/2025";"";'
            '"Rp 16.800";"APBD"')
    rows = [line] * 45 + [line.replace('"Bontoa"', '"Soka""an"')] + [line.replace('"Bontoa"', '"Soka\nan"')]
    data = ("\n".join([";".join(REGISTER_HEADER), *rows]) + "\n").encode()
    f = fastcsv._fast_csv_lines(data, all_contracts(), OPTIONS, 1 << 24, lines=False)
    assert f.quotes.tolist() == [2] * 45 + [28, 26]     # (the last two lines joined: 25 + 1)
    assert f.joined.tolist() == [False] * 47 + [True]
    assert f.cells_quoted[0].tolist() == [True] * 45 + [False, True]     # (a quote inside; a line break inside)
    monkeypatch.setattr(csvrecords, "every_cell_quoted_lines", lambda *a, **k: None)
    f = fastcsv._fast_csv_lines(data, all_contracts(), OPTIONS, 1 << 24, lines=False)
    assert f.quotes.tolist() == [26] * 45 + [28, 26]


SPANNING = {
    # a line break typed into a cell (Alt+Enter in Excel), once among plain rows: read column-wise
    "address": ('1;7372014505800012;Andi;"Jl. Poros\nRT 02";x\n2;7372014505800029;Sitti;y;z\n', True),
    "crlf": ('1;7372014505800012;Andi;"Jl. Poros\r\nRT 02\r\n";x\r\n2;7372014505800029;B;y;z\r\n', True),
    "total": ('1;7372014505800012;Andi;x\n;"JUMLAH\n(orang)";1\n', True),
    "blank_lines": ('1;7372014505800012;"Andi\n\n\nBaso";x\n\n2;7372014505800029;C;y\n', True),
    "every_row": ('1;7372014505800012;"Andi\nBaso";"Jl. A\nNo. 1"\n', True),
    # a carriage return alone typed into a cell (old Mac text pasted in): it ends the line, as csv reads it
    "lone_cr": ('1;7372014505800012;Andi;Jl. Poros\rRT 02;x\n2;7372014505800029;Sitti;y;z\n', True),
    "lone_cr_crlf": ('1;7372014505800012;Andi;Jl. Poros\rRT 02;x\r\n2;7372014505800029;Sitti;y;z\r\n', True),
    "lone_cr_ends_row": ('1;7372014505800012;Andi;x\r\r\n2;7372014505800029;Sitti;y;z\r\n', True),
    # ... and a quoted cell spanning lines beside it (or the carriage return inside quotes): the exact path
    "lone_cr_spanning": ('1;7372014505800012;Andi;Jl.\rRT 02;x\n2;7372014505800029;"Sitti\nA";y\n', False),
    "quoted_cr": ('1;7372014505800012;"Andi\rBaso";x\n2;7372014505800029;Sitti;y;z\n', False),
    # quotes csv reads otherwise than their count says (a quote inside a cell is a character; a quote opening a
    # cell on a line of even count): joined as csv joins them, unless a cell is left open at the end
    "stray": ('1;7372014505800012;An"di;x\n2;7372014505800029;Ba"so;y\n', True),
    "open_at_end": ('1;7372014505800012;Andi;x\n2;7372014505800029;"Baso;y\n', False),
    "even_but_open": ('1;7372014505800012;x "y;"z\n2;7372014505800029;a;b\n', False),
    "open_then_plain": ('1;7372014505800012;x "y;"z\n2;7372014505800029;"Baso\nB";y\n', True),
    # a cell csv reads over more lines than a typed cell has (a quote left open): the exact path reads it
    "long_cell": ('1;7372014505800012;"Andi' + "\n-" * 300 + '";x\n', False),
    "inch": ('1;7372014505800012;Andi;TV 21" rusak;x\n2;7372014505800029;"Sitti\nA";y\n', True),
}


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")) * 5, deadline=None)
@given(pieces=st.lists(st.sampled_from(['"', '""', ";", "a", " ", "\n", '";', ';"']), max_size=40))
def test_lines_are_joined_as_csv_reads_them(pieces):
    """`csv_joined_lines` joins a line to the record above exactly when csv's record goes on over its line
    break; None when csv ends the text inside a quoted cell (a last line of its own after it is read into it)."""
    lines = "".join(pieces).split("\n")
    reader = csv.reader(io.StringIO("".join(x + "\n" for x in lines) + "#END\n", newline=""), delimiter=";")
    starts, line = [], 1
    for record in reader:
        starts.append(line)
        line = reader.line_num + 1
    quotes = np.array([x.count('"') for x in lines], np.int64)
    got = csvrecords.csv_joined_lines(quotes, pa.array(lines), ";", lambda t: t)
    if record != ["#END"]:
        assert got is None, (lines, got)
    else:
        assert got is not None and got.tolist() == [i + 1 not in starts for i in range(len(lines))], (lines, got)


@pytest.mark.parametrize("case", SPANNING)
def test_a_quoted_cell_spanning_lines_reads_the_same_both_ways(tmp_path, case):
    """A record of several lines (a quoted cell holding a line break) is one row, numbered by the line it starts
    on, in a file read column-wise as the row-by-row path reads it (also when such records are many and are
    cleaned column-wise); records read in parts, in chunks and from the
    file again are the same. Quotes whose count and csv disagree leave the file to the exact path."""
    body, fast_path = SPANNING[case]
    head = ";".join(REGISTER_HEADER) + ("\r\n" if "\r\n" in body else "\n")
    path = tmp_path / "parepare" / "register_parepare_2025-04.csv"
    path.parent.mkdir()
    path.write_bytes((head + body * 41).encode("utf-8"))       # (an odd count: a quote left open stays open)
    slow, _ = _blocks(path, False)
    fast, used = _blocks(path, True)
    assert fast == slow
    assert used == [fast_path]
    # many such records (more than ODD_LINES_ROW_BY_ROW) are classified and cleaned column-wise, not row by row
    assert _blocks(path, True, odd_row_by_row=-1)[0] == slow
    whole = _merged_parts(path, part_lines=10**6)
    assert (whole is not None) == fast_path
    if fast_path:
        assert whole[5] == slow[0][6] and whole[6] == slow[0][7] and whole[8] == slow[0][9]
        assert _merged_parts(path, part_lines=3) == whole
        assert _merged_parts(path, part_lines=7, first_lines=2, chunk_bytes=61) == whole


@pytest.mark.parametrize("ending", ["crlf", "lf", "mixed", "lone_cr", "crlf_last_lf", "cr"])
def test_line_endings_read_the_same_both_ways(tmp_path, ending):
    """Pure CRLF and LF files split on their ending; a CRLF among LFs is trimmed; a file of carriage returns alone
    (Excel's "CSV (Macintosh)") splits on them; a lone carriage return among line feeds ends a line, as csv reads
    it."""
    rows = [";".join(REGISTER_HEADER)] + [
        f"{i};{nik(birth=dt.date(1980, 1, 1 + i % 28), female=False, serial=i + 1)};Nama {i};01/01/1980;L;nelayan"
        for i in range(40)]
    seps = {"crlf": ["\r\n"] * len(rows), "lf": ["\n"] * len(rows),
            "mixed": ["\r\n" if i % 3 else "\n" for i in range(len(rows))],
            "lone_cr": ["\r\n"] * 10 + ["\r"] + ["\r\n"] * (len(rows) - 11),
            "crlf_last_lf": ["\r\n"] * (len(rows) - 1) + ["\n"], "cr": ["\r"] * len(rows)}[ending]
    path = tmp_path / "parepare" / "register_parepare_2025-04.csv"
    path.parent.mkdir()
    path.write_bytes("".join(r + s for r, s in zip(rows, seps, strict=True)).encode())
    slow, _ = _blocks(path, False)
    fast, used = _blocks(path, True)
    assert fast == slow
    assert used == [True]
    whole = _merged_parts(path, part_lines=10**6)
    for chunk in (1, 7, 64):      # lines split a chunk at a time: a chunk ends at a line's end, wherever it is cut
        assert _merged_parts(path, part_lines=3, chunk_bytes=chunk) == whole


@given(st.lists(st.one_of(st.none(), st.text(max_size=6), st.text(alphabet="NIKnamaİ\u212aß", max_size=6))))
def test_lower_is_utf8_lower(texts):
    arr = pa.array(texts, pa.string())
    assert lower(arr).to_pylist() == pa.compute.utf8_lower(arr).to_pylist()


@pytest.mark.parametrize("odd", [" Andi", "Andi ", "Andi  Baso", "'Andi"])
def test_quoted_odd_cell_in_a_clean_file_reads_the_same_both_ways(tmp_path, odd):
    """Every field quoted, all else clean ASCII: the one odd cell hides inside its quotes (no space beside a
    delimiter in the bytes) and is still cleaned as the exact path cleans it."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=",", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow(REGISTER_HEADER)
    for i in range(40):
        row = [str(i + 1), nik(birth=dt.date(1980, 1, 1 + i % 28), female=i % 2 == 0, serial=i + 1)]
        w.writerow(row + [odd if i == 7 and k == 0 else f"cell{k}" for k in range(len(REGISTER_HEADER) - 2)])
    path = tmp_path / "parepare" / "register_parepare_2025-04.csv"
    path.parent.mkdir()
    path.write_text(out.getvalue(), encoding="utf-8")
    slow, _ = _blocks(path, False)
    fast, used = _blocks(path, True)
    assert used == [True]
    assert fast == slow


def test_cp1252_after_an_ascii_start_reads_the_same_both_ways(tmp_path):
    """The encoding is guessed from the start; a cp1252 byte far below it (past the sample) makes the whole file
    decide, as the exact path does, and the file is still read column-wise."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=",", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow(REGISTER_HEADER)
    for i in range(12000):
        row = [str(i + 1), nik(birth=dt.date(1980, 1, 1 + i % 28), female=i % 2 == 0, serial=i % 9999 + 1)]
        name = "Désa – Ujung" if i == 11990 else f"Andi {i}"
        w.writerow(row + [name] + [f"cell{k}" for k in range(len(REGISTER_HEADER) - 3)])
    path = tmp_path / "parepare" / "register_parepare_2025-04.csv"
    path.parent.mkdir()
    path.write_bytes(out.getvalue().encode("cp1252"))
    assert path.read_bytes()[: sniff.ENCODING_SAMPLE_BYTES].isascii()
    slow, _ = _blocks(path, False)
    fast, used = _blocks(path, True)
    assert used == [True]
    assert fast == slow


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-16", "utf-8-sig"])
def test_a_big_file_is_transcoded_a_chunk_at_a_time_exactly(monkeypatch, encoding):
    """The big-file transcoder (one chunk at a time, so the file is never held as one str) gives the bytes that
    decoding the whole file at once gives, whatever chunk boundary falls inside a character."""
    cell = "Désa - Ujung «x»" if encoding == "latin-1" else "Désa – Ujung “x”"
    text = "".join(f"{i};{cell};Ma'ruf\r\n" for i in range(500))
    raw = text.encode(encoding)
    for chunk in (1, 7, 4096):
        monkeypatch.setattr(csvlines, "TRANSCODE_CHUNK", chunk)
        assert bytes(csvlines.to_utf8(raw, encoding)) == raw.decode(encoding).encode("utf-8")
    bad = b"ok;\x81\x8d;\x90\n" * 3       # bytes cp1252 leaves undefined: replaced, as decode_text replaces them
    monkeypatch.setattr(csvlines, "TRANSCODE_CHUNK", 5)
    assert bytes(csvlines.to_utf8(bad, "cp1252", "replace")) == bad.decode("cp1252", errors="replace").encode()
    with pytest.raises(UnicodeDecodeError):
        csvlines.to_utf8(bad, "cp1252")


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=60) | st.lists(st.sampled_from([b"Ma", b"\x92", b"ruf;", b"\x81", b"\xe9", b"\n"]),
                                              max_size=30).map(b"".join),
       encoding=st.sampled_from(["cp1252", "latin-1"]), errors=st.sampled_from(["strict", "replace"]),
       few=st.sampled_from([0, 2, 4096]))
def test_a_one_byte_text_with_few_non_ascii_bytes_is_transcoded_as_decoding_it_whole(raw, encoding, errors, few):
    """A one-byte text is copied around its non-ASCII bytes, each decoded alone, when they are few (`few`: the
    threshold, so both ways are taken): the bytes decoding it whole gives, or UnicodeDecodeError when that raises
    (cp1252's five undefined bytes, strictly)."""
    csvlines_few = csvlines.FEW_HIGH_BYTES
    try:
        csvlines.FEW_HIGH_BYTES = few
        try:
            want = raw.decode(encoding, errors).encode("utf-8")
        except UnicodeDecodeError:
            with pytest.raises(UnicodeDecodeError):
                csvlines.to_utf8(raw, encoding, errors)
            return
        assert bytes(csvlines.to_utf8(memoryview(raw), encoding, errors)) == want
    finally:
        csvlines.FEW_HIGH_BYTES = csvlines_few


@settings(max_examples=300, deadline=None)
@given(raw=st.lists(st.sampled_from([b"abc;", b"\x80", b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d", b"\x92",
                                     b"\xff", b"\n"]), max_size=40).map(b"".join), chunk=st.integers(1, 9))
def test_the_bytes_cp1252_leaves_undefined_are_found_in_any_chunk(raw, chunk):
    """A big file in cp1252 is refused its fast path (the exact path then reads it as Windows-1252 would not:
    `decode_csv`) when it holds one of the five bytes cp1252 leaves undefined: found wherever the chunks fall, and
    never where the bytes around 0x81-0x9d (0x80, 0x92, 0xff) are the only ones above ASCII."""
    try:
        raw.decode("cp1252")
        undefined = False
    except UnicodeDecodeError:
        undefined = True
    assert csvlines.has_undefined_cp1252(raw, chunk) == undefined


_LINE_BITS = ["Kepala", "ket", "an", "a.n", "Jml", "total", "NIP", "(", "___", "--", "Tapaktuan, 3 Agustus 2004",
              "Syamsul", "1101", " ", ";", "\x1f", "7", "="]


@settings(max_examples=400, deadline=None)
@given(lines=st.lists(st.lists(st.sampled_from(_LINE_BITS), max_size=8).map("".join), min_size=1, max_size=20),
       delimiter=st.sampled_from([";", "\x1f"]))
def test_the_note_and_total_lines_of_ascii_text_are_those_the_unicode_pattern_finds(lines, delimiter):
    """A part all ASCII is scanned for notes and totals with [A-Za-z0-9] for a letter or digit: the lines the
    Unicode pattern finds, no more, no fewer."""
    d = re.escape(delimiter)
    arr = pa.array(lines, pa.string())
    unicode_found = pc.match_substring_regex(arr, fastcsv._note_or_total_pattern(d)).to_pylist()
    assert pc.match_substring_regex(arr, fastcsv._note_or_total_pattern(d, True)).to_pylist() == unicode_found
    assert fastcsv._line_checks(arr, delimiter, False, 1000)[1].tolist() == unicode_found


def test_a_part_with_a_letter_beyond_ascii_is_scanned_with_the_unicode_pattern():
    """"Éket" is a name, not the note word "ket" after a mark: the ASCII pattern would take the É for a mark.
    A part holding it is scanned as Unicode; without it the same line's "ket" is found."""
    arr = pa.array(["1;Éket;7", "2;-ket;7", "3;Syamsul;7"], pa.string())
    assert pc.match_substring_regex(arr, fastcsv._note_or_total_pattern(";", True)).to_pylist()[0] is True
    assert fastcsv._line_checks(arr, ";", False, 1000)[1].tolist() == [False, True, False]
    assert fastcsv._line_checks(arr, ";", True, 1000)[1].tolist() == [True, True, False]    # (odd: not ASCII)


def test_cp1252_after_an_ascii_start_reads_the_same_in_small_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(csvlines, "TRANSCODE_CHUNK", 4099)
    test_cp1252_after_an_ascii_start_reads_the_same_both_ways(tmp_path)


def _one_byte_register(tmp_path, encoding: str, line_end: str, undefined_at: int | None = None, rows: int = 6000):
    """A big register CSV in a one-byte encoding, every field quoted, a non-ASCII character before the quotes of
    most lines (so a line's place in the file and in its UTF-8 text differ more and more down the file)."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=",", quoting=csv.QUOTE_ALL, lineterminator=line_end)
    w.writerow(REGISTER_HEADER)
    for i in range(rows):
        row = [str(i + 1), nik(birth=dt.date(1980, 1, 1 + i % 28), female=i % 2 == 0, serial=i % 9999 + 1)]
        name = ("Désa " if i % 3 else "Andi ") + ("«x»" if encoding == "latin-1" else "– “Ujung”") + f" {i}"
        w.writerow(row + [name, 'Ma"ruf, "x"'] + [f"cell{k}" for k in range(len(REGISTER_HEADER) - 4)])
    raw = out.getvalue().encode(encoding)
    if undefined_at is not None:     # a byte cp1252 leaves undefined, far below the start (past the sample)
        at = raw.index(b"Andi", undefined_at)
        raw = raw[:at] + b"\x81" + raw[at + 1:]
    path = tmp_path / "parepare" / f"register_parepare_2025-04_{encoding}.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(raw)
    return path


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
@pytest.mark.parametrize("line_end", ["\r\n", "\n"])
def test_a_one_byte_file_read_in_parts_is_made_utf8_chunk_by_chunk(tmp_path, monkeypatch, encoding, line_end):
    """A big cp1252 / latin-1 file is made UTF-8 one chunk at a time as its lines are split: the same rows as the
    exact path, in parts and in small chunks, quotes counted on the right lines though every line's UTF-8 text is
    longer than its bytes."""
    path = _one_byte_register(tmp_path, encoding, line_end)
    slow, _ = _blocks(path, False)
    fast, used = _blocks(path, True)
    assert used == [True] and fast == slow
    whole = _merged_parts(path, part_lines=10**6)
    assert whole is not None and whole[5] == slow[0][6] and whole[8] == slow[0][9]
    monkeypatch.setattr(csvlines, "TRANSCODE_CHUNK", 4099)
    assert _merged_parts(path, part_lines=997, chunk_bytes=5003) == whole


def test_an_undefined_cp1252_byte_leaves_the_file_to_the_exact_path(tmp_path):
    """cp1252 leaves five bytes undefined: a chunk that holds one does not decode, and the exact path reads the
    file (as `decode_csv` does: replaced), the same rows as before the chunked transcoding."""
    path = _one_byte_register(tmp_path, "cp1252", "\r\n", undefined_at=sniff.ENCODING_SAMPLE_BYTES + 1000,
                              rows=10_000)
    assert _merged_parts(path, part_lines=997, chunk_bytes=5003) is None
    slow, _ = _blocks(path, False)
    fast, used = _blocks(path, True)
    assert used == [False] and fast == slow and "\ufffd" in str(slow)


def test_a_one_byte_file_is_never_held_whole_as_utf8(tmp_path, monkeypatch):
    """While the lines of a big cp1252 file are split in chunks, Python never holds its UTF-8 text whole beside
    its bytes (the split lines live in Arrow's memory, which tracemalloc does not count): the peak of Python's
    allocations is about that of the same file in UTF-8, which needs no transcoding, not a file's size above it."""
    import tracemalloc

    path = _one_byte_register(tmp_path, "cp1252", "\r\n")
    monkeypatch.setattr(csvlines, "TRANSCODE_CHUNK", 1 << 16)
    peaks = {}
    for encoding, raw in (("utf-8", path.read_bytes().decode("cp1252").encode()), ("cp1252", path.read_bytes())):
        tracemalloc.start()
        try:
            f = fastcsv._fast_csv_lines(raw, all_contracts(), OPTIONS, chunk_bytes=1 << 16)
            peaks[encoding] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert f is not None and f.encoding == encoding and len(f.lines) == 6000
    assert peaks["cp1252"] < peaks["utf-8"] + len(raw) // 4, (peaks, len(raw))


def test_the_bytes_cp1252_refuses_are_the_ones_the_scan_looks_for():
    refused = {bytes([b]) for b in range(256) if _refuses(bytes([b]))}
    assert refused == set(csvlines.CP1252_UNDEFINED)


@given(lines=st.lists(st.text(alphabet="a;\u0a41\u4100\u0a00\u0d0a", max_size=9).map(lambda t: t + "\n"),
                      max_size=12), size=st.integers(0, 120), codec=st.sampled_from(["utf-16-le", "utf-16-be"]))
def test_the_head_of_a_utf16_file_is_whole_lines(lines, size, codec):
    """The start of a UTF-16 file (Excel's "Unicode Text") is decoded alone, up to the last line feed within its
    first bytes: a whole character's, never the bytes 0A 00 / 00 0A across two characters (U+0A41 U+4100)."""
    raw = "\ufeff".encode(codec) + "".join(lines).encode(codec)
    ends = [2 + 2 * len("".join(lines[:k + 1])) for k in range(len(lines))]    # (every character two bytes)
    expected = "".join(lines[:sum(1 for e in ends if e <= size)])
    head = csvlines.head_lines(raw, size, "utf-16")
    assert head.decode("utf-16") == expected if head else expected == ""


def _refuses(b: bytes) -> bool:
    try:
        b.decode("cp1252")
    except UnicodeDecodeError:
        return True
    return False


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")) * 3, deadline=None)
@given(pieces=st.lists(st.sampled_from(["a", ";", '"', "\r", "\n", "\r\n", "é", "\x81", "\ufeff"]), max_size=40),
       first_line=st.integers(1, 3), one_byte=st.sampled_from([None, "cp1252", "latin-1"]), chunk=st.integers(1, 9))
@example(pieces=["a", "\n", "\ufeff", "a"], first_line=1, one_byte=None, chunk=1)    # (a part starting with a BOM)
def test_scanning_finds_the_lines_splitting_finds(pieces, first_line, one_byte, chunk):
    """`scan_lines` (no line made) gives the starts `split_lines` gives, each line's quotes, and None exactly when
    the split gives None: lone carriage returns, bytes that do not decode, in UTF-8 and one-byte files. Any part
    from a line's start on, split again with the line ends the scan found (as a part read again from the file is),
    gives the whole split's lines: a BOM it starts with is the line's text, not the file's mark."""
    text = "".join(pieces)
    data = text.encode("utf-8") if one_byte is None else text.encode(one_byte, errors="ignore")
    if one_byte is None and "\x81" in pieces:
        data = data.replace("\x81".encode(), b"\x81")        # a byte that is not UTF-8
    transcode = None if one_byte is None else functools.partial(csvlines.to_utf8, encoding=one_byte)
    split = csvlines.split_lines(data, first_line, chunk, transcode)
    scan = csvlines.scan_lines(data, first_line, one_byte is None, one_byte == "cp1252", chunk)
    assert (scan is None) == (split is None), (data, split, scan)
    if split is not None:
        lines, starts = split
        # the lines Python reads in the text (universal newlines: LF, CRLF and a lone CR each end one)
        decoded = data.decode("utf-8" if one_byte is None else one_byte).removeprefix("\ufeff")
        python = [line.removesuffix("\n").removesuffix("\r")
                  for line in io.StringIO(decoded, newline="")] or [""]    # (no text: one empty line)
        assert lines.to_pylist() == python[first_line - 1:], (data, lines)
        assert scan[0].tolist() == starts.tolist()
        counts = [line.count('"') for line in lines.to_pylist()]
        assert (scan[1].tolist() if scan[1] is not None else [0] * len(counts)) == counts
        # a part of the file split again with the line ends the scan found: the same lines as the whole split's
        for at in range(len(starts)):
            part = csvlines.split_lines(data[int(starts[at]):], 1, None, transcode, scan[2])
            assert part is not None and part[0].to_pylist() == lines.to_pylist()[at:], (data, at, part)
            assert (part[1] + int(starts[at])).tolist() == starts.tolist()[at:]


@pytest.mark.parametrize("quoted", [False, True])
def test_rows_of_delimiters_alone_are_skipped_in_bulk(tmp_path, monkeypatch, quoted):
    """A sheet saved as CSV with its formatted empty rows: Excel writes each as a line of delimiters alone, between
    the data and by the hundred thousand below it (a public CSV library's issue: 200 real lines, then 1.3 million
    ",,,,,," lines). They are blank rows, skipped as the row-by-row path skips them, found in bulk: not one of them
    goes through `classify_row`. A line of spaces and delimiters, or a delimiter and a quote, is not one of them.
    (Quoted: some NIKs quoted, and a few names with a line break typed in, each record two lines of the file.)"""
    rows = [";".join(REGISTER_HEADER)]
    for i in range(300):
        q = '"' if quoted and i % 4 == 0 else ""
        name = f'"Nama\r\n{i}"' if quoted and i % 60 == 1 else f"Nama {i}"     # (a line break typed in a cell)
        rows.append(f"{i + 1};{q}{nik(birth=dt.date(1980, 1, 1 + i % 28), female=i % 2 == 0, serial=i + 1)}{q};"
                    f"{name};01/01/1980;L;nelayan")
        if i % 50 == 7:
            rows += [";" * len(REGISTER_HEADER)] * 40 + ["", ";", " ; ;", ';"";']
    rows += ["JUMLAH;;;;;", "Parepare, 2 Mei 2025"] + [";" * (len(REGISTER_HEADER) - 1)] * 5000 + [";;"] * 30
    path = tmp_path / "parepare" / "register_parepare_2025-04.csv"
    path.parent.mkdir()
    path.write_bytes("\r\n".join(rows).encode() + b"\r\n")
    slow, _ = _blocks(path, False)
    asked = []
    real = fastcsv._classify
    monkeypatch.setattr(fastcsv, "_classify", lambda lines, at, *a: asked.append(len(at)) or real(lines, at, *a))
    fast, used = _blocks(path, True, -1)
    assert used == [True] and fast == slow
    assert len(slow[0][6]) == 300 and slow[0][9][0][2]["nik"] is None         # 300 rows, the total row found
    assert sum(asked) < 100, asked          # the total, the signature, the few odd lines: not 5,000 blank ones
    whole = _merged_parts(path, part_lines=10**6)
    assert whole[5] == slow[0][6] and whole[8] == slow[0][9]
    assert _merged_parts(path, part_lines=997, chunk_bytes=4099) == whole


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_quoted_cell_flags_on_threads_are_each_records_own(threads):
    """A big CSV's records are matched in slices on threads before its first part is read: each record's two flags
    (every cell quoted without a quote inside; each cell so or unquoted without one) are its own, whichever slice
    it falls in. 200,003 records of three kinds in a random order, so that a record of each kind sits beside every
    slice's edge; the flags are known from how each was written."""
    import random

    rng = random.Random(47)
    kinds = [rng.randrange(3) for _ in range(200_003)]
    written = {0: '"{i}";"Desa {i}";"x"\r\n',           # every cell quoted: both flags
               1: '"{i}";Desa {i};"x"\r\n',             # an unquoted cell without a quote: the second only
               2: '"{i}";Ma"ruf {i};"x"\r\n'}           # a quote typed inside an unquoted cell: neither
    records = pa.array([written[k].format(i=i).encode() for i, k in enumerate(kinds)], pa.large_binary())
    every, plain = csvrecords.quoted_cell_flags(records, ";", csvrecords.END, threads=threads)
    assert every.tolist() == [k == 0 for k in kinds]
    assert plain.tolist() == [k in (0, 1) for k in kinds]
