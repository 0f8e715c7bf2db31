"""The SQL that shapes a validated batch into raw.<source> and quarantine.rows rows (run in the writer's stage).

The same statements serve one file and a group of small files staged together (`ingest.group`): `Refs` says where
each row's load id, manifest path, SHA-256, received time and shown file name come from — named parameters for one
file, columns of the staged table for a group. Everything else (the row's cells, problems and messages) is the
batch's own, so a file's rows are the same whichever way it is written.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from cakupan.core.contracts import Contract, reasons
from cakupan.core.messages import text
from cakupan.ingest.validate import (
    HAS_PROBLEM,
    PARTICIPANT_KEY,
    PERIOD,
    REGENCY,
    SHEET,
    SOURCE_ROW,
    UNSPLIT,
    Batch,
)
from cakupan.targets.zones import raw_columns


@dataclass(frozen=True)
class Refs:
    """SQL expressions for what a load adds to each row: a parameter (`$rel`) or a staged column."""

    load_id: str
    rel: str
    sha: str
    received: str
    name: str


def file_refs(load_id: int) -> Refs:
    """One file: its load id written in, the rest named parameters (`file_params`)."""
    return Refs(f"{int(load_id)}", "$rel", "$sha", "$received", "$name")


def raw_insert_sql(batch: Batch, contract: Contract, staged: str, refs: Refs) -> str:
    """insert into raw.<source> the staged rows without a problem (the statement returns the rows inserted)."""
    lineage = {"load_id": refs.load_id, "source_file": refs.rel, "file_sha256": refs.sha,
               "received_at": refs.received, "period": _q(PERIOD), "participant_key": _q(PARTICIPANT_KEY),
               "raw_cells": "raw_cells", "sheet": _q(SHEET), "source_row": _q(SOURCE_ROW),
               "regency_code": _q(REGENCY)}
    cols = raw_columns(contract)
    select = [lineage.get(c) or _q(batch.columns[c].value) for c in cols]
    return (f"insert into raw.{contract.source} ({', '.join(cols)}) select {', '.join(select)} "
            f"from {staged} where not {_q(HAS_PROBLEM)}")


def quarantine_sql(batch: Batch, contract: Contract, staged: str, refs: Refs) -> str:
    """insert into quarantine.rows the staged rows that have a problem: every problem of the row (the first is its
    reason), and a message naming the file, sheet, row and each reason in words (`$source`: the contract's source).

    Two messages: `message` quotes the cells as delivered (the regency's own, it stays in the raw zone);
    `public_message`, the one published and reported, quotes no personal column (a NIK, a name, a birth date, a
    KPJ, or a whole unsplit row of a source holding them) and no long digit run, whichever column holds it.

    Each rule is a column of its own in the SQL, in the order the messages name them: its words, the cell as
    quoted and the cell as published are made only on the rows that failed it, and the messages and the reasons'
    JSON are joined from them (`concat_ws` leaves out the rules a row passed). A list of every rule's problem,
    filtered and transformed per row, cost twice the writer's time where most rows are quarantined."""
    personal = _personal_labels(contract)
    # only the rules that some row of the batch failed: a rule no row failed adds nothing to any row's messages
    # (a register file whose every row lost its NIK to an Excel number joins one rule a row, not eighteen)
    failed = [c for c in batch.checks if batch.table[c.error].null_count < batch.num_rows] or batch.checks
    per_rule, public, listed = [], [], []
    for i, c in enumerate(failed):
        code, failing = _q(c.error), f"{_q(c.error)} is not null"
        value = f"{_q(c.shown)}::varchar" if c.shown else None
        shown = (f"case when length({value}) > 60 then left({value}, 57) || '...' else coalesce({value}, '') end"
                 if value else "''")
        published = (_sql_str(text("word.personal_not_shown")) if c.label in personal else
                     f"regexp_replace(__shown{i}, '{LONG_DIGITS_RE2}', {_sql_str(text('word.long_number'))}, 'g')")
        template = f"replace(getvariable('cakupan_reason_templates')[{code}], '{{column}}', {_sql_str(c.label)})"
        per_rule += [f"case when {failing} then {template} end as __template{i}",
                     f"case when {failing} then {shown} end as __shown{i}"]
        public.append(f"case when {failing} then {published} end as __public{i}")
        listed.append(f"case when {failing} then '{{\"column\":' || {_sql_str(_json_text(c.label))} || ',\"code\":' "
                      f"|| to_json({code})::varchar || ',\"value\":' || to_json(__public{i})::varchar || '}}' end")

    def said(cells: str) -> str:
        """Each failed rule's words with its cell (`cells`: the columns' prefix) in, joined by "; "."""
        return "concat_ws('; ', " + ", ".join(f"replace(__template{i}, '{{value}}', {cells}{i})"
                                              for i in range(len(failed))) + ")"

    sheet, row = (_sql_str(f", {text(k)} ") for k in ("word.sheet", "word.row"))
    where = f"{sheet} || coalesce(nullif({_q(SHEET)}, ''), '-') || {row} || {_q(SOURCE_ROW)} || ': '"
    first_code = "coalesce(" + ", ".join(_q(c.error) for c in failed) + ")"
    first_column = ("case " + " ".join(f"when {_q(c.error)} is not null then {_sql_str(c.label)}" for c in failed)
                    + " end")
    # the NIK as normalised stays beside the row in the raw zone (a re-key recomputes the pseudonym from it)
    nik = _q(batch.columns["nik"].value) if "nik" in batch.columns else "null"
    return f"""
        insert into quarantine.rows (load_id, source, source_file, file_sha256, sheet, source_row, regency_code,
                                     reason_code, column_name, message, reasons, participant_key, raw_cells,
                                     nik, public_message)
        with q as (
            select *, {", ".join(per_rule)}, {where} as place
            from {staged} where {_q(HAS_PROBLEM)}
        ), p as (select *, {", ".join(public)} from q)
        select {refs.load_id}, $source, {refs.rel}, {refs.sha}, {_q(SHEET)}, {_q(SOURCE_ROW)}, {_q(REGENCY)},
               {first_code}, {first_column},
               {refs.name} || place || {said("__shown")},
               ('[' || concat_ws(',', {", ".join(listed)}) || ']')::json,
               {_q(PARTICIPANT_KEY)}, raw_cells, {nik},
               {refs.rel} || place || {said("__public")}
        from p
    """


def _json_text(value: str) -> str:
    """A text as a JSON string, written as DuckDB's `to_json` writes it (no escape of a character above ASCII)."""
    return json.dumps(value, ensure_ascii=False)


def staged_select(batch: Batch, source: str = "incoming", keyed: bool = False) -> str:
    """The registered batch with each row's cells as delivered (`raw_cells`), as a subquery. `keyed`: the headers
    as written are read from the columns `label_columns` names (files of one sheet staged together whose headers
    are written differently), not written into the SQL."""
    return f"(select *, {_raw_cells_sql(batch, keyed)} as raw_cells from {source})"


def label_columns(batch: Batch) -> list[tuple[str, str]] | None:
    """For a batch of one sheet: (column name, header as written) of each mapped cell, in raw_cells order."""
    if len(batch.cell_labels) != 1:
        return None
    return [(f"__label:{i}", k) for i, (k, _) in enumerate(next(iter(batch.cell_labels.values())))]


def _raw_cells_sql(batch: Batch, keyed: bool = False) -> str:
    """SQL: JSON of every mapped cell of a row as delivered, keyed by its header as written (per sheet)."""
    def one(labels: list[tuple[str, str]]) -> str:
        keys = [_q(f"__label:{i}") for i in range(len(labels))] if keyed else [_sql_str(k) for k, _ in labels]
        return "json_object(" + ", ".join(f"{k}, {_q(col)}" for k, (_, col) in zip(keys, labels, strict=True)) + ")"

    per_sheet = batch.cell_labels
    cells = (one(next(iter(per_sheet.values()))) if len(per_sheet) == 1 else
             f"case {_q(SHEET)} " + " ".join(f"when {_sql_str(s)} then {one(labels)}"
                                            for s, labels in per_sheet.items()) + " end")
    if not batch.any_unsplit:
        return cells
    return f"case when {_q(UNSPLIT)} is not null then json_object('(row as delivered)', {_q(UNSPLIT)}) else {cells} end"


# a run of 12 or more digits, single spaces, dots or hyphens between them allowed (a NIK, a KPJ, a phone number
# typed into another column): RE2, for DuckDB's regexp_replace
LONG_DIGITS_RE2 = "[0-9](?:[ .-]?[0-9]){11,}"


def _personal_labels(contract: Contract) -> set[str]:
    """The check labels whose quoted value is personal data: the contract's personal columns, and the whole row
    as delivered ("(row)") of a source that holds any."""
    labels = {c.name for c in contract.columns if c.personal}
    return labels | {"(row)"} if labels else labels


@functools.cache
def templates_sql(lang: str) -> str:
    """SQL: a MAP from every registered reason code to its message template in the language."""
    return "MAP {" + ", ".join(f"{_sql_str(code)}: {_sql_str(r.template(lang))}" for code, r in reasons().items()) + "}"


def _sql_str(text: str) -> str:
    """Quote a text as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _q(name: str) -> str:
    """Quote a column name as an SQL identifier (batch columns are named 'text:nik', 'error:nik/kpj', ...)."""
    return '"' + name.replace('"', '""') + '"'
