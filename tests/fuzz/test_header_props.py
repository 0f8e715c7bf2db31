"""Property tests (issue 19): header inference does not depend on column order, extra columns, the height of the
title block or the style of the header's merges. The expected mapping is where the generator put each column."""

from __future__ import annotations

import os

from cakupan.core.contracts import all_contracts
from cakupan.ingest.readers.header import find_header
from cakupan.ingest.readers.workbook import fill_merged
from cakupan_dev.messy.layout_cases import Layout, _header, letterhead
from cakupan_dev.messy.people import REGISTER_HEADER, register_row, workers
from hypothesis import given, settings
from hypothesis import strategies as st

PROPS = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None)
CANON = {"NIK": "nik", "Nama": "full_name", "Tgl Lahir": "birth_date", "JK": "sex", "Pekerjaan": "occupation",
         "Desa": "village", "Kecamatan": "district", "Program": "programs", "TMT": "coverage_start",
         "Iuran": "monthly_contribution", "Sumber Dana": "funding_source"}
EXTRAS = ("Keterangan", "Status Verifikasi", "Nama Ibu Kandung", "Catatan Petugas")


@given(order=st.permutations(REGISTER_HEADER), extras=st.lists(st.sampled_from(EXTRAS), unique=True, max_size=3),
       extra_at=st.integers(0, 12), title=st.sampled_from([0, 3, 4, 9, 14, 22, 30]), rows=st.integers(1, 3),
       style=st.sampled_from(["merge", "once", "repeat"]), numbers=st.booleans())
@PROPS
def test_header_found_whatever_the_layout(order, extras, extra_at, title, rows, style, numbers):
    cols = list(order)
    for e in extras:
        cols.insert(min(extra_at, len(cols)), e)
    lay = Layout("p", "", header_rows=rows, merge_style=style)
    head, merges = _header(cols, lay)
    top = letterhead(title) if title else []
    ws = workers(3, seed=5)
    data = [[dict(zip(REGISTER_HEADER, register_row(i + 1, w), strict=True)).get(c, "x") for c in cols]
            for i, w in enumerate(ws)]
    grid = top + head + ([[f"({k + 1})" for k in range(len(cols))]] if numbers else []) + data
    grid = [list(r) + [None] * (len(cols) - len(r)) for r in grid]
    for r1, c1, _, _, v in merges:            # a merged range's value sits in its top-left cell only
        grid[r1 + len(top)][c1] = v
    fill_merged(grid, [((r1 + len(top), c1), (r2 + len(top), c2)) for r1, c1, r2, c2, _ in merges])
    m = find_header(grid, all_contracts(), {}, {})
    assert m is not None and m.source == "register"
    assert m.row == len(top) + rows - 1
    assert m.mapping == {CANON[c]: cols.index(c) for c in cols if c in CANON}
