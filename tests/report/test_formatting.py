"""How the auditor site writes values (cakupan.auditor.formatting) and lays out a chart (cakupan.auditor.chart)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from cakupan.auditor.chart import LABEL_GAP, chart, months_between, nice_max
from cakupan.auditor.formatting import (
    fmt_any,
    fmt_date,
    fmt_int,
    fmt_money,
    fmt_month,
    fmt_pct,
    iso_month,
    pseudonym,
    scrub,
    trace_file_name,
    utc,
)

HEX64 = "0123456789abcdef" * 4


def test_numbers_use_the_indonesian_separators():
    assert fmt_int(1234567) == "1.234.567"
    assert fmt_money(2500) == "Rp 2.500"
    assert fmt_pct(0.125) == "12,5%"
    assert fmt_any(Decimal("0.125")) == "0,125"
    assert fmt_any(Decimal(1234)) == "1.234"
    assert [f(v) for f in (fmt_int, fmt_money, fmt_pct, fmt_month, fmt_date) for v in (None, float("nan"))] == ["—"] * 10


def test_months_dates_and_times(monkeypatch):
    monkeypatch.delenv("CAKUPAN_LANG", raising=False)        # Bahasa Indonesia, the default
    assert fmt_month(dt.date(2025, 6, 1)) == "Juni 2025"
    assert fmt_month("2025-06-15") == "Juni 2025"
    assert iso_month("2025-06-15") == "2025-06"
    assert fmt_date(dt.datetime(2025, 6, 1, 7, 8, 9)) == "1 Juni 2025 07:08:09"
    assert fmt_date(dt.date(2025, 4, 30)) == "30 April 2025"
    monkeypatch.setenv("CAKUPAN_LANG", "en")
    assert fmt_month(dt.date(2025, 6, 1)) == "June 2025"
    assert fmt_date(dt.date(2025, 8, 17)) == "17 August 2025"
    assert utc("2030-01-01T07:00:00+07:00") == dt.datetime(2030, 1, 1)
    assert utc("not a time") is None
    assert trace_file_name("73.14", dt.date(2025, 6, 1), "enrolled") == "trace/73.14_2025-06_enrolled.html"


def test_scrub_removes_nik_like_numbers_and_shortens_pseudonyms(monkeypatch):
    monkeypatch.delenv("CAKUPAN_LANG", raising=False)
    assert scrub("row 4: NIK 7314022108760001") == "row 4: NIK [long number removed]"
    assert scrub("14 digits 12345678901234 stay") == "14 digits 12345678901234 stay"
    assert scrub(f"key {HEX64} seen") == f"key {HEX64[:12]}… seen"
    assert scrub(None) == ""
    assert fmt_any("bad NIK 7314022108760001") == "bad NIK [long number removed]"
    assert fmt_any(True) == "ya"


def test_pseudonyms_are_cut_to_twelve_characters():
    assert pseudonym(HEX64) == HEX64[:12] + "…"
    assert pseudonym(None) == pseudonym("") == "—"


def test_axis_maximum_and_step():
    assert nice_max(0) == (1.0, 1.0)
    assert nice_max(15) == (15.0, 5.0)
    assert nice_max(5000) == (5000.0, 1000.0)
    assert nice_max(43) == (50.0, 10.0)


def test_months_between_crosses_the_year():
    assert months_between(dt.date(2024, 11, 1), dt.date(2025, 2, 1)) == [
        dt.date(2024, 11, 1), dt.date(2024, 12, 1), dt.date(2025, 1, 1), dt.date(2025, 2, 1)]


def test_a_month_without_data_breaks_the_line_and_end_labels_stay_apart():
    rows = [{"month_start": dt.date(2025, m, 1), "promised": 100, "enrolled": e, "protected": p}
            for m, e, p in ((3, 40, 39), (4, None, None), (5, 41, 40), (6, 42, 41))]
    c = chart("73.14", "Sidrap", rows)
    by_name = {s.name: s for s in c.series}
    assert [len(seg) for seg in by_name["enrolled"].segments] == [1, 2]
    assert [len(seg) for seg in by_name["promised"].segments] == [4]
    ys = [y for y, _, _ in c.end_labels]
    assert all(a - b >= LABEL_GAP for a, b in itertools.pairwise(ys))
    assert {(s.name, v) for _, s, v in c.end_labels} == {("promised", 100), ("enrolled", 42), ("protected", 41)}
    assert chart("73.14", "Sidrap", [{"month_start": None}]) is None
