"""Copy configuration (sectors, rates, regencies) into reference.* tables for dbt, on every run."""

from __future__ import annotations

import duckdb

from cakupan.core.config import load_delivery_calendar, load_rates, load_regencies, load_sectors
from cakupan.core.settings import Settings
from cakupan.targets.zones import insert_rows


def sync_config(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Replace reference.sectors, sector_keywords, rates, configured_regencies and expected_deliveries from
    config/."""
    sectors, default = load_sectors(settings.config_dir)
    con.execute("create or replace table reference.sectors (sector_code varchar, sector_name varchar, "
                "priority integer, is_default boolean)")
    insert_rows(con, "reference.sectors", [(s.code, s.name, i, s.code == default) for i, s in enumerate(sectors)])
    con.execute("create or replace table reference.sector_keywords (sector_code varchar, keyword varchar, "
                "priority integer)")
    insert_rows(con, "reference.sector_keywords", [(s.code, k, i) for i, s in enumerate(sectors) for k in s.keywords])
    con.execute("create or replace table reference.rates (program varchar, segment varchar, valid_from date, "
                "valid_to date, monthly_amount decimal(18,2))")
    insert_rows(con, "reference.rates", [(r.program, r.segment, r.valid_from, r.valid_to, r.monthly_amount)
                                         for r in load_rates(settings.config_dir)])
    con.execute("create or replace table reference.configured_regencies (regency_code varchar, regency_name "
                "varchar, branch varchar, default_funding_source varchar)")
    insert_rows(con, "reference.configured_regencies", [(r.code, r.name, r.branch, r.default_funding_source)
                                                        for r in load_regencies(settings.config_dir).values()])
    con.execute("create or replace table reference.expected_deliveries (regency_code varchar, source varchar, "
                "due_day integer, first_month date)")
    insert_rows(con, "reference.expected_deliveries", [(e.regency_code, e.source, e.due_day, e.first_month)
                                                       for e in load_delivery_calendar(settings.config_dir)])
    from cakupan.core.findings_config import write_finding_rules

    write_finding_rules(con, settings.config_dir)
