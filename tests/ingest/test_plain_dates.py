"""The bulk date path (`validate.plain_dates`) gives exactly what `parsing.parse_date` gives, value by value."""

from __future__ import annotations

import pyarrow as pa
from cakupan.ingest.validate import DATE_LIMITS, map_distinct, parser_for, plain_dates
from hypothesis import given, settings
from hypothesis import strategies as st

DIGITS = st.text("0123456789", min_size=1, max_size=5)
DATE_LIKE = st.builds(lambda d, s1, m, s2, y: f"{d}{s1}{m}{s2}{y}", DIGITS, st.sampled_from("/-. "), DIGITS,
                      st.sampled_from("/-. "), DIGITS)
PLAIN = st.builds(lambda d, m, y, sep: f"{d:02d}{sep}{m:02d}{sep}{y:04d}", st.integers(0, 39), st.integers(0, 14),
                  st.integers(0, 9999), st.sampled_from("/-."))
VALUES = st.lists(st.one_of(PLAIN, DATE_LIKE, st.none(), st.sampled_from(["13 Maret 2025", "", "29/02/2024",
                                                                          "29/02/2023", "31/12/1899", "01/01/1900"])),
                  max_size=60)


def _both(values: list[str | None], col_type: str):
    arr = pa.array(values, pa.string())
    fn = parser_for(col_type, {})
    slow = map_distinct(arr, fn, pa.date32())
    fast = map_distinct(arr, fn, pa.date32(), plain_dates(*DATE_LIMITS[col_type]))
    return [x.to_pylist() for x in slow], [x.to_pylist() for x in fast]


@settings(max_examples=300, deadline=None)
@given(values=VALUES, col_type=st.sampled_from(sorted(DATE_LIMITS)))
def test_bulk_dates_equal_the_parser(values, col_type):
    slow, fast = _both(values, col_type)
    assert fast == slow


def test_bulk_dates_known_values():
    _, (values, errors) = _both(["13/03/2025", "29/02/2023", "01/01/1901", "31.12.2099", "13-03-2025"], "date")
    import datetime as dt

    assert values == [dt.date(2025, 3, 13), None, None, dt.date(2099, 12, 31), dt.date(2025, 3, 13)]
    assert errors == [None, "DATE_INVALID", "DATE_OUT_OF_RANGE", None, None]
