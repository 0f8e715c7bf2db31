"""Validation: a file's blocks of cell text → one typed batch, with every row rule applied here.

The batch is an Arrow table and a schema (`Batch`) that names each column's role: for every contract column the
cell text as delivered, the parsed value raw.<source> stores and its reason code; the lineage of each row; and
every check in the order a quarantine message names them (the first failing is the row's reason). The writer
(`loader`) only inserts what the batch says.

Each column is parsed once per distinct cell value (number and date cells as the values Excel stored); nothing
here loops over rows in Python.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cakupan.core.config import Regency
from cakupan.core.contracts import Column, Contract
from cakupan.core.regions import resolve_regency
from cakupan.ingest import bulk, parsing
from cakupan.ingest.arrays import as_arrow, distinct, max_bytes, np_bools, pa_bools
from cakupan.ingest.identity import NikMemo, nik_problems, normalise_nik, pseudonym_function, pseudonyms
from cakupan.ingest.programflags import is_flags, parse_flags, programs_column, with_program_flags
from cakupan.ingest.readers import FORMULA_NO_VALUE, Block, typed_value

DATE_TYPES = ("date", "birth_date")     # accepted from 1900 to next year (parsing.MIN_YEAR, parsing.last_year)
REQUIRED_CODES = {"nik": "NIK_MISSING", "occupation": "OCCUPATION_MISSING"}
MAX_TEXT_CHARS = 1000
_ARROW_TYPES = {"date": pa.date32(), "birth_date": pa.date32(), "month": pa.date32(), "money": pa.float64(),
                "count": pa.int64()}
_NULL_TEXT = pa.scalar(None, pa.string())
_NULL_MARKERS = pa.array(sorted(parsing.NULL_MARKERS), pa.string())
_FORMULA_ERRORS = pa.array(sorted(parsing.FORMULA_ERRORS), pa.string())
_MARKED = parsing.NULL_MARKERS | parsing.FORMULA_ERRORS
_MARKED_ARRAY = pa.array(sorted(_MARKED), pa.string())
# A small file's columns (at most MEMO_ROWS rows) are parsed value by value through parsers the Validator keeps
# across files, each with a cache of MEMO_SIZE texts, instead of the bulk path: the bulk path's fixed cost is most
# of a small file's time, and next month's file of a regency holds mostly the same values. A big file's parts keep
# the bulk path (which holds less at once).
MEMO_ROWS = 4096
MEMO_SIZE = 200_000

# the batch's columns that are not a contract column's (one value per row)
SHEET, SOURCE_ROW, UNSPLIT, REGENCY, PERIOD, PARTICIPANT_KEY, HAS_PROBLEM, NIK_NUMERIC = (
    "sheet", "source_row", "unsplit", "regency_code", "period", "participant_key", "has_problem", "nik_numeric")
EXTRA = "extra:"      # + label: a column the contract does not know (its cells go to raw_cells only)


# ------------------------------------------------------------------------------------------ the batch ------
@dataclass(frozen=True)
class BatchColumn:
    """Where one contract column is in a batch."""

    name: str
    text: str       # the cell text as delivered (null: blank)
    value: str      # the parsed value raw.<source> stores
    error: str      # the column's reason code (null: fine)


@dataclass(frozen=True)
class Check:
    """One rule's outcome per row, as a quarantine message names it."""

    label: str              # what the message names: a column, "nik/kpj", "(row)"
    error: str              # the batch column of the reason code (null: the row passed)
    shown: str | None       # the batch column of the text the message quotes (None: never quoted, e.g. a NIK)


@dataclass
class Batch:
    """A file's (or a part's) rows, validated: an Arrow table and what each of its columns is."""

    table: pa.Table
    columns: dict[str, BatchColumn]             # contract column -> its columns in the table
    checks: list[Check]                         # every rule, in message order
    cell_labels: dict[str, list[tuple[str, str]]]   # sheet -> (header as written, text column): raw_cells
    any_unsplit: bool                           # some row did not split into cells (raw_cells keeps its text)

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    def periods(self) -> set[dt.date]:
        """The distinct periods of the rows."""
        return set(pc.unique(self.table[PERIOD]).drop_null().to_pylist())

    def values(self, names: list[str]) -> pa.Table:
        """The parsed values of these contract columns, named as in the contract."""
        return pa.table({c: self.table[self.columns[c].value] for c in names})

    def __reduce__(self):
        """Pickled with its table as one Arrow IPC stream (a reader process hands the batch to the writer):
        pickled array by array, a file's work took 0.67 ms to pickle and 0.86 ms to unpickle, now 0.3 and 0.3; the
        national inbox's readers alone went from 15.4 to 12.1 ms of CPU a file (bench/findings.md, "Per-file
        transfer")."""
        return (_batch_from_ipc, (_ipc_bytes(self.table), self.columns, self.checks, self.cell_labels,
                                  self.any_unsplit))


def _ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _batch_from_ipc(data: bytes, columns: dict[str, BatchColumn], checks: list[Check],
                    cell_labels: dict[str, list[tuple[str, str]]], any_unsplit: bool) -> Batch:
    return Batch(pa.ipc.open_stream(pa.py_buffer(data)).read_all(), columns, checks, cell_labels, any_unsplit)


@dataclass(frozen=True)
class FileFacts:
    """What the file-level checks established, which the row rules use."""

    contract: Contract
    regency: str | None                 # the file's regency (its folder's, or named in its title)
    period: dt.date | None              # the file's period (from its title or name)
    folder_regency: Regency | None      # the configured regency whose inbox holds the file
    sheet_periods: dict[str, dt.date] = field(default_factory=dict)   # a sheet per month: each sheet's period


def _names(c: str) -> BatchColumn:
    return BatchColumn(c, f"text:{c}", f"value:{c}", f"error:{c}")


# ------------------------------------------------------------------------------------------ value parsing --
_PARSERS: dict[str, Callable[[object], object]] = {
    "date": lambda v: parsing.parse_date(v, max_year=parsing.last_year()),
    "birth_date": lambda v: parsing.parse_birth_date_cell(v, max_year=parsing.last_year()),
    "month": lambda v: _month_until_next_year(v),
    "money": lambda v: None if (x := parsing.parse_money(v)) is None else float(x),
    "count": parsing.parse_count,
    "programs": lambda v: None if (x := _programs(v)) is None else ",".join(x),
    "program": parsing.parse_program,
    "sex": parsing.parse_sex,
    "funding_source": parsing.parse_funding_source,
    "kpj": parsing.parse_kpj,
}


def _programs(value: object) -> tuple[str, ...] | None:
    """A programs cell, or a row's program flags (`programflags.with_program_flags`)."""
    return parse_flags(value) if isinstance(value, str) and is_flags(value) else parsing.parse_programs(value)


def _month_until_next_year(value: object) -> dt.date | None:
    """A month (`parsing.parse_month`), from 1900 to next year like every delivered date."""
    month = parsing.parse_month(value)
    if month is not None and month.year > parsing.last_year():
        raise parsing.ParseError("DATE_OUT_OF_RANGE", f"{month:%Y-%m} is after next year")
    return month


def parser_for(col_type: str, aliases: dict[str, str]) -> Callable[[str | None], tuple[object, str | None]]:
    """Return fn(cell key) -> (value, reason code) for a contract column type (a cell key is the text or the
    typed marker of a number/date cell, `Block.keys`)."""
    if col_type == "regency":
        def regency(v: str | None) -> tuple[object, str | None]:
            if v is None:
                return None, None
            code = resolve_regency(v, aliases)
            return (code, None) if code else (None, "REGENCY_UNKNOWN")
        return regency
    parse = _PARSERS.get(col_type)
    if parse is None:
        return lambda v: (v, "VALUE_TOO_LONG" if v is not None and len(v) > MAX_TEXT_CHARS else None)

    def run(v: str | None) -> tuple[object, str | None]:
        if v is None:
            return None, None
        try:
            return parse(typed_value(v)), None
        except parsing.ParseError as exc:
            return None, exc.code
    return run


def map_distinct(arr: pa.Array, fn, arrow_type: pa.DataType, fast=None) -> tuple[pa.Array, pa.Array]:
    """Apply fn once per distinct value of arr; return (parsed values, error codes) aligned with arr.

    `fast(distinct values)` may return (values, mask): the values fn gives for the masked ones, computed in bulk
    (fn runs for the others only).
    """
    uniq, idx = distinct(arr)
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


def map_memo(keys: list, fn, arrow_type: pa.DataType) -> tuple[pa.Array, pa.Array]:
    """`map_distinct` for a small column and a parser with a memo (`Validator._kept_parser`): fn on every value in
    order, a value seen before being a memo hit (no distinct pass, no take: their fixed cost was most of a small
    column's)."""
    results = list(map(fn, keys))
    return (pa.array(list(map(_VALUE, results)), type=arrow_type),
            pa.array(list(map(_REASON, results)), type=pa.string()))


_VALUE, _REASON = operator.itemgetter(0), operator.itemgetter(1)     # of a parser's (value, reason code)


def _bulk_parser(col_type: str):
    """The `map_distinct` fast path of a column type (`bulk`), or None."""
    if col_type in DATE_TYPES:
        return bulk.dates(parsing.MIN_YEAR, parsing.last_year())
    return bulk.kpjs if col_type == "kpj" else None


# ------------------------------------------------------------------------------------------ the rules ------
class Validator:
    """Validates blocks into a batch with what every file is checked with: regency aliases and the pseudonym key."""

    def __init__(self, aliases: dict[str, str], key: bytes):
        self.aliases = aliases
        self.key = key
        self._kept: dict[tuple[str, int], Callable] = {}     # (column type, last accepted year) -> cached parser
        self._niks = NikMemo(MEMO_SIZE, pseudonym_function(key))     # a small file's NIK cells, checked and keyed

    def _kept_parser(self, col_type: str) -> Callable:
        """A column type's parser with a cache kept across files (dates depend on the year it is now)."""
        key = (col_type, parsing.last_year())
        if key not in self._kept:
            self._kept[key] = functools.lru_cache(maxsize=MEMO_SIZE)(parser_for(col_type, self.aliases))
        return self._kept[key]

    def __call__(self, blocks: list[Block], facts: FileFacts) -> Batch:
        """Parse and check every data row of the blocks (one file, or one part of a big CSV)."""
        contract = facts.contract
        programs = programs_column(contract)
        if programs is not None:     # (a register whose programs are a flag column each)
            blocks = [with_program_flags(b, programs) for b in blocks]
        rows = _Rows(blocks)
        columns = {c.name: _names(c.name) for c in contract.columns}
        for c in contract.columns:
            rows.cols.update(self._column(rows, c, columns[c.name], facts))
        rows.cols[REGENCY] = _row_regency(rows, columns.get("regency"), facts)
        rows.cols[PERIOD] = _row_period(rows, columns, facts)
        nik = columns.get("nik")
        # the pseudonym is computed here, not in the insert: a reader process or thread does this work while
        # the writer writes
        rows.cols[PARTICIPANT_KEY] = (pa.nulls(rows.n, pa.string()) if nik is None else
                                      rows.participant_keys if rows.participant_keys is not None else
                                      pseudonyms(rows.cols[nik.value], self.key))
        checks = _checks(rows, contract, columns)
        rows.add_extras()
        return Batch(pa.table(rows.cols), columns, checks, _cell_labels(blocks, columns),
                     any(b.unsplit for b in blocks))

    def _column(self, rows: _Rows, c: Column, names: BatchColumn, facts: FileFacts) -> dict[str, pa.Array]:
        """One contract column's text, value and reason code; a formula without a saved result is FORMULA_NO_VALUE
        whatever the column (not "empty")."""
        out = self._parsed_column(rows, c, names, facts)
        if c.name in rows.marked:     # (a formula's error: whatever the column, the row is set apart)
            failed = pc.fill_null(pc.is_in(out[names.text], value_set=_FORMULA_ERRORS), False)
            if pc.any(failed).as_py():
                out[names.error] = pc.if_else(failed, pa.scalar("FORMULA_ERROR"), out[names.error])
        if not rows.formulas:
            return out
        formula = pc.fill_null(pc.equal(out[names.text], pa.scalar(FORMULA_NO_VALUE)), False)
        if pc.any(formula).as_py():
            out[names.error] = pc.if_else(formula, pa.scalar("FORMULA_NO_VALUE"), out[names.error])
        return out

    def _parsed_column(self, rows: _Rows, c: Column, names: BatchColumn, facts: FileFacts) -> dict[str, pa.Array]:
        text = rows.texts(c.name)
        # a database's null marker reads as a blank cell, a formula's error sets the row apart (`_column`): a small
        # batch's columns are looked at (`_holds_any`); a big one's typed columns meet them among their distinct
        # values (`_marking`), its NIKs among the cells already failing, its texts by one `is_in` (a look at every
        # column cost a 1M-row load ~0.2 s of CPU)
        memo = rows.n <= MEMO_ROWS
        if (memo or c.type == "text") and rows.holds_marks(c.name):
            rows.marked.add(c.name)
        parsed_text = _unmarked(text) if c.name in rows.marked else text
        if c.type == "nik":
            if memo:
                nik, errors, keys = self._niks(parsed_text.to_pylist(), rows.cols[NIK_NUMERIC].to_pylist())
                if c.name == "nik":     # the participant key's column
                    rows.participant_keys = keys
            else:
                nik = normalise_nik(text)
                errors = nik_problems(nik, np_bools(rows.cols[NIK_NUMERIC]))
                if errors.null_count < rows.n and _holds_any(text.filter(pc.is_valid(errors))):
                    rows.marked.add(c.name)
                    parsed_text = _unmarked(text)
                    nik = normalise_nik(parsed_text)
                    errors = nik_problems(nik, np_bools(rows.cols[NIK_NUMERIC]))
            if not c.required:
                errors = pc.if_else(pc.is_null(nik), _NULL_TEXT, errors)
            return {names.text: text, names.value: nik, names.error: errors}
        if c.name == "funding_source" and c.name not in rows.present and facts.folder_regency is not None:
            parsed_text = pa.array([facts.folder_regency.default_funding_source] * rows.n, pa.string())
        if c.type == "text":
            values = parsed_text
            errors = pa.nulls(rows.n, pa.string())
            if max_bytes(parsed_text) > MAX_TEXT_CHARS:     # (a text of no more bytes has no more characters)
                errors = pc.if_else(pc.greater(pc.utf8_length(parsed_text), MAX_TEXT_CHARS),
                                    pa.scalar("VALUE_TOO_LONG"), errors)
        else:
            # a regency is matched by its name; every other type sees number and date cells as such
            by_text = c.type == "regency" or c.name not in rows.present
            if rows.n <= MEMO_ROWS:     # the keys as the blocks hold them (no Arrow array made only to be undone)
                keyed = parsed_text.to_pylist() if by_text else rows.key_list(c.name)
                if c.name in rows.marked:
                    keyed = [None if k in parsing.NULL_MARKERS else k for k in keyed]
                values, errors = map_memo(keyed, self._kept_parser(c.type), _ARROW_TYPES.get(c.type, pa.string()))
            else:
                keyed = parsed_text if by_text else rows.keys(c.name)
                missing = REQUIRED_CODES.get(c.name, "REQUIRED_MISSING") if c.required else None
                values, errors = map_distinct(keyed, _marking(parser_for(c.type, self.aliases), missing),
                                              _ARROW_TYPES.get(c.type, pa.string()), _bulk_parser(c.type))
        if c.required and parsed_text.null_count and not (c.name in ("period", "regency")
                                                          and c.name not in rows.present):
            missing = pc.is_null(parsed_text)
            errors = pc.if_else(missing, pa.scalar(REQUIRED_CODES.get(c.name, "REQUIRED_MISSING")), errors)
        return {names.text: text, names.value: values, names.error: errors}


class _Rows:
    """The blocks' rows as whole columns: lineage, and each mapped column's texts and cell keys."""

    def __init__(self, blocks: list[Block]):
        self.blocks = blocks
        self.n = sum(b.n_rows for b in blocks)
        self.present = {c for b in blocks for c in b.columns}
        self.participant_keys: pa.Array | None = None    # of a small file's NIK column (`NikMemo`), as it is parsed
        self.formulas = any(_holds(cells, FORMULA_NO_VALUE) for b in blocks for cells in b.cells.values())
        # the columns a cell of which is a database's null marker or a formula's error (`Validator._parsed_column`)
        self.marked: set[str] = set()
        unsplit = []
        for b in blocks:
            texts = [None] * b.n_rows if b.unsplit else None
            for i, t in b.unsplit.items():
                texts[i] = t
            unsplit.append(pa.array(texts, pa.string()) if texts else pa.nulls(b.n_rows, pa.string()))
        self.cols: dict[str, pa.Array] = {
            UNSPLIT: pa.concat_arrays(unsplit),
            SHEET: pa.concat_arrays([pa.array([b.sheet] * b.n_rows, pa.string()) for b in blocks]),
            SOURCE_ROW: pa.concat_arrays([as_arrow(b.source_rows, pa.int32()) for b in blocks]),
            NIK_NUMERIC: pa.concat_arrays([as_arrow(b.nik_numeric, pa.bool_()) for b in blocks]),
        }

    def add_extras(self) -> None:
        """The cells of the columns the contract does not know, as `EXTRA` + label columns (null in a block
        without that column): kept in raw_cells, never parsed."""
        for k in dict.fromkeys(k for b in self.blocks for k in b.extras):
            self.cols[EXTRA + k] = pa.concat_arrays([as_arrow(b.extra_cells[k], pa.string()) if k in b.extra_cells
                                                     else pa.nulls(b.n_rows, pa.string()) for b in self.blocks])

    def holds_marks(self, column: str) -> bool:
        """Whether a cell of the column is a database's null marker or a formula's error."""
        return any(_holds_any(cells) for b in self.blocks if (cells := b.cells.get(column)) is not None)

    def texts(self, column: str) -> pa.Array:
        """The column's cell texts over all blocks (null where a block lacks the column)."""
        return self._gather(column, lambda b: b.cells[column])

    def keys(self, column: str) -> pa.Array:
        """The column's cell keys (text, or a number/date cell's typed marker) over all blocks."""
        return self._gather(column, lambda b: b.keys(column))

    def key_list(self, column: str) -> list[str | None]:
        """`keys` as a list."""
        out: list[str | None] = []
        for b in self.blocks:
            keys = b.keys(column) if column in b.cells else [None] * b.n_rows
            out += keys.to_pylist() if isinstance(keys, pa.Array) else keys
        return out

    def _gather(self, column: str, cells) -> pa.Array:
        parts = [as_arrow(cells(b), pa.string()) if column in b.cells else pa.nulls(b.n_rows, pa.string())
                 for b in self.blocks]
        return pa.concat_arrays(parts) if parts else pa.array([], pa.string())


def _holds(cells: list[str | None] | pa.Array, text: str) -> bool:
    """True when one of the cells is this text."""
    if isinstance(cells, pa.Array):
        return bool(pc.any(pc.equal(cells, pa.scalar(text))).as_py())
    return text in cells


def _holds_any(cells: list[str | None] | pa.Array | pa.ChunkedArray) -> bool:
    """True when one of the cells is a database's null marker or a formula's error (`_holds` of them all; a small
    file's cells, a list, by a set's look: ~5 us for 300 cells, an `is_in` ~15)."""
    if isinstance(cells, pa.Array | pa.ChunkedArray):
        return len(cells) > 0 and bool(pc.any(pc.is_in(cells, value_set=_MARKED_ARRAY)).as_py())
    return not _MARKED.isdisjoint(cells)


def _unmarked(texts: pa.Array) -> pa.Array:
    """The texts (or keys) with a database's null marker as null: the cell is read as blank."""
    return pc.if_else(pc.is_in(texts, value_set=_NULL_MARKERS), _NULL_TEXT, texts)


def _marking(parse: Callable, missing: str | None) -> Callable:
    """A column's parser that reads a database's null marker as a blank cell (`missing`: its reason code, for a
    required column) and a formula's error as FORMULA_ERROR (asked only of the distinct values the bulk parser left:
    no cost to a file without them)."""
    def run(v: str | None) -> tuple[object, str | None]:
        if v in parsing.NULL_MARKERS:
            return None, missing
        if v in parsing.FORMULA_ERRORS:
            return None, "FORMULA_ERROR"
        return parse(v)
    return run


def _row_regency(rows: _Rows, regency: BatchColumn | None, facts: FileFacts) -> pa.Array:
    """The regency of each row: the row's own (checked against the folder's), else the file's. Marks the rows
    whose regency disagrees with the folder's or is unknown."""
    file_regency = pa.array([facts.regency] * rows.n, pa.string())
    if regency is None:
        return file_regency
    own, errors = rows.cols[regency.value], rows.cols[regency.error]
    out = file_regency
    if "regency" in rows.present:
        if facts.regency is not None and facts.folder_regency is not None:
            mismatch = pc.and_(pc.is_valid(own), pc.not_equal(own, pa.scalar(facts.regency)))
            errors = pc.if_else(pc.fill_null(mismatch, False), pa.scalar("REGENCY_MISMATCH"), errors)
        out = pc.coalesce(own, file_regency)
    if out.null_count:      # (every row has a regency, mostly: nothing to mark)
        unresolved = pc.and_(pc.is_null(out), pc.is_null(errors))
        errors = pc.if_else(unresolved, pa.scalar("REGENCY_MISSING"), errors)
    rows.cols[regency.error] = errors
    return out


def _row_period(rows: _Rows, columns: dict[str, BatchColumn], facts: FileFacts) -> pa.Array:
    """The period of each row: a claim's event month, else the row's period, else the file's. Marks the rows
    with no period at all."""
    if facts.contract.source == "claims":
        return pc.floor_temporal(rows.cols[columns["event_date"].value], unit="month")
    period = columns.get("period")
    if facts.sheet_periods:          # a sheet per month: each sheet's own
        of_file = pa.concat_arrays([pa.array([facts.sheet_periods.get(b.sheet, facts.period)] * b.n_rows,
                                             pa.date32()) for b in rows.blocks])
    else:
        of_file = pa.array([facts.period] * rows.n, pa.date32())
    if "period" in rows.present:
        out = rows.cols[period.value]
        if facts.period is not None or facts.sheet_periods:
            out = pc.coalesce(out, of_file)
    else:
        out = of_file
    if period is not None and out.null_count:
        unknown = pc.and_(pc.is_null(out), pc.is_null(rows.cols[period.error]))
        rows.cols[period.error] = pc.if_else(unknown, pa.scalar("PERIOD_MISSING"), rows.cols[period.error])
    return out


def _checks(rows: _Rows, contract: Contract, columns: dict[str, BatchColumn]) -> list[Check]:
    """Every rule of a row, in the order its quarantine message names them, and whether any failed: a row that
    did not split into cells has that one problem, not one per empty column."""
    cols = rows.cols
    checks = [Check("(row)", "error:(row)", UNSPLIT)]
    cols["error:(row)"] = pc.if_else(pc.is_valid(cols[UNSPLIT]), pa.scalar("ROW_NOT_SPLIT"), _NULL_TEXT)
    for c in contract.columns:
        names = columns[c.name]
        checks.append(Check(c.name, names.error, None if c.type == "nik" else names.text))  # a NIK is never shown
    for group in contract.one_of:
        label = "/".join(group)
        no_id = functools.reduce(pc.and_, [pc.or_(pc.is_null(t), pc.is_in(t, value_set=_NULL_MARKERS))
                                           for t in (cols[columns[g].text] for g in group)])
        cols[f"error:{label}"] = pc.if_else(no_id, pa.scalar("NO_PARTICIPANT_ID"), _NULL_TEXT)
        checks.append(Check(label, f"error:{label}", None))
    if contract.source == "register" and "coverage_end" in contract.names:
        end, start = cols[columns["coverage_end"].value], cols[columns["coverage_start"].value]
        cols["error:coverage_end<start"] = (pa.nulls(rows.n, pa.string()) if end.null_count == rows.n else   # none
                                            pc.if_else(pc.fill_null(pc.less(end, start), False),
                                                       pa.scalar("COVERAGE_END_BEFORE_START"), _NULL_TEXT))
        checks.append(Check("coverage_end", "error:coverage_end<start", columns["coverage_end"].text))
    if rows.cols[UNSPLIT].null_count < rows.n:      # the other rules do not apply to an unsplit row
        split = pc.is_null(cols[UNSPLIT])
        for check in checks[1:]:
            cols[check.error] = pc.if_else(split, cols[check.error], _NULL_TEXT)
    failed = np.zeros(rows.n, dtype=bool)
    for check in checks:
        if cols[check.error].null_count < rows.n:
            failed |= np_bools(pc.is_valid(cols[check.error]))
    cols[HAS_PROBLEM] = pa_bools(failed)
    return checks


def _cell_labels(blocks: list[Block], columns: dict[str, BatchColumn]) -> dict[str, list[tuple[str, str]]]:
    """Per sheet, each cell's key in raw_cells (its header as written, made unique) and its text column, in the
    file's column order: the mapped cells and those of the columns the contract does not know."""
    out = {}
    for block in blocks:
        seen, labels = set(), []
        flags = {block.extras[k] for k in block.program_flags.values()}
        for c in block.columns:
            if block.mapping[c] in flags:
                continue    # (the programs read from flag columns: each flag is in raw_cells as an extra column)
            k = block.headers[block.mapping[c]] or c
            k = f"{k} [{c}]" if k in seen else k
            seen.add(k)
            labels.append((block.mapping[c], k, columns[c].text))
        labels += [(j, k if k not in seen else f"{k} [{j}]", EXTRA + k) for k, j in block.extras.items()]
        out[block.sheet] = [(k, col) for _, k, col in sorted(labels, key=lambda x: x[0])]
    return out
