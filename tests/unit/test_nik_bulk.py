"""The bulk NIK check (`identity.nik_surely_valid`) never calls a NIK valid that the SQL rules reject.

The loader lets the SQL of `nik_problem_sql` decide only the rows the bulk check is not sure of, so a NIK the bulk
check passes must be one the SQL finds valid. These tests check it on every birth-date part there is, on every
4-digit prefix, and on random cells.
"""

from __future__ import annotations

import calendar

import duckdb
import numpy as np
import pyarrow as pa
from cakupan.core.regions import nik_prefixes
from cakupan.ingest.identity import (
    nik_problem_sql,
    nik_surely_valid,
    normalise_nik_arrow,
    normalise_nik_sql,
    register_prefixes,
)
from hypothesis import given, settings
from hypothesis import strategies as st

PREFIX = min(nik_prefixes())


def _sql_problems(niks: list[str | None], numeric: list[bool] | None = None) -> list[str | None]:
    con = duckdb.connect()
    register_prefixes(con)
    numeric = numeric or [False] * len(niks)
    con.register("t", pa.table({"i": pa.array(range(len(niks)), pa.int64()), "v": pa.array(niks, pa.string()),
                                "num": pa.array(numeric, pa.bool_())}))
    return [r[0] for r in con.execute(f"select {nik_problem_sql(normalise_nik_sql('v'), 'num')} from t order by i")
            .fetchall()]


def test_every_birth_date_part():
    """All 1,000,000 day-month-year parts: the bulk check passes exactly the real dates of both centuries (day + 40
    for women); the SQL agrees on each of them, and the only real dates it leaves to the SQL are 29 February 00."""
    parts = [f"{dd:02d}{mm:02d}{yy:02d}" for dd in range(100) for mm in range(100) for yy in range(100)]
    niks = [f"{PREFIX}01{p}0001" for p in parts]
    sure = nik_surely_valid(pa.array(niks, pa.string()))
    problems = _sql_problems(niks)

    def real_in_both(p: str) -> bool:
        dd, mm, yy = int(p[:2]), int(p[2:4]), int(p[4:])
        day = dd - 40 if dd > 40 else dd
        return 1 <= mm <= 12 and all(1 <= day <= calendar.monthrange(c + yy, mm)[1] for c in (1900, 2000))

    expected = np.array([real_in_both(p) for p in parts])
    assert (sure == expected).all()
    assert all(problems[i] is None for i in np.flatnonzero(sure))
    left_valid = {parts[i] for i in np.flatnonzero(~sure) if problems[i] is None}
    assert left_valid == {"290200", "690200"}          # 29 Feb 2000 (a woman: 69): a date in 2000, not in 1900


def test_every_prefix():
    niks = [f"{p:04d}014505800012" for p in range(10_000)]
    sure = nik_surely_valid(pa.array(niks, pa.string()))
    assert [bool(x) for x in sure] == [f"{p:04d}" in nik_prefixes() for p in range(10_000)]
    assert [x is None for x in _sql_problems(niks)] == [bool(x) for x in sure]


CELL = st.one_of(
    st.none(),
    st.text(alphabet="0123456789", min_size=14, max_size=18),
    st.builds(lambda a, b: a + b, st.sampled_from([PREFIX, "7372", "0000", "9999", "'" + PREFIX]),
              st.text(alphabet="0123456789 .-'\u00a0eE+,", min_size=10, max_size=14)),
    st.text(alphabet="٠١٢٣0123456789", min_size=16, max_size=16),
    st.text(max_size=18),
)


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.tuples(CELL, st.booleans()), max_size=40))
def test_random_cells_the_bulk_check_passes_are_valid_in_sql(cells):
    texts = [c for c, _ in cells]
    numeric = [n for _, n in cells]
    sure = nik_surely_valid(normalise_nik_arrow(pa.array(texts, pa.string())), np.array(numeric, dtype=bool))
    problems = _sql_problems(texts, numeric)
    assert all(problems[i] is None for i in np.flatnonzero(sure))
    assert not any(sure[i] for i in range(len(cells)) if numeric[i])
