"""Where a sheet's header is and which contract it matches, inferred from the grid once per sheet (never per row).

The header is one to three rows anywhere in the first HEADER_SCAN_ROWS rows (below a letterhead of any height),
chosen by how many of a contract's columns it explains. In a header of several rows each column's label is read
from top to bottom: a group label above sub-labels ("IDENTITAS" over NIK / Nama / JK) is tried joined with the
sub-label and then the sub-label alone; a label standing alone in the top row (a vertical merge, "Pekerjaan") is
the column's label; a group label written once over several columns (a horizontal merge, or simply not repeated)
is carried to the right over the columns that have a sub-label. The workbook reader copies a merged cell's value
into every cell of its range, so merges read the same as labels written out. A printed column-number row
"(1) (2) (3) ..." is never part of the header (the rows below skip it as a note). Labels are matched by
`cakupan.ingest.readers.labels` (aliases, abbreviations, small typos).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from cakupan.core.contracts import Contract, normalise_header
from cakupan.core.messages import Msg
from cakupan.ingest.programflags import flag_columns, may_name_a_program, program_of_label, programs_column
from cakupan.ingest.readers.blocks import ROW_NUMBER_LABELS, Block, FileRejected, column_letter
from cakupan.ingest.readers.cells import grid_texts, row_texts
from cakupan.ingest.readers.labels import AnyLabels, LabelMatch, Labels, label_forms, labels_for, without_hint

HEADER_SCAN_ROWS = 40       # the header's last row is at most this far down
MAX_HEADER_ROWS = 3


@dataclass
class HeaderMatch:
    source: str
    row: int                 # 0-based index of the (last) header row
    rows_used: int           # 1 to 3
    mapping: dict[str, int]
    headers: list[str]
    score: float
    ambiguous: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)   # (label, columns it could be)
    fuzzy: list[tuple[str, str]] = field(default_factory=list)                  # (label, column) matched by typo
    # program -> 0-based column of a flag column per program standing in for the programs column (`programflags`)
    program_flags: dict[str, int] = field(default_factory=dict)

    def block(self, sheet: str, title: str, letter: Callable[[int], str] = column_letter) -> Block:
        """An empty block for this header (the rows are added by the reader), with its extra columns (`letter`: a
        column's letter by its place in the rows, `blocks.letters_of`); a program's flag column is one of them."""
        extras = self.extra_columns(letter)
        label = {j: k for k, j in extras.items()}
        return Block(self.source, sheet, self.row + 1, dict(self.mapping), self.headers, title, extras=extras,
                     program_flags={code: label[j] for code, j in self.program_flags.items() if j in label})

    def extra_columns(self, letter: Callable[[int], str] = column_letter) -> dict[str, int]:
        """Every header column with a label the contract does not know: label as written (made unique with its
        column letter when it repeats a label) -> 0-based column index, in the file's order. The row-number
        column ("No", "No. Urut") is not one: it numbers the rows (the source row traces them), and keeping it
        would slow every plain file down by a quarter."""
        mapped = set(self.mapping.values())
        taken = {self.headers[i] for i in mapped}
        out: dict[str, int] = {}
        for j, label in enumerate(self.headers):
            if j in mapped or not label or normalise_header(label) in ROW_NUMBER_LABELS:
                continue
            key = f"{label} ({letter(j)})" if label in taken or label in out else label
            out[key] = j
        return out


def title_text(rows: list[list], header: HeaderMatch) -> str:
    """The text above the header (the title block), in reading order (a merged title's copies once)."""
    out: list[str] = []
    for r in rows[: header.row - header.rows_used + 1]:
        for t in row_texts(r):
            if t and (not out or out[-1] != t):
                out.append(t)
    return " ".join(out)


_COLUMN_NUMBER = re.compile(r"\(?([0-9]{1,2})\)?\.?")


def column_number_cell(t: str) -> bool:
    """Whether one filled cell could belong to the column-number row ("(3)", "3", "3."); `is_column_numbers` asks
    it of every filled cell of a row."""
    return _COLUMN_NUMBER.fullmatch(t.strip()) is not None


def is_column_numbers(texts: list[str]) -> bool:
    """Return True for the "(1) (2) (3) ..." row many templates print under the header (blank cells ignored)."""
    nums = []
    for t in texts:
        if not t:
            continue
        m = _COLUMN_NUMBER.fullmatch(t.strip())
        if not m:
            return False
        nums.append(int(m[1]))
    return len(nums) >= 3 and nums == list(range(nums[0], nums[0] + len(nums))) and nums[0] in (0, 1)


def _labels(source: str, overrides: dict[str, dict[str, str]]) -> Labels:
    return labels_for(source, tuple(sorted((overrides.get(source) or {}).items())))


def _column_optional_via(contract: Contract) -> set[str]:
    """Required columns that a title block or configuration can stand in for."""
    out = set()
    if "title" in contract.period_from or "filename" in contract.period_from:
        out.add("period")
    if "title" in contract.regency_from or "config" in contract.regency_from:
        out.add("regency")
    return out


def _score(contract: Contract, mapping: dict[str, int], required: list[str]) -> float:
    """How well a mapping explains a contract: above 1 when every column it needs (`_needed`) is there (the more
    columns the better), negative when some are missing."""
    if not required:
        return 0.0
    have = sum(1 for c in required if c in mapping)
    one_of_ok = all(any(c in mapping for c in group) for group in contract.one_of)
    if have < len(required) or not one_of_ok:
        return have / len(required) - 1.0   # negative: incomplete
    return 1.0 + len(mapping) / len(contract.columns)


def _needed(contract: Contract, defaults: set[str]) -> list[str]:
    """The columns a header must map for the contract: required, with no default and no stand-in."""
    optional = _column_optional_via(contract)
    return [c for c in contract.required if c not in defaults and c not in optional]


def _column_labels(block: list[list[str]]) -> list[list[str]]:
    """Per column, the texts to try as its label, best first, from a block of 1-3 header rows."""
    h = len(block)
    if h == 1:
        return [_and_without_hints([t]) if t else [] for t in block[0]]
    width = max(len(r) for r in block)
    grid = [r + [""] * (width - len(r)) for r in block]
    filled = [list(r) for r in grid]
    for k in range(h - 1):               # group labels carried right over the columns that have a sub-label
        last = ""
        for j in range(width):
            if grid[k][j]:
                last = grid[k][j]
            elif any(grid[m][j] for m in range(k + 1, h)):
                filled[k][j] = last
            else:
                last = ""
    out = []
    for j in range(width):
        parts: list[str] = []
        for k in range(h):
            t = filled[k][j]
            if t and t not in parts:
                parts.append(t)
        tries = [" ".join(parts)] if parts else []
        if len(parts) > 2:
            tries.append(" ".join(parts[-2:]))
        tries.extend(reversed(parts))
        out.append(_and_without_hints(tries))
    return out


def _and_without_hints(tries: list[str]) -> list[str]:
    """A column's tries, then each without its hint in brackets (`without_hint`), last; each once."""
    return list(dict.fromkeys([*tries, *(b for t in tries if (b := without_hint(t)))]))


def _match_block(block: list[list[str]], labels: Labels, fuzzy: bool
                 ) -> tuple[dict[str, int], list[str], list[tuple[str, tuple[str, ...]]], list[tuple[str, str]]]:
    """Map a header block's columns: (mapping, the label used per column, ambiguous labels, fuzzy matches)."""
    return _match_columns(_column_labels(block), labels, fuzzy)


_NONE = LabelMatch(None, "none")


def _match_columns(columns: list[list[str]], labels: Labels, fuzzy: bool, any_labels: AnyLabels | None = None
                   ) -> tuple[dict[str, int], list[str], list[tuple[str, tuple[str, ...]]], list[tuple[str, str]]]:
    """`_match_block` given the block's `_column_labels`. `any_labels` (of every contract searched, this one's
    among them): a text none of them could match (`AnyLabels.none_near`, asked once for all contracts) is not
    asked of this contract's typos (`Labels.match` would say "none"). A column's cells are the first column whose
    label matches it, but one matched by a typo gives way to a later exact match ("Tangal Lahir", "Tgl Lahir")."""
    mapping: dict[str, int] = {}
    used: list[str] = []
    ambiguous: list[tuple[str, tuple[str, ...]]] = []
    typos: list[tuple[str, str]] = []
    for j, tries in enumerate(columns):
        chosen = tries[0] if tries else ""
        amb = None
        for t in tries:
            m = (_NONE if any_labels is not None and any_labels.none_near(t) else labels.match(t)) if fuzzy \
                else labels.match_exact(t)
            if m.column is not None:        # (the label as written, though its hint was left out to match it)
                chosen = next((u for u in tries if u != t and without_hint(u) == t), t)
                if m.column not in mapping or (m.how != "fuzzy" and any(c == m.column for _, c in typos)):
                    mapping[m.column] = j
                    typos = [typo for typo in typos if typo[1] != m.column]
                    if m.how == "fuzzy":
                        typos.append((t, m.column))
                amb = None
                break
            if m.how == "ambiguous" and amb is None:
                amb = (t, m.candidates)
        if amb:
            ambiguous.append(amb)
        used.append(chosen)
    return mapping, used, ambiguous, typos


@functools.lru_cache(maxsize=8192)
def _kept_match(block: tuple[tuple[str, ...], ...], labels: Labels, fuzzy: bool, any_labels: AnyLabels | None = None):
    """`_match_block` kept across sheets: a header's rows (and the rows around it) recur from file to file."""
    return _match_columns(_kept_labels(block), labels, fuzzy, any_labels)


@functools.lru_cache(maxsize=1024)
def _kept_labels(block: tuple[tuple[str, ...], ...]) -> list[list[str]]:
    """`_column_labels` of a block, kept for the next contract: the header rows of every contract's best guess
    are the same rows, and a block with a data row in it (a new one in every file) is asked of each contract
    whose labels two of the header's cells match (up to four)."""
    return _column_labels([list(r) for r in block])


@functools.lru_cache(maxsize=256)
def _any_labels(labels: tuple[Labels, ...]) -> AnyLabels:
    return AnyLabels(labels)


@functools.lru_cache(maxsize=8192)
def _unmatched(block: tuple[tuple[str, ...], ...], any_labels: AnyLabels) -> tuple[str, ...] | None:
    """The label used per column of a block no text of which any of the contracts could match (`_match_block`
    gives it the same for each: nothing mapped, nothing ambiguous, each column's first try); None for any other
    block. Most blocks of data rows, asked of the four contracts with one lookup of each text."""
    columns = _kept_labels(block)
    if all(any_labels.none_near(t) for tries in columns for t in tries):
        return tuple(tries[0] if tries else "" for tries in columns)
    return None


def _any_exact(labels: tuple[Labels, ...]) -> frozenset[str]:
    """Every folded form that some of these labels match exactly (`Labels._exact`): a row with none of them has no
    exact match for any contract."""
    return _any_labels(labels).forms


def may_match(forms: list[tuple[str, str]], every: frozenset[str]) -> bool:
    """Whether a row's `label_forms` could match some contract exactly, `every` being `_any_exact` of them all."""
    return any(f in every or s in every for f, s in forms)


def find_header(rows: list[list], contracts: dict[str, Contract], overrides: dict[str, dict[str, str]],
                defaults: dict[str, set[str]]) -> HeaderMatch | None:
    """Find the best header (1-3 rows) among the first HEADER_SCAN_ROWS rows, for the contract it explains best."""
    best = _best(rows, contracts, overrides, defaults)
    return best if best is not None and best.score >= 1.0 else None


def _best(rows: list[list], contracts: dict[str, Contract], overrides: dict[str, dict[str, str]],
          defaults: dict[str, set[str]]) -> HeaderMatch | None:
    # the first rows' texts ('' for a blank cell), a worksheet's read column by column
    scan = [[t or "" for t in r] for r in grid_texts(rows[:HEADER_SCAN_ROWS + MAX_HEADER_ROWS - 1])[0]]
    numbers = [is_column_numbers(t) for t in scan]
    forms = [label_forms(t) for t in scan]
    keys = [tuple(t) for t in scan]
    all_labels = tuple(_labels(source, overrides) for source in contracts)
    every, any_labels = _any_exact(all_labels), _any_labels(all_labels)
    # a row none of whose texts any contract matches exactly (most data rows) is asked of no contract
    asked = [not numbers[i] and may_match(row, every) for i, row in enumerate(forms)]
    best: HeaderMatch | None = None
    for source, contract in contracts.items():
        labels = _labels(source, overrides)
        needed = _needed(contract, defaults.get(source, set()))
        programs = programs_column(contract) or ""      # (what flag columns can stand in for)
        exact = [len(labels.exact_columns(row)) if asked[i] else 0 for i, row in enumerate(forms)]
        near = {j for i, n in enumerate(exact) if n >= 2 for j in range(i - MAX_HEADER_ROWS + 1, i + MAX_HEADER_ROWS)}
        sizes: dict[tuple[int, int], int] = {}
        for h in range(1, MAX_HEADER_ROWS + 1):       # smaller blocks first: a taller one must add a column
            for i in range(min(HEADER_SCAN_ROWS, len(scan))):
                if numbers[i] or (i not in near and exact[i] == 0) or i + h > len(scan) or any(
                        numbers[i + k] or not any(scan[i + k]) for k in range(1, h)):
                    continue
                block = tuple(keys[i:i + h])
                if (blank := _unmatched(block, any_labels)) is not None:
                    mapping, used, amb, typos = {}, list(blank), [], []
                else:
                    mapping, used, amb, typos = _kept_match(block, labels, i in near, any_labels)
                    mapping, used, amb, typos = dict(mapping), list(used), list(amb), list(typos)
                flags = _program_flags(block, mapping, used, programs) if programs in needed else {}
                sizes[(i, h)] = len(mapping) + len(flags)
                if h > 1 and sizes[(i, h)] <= max(sizes.get((i, h - 1), 0), sizes.get((i + 1, h - 1), 0)):
                    continue   # the extra row adds nothing: it is a title or data, not part of the header
                # (each flag column counts as a column explained, and together they stand in for the programs)
                counted = {**mapping, **{f"flag:{c}": j for c, j in flags.items()}, programs: -1} if flags else mapping
                score = _score(contract, counted, needed)
                if best is None or score > best.score + 1e-9:
                    best = HeaderMatch(source, i + h - 1, h, mapping, used, score, amb, typos, flags)
    return best


def _program_flags(block: tuple[tuple[str, ...], ...], mapping: dict[str, int], used: list[str],
                   programs: str) -> dict[str, int]:
    """The header block's flag column per program (`programflags.flag_columns`; each column's labels are tried as a
    column's label is: "PROGRAM" over "JKK" is "PROGRAM JKK", then "JKK"), among the columns not mapped to another
    contract column; none where the programs column maps to a column of its own (a "Program" column beside them).
    With flags, the programs column is no longer mapped (a group label "PROGRAM" over them matched it) and each
    flag column's label is its whole label ("PROGRAM JKK", its key in raw_cells), in `mapping` and `used`."""
    if not may_name_a_program([t for r in block for t in r]):
        return {}
    if (j := mapping.get(programs)) is not None and not any(
            map(program_of_label, _column_labels([[r[j] if j < len(r) else ""] for r in block])[0])):
        return {}       # (a Program column of its own: most registers')
    tries = _column_labels([list(r) for r in block])
    flags = flag_columns(tries, {j for c, j in mapping.items() if c != programs})
    if not flags or mapping.get(programs, -1) not in (-1, *flags.values()):
        return {}
    mapping.pop(programs, None)
    for j in flags.values():
        used[j] = tries[j][0]
    return flags


def best_partial_header(rows: list[list], contracts: dict[str, Contract],
                        overrides: dict[str, dict[str, str]] | None = None) -> tuple[str, list[str]] | None:
    """Name the contract a header nearly matches and the required columns it lacks (for a clear error)."""
    near = _near_miss(rows, contracts, overrides or {})
    return (near[0], near[2]) if near else None


def _near_miss(rows: list[list], contracts: dict[str, Contract], overrides: dict[str, dict[str, str]]):
    """(source, required columns found, required columns missing, header match) of the best partial header."""
    best = None
    for source, contract in contracts.items():
        m = _best(rows, {source: contract}, overrides, {})
        if m is None or len(m.mapping) < 2:
            continue
        optional = _column_optional_via(contract)
        required = [c for c in contract.required if c not in optional]
        found = [c for c in required if c in m.mapping]
        if best is None or (len(found), len(m.mapping)) > (len(best[1]), len(best[3].mapping)):
            best = (source, found, [c for c in required if c not in m.mapping], m)
    return best


def raise_no_header(rows: list[list], contracts: dict[str, Contract], where: Msg | str = "",
                    overrides: dict[str, dict[str, str]] | None = None) -> None:
    """Reject a file without a recognisable header: the required columns a near match found, those it lacks, the
    closest labels seen for each missing one, and any label that was ambiguous."""
    near = _near_miss(rows, contracts, overrides or {})
    if not near or not near[2]:
        return
    source, found, missing, m = near
    labels = _labels(source, overrides or {})
    unmatched = [t for j, t in enumerate(m.headers) if t and j not in m.mapping.values()]
    closest = []
    for col in missing:
        scored = [(c[1], t) for t in unmatched if (c := labels.closest(t)) and c[0] == col]
        if scored:
            closest.append(f"{col} ~ '{max(scored)[1]}'")
    labels_seen = (Msg("error.ingest.closest", labels=", ".join(closest)) if closest else
                   Msg("error.ingest.unrecognised", labels=", ".join(f"'{t}'" for t in unmatched[:8])) if unmatched
                   else "")
    ambiguous = Msg("error.ingest.ambiguous", labels=", ".join(f"'{t}' → {' / '.join(c)}" for t, c in m.ambiguous)) \
        if m.ambiguous else ""
    raise FileRejected("HEADER_NOT_FOUND", Msg(
        "error.ingest.header_near", where=where, source=source, row=m.row + 1,
        missing=", ".join(_as_in_template(contracts[source], c) for c in missing),
        found=", ".join(_as_in_template(contracts[source], c) for c in found) or Msg("error.history.none"),
        labels=labels_seen, ambiguous=ambiguous))


def _as_in_template(contract: Contract, column: str) -> str:
    """A column named for both readers of a rejection: the header the clerk's template writes (`Column.header`) and
    the contract's name an engineer adds an alias to, e.g. "Pekerjaan (occupation)"."""
    label = contract.column(column).header
    return column if label == column else f"{label} ({column})"
