"""The build's small helpers: libyaml-backed YAML loading and the one-statement multi-row insert."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from cakupan.core.files import load_yaml
from cakupan.targets.zones import insert_rows

ROOT = Path(__file__).resolve().parents[2]

TRICKY = """
code: "73.72"
name: Parepare
aliases: [Kota Parepare, 'Pare-Pare']
effective: 2025-04-01
amount: 16800
rate: 0.3
flag: yes
empty:
anchors:
  base: &b {a: 1}
  derived: *b
text: |
  line one
  line two
"""


def test_load_yaml_reads_what_safe_load_reads():
    config = sorted((ROOT / "config").rglob("*.yml")) + sorted((ROOT / "dbt_project" / "models").rglob("*.yml"))
    assert len(config) > 10
    for path in config:
        text = path.read_text(encoding="utf-8")
        assert load_yaml(text) == yaml.safe_load(text), path
    got = load_yaml(TRICKY)
    assert got == yaml.safe_load(TRICKY)
    assert got["effective"] == dt.date(2025, 4, 1) and got["flag"] is True and got["anchors"]["derived"] == {"a": 1}


def test_load_yaml_refuses_what_safe_load_refuses():
    for bad in ("a: [1, 2", "!!python/object/apply:os.system ['true']", "a: b: c"):
        with pytest.raises(yaml.YAMLError):
            yaml.safe_load(bad)
        with pytest.raises(yaml.YAMLError):
            load_yaml(bad)


def test_insert_rows_inserts_every_row_in_order_with_types_cast_to_the_table():
    con = duckdb.connect()
    con.execute("create table t (i integer, name varchar, d date, amount decimal(18,2), ok boolean)")
    rows = [(n, f"r{n}" if n % 3 else None, dt.date(2025, 1, 1) + dt.timedelta(days=n) if n % 2 else "2025-02-01",
             Decimal("16800.50") if n % 2 else n, n % 2 == 0) for n in range(1, 1001)]
    assert insert_rows(con, "t", rows, chunk_values=37) == 1000      # 7 rows a statement: 143 statements
    got = con.execute("select * from t order by i").fetchall()
    assert len(got) == 1000
    assert got[0] == (1, "r1", dt.date(2025, 1, 2), Decimal("16800.50"), False)
    assert got[1] == (2, "r2", dt.date(2025, 2, 1), Decimal("2.00"), True)
    assert got[2][1] is None
    assert insert_rows(con, "t", []) == 0
    con.execute("create table u (a varchar, b varchar, loaded timestamp)")
    assert insert_rows(con, "u (b, a)", [("B", "A")]) == 1
    assert con.execute("select a, b, loaded from u").fetchall() == [("A", "B", None)]


def test_insert_rows_refuses_rows_of_different_widths_and_inserts_nothing():
    con = duckdb.connect()
    con.execute("create table t (a integer, b integer)")
    with pytest.raises(ValueError, match="different widths"):
        insert_rows(con, "t", [(1, 2), (3,)])
    assert con.execute("select count(*) from t").fetchone()[0] == 0


def test_narrative_files_are_every_report_file_under_the_inbox(tmp_path):
    from cakupan.core.settings import Settings
    from cakupan.pipeline import narrative_files

    s = Settings.from_env(home=tmp_path / "home", pseudonym_key="k" * 32)
    want = [s.inbox / "73.72" / "berita.txt", s.inbox / "73.73" / "deep" / "Laporan.HTML", s.inbox / "siaran.htm"]
    for p in want + [s.inbox / "73.72" / "register_2025-03.csv", s.inbox / "notes.txt.bak"]:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x", encoding="utf-8")
    (s.inbox / "folder.txt").mkdir()                    # a folder with a report's name is not a report
    assert narrative_files(s) == sorted(want)
    assert narrative_files(Settings.from_env(home=tmp_path / "none", pseudonym_key="k" * 32)) == []
