"""Where the warehouse lives and how the published set gets published: one module or folder per engine behind the
`Target` protocol (base.py), so the pipeline never asks which target it runs on — the target answers.

- base.py: the protocol, the published set, the publish record, `publish_run` (gate → record → promote or keep)
- duckdb.py: the default target (candidate file, one rename); published_file.py: the published file both end with
- postgres/: the PostgreSQL target (its own raw zone, quarantine and audit; published_next schemas, promote
  transaction, export)
- zones.py, refdata.py: the zones' DDL (raw, quarantine, audit, reference), the work file DuckDB keeps them in
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cakupan.core.settings import Settings
    from cakupan.targets.base import Target


def writer_pool(target: str | None = None) -> str | None:
    """The Airflow pool the target's writing tasks share (`target`: default CAKUPAN_TARGET), cheap enough for a
    DAG parse (no engine is imported): DuckDB's 1-slot `cakupan_duckdb_writer` (one writer per DuckDB file); none
    for PostgreSQL, whose own locking keeps one manifest row per file and one publisher at a time, so its files
    load concurrently on every worker."""
    import os

    from cakupan.orchestration import WRITER_POOL

    return None if (target or os.environ.get("CAKUPAN_TARGET", "duckdb")) == "postgres" else WRITER_POOL


def for_settings(settings: Settings) -> Target:
    """The target `settings.target` names (CAKUPAN_TARGET)."""
    # imported here: cakupan.targets.zones is imported by every load task, which needs no target
    if settings.target == "postgres":
        from cakupan.targets.postgres.target import PostgresTarget

        return PostgresTarget(settings)
    from cakupan.targets.duckdb import DuckDBTarget

    return DuckDBTarget(settings)


def settled(settings: Settings) -> Settings:
    """Before a read of the published file or its history: on PostgreSQL, the file first catches up with the server's
    last promote when a killed process left it behind (`targets.postgres.settle`); DuckDB's history settles itself."""
    if settings.target == "postgres":
        from cakupan.targets.postgres.settle import settle_for_read

        settle_for_read(settings)
    return settings
