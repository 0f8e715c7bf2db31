"""Ingest: delivered file → raw rows + quarantined rows + one manifest row, atomically, nothing lost.

For every file: rows in = rows loaded + rows quarantined (asserted before commit). Parsing runs once per
distinct cell value (pure functions in `parsing`), NIK checks and pseudonyms run as one vectorised DuckDB query.
A file is never modified or deleted; the same bytes are loaded once; an interrupted load is detected and redone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cakupan import parsing
from cakupan.config import Regency, alias_index, load_regencies
from cakupan.contracts import Contract, load_contract, reason
from cakupan.identity import hmac_pads, nik_problem_sql, normalise_nik_sql, pseudonym_sql, register_prefixes
from cakupan.readers import Block, FileRejected, ReadOptions, kind_from_filename, read_file
from cakupan.regions import fold_name, resolve_regency
from cakupan.settings import Settings
from cakupan.warehouse import connect_work, raw_columns

log = logging.getLogger("cakupan.ingest")

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
                return fn(v), None
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


_ARROW_TYPES = {"date": pa.date32(), "birth_date": pa.date32(), "month": pa.date32(), "money": pa.float64(),
                "count": pa.int64()}


def map_distinct(arr: pa.Array, fn, arrow_type: pa.DataType) -> tuple[pa.Array, pa.Array]:
    """Apply fn once per distinct value of arr; return (parsed values, error codes) aligned with arr."""
    uniq = pc.unique(arr)
    results = [fn(v) for v in uniq.to_pylist()]
    idx = pc.index_in(arr, value_set=uniq, skip_nulls=False)
    values = pa.array([r[0] for r in results], type=arrow_type).take(idx)
    errors = pa.array([r[1] for r in results], type=pa.string()).take(idx)
    return values, errors


# ------------------------------------------------------------------------------------------ helpers --------
def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


# ------------------------------------------------------------------------------------------ the loader -----
class Loader:
    """Loads files into the work warehouse; one instance per writer connection."""

    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection | None = None, run_id: str | None = None):
        self.settings = settings
        self.con = con or connect_work(settings)
        self.run_id = run_id or dt.datetime.now(dt.UTC).strftime("cli__%Y%m%dT%H%M%S")
        self.regencies = load_regencies(settings.config_dir)
        self.aliases = alias_index(self.regencies)
        self.ipad, self.opad = hmac_pads(settings.require_key())
        register_prefixes(self.con)

    # ---- discovery
    def regency_for_path(self, path: Path) -> Regency | None:
        """Return the configured regency whose inbox folder holds this file."""
        for parent in path.resolve().parents:
            for r in self.regencies.values():
                if parent.name == r.inbox or parent.name == r.code:
                    return r
        return None

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
                if p.is_file() and not p.name.startswith((".", "~$")):
                    if (self._rel(p), sha256_file(p)) not in done:
                        out.append(p)
        return sorted(out, key=lambda p: (int(p.stat().st_mtime), p.name))

    def _rel(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.settings.inbox))
        except ValueError:
            return str(path.resolve())

    # ---- one file
    def load(self, path: Path) -> LoadResult:
        """Load one file: raw + quarantine + manifest in one transaction; file problems are recorded."""
        path = Path(path)
        rel = self._rel(path)
        sha = sha256_file(path)
        stat = path.stat()
        received = dt.datetime.fromtimestamp(int(stat.st_mtime))
        con = self.con
        prior = con.execute("select load_id, status, source_file from audit.loads where file_sha256 = ? "
                            "and status not in ('interrupted') order by load_id", [sha]).fetchall()
        for load_id, status, src in prior:
            if status == "started":
                con.execute("update audit.loads set status = 'interrupted', finished_at = now(), error_code = "
                            "'LOAD_INTERRUPTED', error_message = ? where load_id = ?",
                            [reason("LOAD_INTERRUPTED").message, load_id])
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
            msg = reason("DUPLICATE_FILE").message + f" (first loaded as load {dup}, {loaded_prior[0][2]})"
            con.execute("update audit.loads set status = 'duplicate', finished_at = now(), rows_in = 0, "
                        "rows_loaded = 0, rows_quarantined = 0, error_code = 'DUPLICATE_FILE', error_message = ?, "
                        "duplicate_of = ? where load_id = ?", [msg, dup, load_id])
            log.info("%s: duplicate of load %s", rel, dup)
            return LoadResult(load_id, rel, None, None, None, "duplicate", error_code="DUPLICATE_FILE",
                              error_message=msg, duplicate_of=dup)
        try:
            return self._load_rows(path, rel, sha, received, load_id)
        except LoadInvariantError:
            raise
        except Exception as exc:  # noqa: BLE001 - one file's failure must never stop the others
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

    def _load_rows(self, path: Path, rel: str, sha: str, received: dt.datetime, load_id: int) -> LoadResult:
        folder_regency = self.regency_for_path(path)
        overrides = folder_regency.header_overrides if folder_regency else {}
        defaults = {"register": {"funding_source"}} if folder_regency and folder_regency.default_funding_source else {}
        result = read_file(path, ReadOptions(overrides=overrides, defaults=defaults,
                                             skip_sheets=folder_regency.skip_sheets if folder_regency else ()))
        named = kind_from_filename(path)
        if named and named != result.source:
            raise FileRejected("WRONG_KIND", f"its columns are those of a {result.source} file",
                               column=named, value=result.source)
        contract = load_contract(result.source)
        if result.rows_in == 0:
            raise FileRejected("NO_DATA_ROWS")
        title = " ".join(b.title_text for b in result.blocks)
        regency = folder_regency.code if folder_regency else regency_in_text(title, self.regencies)
        if regency is None and "regency" not in contract.required:
            raise FileRejected("REGENCY_UNRESOLVED")
        file_period = _file_period(contract, result.blocks, path)
        has_period_col = any("period" in b.mapping for b in result.blocks)
        if contract.source == "register" and not has_period_col and file_period is None:
            raise FileRejected("PERIOD_UNKNOWN")

        table = self._validate(result.blocks, contract, regency, file_period, folder_regency)
        try:  # _write opens the transaction; everything up to the manifest update commits together
            counts = self._write(table, contract, rel, sha, received, load_id)
            rows_in = result.rows_in
            if counts["loaded"] + counts["quarantined"] != rows_in:
                raise LoadInvariantError(f"{rel}: rows in {rows_in} != loaded {counts['loaded']} + quarantined "
                                         f"{counts['quarantined']}")
            period = counts["period"]
            self._check_totals(result.blocks, contract, table, load_id)
            self._finish(result, contract, regency, period, counts, load_id)
        except BaseException:
            try:
                self.con.execute("rollback")
            except duckdb.TransactionException:
                pass  # the failure came before the transaction opened
            raise
        return LoadResult(load_id, rel, contract.source, regency, period.isoformat()[:7] if period else None,
                          "loaded", rows_in, counts["loaded"], counts["quarantined"], reasons=counts["reasons"])

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

    # ---- vectorised validation
    def _validate(self, blocks: list[Block], contract: Contract, regency: str | None, file_period: dt.date | None,
                  folder_regency: Regency | None) -> pa.Table:
        """Build one Arrow table of parsed values and per-column error codes for every data row."""
        names = contract.names
        data: dict[str, list] = {n: [] for n in names}
        sheet, src_row, nik_num, raw_json = [], [], [], []
        for b in blocks:
            pos = {c: i for i, c in enumerate(b.columns)}
            header_of = {c: b.headers[b.mapping[c]] for c in b.columns}
            for (row_no, texts), numeric in zip(b.rows, b.nik_numeric, strict=True):
                sheet.append(b.sheet)
                src_row.append(row_no)
                nik_num.append(numeric)
                for n in names:
                    data[n].append(texts[pos[n]] if n in pos else None)
                raw_json.append(json.dumps({header_of[c] or c: texts[pos[c]] for c in b.columns}, ensure_ascii=False))
        present = {c for b in blocks for c in b.columns}
        cols: dict[str, pa.Array] = {
            "sheet": pa.array(sheet, pa.string()), "source_row": pa.array(src_row, pa.int32()),
            "nik_numeric": pa.array(nik_num, pa.bool_()), "raw_cells": pa.array(raw_json, pa.string()),
        }
        n_rows = len(src_row)
        for c in contract.columns:
            text = pa.array(data[c.name], pa.string())
            cols[f"x_{c.name}"] = text
            if c.type == "nik":
                continue
            if c.name == "funding_source" and c.name not in present and folder_regency is not None:
                text = pa.array([folder_regency.default_funding_source] * n_rows, pa.string())
            values, errors = map_distinct(text, _parser_for(c.type, self.aliases), _ARROW_TYPES.get(c.type, pa.string()))
            if c.required and not (c.name in ("period", "regency") and c.name not in present):
                missing = pc.is_null(text)
                errors = pc.if_else(missing, pa.scalar(REQUIRED_CODES.get(c.name, "REQUIRED_MISSING")), errors)
            cols[c.name] = values
            cols[f"e_{c.name}"] = errors
        # regency and period of each row
        row_reg = cols.get("regency")
        reg_col = pa.array([regency] * n_rows, pa.string())
        if row_reg is not None and "regency" in present:
            if regency is not None:
                mismatch = pc.and_(pc.is_valid(row_reg), pc.not_equal(row_reg, pa.scalar(regency)))
                cols["e_regency"] = pc.if_else(pc.fill_null(mismatch, False), pa.scalar("REGENCY_MISMATCH"),
                                               cols["e_regency"])
            reg_col = pc.coalesce(row_reg, reg_col)
        cols["regency_code"] = reg_col
        if contract.source == "claims":
            per = pc.floor_temporal(cols["event_date"], unit="month")
        elif "period" in present:
            per = cols["period"]
            if file_period is not None:
                per = pc.coalesce(per, pa.scalar(file_period, pa.date32()))
        else:
            per = pa.array([file_period] * n_rows, pa.date32())
        cols["period_value"] = per
        return pa.table(cols)

    def _write(self, table: pa.Table, contract: Contract, rel: str, sha: str, received: dt.datetime,
               load_id: int) -> dict:
        """Insert valid rows into raw.<source> and the others into quarantine.rows, in one transaction."""
        con = self.con
        con.execute("begin transaction")
        con.register("incoming", table)
        nik_cols = [c.name for c in contract.columns if c.type == "nik"]
        err_parts = []
        for c in contract.columns:
            if c.type == "nik":
                prob = nik_problem_sql("n_" + c.name, "nik_numeric")
                if not c.required:
                    prob = f"case when n_{c.name} is null then null else {prob} end"
                err_parts.append(f"{{'column': '{c.name}', 'code': {prob}}}")
            else:
                err_parts.append(f"{{'column': '{c.name}', 'code': e_{c.name}}}")
        extra = []
        for group in contract.one_of:
            cond = " and ".join(f"x_{g} is null" for g in group)
            extra.append(f"{{'column': '{'/'.join(group)}', 'code': case when {cond} then 'NO_PARTICIPANT_ID' end}}")
        if contract.source == "register" and "coverage_end" in contract.names:
            extra.append("{'column': 'coverage_end', 'code': case when coverage_end < coverage_start "
                         "then 'COVERAGE_END_BEFORE_START' end}")
        normalised = ", ".join(f"{normalise_nik_sql('x_' + n)} as n_{n}" for n in nik_cols) or "null as n_none"
        key_expr = pseudonym_sql("n_nik") if "nik" in nik_cols else "null"
        con.execute(f"""
            create or replace temp table staged as
            with base as (select *, {normalised} from incoming),
            checked as (
                select *, list_filter([{', '.join(err_parts + extra)}], lambda x: x.code is not null) as problems
                from base
            )
            select *, {key_expr} as participant_key_v from checked
        """, {"ipad": self.ipad, "opad": self.opad} if "nik" in nik_cols else None)
        cols = raw_columns(contract)
        select = []
        for c in cols:
            if c == "load_id":
                select.append(f"{load_id}")
            elif c == "source_file":
                select.append("$rel")
            elif c == "file_sha256":
                select.append("$sha")
            elif c == "received_at":
                select.append("$received")
            elif c == "period":
                select.append("period_value")
            elif c == "participant_key":
                select.append("participant_key_v")
            elif c in nik_cols:
                select.append(f"n_{c}")
            elif c in ("sheet", "source_row", "regency_code", "raw_cells"):
                select.append(c)
            else:
                select.append(f'"{c}"')
        params = {"rel": rel, "sha": sha, "received": received}
        con.execute(f"insert into raw.{contract.source} ({', '.join(cols)}) select {', '.join(select)} "
                    f"from staged where len(problems) = 0", params)
        qrows = con.execute("select source_row, sheet, problems, regency_code, participant_key_v, raw_cells, "
                            + ", ".join(f"x_{c.name}" for c in contract.columns)
                            + " from staged where len(problems) > 0 order by sheet, source_row").fetchall()
        ncols = len(contract.columns)
        reasons_count: dict[str, int] = {}
        qinsert = []
        for row in qrows:
            source_row, sh, problems, reg, key, raw_cells = row[:6]
            texts = dict(zip([c.name for c in contract.columns], row[6:6 + ncols]))
            first = problems[0]
            col, code = first["column"], first["code"]
            msg = (f"{Path(rel).name}, sheet {sh or '-'}, row {source_row}: "
                   + "; ".join(reason(p["code"]).render(p["column"], None if p["code"].startswith("NIK")
                                                        else texts.get(p["column"])) for p in problems))
            reasons_count[code] = reasons_count.get(code, 0) + 1
            qinsert.append((load_id, contract.source, rel, sha, sh, source_row, reg, code, col, msg,
                            json.dumps(problems), key, raw_cells))
        if qinsert:
            con.executemany("insert into quarantine.rows values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", qinsert)
        loaded = con.execute("select count(*) from staged where len(problems) = 0").fetchone()[0]
        period = con.execute("select max(period_value) from staged where len(problems) = 0").fetchone()[0]
        distinct_periods = con.execute("select count(distinct period_value) from staged").fetchone()[0]
        return {"loaded": loaded, "quarantined": len(qinsert), "reasons": reasons_count,
                "period": period if distinct_periods == 1 else None}

    def _check_totals(self, blocks: list[Block], contract: Contract, table: pa.Table, load_id: int) -> None:
        """Compare each total row's numbers with the sum of the data rows; a mismatch is a finding."""
        numeric = [c.name for c in contract.columns if c.type in ("money", "count")]
        for b in blocks:
            for _, cells in b.total_rows:
                for col in numeric:
                    text = cells.get(col)
                    if not text:
                        continue
                    try:
                        stated = parsing.parse_number(text)
                    except parsing.ParseError:
                        continue
                    mask = pc.equal(table["sheet"], pa.scalar(b.sheet))
                    summed = pc.sum(pc.filter(table[col], mask)).as_py() or 0
                    if stated is not None and abs(float(stated) - float(summed)) > 0.005:
                        self.con.execute(
                            "insert into audit.load_findings values (?, 'TOTAL_MISMATCH', ?, ?, ?, ?)",
                            [load_id, col, float(stated), float(summed),
                             f"The total row says {stated} for '{col}' but the rows add up to {summed}."])


def ingest_paths(settings: Settings, paths: list[Path] | None = None, run_id: str | None = None) -> list[LoadResult]:
    """Load the given files (or every pending inbox file); one file's failure never stops the others."""
    loader = Loader(settings, run_id=run_id)
    try:
        files = []
        for p in paths or []:
            p = Path(p)
            files.extend(sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p])
        if paths is None:
            files = loader.pending_files()
        return [loader.load(f) for f in files]
    finally:
        loader.con.close()


def folded_regency(text: str) -> str:
    """Fold a regency text (exposed for tests)."""
    return fold_name(text)
