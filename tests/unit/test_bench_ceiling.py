"""The shape bench says, per shape, what ratio the CPU Cakupan used allows on the machine (issue 22)."""

from __future__ import annotations

from bench import shape_bench


def test_the_ceiling_is_the_baseline_over_the_cpu_spread_on_every_cpu():
    # session 47's `current`: bare DuckDB 2.69 s, Cakupan 9.5 s of CPU, two CPUs. 9.5 / 2 = 4.75 s of wall at
    # least; 2.69 / 4.75 = 0.566; 0.6 allows 2.69 / 0.6 * 2 = 8.97 s of CPU, 5.6 % less than 9.5
    said = shape_bench.ceiling(2.69, 9.5, 2)
    assert "9.5 s of CPU" in said and "2 CPUs" in said and "4.75 s of wall" in said
    assert "at most 0.57" in said and "at most 9.0 s of CPU (-6%)" in said
    # a run whose CPU leaves room: 4 s of CPU on two CPUs against 3 s -> 0.6 allows 10 s (+150 %)
    assert "at most 1.50" in shape_bench.ceiling(3.0, 4.0, 2) and "(+150%)" in shape_bench.ceiling(3.0, 4.0, 2)


def test_each_shape_table_ends_its_goals_with_the_ceiling():
    run = {"ok": True, "rss_mb": 400.0, "error": None}
    res = {"current": {"rows": 1_000_000, "mb": 121.0, "loaders": {
        "duckdb": [{**run, "wall": 2.69, "cpu_s": 3.5, "rows": 1_000_000}],
        "cakupan": [{**run, "wall": 5.74, "cpu_s": 9.5, "rows_loaded": 1_000_000, "rows_quarantined": 0}]}}}
    text = "\n".join(shape_bench.markdown(res, cpus=2))
    assert "Goals: ratio 0.47 (not met, ≥ 0.6)" in text
    assert "a ratio of at most 0.57; 0.6 needs at most 9.0 s of CPU (-6%)" in text
