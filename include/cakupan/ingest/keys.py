"""The pseudonym key a warehouse's pseudonyms were made with, and changing it.

The warehouse stores the key's fingerprint (`identity.key_fingerprint`: an HMAC of a fixed label, never the key)
on first use. Every ingest checks it before writing anything: with another key, old and new pseudonyms would mix
(one person, two keys: a double funding missed, a false claim for an unknown person), so the run is refused with
one line saying what to do. `rekey` recomputes every pseudonym in the raw zone with the current key, from the
NIKs the raw zone keeps, and drops what dbt built from the old ones, so that the next build is a full one.
"""

from __future__ import annotations

import duckdb

from cakupan.core.contracts import all_contracts
from cakupan.core.messages import Msg
from cakupan.core.settings import Settings, SettingsError
from cakupan.ingest.identity import hmac_pads, key_fingerprint, pseudonym, pseudonym_sql
from cakupan.targets.zones import connect_work

ZONES = ("raw", "quarantine", "audit", "reference")
SYSTEM_SCHEMAS = ("main", "information_schema", "pg_catalog", "temp")


class KeyChanged(SettingsError):
    """CAKUPAN_PSEUDONYM_KEY is not the key of the warehouse's pseudonyms."""


def _changed(stored: str, given: str) -> KeyChanged:
    return KeyChanged(Msg("error.settings.key_changed", stored=stored[:12], given=given[:12]))


def check_key(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str | None = None) -> str:
    """Refuse a key that is not the warehouse's (KeyChanged); on first use, store its fingerprint. A warehouse from
    before fingerprints were stored is checked on one of its pseudonyms (recomputed from the NIK kept with it).
    Returns the fingerprint."""
    key = settings.require_key()
    given = key_fingerprint(key)
    row = con.execute("select fingerprint from audit.pseudonym_key order by first_used_at limit 1").fetchone()
    if row is not None:
        if row[0] != given:
            raise _changed(row[0], given)
        return given
    for source in _keyed_sources():
        sample = con.execute(f"select nik, participant_key from raw.{source} where nik is not null and "
                             "participant_key is not null limit 1").fetchone()
        if sample is not None and pseudonym(sample[0], key) != sample[1]:
            raise _changed("(not stored; the raw zone's pseudonyms)", given)
    con.execute("insert into audit.pseudonym_key values (?, now(), ?)", [given, run_id])
    return given


def check_key_of(settings: Settings) -> None:
    """`check_key` on the target's system of record, before a run writes anything else."""
    from cakupan.targets import for_settings

    with for_settings(settings).records() as con:
        check_key(con, settings)


def rekey(settings: Settings) -> dict[str, int]:
    """Recompute every pseudonym of the raw zone (raw.* and quarantine.rows) with the current key, drop what dbt
    built (the next build is a full one), and store the key's fingerprint; one transaction. Returns the rows
    re-keyed per table. A quarantined row loaded before the NIK was kept beside it loses its pseudonym (null,
    never an old one)."""
    if settings.target != "duckdb":
        raise SettingsError(Msg("error.settings.rekey_duckdb_only"))
    key = settings.require_key()
    ipad, opad = hmac_pads(key)
    counts: dict[str, int] = {}
    con = connect_work(settings)
    try:
        con.execute("begin transaction")
        for source in _keyed_sources():
            counts[f"raw.{source}"] = con.execute(
                f"update raw.{source} set participant_key = {pseudonym_sql('nik')}",
                {"ipad": ipad, "opad": opad}).fetchone()[0]
        counts["quarantine.rows"] = con.execute(
            f"update quarantine.rows set participant_key = {pseudonym_sql('nik')}",
            {"ipad": ipad, "opad": opad}).fetchone()[0]
        for (schema,) in con.execute("select schema_name from information_schema.schemata where catalog_name = "
                                     "current_database()").fetchall():
            if schema not in ZONES + SYSTEM_SCHEMAS:
                con.execute(f'drop schema "{schema}" cascade')
        con.execute("delete from audit.pseudonym_key")
        con.execute("insert into audit.pseudonym_key values (?, now(), 'rekey')", [key_fingerprint(key)])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.close()
    return counts


def _keyed_sources() -> list[str]:
    return sorted(s for s, c in all_contracts().items() if any(col.type == "nik" for col in c.columns))
