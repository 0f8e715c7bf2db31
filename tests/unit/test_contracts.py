"""One definition per source: the reader, the raw DDL, the dbt sources YAML and the GX raw suite agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from cakupan.core.contracts import SOURCES, all_contracts, normalise_header, reasons
from cakupan.core.dbt_sources import SOURCES_FILE, render_sources
from cakupan.targets.zones import raw_columns

SOURCES_MD = Path(__file__).resolve().parents[2].parent / "shared" / "sources.md"


def test_committed_dbt_sources_are_generated_from_the_contracts():
    assert SOURCES_FILE.read_text(encoding="utf-8") == render_sources(), \
        "run `cakupan contracts dbt-sources` and commit the result"


def test_dbt_sources_list_exactly_the_raw_table_columns():
    doc = yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))
    raw = next(s for s in doc["sources"] if s["name"] == "raw")
    for source, contract in all_contracts().items():
        table = next(t for t in raw["tables"] if t["name"] == source)
        assert [c["name"] for c in table["columns"]] == raw_columns(contract)
        for c in contract.columns:
            if c.name != "period":
                assert c.name in raw_columns(contract)


def test_gx_raw_suite_covers_every_required_contract_column():
    from cakupan.quality import raw_checks

    checks = raw_checks()
    for source, contract in all_contracts().items():
        names = {c.name for c in checks if c.table == f"raw.{source}"}
        for col in contract.required:
            if col in ("period", "regency"):
                continue
            assert any(n.startswith(col) for n in names), f"raw.{source}.{col} has no GX check"


@pytest.mark.skipif(not SOURCES_MD.exists(), reason="../shared/sources.md is not beside the repository")
def test_contracts_carry_every_alias_listed_in_sources_md():
    text = SOURCES_MD.read_text(encoding="utf-8")
    sections = re.split(r"^## \d\. `", text, flags=re.MULTILINE)[1:]
    for section in sections:
        source = section.split("`", 1)[0]
        if source not in SOURCES:
            continue
        alias_map = all_contracts()[source].alias_map()
        for line in section.splitlines():
            m = re.match(r"^\| (\w+(?: or \w+)?) \| (yes|no\*?|one of) \| ([^|]+) \|", line)
            if not m or m.group(1) == "canonical":
                continue
            canon = m.group(1).split(" or ")
            cell = re.sub(r'\s*\([^)]*[",][^)]*\)', "", m.group(3))   # drop examples: TTL ("Parepare, …"), (JKK, JKM)
            for alias in (a.strip() for a in cell.split(",")):
                if not alias or alias.startswith("as in"):
                    continue
                assert alias_map.get(normalise_header(alias)) in canon, f"{source}: alias {alias!r} → {canon}"


def test_every_reason_code_has_a_level_and_plain_message():
    for code, r in reasons().items():
        assert re.fullmatch(r"[A-Z0-9_]+", code)
        assert r.level in ("row", "file", "finding", "report")  # report: narrative press releases
        assert len(r.message) > 15 and (r.message[0].isupper() or r.message[0] == "'")
