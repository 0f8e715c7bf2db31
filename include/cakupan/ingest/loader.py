"""Ingest: delivered file → raw rows + quarantined rows + one manifest row, atomically, nothing lost.

For every file: rows in = rows loaded + rows quarantined (asserted before commit). Parsing runs once per
distinct cell value (pure functions in `parsing`), NIK checks and pseudonyms run as one vectorised DuckDB query.
A file is never modified or deleted; the same bytes are loaded once; an interrupted load is detected and redone.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cakupan.core.config import Regency, alias_index, load_regencies
from cakupan.core.contracts import SOURCES, Contract, all_contracts, load_contract, reason, reasons
from cakupan.core.files import sha256_file
from cakupan.core.regions import fold_name, resolve_regency
from cakupan.core.settings import Settings
from cakupan.ingest import parsing
from cakupan.ingest.arrays import as_arrow, np_bools, pa_bools
from cakupan.ingest.identity import nik_problems, normalise_nik, pseudonyms
from cakupan.ingest.readers import (
    Block,
    FileRejected,
    ReadOptions,
    ReadResult,
    check_container,
    fast_csv_parts,
    kind_from_filename,
    merge_parts,
    read_file,
    typed_value,
)
from cakupan.targets.zones import connect_work, raw_columns

log = logging.getLogger("cakupan.ingest.loader")


def _arrow_memory_pool() -> None:
    """Arrow allocates through jemalloc (as DuckDB does) unless ARROW_DEFAULT_MEMORY_POOL says otherwise.

    With pyarrow's default, mimalloc, a big load that started after the machine sat idle spent 2.3 s of system
    time zeroing pages the hypervisor had taken back (1 M-row CSV: 4.6 s against 3.5 s; BENCHMARKS.md).
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:     # a pyarrow built without jemalloc keeps its default
        pass


_arrow_memory_pool()

STREAM_MIN_BYTES = 16 << 20     # a CSV this big is loaded part by part (reading the next while writing one)
STREAM_PART_LINES = 122_880      # one DuckDB row group (other sizes left part-filled row groups that the
                                 # checkpoint rewrote: up to 1 s more for 1 M rows, measured)
STREAM_FIRST_PART_LINES = 30_720    # a smaller first part: the writer starts sooner
STREAM_READERS = 1                  # reader threads (parts read and validated ahead of the writer)
STAGE_MAX_ROWS = 20_000     # files up to this many rows are checked into a temp table first (see _write)
REQUIRED_CODES = {"nik": "NIK_MISSING", "occupation": "OCCUPATION_MISSING"}
DATE_LIMITS = {"date": (1950, 2100), "birth_date": (1900, 2100)}


class LoadInvariantError(AssertionError):
    """rows in != rows loaded + rows quarantined: the load is rolled back."""


@dataclass
class LoadResult:
    """One manifest row, as printed by `cakupan ingest`."""

    load_id: int | None
    file: str
    source: str | None
    regency_code: str | None
    period: str | None
    status: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error_code: str | None = None
    error_message: str | None = None
    duplicate_of: int | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------------------------------ value parsing ---
def _parser_for(col_type: str, aliases: dict[str, str]):
    """Return fn(text) -> (value, error_code) for a contract column type."""
    def wrap(fn):
        def run(v):
            if v is None:
                return None, None
            try:
                return fn(typed_value(v)), None
            except parsing.ParseError as exc:
                return None, exc.code
        return run

    if col_type in ("date", "birth_date"):
        lo, hi = DATE_LIMITS[col_type]
        if col_type == "birth_date":
            return wrap(lambda v: parsing.parse_birth_date_cell(v))
        return wrap(lambda v: parsing.parse_date(v, min_year=lo, max_year=hi))
    if col_type == "month":
        return wrap(parsing.parse_month)
    if col_type == "money":
        return wrap(lambda v: None if (x := parsing.parse_money(v)) is None else float(x))
    if col_type == "count":
        return wrap(parsing.parse_count)
    if col_type == "programs":
        return wrap(lambda v: None if (x := parsing.parse_programs(v)) is None else ",".join(x))
    if col_type == "program":
        return wrap(parsing.parse_program)
    if col_type == "sex":
        return wrap(parsing.parse_sex)
    if col_type == "funding_source":
        return wrap(parsing.parse_funding_source)
    if col_type == "kpj":
        return wrap(parsing.parse_kpj)
    if col_type == "regency":
        def reg(v):
            if v is None:
                return None, None
            code = resolve_regency(v, aliases)
            return (code, None) if code else (None, "REGENCY_UNKNOWN")
        return reg
    return lambda v: (v, "VALUE_TOO_LONG" if v is not None and len(v) > 1000 else None)


_TEXT_TYPES = {"text", "nik", "regency"}   # parsed from the cell text; every other type sees number/date cells as such
_ARROW_TYPES = {"date": pa.date32(), "birth_date": pa.date32(), "month": pa.date32(), "money": pa.float64(),
                "count": pa.int64()}


def map_distinct(arr: pa.Array, fn, arrow_type: pa.DataType, fast=None) -> tuple[pa.Array, pa.Array]:
    """Apply fn once per distinct value of arr; return (parsed values, error codes) aligned with arr.

    `fast(distinct values)` may return (values, mask): the values fn gives for the masked ones, computed in bulk
    (fn runs for the others only).
    """
    uniq = pc.unique(arr)
    idx = pc.index_in(arr, value_set=uniq, skip_nulls=False)
    done = fast(uniq) if fast is not None else None
    if done is None or not done[1].any():
        results = [fn(v) for v in uniq.to_pylist()]
        values = pa.array([r[0] for r in results], type=arrow_type)
        errors = pa.array([r[1] for r in results], type=pa.string())
        return values.take(idx), errors.take(idx)
    fast_values, mask = done
    slow = [fn(v) for v in uniq.filter(pa_bools(~mask)).to_pylist()]
    values = pc.replace_with_mask(pa.nulls(len(uniq), arrow_type), pa_bools(mask), fast_values)
    values = pc.replace_with_mask(values, pa_bools(~mask), pa.array([r[0] for r in slow], type=arrow_type))
    errors = pc.replace_with_mask(pa.nulls(len(uniq), pa.string()), pa_bools(~mask),
                                  pa.array([r[1] for r in slow], type=pa.string()))
    return values.take(idx), errors.take(idx)


_PLAIN_DMY = r"^[0-9]{2}(?:/[0-9]{2}/|-[0-9]{2}-|\.[0-9]{2}\.)[0-9]{4}$"


def plain_dates(min_year: int, max_year: int):
    """A `map_distinct` fast path: texts dd/mm/yyyy (or with - or .) that are real dates within the years.

    Exactly what `parsing.parse_date` gives for them; every other text (and an impossible or out-of-range date,
    which needs its error code) is left to the parser.
    """
    def fast(uniq: pa.Array):
        hit = np_bools(pc.match_substring_regex(uniq, _PLAIN_DMY))
        if not hit.any():
            return None
        sub = pc.replace_substring_regex(uniq.filter(pa_bools(hit)), r"[-.]", "/")
        days = pc.cast(pc.strptime(sub, format="%d/%m/%Y", unit="s", error_is_null=True), pa.date32())
        years = pc.year(days)
        # strptime rolls 29/02/2023 over to 1 March: the day and month must be the ones written
        day = pc.cast(pc.utf8_slice_codeunits(sub, 0, 2), pa.int64())
        month = pc.cast(pc.utf8_slice_codeunits(sub, 3, 5), pa.int64())
        ok = np_bools(pc.and_(pc.and_(pc.greater_equal(years, min_year), pc.less_equal(years, max_year)),
                              pc.and_(pc.equal(pc.day(days), day), pc.equal(pc.month(days), month))))
        rows = np.flatnonzero(hit)
        hit[rows[~ok]] = False
        return days.filter(pa_bools(ok)), hit
    return fast


# ------------------------------------------------------------------------------------------ helpers --------
def _sha_or_empty(path: Path) -> str:
    """The file's SHA-256, or '' when it cannot be read (how the manifest records an unreadable file)."""
    try:
        return sha256_file(path)
    except OSError:
        return ""


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _read_options(folder_regency: Regency | None) -> ReadOptions:
    """How a regency's configuration shapes the reading of its files (header overrides, default columns,
    sheets to skip)."""
    if folder_regency is None:
        return ReadOptions()
    return ReadOptions(overrides=folder_regency.header_overrides,
                       defaults={"register": {"funding_source"}} if folder_regency.default_funding_source else {},
                       skip_sheets=folder_regency.skip_sheets)


def regency_in_text(text: str, regs: dict[str, Regency]) -> str | None:
    """Find the one configured regency named in a title block, or None if none or several."""
    folded = " " + re.sub(r"[^a-z0-9]+", " ", text.lower()) + " "
    found = set()
    for r in regs.values():
        for name in (r.name, *r.aliases):
            n = re.sub(r"^(kabupaten|kab|kota)\s+", "", re.sub(r"[^a-z0-9]+", " ", name.lower()).strip())
            if n and f" {n} " in folded:
                found.add(r.code)
    return found.pop() if len(found) == 1 else None


def _file_period(contract: Contract, blocks: list[Block], path: Path) -> dt.date | None:
    if "title" in contract.period_from:
        for b in blocks:
            p = parsing.find_period_in_text(b.title_text)
            if p:
                return p
    if "filename" in contract.period_from:
        return parsing.find_period_in_text(path.name)
    return None


def _streamable(path: Path) -> bool:
    """A CSV big enough to be loaded part by part."""
    try:
        return path.stat().st_size >= STREAM_MIN_BYTES and check_container(path) == "csv"
    except (OSError, FileRejected):
        return False


def _early(fn, *args) -> Future:
    """Run fn(*args) in a thread of its own; the Future holds its result (or what it raised)."""
    future: Future = Future()

    def run():
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller with the result
            future.set_exception(exc)

    threading.Thread(target=run, name="cakupan-early", daemon=True).start()
    return future


# ------------------------------------------------------------------------------------------ the loader -----
@dataclass
class Prepared:
    """A file read, checked and validated, not yet written (what `Preparer.prepare` gives)."""

    result: ReadResult
    contract: Contract
    regency: str | None
    table: pa.Table


@dataclass
class Streamed:
    """A big CSV to be read part by part (`Preparer.prepare_stream`): its header is found and the file-level checks
    are done; each part is read when its function is called."""

    contract: Contract
    regency: str | None
    file_period: dt.date | None
    folder_regency: Regency | None
    encoding: str
    delimiter: str
    parts: list[Callable[[], Block]]     # each part is read when called


class Preparer:
    """The part of loading that needs no database: read a file, check it, validate its rows (picklable work)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.regencies = load_regencies(settings.config_dir)
        self.aliases = alias_index(self.regencies)
        self.key = settings.require_key()

    def prepare(self, path: Path) -> Prepared:
        """Read, check and validate one file; raises FileRejected for a file-level problem."""
        folder_regency = self.regency_for_path(path)
        result = read_file(path, _read_options(folder_regency))
        contract, regency, file_period = self._file_checks(path, result.source, result.blocks, folder_regency,
                                                           rows_in=result.rows_in)
        table = self._validate(result.blocks, contract, regency, file_period, folder_regency)
        return Prepared(result, contract, regency, table)

    def prepare_stream(self, path: Path) -> Streamed | None:
        """For a big CSV the column-wise reader can read: its header, the file-level checks of `prepare` and a
        reader for each part; None for any other file (`prepare` reads those whole)."""
        if not _streamable(path):
            return None
        folder_regency = self.regency_for_path(path)
        got = fast_csv_parts(path.read_bytes(), all_contracts(), _read_options(folder_regency), STREAM_PART_LINES,
                             STREAM_FIRST_PART_LINES)
        if got is None:
            return None
        header, encoding, delimiter, parts = got
        contract, regency, file_period = self._file_checks(path, header.source, [header], folder_regency)
        return Streamed(contract, regency, file_period, folder_regency, encoding, delimiter, parts)

    def _file_checks(self, path: Path, source: str, blocks: list[Block], folder_regency: Regency | None,
                     rows_in: int | None = None) -> tuple[Contract, str | None, dt.date | None]:
        """The file-level checks, in order (kind, data rows when known, regency, period); returns the contract,
        the file's regency and its period."""
        named = kind_from_filename(path)
        if named and named != source:
            raise FileRejected("WRONG_KIND", f"its columns are those of a {source} file", column=named, value=source)
        contract = load_contract(source)
        if rows_in == 0:
            raise FileRejected("NO_DATA_ROWS")
        title = " ".join(b.title_text for b in blocks)
        regency = folder_regency.code if folder_regency else regency_in_text(title, self.regencies)
        if regency is None and not all("regency" in b.mapping for b in blocks):
            raise FileRejected("REGENCY_UNRESOLVED", f"folder {path.parent.name!r} is not a configured regency "
                               "and no regency is named in the title or a regency column")
        file_period = _file_period(contract, blocks, path)
        if contract.source == "register" and not any("period" in b.mapping for b in blocks) and file_period is None:
            raise FileRejected("PERIOD_UNKNOWN")
        return contract, regency, file_period

    def regency_for_path(self, path: Path) -> Regency | None:
        """Return the configured regency whose inbox folder holds this file."""
        for parent in path.resolve().parents:
            for r in self.regencies.values():
                if parent.name == r.inbox or parent.name == r.code:
                    return r
        return None

    # ---- vectorised validation
    def _validate(self, blocks: list[Block], contract: Contract, regency: str | None, file_period: dt.date | None,
                  folder_regency: Regency | None) -> pa.Table:
        """Build one Arrow table of parsed values and per-column error codes for every data row.

        Each column is parsed once per distinct cell value (number and date cells as the values Excel stored);
        nothing here loops over rows in Python.
        """
        n_rows = sum(b.n_rows for b in blocks)
        present = {c for b in blocks for c in b.columns}

        def column(c: str, keys: bool) -> pa.Array:
            parts = []
            for b in blocks:
                if c in b.cells:
                    parts.append(as_arrow(b.keys(c) if keys else b.cells[c], pa.string()))
                else:
                    parts.append(pa.nulls(b.n_rows, pa.string()))
            return pa.concat_arrays(parts) if parts else pa.array([], pa.string())

        unsplit = []
        for b in blocks:
            texts = [None] * b.n_rows if b.unsplit else None
            for i, t in b.unsplit.items():
                texts[i] = t
            unsplit.append(pa.array(texts, pa.string()) if texts else pa.nulls(b.n_rows, pa.string()))
        cols: dict[str, pa.Array] = {
            "x__row": pa.concat_arrays(unsplit),
            "sheet": pa.concat_arrays([pa.array([b.sheet] * b.n_rows, pa.string()) for b in blocks]),
            "source_row": pa.concat_arrays([as_arrow(b.source_rows, pa.int32()) for b in blocks]),
            "nik_numeric": pa.concat_arrays([as_arrow(b.nik_numeric, pa.bool_()) for b in blocks]),
        }
        for c in contract.columns:
            text = column(c.name, keys=False)
            cols[f"x_{c.name}"] = text
            if c.type == "nik":
                nik = cols[f"n_{c.name}"] = normalise_nik(text)
                problems = nik_problems(nik, np_bools(cols["nik_numeric"]))
                if not c.required:
                    problems = pc.if_else(pc.is_null(nik), pa.scalar(None, pa.string()), problems)
                cols[f"e_{c.name}"] = problems
                continue
            if c.name == "funding_source" and c.name not in present and folder_regency is not None:
                text = pa.array([folder_regency.default_funding_source] * n_rows, pa.string())
            if c.type == "text":
                values = text
                errors = pc.if_else(pc.greater(pc.utf8_length(text), 1000), pa.scalar("VALUE_TOO_LONG"),
                                    pa.nulls(n_rows, pa.string()))
            else:
                keyed = text if c.type in _TEXT_TYPES or c.name not in present else column(c.name, keys=True)
                values, errors = map_distinct(keyed, _parser_for(c.type, self.aliases),
                                              _ARROW_TYPES.get(c.type, pa.string()),
                                              plain_dates(*DATE_LIMITS[c.type]) if c.type in DATE_LIMITS else None)
            if c.required and not (c.name in ("period", "regency") and c.name not in present):
                missing = pc.is_null(text)
                errors = pc.if_else(missing, pa.scalar(REQUIRED_CODES.get(c.name, "REQUIRED_MISSING")), errors)
            cols[c.name] = values
            cols[f"e_{c.name}"] = errors
        # regency of each row: the row's own (checked against the folder's), else the file's
        row_reg = cols.get("regency")
        reg_col = pa.array([regency] * n_rows, pa.string())
        if row_reg is not None and "regency" in present:
            if regency is not None and folder_regency is not None:
                mismatch = pc.and_(pc.is_valid(row_reg), pc.not_equal(row_reg, pa.scalar(regency)))
                cols["e_regency"] = pc.if_else(pc.fill_null(mismatch, False), pa.scalar("REGENCY_MISMATCH"),
                                               cols["e_regency"])
            reg_col = pc.coalesce(row_reg, reg_col)
        if "regency" in cols:
            unresolved = pc.and_(pc.is_null(reg_col), pc.is_null(cols["e_regency"]))
            cols["e_regency"] = pc.if_else(unresolved, pa.scalar("REGENCY_MISSING"), cols["e_regency"])
        cols["regency_code"] = reg_col
        # period of each row: the claim's event month, else the row's period, else the file's
        if contract.source == "claims":
            per = pc.floor_temporal(cols["event_date"], unit="month")
        elif "period" in present:
            per = cols["period"]
            if file_period is not None:
                per = pc.coalesce(per, pa.scalar(file_period, pa.date32()))
        else:
            per = pa.array([file_period] * n_rows, pa.date32())
        if "period" in cols and contract.source != "claims":
            unknown = pc.and_(pc.is_null(per), pc.is_null(cols["e_period"]))
            cols["e_period"] = pc.if_else(unknown, pa.scalar("PERIOD_MISSING"), cols["e_period"])
        cols["period_value"] = per
        # the pseudonym (keyed HMAC of the normalised NIK, once per distinct NIK) is computed here rather than in
        # the insert's SQL: a reader process or thread does this work while the writer writes
        nik = cols.get("n_nik")
        cols["participant_key_v"] = (pseudonyms(nik, self.key) if nik is not None
                                     else pa.nulls(n_rows, pa.string()))
        return pa.table(cols)


class Loader(Preparer):
    """Loads files into the work warehouse; one instance per writer connection."""

    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection | None = None, run_id: str | None = None):
        super().__init__(settings)
        self.con = con or connect_work(settings)
        self.run_id = run_id or dt.datetime.now(dt.UTC).strftime("cli__%Y%m%dT%H%M%S")
        self._session()

    def _session(self) -> None:
        """What every file's checks use, set up once per connection."""
        self.con.execute(f"set variable cakupan_reason_templates = {_templates_sql()}")  # bound once, not per file

    def reconnect(self) -> None:
        self.con = connect_work(self.settings)
        self._session()

    # ---- discovery
    def pending_files(self) -> list[Path]:
        """List every file in the configured inboxes not yet processed (same path and bytes), oldest first."""
        out = []
        done = {(p, s) for p, s in self.con.execute(
            "select source_file, file_sha256 from audit.loads where status <> 'interrupted' "
            "and status <> 'started'").fetchall()}
        for r in self.regencies.values():
            folder = self.settings.inbox / r.inbox
            if not folder.is_dir():
                continue
            for p in folder.rglob("*"):
                if p.is_file() and not p.name.startswith((".", "~$")) and (self._rel(p), _sha_or_empty(p)) not in done:
                    out.append(p)
        return sorted(out, key=lambda p: (int(_mtime(p)), p.name))

    def _rel(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.settings.inbox))
        except ValueError:
            return str(path.resolve())

    def _unreadable(self, path: Path, rel: str, exc: OSError) -> LoadResult:
        """Record a file that cannot be read at all (no bytes, so no SHA-256: the manifest keeps an empty one)."""
        prior = self.con.execute("select load_id from audit.loads where source_file = ? and file_sha256 = '' "
                                 "and error_code = 'FILE_UNREADABLE'", [rel]).fetchone()
        if prior:
            return LoadResult(prior[0], rel, None, None, None, "already_processed")
        msg = f"{path.name}: {reason('FILE_UNREADABLE').message} — {type(exc).__name__}: {exc.strerror or exc}"
        load_id = self.con.execute("select nextval('audit.load_id_seq')").fetchone()[0]
        self.con.execute(
            "insert into audit.loads (load_id, run_id, source_file, file_name, file_sha256, started_at, finished_at, "
            "status, rows_in, rows_loaded, rows_quarantined, error_code, error_message) "
            "values (?, ?, ?, ?, '', now(), now(), 'rejected', 0, 0, 0, 'FILE_UNREADABLE', ?)",
            [load_id, self.run_id, rel, path.name, msg])
        log.warning("rejected %s", msg)
        return LoadResult(load_id, rel, None, None, None, "rejected", error_code="FILE_UNREADABLE", error_message=msg)

    def _remove_rows(self, load_id: int) -> None:
        """Delete whatever rows a load left in raw, quarantine and findings."""
        for source in SOURCES:
            self.con.execute(f"delete from raw.{source} where load_id = ?", [load_id])
        self.con.execute("delete from quarantine.rows where load_id = ?", [load_id])
        self.con.execute("delete from audit.load_findings where load_id = ?", [load_id])

    # ---- one file
    def load(self, path: Path, prepared: Prepared | BaseException | None = None) -> LoadResult:
        """Load one file: raw + quarantine + manifest in one transaction; file problems are recorded.

        `prepared` is what `prepare(path)` gave (or raised) in a reader process, if it ran there.
        """
        path = Path(path)
        rel = self._rel(path)
        con = self.con
        if prepared is None and _streamable(path):
            # a big CSV's header and lines are found while its SHA-256 is computed and the manifest consulted
            prepared = _early(self.prepare_stream, path)
        try:
            sha = sha256_file(path)
            stat = path.stat()
        except OSError as exc:           # gone, or not readable (permissions, a broken link on a shared drive)
            return self._unreadable(path, rel, exc)
        received = dt.datetime.fromtimestamp(int(stat.st_mtime))
        prior = con.execute("select load_id, status, source_file from audit.loads where file_sha256 = ? "
                            "and status not in ('interrupted') order by load_id", [sha]).fetchall()
        for load_id, status, src in prior:
            if status == "started":   # a killed process: its transaction never committed, but be sure
                self._remove_rows(load_id)
                con.execute("update audit.loads set status = 'interrupted', finished_at = now(), error_code = "
                            "'LOAD_INTERRUPTED', error_message = ? where load_id = ?",
                            [f"{Path(src).name}: " + reason("LOAD_INTERRUPTED").message, load_id])
        prior = [p for p in prior if p[1] != "started"]
        same_path = [p for p in prior if p[2] == rel]
        if same_path:
            lid, status, _ = same_path[0]
            return LoadResult(lid, rel, None, None, None, "already_processed")
        load_id = con.execute("select nextval('audit.load_id_seq')").fetchone()[0]
        con.execute(
            "insert into audit.loads (load_id, run_id, source_file, file_name, file_sha256, file_size, received_at, "
            "started_at, status) values (?, ?, ?, ?, ?, ?, ?, now(), 'started')",
            [load_id, self.run_id, rel, path.name, sha, stat.st_size, received])
        loaded_prior = [p for p in prior if p[1] == "loaded"]
        if loaded_prior:
            dup = loaded_prior[0][0]
            msg = (f"{path.name}: " + reason("DUPLICATE_FILE").message
                   + f" (first loaded as load {dup}, {loaded_prior[0][2]})")
            con.execute("update audit.loads set status = 'duplicate', finished_at = now(), rows_in = 0, "
                        "rows_loaded = 0, rows_quarantined = 0, error_code = 'DUPLICATE_FILE', error_message = ?, "
                        "duplicate_of = ? where load_id = ?", [msg, dup, load_id])
            log.info("%s: duplicate of load %s", rel, dup)
            return LoadResult(load_id, rel, None, None, None, "duplicate", error_code="DUPLICATE_FILE",
                              error_message=msg, duplicate_of=dup)
        try:
            return self._load_rows(path, rel, sha, received, load_id, prepared)
        except (LoadInvariantError, KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:  # one file's failure (even a native panic) never stops the others
            status = "rejected"
            if not isinstance(exc, FileRejected):
                log.exception("internal error loading %s", rel)
                status = "failed"
                exc = FileRejected("INTERNAL_ERROR", f"{type(exc).__name__}: {str(exc)[:300]}")
            r = reason(exc.code)
            msg = f"{path.name}: {r.render(exc.column, exc.value)}" + (f" — {exc.detail}" if exc.detail else "")
            con.execute("update audit.loads set status = ?, finished_at = now(), rows_in = 0, "
                        "rows_loaded = 0, rows_quarantined = 0, error_code = ?, error_message = ? where load_id = ?",
                        [status, exc.code, msg, load_id])
            log.warning("%s %s", status, msg)
            return LoadResult(load_id, rel, None, None, None, status, error_code=exc.code, error_message=msg)

    def _load_rows(self, path: Path, rel: str, sha: str, received: dt.datetime, load_id: int,
                   prepared: Prepared | Future | BaseException | None = None) -> LoadResult:
        streamed = None
        if isinstance(prepared, Future):             # prepare_stream of a big CSV, started as the load began
            pa.scalar("")     # meanwhile: pyarrow's first conversion of a Python value imports pandas (0.1 s)
            streamed, prepared = prepared.result(), None
        if isinstance(prepared, BaseException):      # what a reader process met, raised here as if met here
            raise prepared
        if streamed is not None:
            return self._load_streamed(streamed, path, rel, sha, received, load_id)
        prep = prepared or self.prepare(path)
        result, contract, regency, table = prep.result, prep.contract, prep.regency, prep.table
        try:  # _write opens the transaction; everything up to the manifest update commits together
            counts = self._write(table, result.blocks, contract, rel, sha, received, load_id)
            return self._complete(result, contract, regency, counts, table, rel, load_id)
        except BaseException:
            self._rollback()
            raise

    def _complete(self, result: ReadResult, contract: Contract, regency: str | None, counts: dict,
                  totals_table: pa.Table, rel: str, load_id: int) -> LoadResult:
        """After the rows are written: assert rows in = loaded + quarantined, record the total-row and sheet
        findings, mark the load loaded and commit."""
        rows_in = result.rows_in
        if counts["loaded"] + counts["quarantined"] != rows_in:
            raise LoadInvariantError(f"{rel}: rows in {rows_in} != loaded {counts['loaded']} + quarantined "
                                     f"{counts['quarantined']}")
        period = counts["period"]
        self._check_totals(result.blocks, contract, totals_table, load_id)
        self._sheet_findings(result, load_id)
        self._finish(result, contract, regency, period, counts, load_id)
        return LoadResult(load_id, rel, contract.source, regency, period.isoformat()[:7] if period else None,
                          "loaded", rows_in, counts["loaded"], counts["quarantined"], reasons=counts["reasons"])

    def _rollback(self) -> None:
        try:
            self.con.execute("rollback")
        except duckdb.TransactionException:
            pass  # the failure came before the transaction opened

    def _load_streamed(self, st: Streamed, path: Path, rel: str, sha: str, received: dt.datetime,
                       load_id: int) -> LoadResult:
        """Load a big CSV part by part in one transaction: reader threads read and validate the next parts while
        this one writes the current (DuckDB and Arrow release the GIL). The same rows, checks and counts as
        loading it whole."""
        from concurrent.futures import ThreadPoolExecutor

        contract = st.contract
        numeric = [c.name for c in contract.columns if c.type in ("money", "count")]

        def validated(block: Block) -> tuple[Block, pa.Table]:
            return block, self._validate([block], contract, st.regency, st.file_period, st.folder_regency)

        blocks, sums, periods, loaded, any_quarantined = [], [], set(), 0, False
        try:
            self.con.execute("begin transaction")
            with ThreadPoolExecutor(STREAM_READERS) as pool:
                ahead = [pool.submit(lambda read=read: validated(read())) for read in st.parts[:STREAM_READERS + 1]]
                pending = list(st.parts[STREAM_READERS + 1:])
                current = ahead.pop(0).result()
                while current is not None:
                    block, table = current
                    n, q = self._insert(table, [block], contract, rel, sha, received, load_id)
                    loaded, any_quarantined = loaded + n, any_quarantined or q
                    blocks.append(block)
                    sums.append(table.select(numeric))
                    periods |= set(pc.unique(table["period_value"]).drop_null().to_pylist())
                    del table
                    current = ahead.pop(0).result() if ahead else None
                    if pending:
                        read = pending.pop(0)
                        ahead.append(pool.submit(lambda read=read: validated(read())))
            whole = merge_parts(blocks, cells=False)
            result = ReadResult(path, contract.source, [whole], st.encoding, st.delimiter)
            if result.rows_in == 0:
                raise FileRejected("NO_DATA_ROWS")
            counts = self._counts(contract, load_id, loaded, any_quarantined, periods)
            return self._complete(result, contract, st.regency, counts, pa.concat_tables(sums), rel, load_id)
        except BaseException:
            self._rollback()
            raise

    def _finish(self, result, contract: Contract, regency: str | None, period, counts: dict, load_id: int) -> None:
        rows_in = result.rows_in
        self.con.execute(
            "update audit.loads set status = 'loaded', finished_at = now(), source = ?, regency_code = ?, period = ?, "
            "rows_in = ?, rows_loaded = ?, rows_quarantined = ?, notes_skipped = ?, encoding = ?, delimiter = ?, "
            "sheets = ? where load_id = ?",
            [contract.source, regency, period, rows_in, counts["loaded"], counts["quarantined"],
             sum(b.notes_skipped for b in result.blocks), result.encoding, result.delimiter,
             ",".join(b.sheet for b in result.blocks if b.sheet), load_id])
        self.con.execute("commit")

    def _write(self, table: pa.Table, blocks: list[Block], contract: Contract, rel: str, sha: str,
               received: dt.datetime, load_id: int) -> dict:
        """Insert valid rows into raw.<source> and the others into quarantine.rows, in one transaction.

        Everything is set-based SQL: NIK checks, pseudonyms, each row's list of problems and its quarantine
        message (file, sheet, row and every reason in words) are computed by DuckDB, not row by row in Python.
        """
        self.con.execute("begin transaction")
        loaded, any_quarantined = self._insert(table, blocks, contract, rel, sha, received, load_id)
        return self._counts(contract, load_id, loaded, any_quarantined,
                            set(pc.unique(table["period_value"]).drop_null().to_pylist()))

    def _insert(self, table: pa.Table, blocks: list[Block], contract: Contract, rel: str, sha: str,
                received: dt.datetime, load_id: int) -> tuple[int, bool]:
        """Insert the table's valid rows into raw.<source> and the others into quarantine.rows (in the open
        transaction); return (rows loaded, whether any row was quarantined)."""
        con = self.con
        con.register("incoming", table)
        nik_cols = [c.name for c in contract.columns if c.type == "nik"]
        problems = []       # (column label, SQL of its reason code or NULL, SQL of the value shown in the message)
        for c in contract.columns:
            if c.type == "nik":
                problems.append((c.name, f"e_{c.name}", "null"))          # a NIK is never repeated in a message
            else:
                problems.append((c.name, f"e_{c.name}", f"x_{c.name}"))
        for group in contract.one_of:
            cond = " and ".join(f"x_{g} is null" for g in group)
            problems.append(("/".join(group), f"case when {cond} then 'NO_PARTICIPANT_ID' end", "null"))
        if contract.source == "register" and "coverage_end" in contract.names:
            problems.append(("coverage_end", ("case when coverage_end < coverage_start then "
                                              "'COVERAGE_END_BEFORE_START' end"), "x_coverage_end"))
        # a row that did not split into cells has one problem, not one per empty column
        problems = [("(row)", "case when x__row is not null then 'ROW_NOT_SPLIT' end", "x__row")] + [
            (label, f"case when x__row is null then {sql} end", value) for label, sql, value in problems]
        codes = ", ".join(f"{sql} as p{i}" for i, (_, sql, _) in enumerate(problems))
        staged = f"""(
            with checked as (select *, {codes} from incoming)
            select *, coalesce({', '.join(f'p{i}' for i in range(len(problems)))}) is not null as has_problem,
                   {_raw_cells_sql(blocks)} as raw_cells_v
            from checked
        )"""
        # A big file is inserted straight from the checking query (materialising every column once more cost
        # more than all the checks); a small one is checked once into a temp table, because planning that query
        # twice (raw insert, quarantine insert) costs more than running it.
        if table.num_rows <= STAGE_MAX_ROWS:
            con.execute(f"create or replace temp table staged as select * from {staged}")
            staged = "staged"
        cols = raw_columns(contract)
        special = {"load_id": f"{load_id}", "source_file": "$rel", "file_sha256": "$sha", "received_at": "$received",
                   "period": "period_value", "participant_key": "participant_key_v", "raw_cells": "raw_cells_v",
                   "sheet": "sheet", "source_row": "source_row", "regency_code": "regency_code"}
        select = [special.get(c) or (f"n_{c}" if c in nik_cols else f'"{c}"') for c in cols]
        # what was written, counted where it was written (the loader's invariant is checked on these)
        loaded = con.execute(f"insert into raw.{contract.source} ({', '.join(cols)}) select {', '.join(select)} "
                             f"from {staged} where not has_problem",
                             {"rel": rel, "sha": sha, "received": received}).fetchone()[0]
        if loaded < table.num_rows:
            self._quarantine(staged, problems, contract, rel, sha, load_id)
        return loaded, loaded < table.num_rows

    def _counts(self, contract: Contract, load_id: int, loaded: int, any_quarantined: bool,
                periods: set[dt.date]) -> dict:
        """What a load wrote, counted where it was written (the loader's invariant is checked on these); the
        file's period when all its rows have the same one."""
        reasons_count: dict[str, int] = {}
        if any_quarantined:
            reasons_count = dict(self.con.execute("select reason_code, count(*) from quarantine.rows "
                                                  "where load_id = ? group by reason_code", [load_id]).fetchall())
        period = self.con.execute(f"select max(period) from raw.{contract.source} where load_id = ?",
                                  [load_id]).fetchone()[0] if loaded else None
        return {"loaded": loaded, "quarantined": sum(reasons_count.values()), "reasons": reasons_count,
                "period": period if len(periods) == 1 else None}

    def _quarantine(self, staged: str, problems: list[tuple[str, str, str]], contract: Contract,
                    rel: str, sha: str, load_id: int) -> None:
        """Insert the staged rows that have a problem into quarantine.rows: every problem of the row (the first
        is its reason), and a message naming the file, sheet, row and each reason in words."""
        items = ", ".join(f"{{'column': {_sql_str(label)}, 'code': p{i}, 'value': {value}::varchar}}"
                          for i, (label, _, value) in enumerate(problems))
        shown = "case when length(p.value) > 60 then left(p.value, 57) || '...' else coalesce(p.value, '') end"
        render = f"replace(replace(getvariable('cakupan_reason_templates')[p.code], '{{column}}', p.column), " \
                 f"'{{value}}', {shown})"
        self.con.execute(f"""
            insert into quarantine.rows
            with q as (
                select *, list_filter([{items}], lambda x: x.code is not null) as problem_list
                from {staged} where has_problem
            )
            select {load_id}, $source, $rel, $sha, sheet, source_row, regency_code,
                   problem_list[1].code, problem_list[1].column,
                   $name || ', sheet ' || coalesce(nullif(sheet, ''), '-') || ', row ' || source_row || ': '
                       || array_to_string(list_transform(problem_list, lambda p: {render}), '; '),
                   to_json(list_transform(problem_list, lambda p: {{'column': p.column, 'code': p.code}})),
                   participant_key_v, raw_cells_v
            from q
        """, {"source": contract.source, "rel": rel, "sha": sha, "name": Path(rel).name})

    def _check_totals(self, blocks: list[Block], contract: Contract, table: pa.Table, load_id: int) -> None:
        """Compare each total row's numbers with the sum of the rows above it; a mismatch is a finding.

        A total row may close the whole sheet (TOTAL / JUMLAH) or only the rows since the previous total (a
        sub-total per village); it agrees if it matches either sum. Quarantined rows count: the clerk's total
        covers every row they typed.
        """
        numeric = [c.name for c in contract.columns if c.type in ("money", "count")]
        offset = 0
        for b in blocks:
            previous = 0
            for row_no, above, cells in b.total_rows:
                for col in numeric:
                    cell = cells.get(col)
                    if cell is None or cell == "":
                        continue
                    try:
                        stated = parsing.parse_number(cell)
                    except parsing.ParseError:
                        continue
                    if stated is None:
                        continue
                    values = table[col]
                    whole = pc.sum(values.slice(offset, above)).as_py() or 0
                    part = pc.sum(values.slice(offset + previous, above - previous)).as_py() or 0
                    if min(abs(float(stated) - float(whole)), abs(float(stated) - float(part))) > 0.005:
                        where = f"sheet {b.sheet}, row {row_no}" if b.sheet else f"row {row_no}"
                        self.con.execute(
                            "insert into audit.load_findings values (?, 'TOTAL_MISMATCH', ?, ?, ?, ?)",
                            [load_id, col, float(stated), float(whole),
                             (f"{where}: the total row says {stated} for '{col}' but the rows above add up to "
                              f"{_plain(whole)}.")])
                previous = above
            offset += b.n_rows

    def _sheet_findings(self, result, load_id: int) -> None:
        """Record every sheet that has content but no recognisable header (it was not read)."""
        for name in result.sheets_without_header:
            self.con.execute(
                "insert into audit.load_findings values (?, 'SHEET_NO_HEADER', null, null, null, ?)",
                [load_id, f"sheet {name}: {reason('SHEET_NO_HEADER').message}"])


def _raw_cells_sql(blocks: list[Block]) -> str:
    """SQL: JSON of every mapped cell of a row as delivered, keyed by its header as written (per sheet)."""
    def one(block: Block) -> str:
        seen, args = set(), []
        for c in block.columns:
            k = block.headers[block.mapping[c]] or c
            k = f"{k} [{c}]" if k in seen else k
            seen.add(k)
            args.append(f"{_sql_str(k)}, x_{c}")
        return f"json_object({', '.join(args)})"

    cells = (one(blocks[0]) if len(blocks) == 1 else
             "case sheet " + " ".join(f"when {_sql_str(b.sheet)} then {one(b)}" for b in blocks) + " end")
    if not any(b.unsplit for b in blocks):
        return cells
    return f"case when x__row is not null then json_object('(row as delivered)', x__row) else {cells} end"


@functools.cache
def _templates_sql() -> str:
    """SQL: a MAP from every registered reason code to its message template."""
    return "MAP {" + ", ".join(f"{_sql_str(code)}: {_sql_str(r.message)}" for code, r in reasons().items()) + "}"


def _sql_str(text: str) -> str:
    """Quote a text as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _plain(x: float) -> str:
    """Render a sum without a spurious fraction."""
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


READER_PROCESSES = 2            # reader processes beside the writer (reading and validating is most of a load)
READERS_MIN_FILES = 40          # fewer files are not worth starting them
READERS_MAX_FILE_BYTES = 16 << 20   # a bigger file is read by the writer itself (no copy of a big table)
READ_AHEAD = 8                  # files read ahead of the writer

_reader: Preparer | None = None


def _start_reader(settings: Settings) -> None:
    global _reader
    _reader = Preparer(settings)


def _prepare_in_reader(path: str) -> Prepared | FileRejected | None:
    """Read, check and validate a file in a reader process. A file-level rejection is handed to the writer,
    which records it as its own; any other error gives None: the writer then reads the file itself and meets
    (and logs) the error where it always does."""
    try:
        return _reader.prepare(Path(path))
    except FileRejected as exc:
        return exc
    except Exception:  # noqa: BLE001
        return None


def ingest_paths(settings: Settings, paths: list[Path] | None = None, run_id: str | None = None) -> list[LoadResult]:
    """Load the given files (or every pending inbox file); one file's failure never stops the others.

    With many files, reader processes read and validate the next files while this process (the only writer
    of the warehouse) writes the current one; the files are written in the same order either way.
    """
    loader = Loader(settings, run_id=run_id)
    try:
        files = []
        for p in paths or []:
            p = Path(p)
            files.extend(sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p])
        if paths is None:
            files = loader.pending_files()
        if len(files) < READERS_MIN_FILES or READER_PROCESSES < 1 or not hasattr(os, "fork"):
            return [loader.load(f) for f in files]
        return _load_with_readers(loader, settings, files)
    finally:
        loader.con.close()


def _load_with_readers(loader: Loader, settings: Settings, files: list[Path]) -> list[LoadResult]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    def small(path: Path) -> bool:
        try:
            return path.stat().st_size <= READERS_MAX_FILE_BYTES
        except OSError:
            return False

    results: list[LoadResult] = []
    ahead: dict[int, Future] = {}
    # The readers are forked while this process has no database open (no DuckDB threads to copy mid-work);
    # a fork pool starts all its processes at the first task.
    loader.con.close()
    with ProcessPoolExecutor(READER_PROCESSES, mp_context=multiprocessing.get_context("fork"),
                             initializer=_start_reader, initargs=(settings,)) as pool:
        pool.submit(int).result()
        loader.reconnect()
        usable = True
        for i, path in enumerate(files):
            for j in range(i, min(len(files), i + READ_AHEAD)):
                if usable and j not in ahead and small(files[j]):
                    try:
                        ahead[j] = pool.submit(_prepare_in_reader, str(files[j]))
                    except RuntimeError:     # the pool broke (a reader died): read the rest here
                        usable = False
            prepared = None
            if i in ahead:
                try:
                    prepared = ahead.pop(i).result()
                except Exception:  # noqa: BLE001 - a reader died on this file: read it here, with the usual guards
                    prepared = None
            results.append(loader.load(path, prepared))
    return results


def folded_regency(text: str) -> str:
    """Fold a regency text (exposed for tests)."""
    return fold_name(text)
