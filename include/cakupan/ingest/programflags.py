"""A register's programs given as one flag column per program (JHT = Y, JKK = Y, ...), as a payroll system or a
participant export writes them, instead of one "Program" column ("JKK, JKM").

The header search finds such columns (`flag_columns`: at least two headers each naming one program and nothing
else) and lets them stand in for the contract's programs column. They stay columns of their own, so each flag is
kept in raw_cells as delivered under its own header. Before validation each row's flags are written as one text,
"JHT=; JKK=Y; JKM=Y; JP=" (`with_program_flags`), which the programs parser reads (`parse_flags`): the programs
flagged yes; a flag no one can read, or no program flagged at all, is a reason of its own that quotes what the
clerk typed under each program.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cakupan.ingest import parsing
from cakupan.ingest.arrays import as_arrow

if TYPE_CHECKING:
    from cakupan.core.contracts import Contract
    from cakupan.ingest.readers.blocks import Block

MIN_FLAG_COLUMNS = 2    # one column named after a program is no flag group (an amount, a note)
# a flag cell's text, lower-cased and without a trailing dot: yes, the worker is in the program / no, not
YES = frozenset({"y", "ya", "iya", "yes", "v", "ada", "aktif", "ikut", "terdaftar", "true", "√", "✓", "✔", "☑"})
NO = frozenset({"", "t", "tidak", "tdk", "tidak ikut", "n", "no", "bukan", "false", "-", "–", "—", "✗", "✘", "☐"})
_PAIR_RE = re.compile(r"(?:^|; )(" + "|".join(parsing.PROGRAMS) + r")=")
_PROGRAM_WORD_RE = re.compile(r"\b(?:" + "|".join(parsing.PROGRAMS) + r")\b|kecelakaan|kematian|hari\s+tua|pensiun|"
                              r"kehilangan", re.IGNORECASE)


def programs_column(contract: Contract) -> str | None:
    """The contract's column of programs (a register's), which flag columns can stand in for; None if it has none."""
    return next((c.name for c in contract.columns if c.type == "programs"), None)


def may_name_a_program(texts: list[str]) -> bool:
    """Whether any of the texts may name a program (a code or a word of a program's name): a header search asks
    `flag_columns` only of a block that may (most headers hold none; each file's search is per-file cost)."""
    return _PROGRAM_WORD_RE.search("\n".join(texts)) is not None


@functools.lru_cache(maxsize=4096)
def program_of_label(label: str | None) -> str | None:
    """The one program a header names and nothing else ("JKK", "Program JKM", "Jaminan Kematian"), or None
    ("Iuran JKK" is an amount's header, "JKK, JKM" a programs column's value)."""
    if not label or len(label) > 60:
        return None
    try:
        programs = parsing.parse_programs(label)
    except parsing.ParseError:
        return None
    return programs[0] if programs and len(programs) == 1 else None


def flag_columns(tries: list[list[str]], taken: set[int]) -> dict[str, int]:
    """Program -> 0-based column, of the columns not `taken` (mapped to another column) one of whose labels
    (`tries`: per column, the texts tried as its label, best first) names one program alone (a program's first
    column, when two name it); empty unless there are MIN_FLAG_COLUMNS of them."""
    out: dict[str, int] = {}
    for j, labels in enumerate(tries):
        code = None if j in taken else next(filter(None, map(program_of_label, labels)), None)
        if code is not None and code not in out:
            out[code] = j
    return out if len(out) >= MIN_FLAG_COLUMNS else {}


def is_flags(text: str) -> bool:
    """Whether a programs text is a row's flags as `with_program_flags` writes them ("JHT=; JKK=Y; ...")."""
    return _PAIR_RE.match(text) is not None


def parse_flags(text: str) -> tuple[str, ...]:
    """The programs a row's flags say yes to, sorted; PROGRAM_FLAG_UNREADABLE when a flag is neither a yes nor a
    no (a positive amount under a program's column is a yes, zero a no), PROGRAM_NONE_FLAGGED when none is a yes."""
    found = list(_PAIR_RE.finditer(text))
    yes = []
    for m, after in zip(found, [*found[1:], None], strict=True):
        value = text[m.end(): after.start() if after else len(text)]
        flag = _flag(value)
        if flag is None:
            raise parsing.ParseError("PROGRAM_FLAG_UNREADABLE", f"{text!r} holds a flag that is neither yes nor no.")
        if flag:
            yes.append(m[1])
    if not yes:
        raise parsing.ParseError("PROGRAM_NONE_FLAGGED", f"{text!r} flags no program.")
    return tuple(sorted(set(yes)))


def _flag(value: str) -> bool | None:
    """A flag cell's text as yes (True), no (False) or neither (None); a database's null marker ("NULL", "\\N")
    is a blank cell, so a no, as in every other column."""
    folded = value.strip().lower().rstrip(".").strip()
    if folded in YES:
        return True
    if folded in NO or value.strip() in parsing.NULL_MARKERS:
        return False
    try:
        amount = parsing.parse_number(value)
    except parsing.ParseError:
        return None
    return None if amount is None else amount > 0


def with_program_flags(block: Block, column: str) -> Block:
    """The block with `column` (the contract's programs column) made of each row's flags, "JHT=; JKK=Y; ..." in
    the file's column order (a row's cells under each flag column, as read: `Block.program_flags`), mapped to the
    first flag column; the block itself when it has none. Each distinct combination of flags is written once."""
    if not block.program_flags:
        return block
    codes = sorted(block.program_flags, key=lambda c: block.extras[block.program_flags[c]])
    indices, texts = [], []
    for code in codes:
        cells = block.extra_cells.get(block.program_flags[code])
        cells = pa.nulls(block.n_rows, pa.string()) if cells is None else as_arrow(cells, pa.string())
        encoded = pc.dictionary_encode(pc.fill_null(cells, ""))
        indices.append(np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64))
        texts.append([t.replace(";", ",") for t in encoded.dictionary.to_pylist()])
    if not block.n_rows:
        flags = pa.array([], pa.string())
    else:
        combos, which = np.unique(np.stack(indices, axis=1), axis=0, return_inverse=True)
        written = ["; ".join(f"{code}={texts[k][i]}" for k, (code, i) in enumerate(zip(codes, row, strict=True)))
                   for row in combos.tolist()]
        flags = pa.array(written, pa.string()).take(pa.array(np.asarray(which).reshape(-1)))
    first = block.extras[block.program_flags[codes[0]]]
    return replace(block, mapping={**block.mapping, column: first}, cells={**block.cells, column: flags})
