"""The work warehouse: schemas and table definitions of the raw, quarantine, audit and reference zones.

Raw table columns are generated from the source contracts, so a contract change is a table change.
One writer at a time: `connect_work()` is only called by the pipeline's single writer task.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cakupan.core.contracts import Contract, all_contracts
from cakupan.core.settings import REFERENCE_DIR, Settings

SQL_TYPES = {
    "nik": "VARCHAR", "text": "VARCHAR", "birth_date": "DATE", "sex": "VARCHAR", "regency": "VARCHAR",
    "kpj": "VARCHAR", "programs": "VARCHAR", "program": "VARCHAR", "date": "DATE", "month": "DATE",
    "money": "DECIMAL(18,2)", "count": "BIGINT", "funding_source": "VARCHAR",
}

LINEAGE_COLUMNS = [
    ("load_id", "BIGINT NOT NULL"), ("source_file", "VARCHAR NOT NULL"), ("file_sha256", "VARCHAR NOT NULL"),
    ("sheet", "VARCHAR"), ("source_row", "INTEGER NOT NULL"), ("received_at", "TIMESTAMP"),
    ("regency_code", "VARCHAR"), ("period", "DATE"),
]

_AUDIT_DDL = """
create schema if not exists raw;
create schema if not exists quarantine;
create schema if not exists audit;
create schema if not exists reference;
create sequence if not exists audit.load_id_seq start 1;
create table if not exists audit.loads (
    load_id bigint primary key,
    run_id varchar,
    source varchar,
    regency_code varchar,
    period date,
    source_file varchar not null,
    file_name varchar not null,
    file_sha256 varchar not null,
    file_size bigint,
    received_at timestamp,
    started_at timestamp,
    finished_at timestamp,
    status varchar not null,          -- started | loaded | rejected | duplicate | interrupted | failed
    rows_in bigint,
    rows_loaded bigint,
    rows_quarantined bigint,
    notes_skipped bigint,
    error_code varchar,
    error_message varchar,
    duplicate_of bigint,
    encoding varchar,
    delimiter varchar,
    sheets varchar
);
create table if not exists audit.load_findings (
    load_id bigint not null,
    code varchar not null,
    column_name varchar,
    expected decimal(20,2),
    observed decimal(20,2),
    message varchar
);
create table if not exists quarantine.rows (
    load_id bigint not null,
    source varchar not null,
    source_file varchar not null,
    file_sha256 varchar not null,
    sheet varchar,
    source_row integer not null,
    regency_code varchar,
    reason_code varchar not null,
    column_name varchar,
    message varchar@texts@ not null,
    reasons json@texts@,               -- every problem of the row: [{column, code}]
    participant_key varchar,          -- pseudonym of whatever NIK digits the row had (never the NIK)
    raw_cells json@texts@,             -- the row as delivered (raw zone: personal data stays here)
    nik varchar,                      -- the row's NIK as normalised (raw zone; a re-key recomputes the pseudonym)
    public_message varchar@texts@      -- the message without personal data: the form published and reported
);
-- every look at an inbox file: when Cakupan first saw this path with this size and modification time (and, once
-- read, these bytes). A load's received time is the first look at its bytes; a file changed less than the settle
-- time ago is loaded once a later look finds it unchanged.
create table if not exists audit.inbox_files (
    source_file varchar not null,     -- relative to the inbox (a link's own path, never its target)
    file_size bigint not null,
    mtime_ns bigint not null,
    file_sha256 varchar,              -- null until the bytes are read
    first_seen_at timestamp not null
);
-- the fingerprint of the pseudonym key the warehouse's pseudonyms were made with (HMAC of a fixed label with the
-- key, never the key): a run with another key is refused before it writes anything
create table if not exists audit.pseudonym_key (
    fingerprint varchar not null,
    first_used_at timestamp not null,
    run_id varchar
);
-- warehouses made before nik / public_message: the columns are added (rows quarantined before have none)
alter table quarantine.rows add column if not exists nik varchar;
alter table quarantine.rows add column if not exists public_message varchar;
-- a rejection workbook sent back (cakupan.outbox.fixes): each of its rows, the rejected row it replaces, and the
-- original delivery it joins (a fix of a fix: the first); `fixed` = the row loaded
create table if not exists audit.load_fixes (
    load_id bigint not null,
    sheet varchar,
    source_row integer not null,
    fixes_load_id bigint not null,
    fixes_sheet varchar,
    fixes_source_row integer,
    delivery_load_id bigint not null,
    fixed boolean not null
);
create table if not exists audit.fix_scans (load_id bigint not null, fixes_load_id bigint);
create table if not exists audit.runs (
    run_id varchar primary key,
    started_at timestamp,
    finished_at timestamp,
    status varchar,
    period_from date,
    period_to date,
    message varchar
);
create table if not exists audit.checks (
    run_id varchar not null,
    suite varchar not null,
    expectation varchar not null,
    expectation_type varchar,
    table_name varchar,
    column_name varchar,
    severity varchar not null,        -- error | warn
    success boolean not null,
    observed_value varchar,
    unexpected_count bigint,
    unexpected_sample varchar,        -- pseudonymised
    details varchar,
    checked_at timestamp
);
create table if not exists audit.publishes (
    run_id varchar not null,
    published_at timestamp,
    status varchar not null,          -- published | blocked | failed
    candidate_sha256 varchar,
    published_sha256 varchar,
    input_loads varchar,
    gate_success boolean,
    errors bigint,
    warnings bigint,
    message varchar
);
-- dbt builds (`cakupan build`, `cakupan run`, the Airflow DAG): a publish after a build that failed or never finished
-- is blocked by the gate (check "the last dbt build succeeded")
create table if not exists audit.builds (
    build_id varchar not null,
    started_at timestamp,
    finished_at timestamp,
    status varchar not null,          -- running | succeeded | failed
    period_from date,
    period_to date,
    message varchar
);
create table if not exists audit.task_failures (
    run_id varchar, dag_id varchar, task_id varchar, failed_at timestamp, try_number integer, error varchar
);
-- every published coverage figure, stored when it changed (targets.history.record_figures): the restatements' input
create table if not exists audit.published_figures (
    run_id varchar not null,
    published_at timestamp not null,
    regency_code varchar not null,
    month_start date not null,
    measure varchar not null,
    value decimal(18,2),
    caused_by varchar,                -- the loads new in this publish for the regency, or the rollback and its reason
    max_load_id bigint                -- the highest load id this publish read
);
-- loads whose raw rows passed the raw suite of a published run: the suite's version (a hash of its checks and batch
-- queries) and the load's batch rows and fingerprint (a hash of exactly what the suite read). Later gates validate the
-- loads that are new, changed (another fingerprint: rows edited behind the loader's back) or not validated under
-- the current suite.
create table if not exists audit.raw_validations (
    load_id bigint not null,
    source varchar not null,
    raw_suite_sha256 varchar not null,
    batch_rows bigint not null,
    batch_fingerprint varchar not null,
    run_id varchar not null,
    validated_at timestamp
);
"""


# How the DuckDB work file stores each row's cells as delivered: zstd. The default (DuckDB's own choice per segment,
# dictionary + FSST for these texts) cost a 1M-row register 1-1.5 s of writing and left them 3 x larger
# (bench/findings.md "A big CSV's writer, session 11").
RAW_CELLS_STORAGE = " USING COMPRESSION zstd"
# ... and a person's NIK and its pseudonym (`participant_key`): one a participant, so nearly one a row in a
# month's register. There DuckDB's default (dictionary + FSST) spent a 1M-row register 0.3-0.4 s more of the
# writer's single thread than zstd, for the same space (73 against 71 MB); where a file repeats each participant
# (a year of monthly registers in one file: 103k NIKs in 1M rows) the two cost the same and zstd takes 44 MB
# against 36 (bench/findings.md "Session 52")
IDENTIFIER_STORAGE = RAW_CELLS_STORAGE
# the audit, quarantine and reference zones as PostgreSQL and an in-memory stage create them
AUDIT_DDL = _AUDIT_DDL.replace("@texts@", "")
# ... and as the work file does: a quarantined row's texts (its two messages, its reasons, its cells) zstd-compressed
# too. With DuckDB's default, a 1M-row file whose every row is set apart (bench shape `excel_nik`) spent 4.0 s of a
# single thread storing them (151 MB), with zstd 1.7 s (22 MB); its in-process load 8.2-8.4 -> 6.5-6.8 s. A work
# file made before keeps its columns as they were (DuckDB cannot change a column's compression).
WORK_AUDIT_DDL = _AUDIT_DDL.replace("@texts@", RAW_CELLS_STORAGE)


def raw_table_ddl(contract: Contract, storage: bool = False) -> str:
    """Return the CREATE TABLE of a source's raw table, generated from its contract. `storage`: with DuckDB's
    storage clauses (the work file's own tables, not PostgreSQL's or an in-memory stage's)."""
    ident = IDENTIFIER_STORAGE if storage else ""
    cols = list(LINEAGE_COLUMNS)
    if any(c.type == "nik" for c in contract.columns):
        cols.append(("participant_key", "VARCHAR" + ident))
    for c in contract.columns:
        if c.name == "period":
            continue
        cols.append((c.name, SQL_TYPES[c.type] + (ident if c.type == "nik" else "")))
    cols.append(("raw_cells", "JSON" + (RAW_CELLS_STORAGE if storage else "")))
    body = ",\n    ".join(f"{n} {t}" for n, t in cols)
    return f"create table if not exists raw.{contract.source} (\n    {body}\n)"


def raw_columns(contract: Contract) -> list[str]:
    """Return the raw table's column names in order."""
    ddl = raw_table_ddl(contract)
    return [line.strip().split()[0] for line in ddl.splitlines()[1:-1]]


REPORT_FACTS_DDL = """
create table if not exists raw.report_facts (
    fact_id varchar, source_file varchar, regency_code varchar, event_date date, event_kind varchar,
    fact_kind varchar, segment varchar, role varchar, value double, value_text varchar, unit varchar,
    effective_month date, sentence varchar, "start" integer, "end" integer, confidence double,
    status varchar, reviewed_by varchar, reviewed_at varchar, review_why varchar, extracted_at timestamp
)
"""


# columns added after a warehouse may have been created: (table, column, type)
ADDED_COLUMNS = [("quarantine.rows", "nik", "varchar")]


def init_work(con: duckdb.DuckDBPyConnection) -> None:
    """Create every zone's schema and tables (idempotent; a column added since is added to an older warehouse)."""
    con.execute(WORK_AUDIT_DDL)
    for table, column, typ in ADDED_COLUMNS:
        con.execute(f"alter table {table} add column if not exists {column} {typ}")
    for contract in all_contracts().values():
        con.execute(raw_table_ddl(contract, storage=True))
    con.execute(REPORT_FACTS_DDL)
    load_reference(con)


def load_reference(con: duckdb.DuckDBPyConnection, ref_dir: Path = REFERENCE_DIR) -> None:
    """Load the vendored Kemendagri areas into reference.* once (idempotent)."""
    have = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'reference'").fetchall()}
    for name in ("provinces", "regencies", "districts", "villages"):
        if name not in have:
            con.execute(f"create table reference.{name} as select * from read_csv(?, header=true, all_varchar=true)",
                        [str(ref_dir / f"{name}.csv")])


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows, chunk_values: int = 20_000) -> int:
    """Insert rows (sequences of one width) into `table` with one `INSERT ... VALUES (...), (...)` per chunk.

    DuckDB's `executemany` runs one statement per row (~0.2 ms each): the build's configuration copy (514 regencies,
    sectors, rates, finding rules) and the narrative facts took 0.3 s that way; one statement takes a fifth of it.
    Returns the number of rows inserted."""
    rows = [tuple(r) for r in rows]
    if not rows:
        return 0
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValueError(f"insert into {table}: rows of different widths")
    step = max(1, chunk_values // width)
    one = "(" + ", ".join(["?"] * width) + ")"
    for i in range(0, len(rows), step):
        part = rows[i:i + step]
        con.execute(f"insert into {table} values {', '.join([one] * len(part))}", [v for r in part for v in r])
    return len(rows)


def connect_work(settings: Settings, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the work warehouse (the pipeline's one writer), creating its zones on first use."""
    settings.ensure_dirs()
    con = duckdb.connect(str(settings.work_db), read_only=read_only)
    if not read_only:
        init_work(con)
    return con
