"""Where the warehouse lives and how the published set gets published: one module or folder per engine behind the
`Target` protocol (base.py), so the pipeline never asks which target it runs on — the target answers.

- base.py: the protocol, the published set, the publish record, `publish_run` (gate → record → promote or keep)
- duckdb.py: the default target (candidate file, one rename); published_file.py: the published file both end with
- postgres/: the PostgreSQL target (replicated zones, published_next schemas, promote transaction, export)
- zones.py, refdata.py: the work warehouse (raw, quarantine, audit, reference) both targets start from
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cakupan.core.settings import Settings
    from cakupan.targets.base import Target


def for_settings(settings: Settings) -> Target:
    """The target `settings.target` names (CAKUPAN_TARGET)."""
    # imported here: cakupan.targets.zones is imported by every load task, which needs no target
    if settings.target == "postgres":
        from cakupan.targets.postgres.target import PostgresTarget

        return PostgresTarget(settings)
    from cakupan.targets.duckdb import DuckDBTarget

    return DuckDBTarget(settings)
