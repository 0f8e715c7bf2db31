"""Many small files written together: what one file costs in DuckDB statements, paid once per group.

A national inbox is thousands of files of a few hundred rows; written one by one, each paid about a dozen
statements (manifest lookups, its own transaction, its own raw and quarantine inserts), which cost more than its
rows (bench/per_file.py). `load_many` takes the files in order, a window at a time:

- A file is written in a group when its bytes are new (no load of this SHA-256 before, none earlier in the window),
  were read and validated whole (by a reader process or here) and hold at most GROUP_FILE_MAX_ROWS rows. Every
  other file (a duplicate, a file seen before, a rejected or unreadable one, a big file) goes through
  `Loader.load`, in its place: load ids follow the files' order either way.
- For a run of such files: their received times are computed from one lookup, their load ids taken in order
  with one statement and their manifest rows inserted as 'started' in one statement, outside the transaction (a
  run killed while a group is written leaves each of its files 'started', as a killed single load does: the next
  ingest records them interrupted and loads them again). Then, in one transaction, the files whose
  validated tables have the same columns and the same SQL (same source, checks and headers as written) are staged
  as one Arrow table with each row's load id, path, SHA-256, received time and shown name, and written with one
  raw insert and one quarantine insert (`stage_sql`). Each file's rows in = loaded + quarantined is checked on
  what was written, counted per load id; its period, total-row and sheet findings are its own; the manifest rows
  are completed with one update.
- If anything in that transaction fails, it is rolled back and each of its files is written alone
  (`Loader._load_started`, with the load id it has): a file that cannot be written rejects only itself.

Only the DuckDB writer groups (its stage is the work file); another writer loads each file alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cakupan.core.messages import Msg
from cakupan.ingest.inbox import FileChanging, Meta, read_delivery, shown_name
from cakupan.ingest.loader import Loader, LoadInvariantError, LoadResult, ReaderWork, _Load, loaded_periods
from cakupan.ingest.prepare import Prepared, streamable
from cakupan.ingest.readers import FileRejected
from cakupan.ingest.stage_sql import Refs, label_columns, quarantine_sql, raw_insert_sql, staged_select
from cakupan.ingest.validate import HAS_PROBLEM
from cakupan.targets.base import RawWriter

log = logging.getLogger("cakupan.ingest.group")

GROUPED = True                  # False: every file is written alone (the plain path; tests compare both)
GROUP_MAX_FILES = 64            # files per transaction
GROUP_MAX_ROWS = 50_000         # rows per transaction
GROUP_FILE_MAX_ROWS = 5_000     # a file with more rows is written alone: its statements cost little beside its
                                # rows, and a load killed while writing it leaves only it 'started'
SMALL_FILE_BYTES = 16 << 20     # a bigger file is never read ahead (`Loader.load` reads it)
READ_HERE_MAX_BYTES = 256 << 10     # without reader processes, a bigger file is read by `Loader.load` as it loads
                                    # it (it is seldom small enough for a group, and its manifest row says
                                    # 'started' while it is read, as always)

# the columns a group's staged table adds to each file's rows
_LINEAGE = Refs('"__load_id"', '"__rel"', '"__sha"', '"__received"', '"__name"')


@dataclass
class _Member:
    load: _Load
    prep: Prepared


def grouping(loader: Loader) -> bool:
    """Whether this loader writes small files in groups (the DuckDB writer: its stage is the work file)."""
    return GROUPED and type(loader.writer) is RawWriter and loader.writer.stage is loader.writer.con


def prepare_work(loader_or_preparer, path: Path, max_bytes: int = SMALL_FILE_BYTES) -> ReaderWork | None:
    """What a reader process gives for a file (`run._prepare_in_reader`): the bytes' SHA-256 and stamp with what
    `Preparer.prepare` made of them or the file-level rejection it raised, or (None, why nothing was read); None
    when the file is better read by `Loader.load` itself (a big or streamable file, or an unexpected error, which
    it meets and logs where it always does)."""
    preparer = getattr(loader_or_preparer, "preparer", loader_or_preparer)
    try:
        if os.stat(path).st_size > max_bytes:
            return None
        delivery = read_delivery(path, preparer.settings.inbox)
    except (FileRejected, FileChanging) as exc:
        return None, exc
    except Exception:  # noqa: BLE001
        return None
    if len(delivery.data) > SMALL_FILE_BYTES or streamable(path, delivery.data):
        return None
    meta = delivery.meta
    try:
        return meta, preparer.prepare(path, delivery.data)
    except FileRejected as exc:
        return meta, exc
    except Exception:  # noqa: BLE001
        return None


def load_many(loader: Loader, items: list[tuple[Path, ReaderWork | None]], read_here: bool = True) -> list[LoadResult]:
    """Load the files in order (each with what a reader gave for it, or None); the same results, rows and
    manifest as `Loader.load` on each in turn. `read_here`: read and validate here the files no reader read."""
    if not grouping(loader):
        return [loader.load(Path(p), w) for p, w in items]
    items = [(Path(p), prepare_work(loader, Path(p), READ_HERE_MAX_BYTES) if w is None and read_here else w)
             for p, w in items]
    shas = [w[0].sha256 for _, w in items if w is not None and w[0] is not None]
    known = {sha for (sha,) in loader.con.execute(
        "select distinct file_sha256 from audit.loads where file_sha256 in (select unnest(?::varchar[]))",
        [shas]).fetchall()} if shas else set()
    results: list[LoadResult] = []
    run: list[tuple[Path, Meta, Prepared]] = []
    for path, work in items:
        meta = work[0] if work is not None else None
        if (meta is not None and isinstance(work[1], Prepared) and meta.sha256 not in known
                and work[1].batch.num_rows <= GROUP_FILE_MAX_ROWS):
            known.add(meta.sha256)
            run.append((path, meta, work[1]))
            continue
        if meta is not None:
            known.add(meta.sha256)
        results += _load_run(loader, run)
        run = []
        results.append(loader.load(path, work))
    return results + _load_run(loader, run)


def _load_run(loader: Loader, run: list[tuple[Path, Meta, Prepared]]) -> list[LoadResult]:
    """Files of new bytes, in order: written in groups of at most GROUP_MAX_FILES files and GROUP_MAX_ROWS rows."""
    out: list[LoadResult] = []
    chunk: list[tuple[Path, Meta, Prepared]] = []
    rows = 0
    for item in run:
        n = item[2].batch.num_rows
        if chunk and (len(chunk) >= GROUP_MAX_FILES or rows + n > GROUP_MAX_ROWS):
            out += _load_chunk(loader, chunk)
            chunk, rows = [], 0
        chunk.append(item)
        rows += n
    return out + (_load_chunk(loader, chunk) if chunk else [])


def _load_chunk(loader: Loader, chunk: list[tuple[Path, Meta, Prepared]]) -> list[LoadResult]:
    members = _start_group(loader, chunk)
    try:
        return _write_group(loader, members)
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        loader._rollback()
        raise
    except BaseException as exc:  # noqa: BLE001 - whatever failed, each file is written alone: only its own failure counts
        loader._rollback()
        log.warning("%d files written one by one (their group failed: %s: %s)", len(members), type(exc).__name__,
                    str(exc)[:300])
        return [loader._load_started(m.load, m.prep) for m in members]


def _start_group(loader: Loader, chunk: list[tuple[Path, Meta, Prepared]]) -> list[_Member]:
    """Received times, load ids (in the files' order) and 'started' manifest rows for a group, each in bulk."""
    con = loader.con
    rels = [loader._rel(p) for p, _, _ in chunk]
    received = _received_many(con, rels, [m for _, m, _ in chunk])
    ids = sorted(i for (i,) in con.execute("select nextval('audit.load_id_seq') from range(?)",
                                            [len(chunk)]).fetchall())
    con.execute(
        "insert into audit.loads (load_id, run_id, source_file, file_name, file_sha256, file_size, received_at, "
        "started_at, status) select l, ?, r, n, s, z, t, now(), 'started' from (select unnest(?::bigint[]) l, "
        "unnest(?::varchar[]) r, unnest(?::varchar[]) n, unnest(?::varchar[]) s, unnest(?::bigint[]) z, "
        "unnest(?::timestamp[]) t) order by l",
        [loader.run_id, ids, rels, [shown_name(p.name) for p, _, _ in chunk], [m.sha256 for _, m, _ in chunk],
         [m.stamp.size for _, m, _ in chunk], received])
    return [_Member(_Load(p, rel, m.sha256, seen, i), prep)
            for (p, m, prep), rel, seen, i in zip(chunk, rels, received, ids, strict=True)]


def _received_many(con, rels: list[str], metas: list[Meta]) -> list[dt.datetime]:
    """`discover.received_at` for many files at once: one lookup, one insert of the new looks, one update of the
    looks that learn their bytes' SHA-256."""
    looks: dict[str, list[tuple]] = {}
    for row in con.execute("select source_file, file_size, mtime_ns, file_sha256, first_seen_at from "
                           "audit.inbox_files where source_file in (select unnest(?::varchar[]))", [rels]).fetchall():
        looks.setdefault(row[0], []).append(row[1:])
    out, new, learnt = [], [], []
    for rel, meta in zip(rels, metas, strict=True):
        st = meta.stamp
        seen = min((first for size, mtime, sha, first in looks.get(rel, ())
                    if sha == meta.sha256 or (size, mtime) == (st.size, st.mtime_ns)), default=None)
        if seen is None:
            seen = dt.datetime.now()
            new.append((rel, st.size, st.mtime_ns, meta.sha256, seen))
        else:
            learnt.append((rel, st.size, st.mtime_ns, meta.sha256))
        out.append(seen)
    if new:
        con.execute("insert into audit.inbox_files select * from (select unnest(?::varchar[]), unnest(?::bigint[]), "
                    "unnest(?::bigint[]), unnest(?::varchar[]), unnest(?::timestamp[]))", [list(c) for c in zip(*new)])
    if learnt:
        con.execute("update audit.inbox_files f set file_sha256 = v.s from (select unnest(?::varchar[]) r, "
                    "unnest(?::bigint[]) z, unnest(?::bigint[]) t, unnest(?::varchar[]) s) v where f.source_file = v.r "
                    "and f.file_size = v.z and f.mtime_ns = v.t and f.file_sha256 is null",
                    [list(c) for c in zip(*learnt)])
    return out


def _write_group(loader: Loader, members: list[_Member]) -> list[LoadResult]:
    """One transaction: the members' rows, staged together per shape, and their completed manifest rows."""
    con = loader.con
    con.execute("begin transaction")
    shapes: dict[tuple, list[_Member]] = {}
    for m in members:
        shapes.setdefault(_shape(m), []).append(m)
    for group in shapes.values():
        _insert_group(loader, group)
    ids = [m.load.load_id for m in members]
    lo, hi = min(ids), max(ids)
    loaded: dict[int, int] = {}
    for source in sorted({m.prep.facts.contract.source for m in members}):
        loaded.update(con.execute(f"select load_id, count(*) from raw.{source} where load_id between ? and ? "
                                  "group by load_id", [lo, hi]).fetchall())
    reasons: dict[int, dict[str, int]] = {}
    if any(m.prep.batch.num_rows > loaded.get(m.load.load_id, 0) for m in members):
        for load_id, code, n in con.execute("select load_id, reason_code, count(*) from quarantine.rows where load_id "
                                            "between ? and ? group by all order by all", [lo, hi]).fetchall():
            reasons.setdefault(load_id, {})[code] = n
    results, updates = [], []
    for m in members:
        results.append(_complete(loader, m, loaded.get(m.load.load_id, 0), reasons.get(m.load.load_id, {}), updates))
    con.execute(
        "update audit.loads a set status = 'loaded', finished_at = now(), source = v.source, regency_code = v.regency, "
        "period = v.period, rows_in = v.rows_in, rows_loaded = v.loaded, rows_quarantined = v.quarantined, "
        "notes_skipped = v.notes, encoding = v.enc, delimiter = v.delim, sheets = v.sheets from (select "
        "unnest(?::bigint[]) load_id, unnest(?::varchar[]) source, unnest(?::varchar[]) regency, unnest(?::date[]) "
        "period, unnest(?::bigint[]) rows_in, unnest(?::bigint[]) loaded, unnest(?::bigint[]) quarantined, "
        "unnest(?::bigint[]) notes, unnest(?::varchar[]) enc, unnest(?::varchar[]) delim, unnest(?::varchar[]) sheets"
        ") v where a.load_id = v.load_id", [list(c) for c in zip(*updates)])
    con.execute("commit")
    return results


def _shape(m: _Member) -> tuple:
    """Files of one shape share a staged table and its SQL: the same columns and the same statements (a file of
    one sheet brings its headers as written in columns of its own: files whose headers differ share a shape)."""
    batch, contract = m.prep.batch, m.prep.facts.contract
    schema = tuple((f.name, str(f.type)) for f in batch.table.schema)
    keyed = label_columns(batch) is not None
    return (contract.source, schema, raw_insert_sql(batch, contract, "s", _LINEAGE),
            quarantine_sql(batch, contract, "s", _LINEAGE), staged_select(batch, keyed=keyed))


def _insert_group(loader: Loader, group: list[_Member]) -> None:
    """One raw insert and one quarantine insert for files of one shape (`stage_sql`, lineage from the staged
    table's columns)."""
    # the files' tables as one chunk (DuckDB scanned 60 chunks 3 times slower), then each row's lineage: one
    # value per file, taken for each of its rows (made and appended file by file: 0.8 ms a file, profiled)
    table = pa.concat_tables([m.prep.batch.table for m in group]).combine_chunks()
    which = pa.array(np.repeat(np.arange(len(group)), [m.prep.batch.num_rows for m in group]))
    labels = [label_columns(m.prep.batch) or () for m in group]     # one shape: the same label columns

    def per_row(values: list, type_: pa.DataType) -> pa.Array:
        return pa.array(values, type_).take(which)

    lineage = {"__load_id": per_row([m.load.load_id for m in group], pa.int64()),
               "__rel": per_row([m.load.rel for m in group], pa.string()),
               "__sha": per_row([m.load.sha for m in group], pa.string()),
               "__received": per_row([m.load.received for m in group], pa.timestamp("us")),
               "__name": per_row([shown_name(Path(m.load.rel).name) for m in group], pa.string())}
    for k, (name, _) in enumerate(labels[0]):
        lineage[name] = per_row([lab[k][1] for lab in labels], pa.string())
    for name, values in lineage.items():
        table = table.append_column(name, values)
    first = group[0].prep
    batch, contract = first.batch, first.facts.contract
    stage = loader.stage
    stage.register("incoming", table)
    # straight from the registered table: materialising it first (as a small file's batch is) cost more than
    # planning the quarantine insert on its own
    staged = staged_select(batch, keyed=label_columns(batch) is not None)
    stage.execute(raw_insert_sql(batch, contract, staged, _LINEAGE))
    if pc.any(table[HAS_PROBLEM]).as_py():
        stage.execute(quarantine_sql(batch, contract, staged, _LINEAGE), {"source": contract.source})
    stage.unregister("incoming")


def _complete(loader: Loader, m: _Member, loaded: int, reasons: dict[str, int], updates: list) -> LoadResult:
    """A member's invariant (rows in = loaded + quarantined, both counted where written), period and findings;
    its manifest update is added to `updates`."""
    result, facts, batch, load = m.prep.result, m.prep.facts, m.prep.batch, m.load
    contract, rows_in = facts.contract, result.rows_in
    quarantined = sum(reasons.values())
    if loaded + quarantined != rows_in:
        raise LoadInvariantError(Msg("error.ingest.invariant", file=load.rel, rows_in=rows_in, loaded=loaded,
                                     quarantined=quarantined))
    valid = loaded_periods(batch) if loaded else set()
    period = max(valid) if valid and len(batch.periods()) == 1 else None
    numeric = [c.name for c in contract.columns if c.type in ("money", "count")]
    loader._check_totals(result.blocks, batch.values(numeric), load.load_id)
    loader._sheet_findings(result, load.load_id)
    updates.append((load.load_id, contract.source, facts.regency, period, rows_in, loaded, quarantined,
                    sum(b.notes_skipped for b in result.blocks), result.encoding, result.delimiter,
                    ",".join(b.sheet for b in result.blocks if b.sheet)))
    return LoadResult(load.load_id, load.rel, contract.source, facts.regency,
                      period.isoformat()[:7] if period else None, "loaded", rows_in, loaded, quarantined,
                      reasons=reasons)
