"""The quality gate's sentences, written once in the catalogue (`gate.*` in messages.yml) and read in the language.

What the gate stores stays English, a stable text for BI tools and auditors: a failed check's sample in
audit.checks.unexpected_sample (a JSON list, one sentence per failing row: where, what is wrong, its values), its
details, and the run's message in audit.publishes and audit.runs. The batches build their `problem` sentences in SQL
from the English side of `gate.problem.*` (`sql_sentence`), and the Describer names rows with `gate.where.*`, so
what is stored always has a catalogue shape; the report, the command line and the Airflow failure show it through
`sample`, `details` and `run_message`, in the language of --lang / CAKUPAN_LANG. Imports nothing heavy.
"""

from __future__ import annotations

import json
import re

from cakupan.core.messages import _english_patterns, check_name, language, stored_text, template, text


def sql_sentence(key: str, **exprs: str) -> str:
    """The SQL of one `gate.problem.*` sentence in English: its words as literals, each {part} the SQL expression
    given for it, cast to text (a NULL part makes the sentence NULL, as `||` does: no problem)."""
    parts = re.split(r"\{(\w+)\}", template(key, "en"))
    out = []
    for i, p in enumerate(parts):
        if i % 2 == 0:
            if p:
                out.append("'" + p.replace("'", "''") + "'")
        else:
            out.append(f"cast({exprs[p]} as varchar)")
    return "(" + " || ".join(out) + ")"


def en(key: str, **params) -> str:
    """A gate sentence as stored: its English side."""
    return text(key, "en", **params)


def _word(value: str, lang: str) -> str:
    """A part of a gate sentence: a sentence of its own (`gate.problem.*`), a word the gate writes (`gate.word.*`),
    or a value shown as it is."""
    lang = language(lang)
    key = f"gate.word.{value}"
    if key in _known():
        return text(key, lang)
    return stored_text(value, "gate.problem", lang, lambda v: _word(v, lang))


def _known() -> set[str]:
    from cakupan.core.messages import catalogue

    return set(catalogue())


def problem(value: str | None, lang: str | None = None) -> str | None:
    """A `problem` sentence of a check batch in the language."""
    lang = language(lang)
    return stored_text(value, "gate.problem", lang, lambda v: _word(v, lang))


def _split(value: str, sep: str) -> list[str]:
    """`value` split at `sep` outside parentheses and quotes."""
    out, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(value):
        c = value[i]
        if c == "'":
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth = max(0, depth - 1)
        elif not quoted and depth == 0 and value.startswith(sep, i):
            out.append(value[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    out.append(value[start:])
    return out


def where(value: str, lang: str | None = None) -> str:
    """The words naming a failing row (`gate.where.*`: row, sheet, file, load, finding, promise, regency, month)."""
    lang = language(lang)
    if lang == "en":
        return value
    return ", ".join(_where_part(p, lang) for p in _split(value, ", "))


def _where_part(value: str, lang: str) -> str:
    """One part of the words naming a row; an entry that starts with a word ('of {load}') is tried before one that
    starts with a value ('{source} {file} (load …)'), which would take the word for a source."""
    for rx, key in sorted(_english_patterns("gate.where"), key=lambda p: p[0].pattern.startswith("(?P<")):
        m = rx.match(value)
        if m:
            return text(key, lang, **{k: _part(v, lang) if v != value else v for k, v in m.groupdict().items()})
    return value


def _part(value: str, lang: str) -> str:
    """A part inside the words naming a row: a load's words, or a word the gate writes."""
    if f"gate.word.{value}" in _known():
        return text(f"gate.word.{value}", lang)
    return where(value, lang) if any(value.startswith(w) for w in ("load ", "row ")) or " (load " in value else value


def sample_item(item: str, lang: str | None = None) -> str:
    """One sentence of a failed check's sample: '<where>: <problem> (<values>)' in the language; the values are
    column names and numbers, shown as they are."""
    lang = language(lang)
    if lang == "en":
        return item
    head, sep, rest = item.partition(": ")
    if not sep:
        return where(item, lang)
    said = problem(rest, lang)
    if said == rest and rest.endswith(")"):  # the row's values after its problem
        for i in [m.start() for m in re.finditer(r" \(", rest)][::-1]:
            if problem(rest[:i], lang) != rest[:i]:
                said = problem(rest[:i], lang) + rest[i:]
                break
    return f"{where(head, lang)}: {said}"


def sample(stored: str | None, lang: str | None = None) -> list[str] | None:
    """A stored sample (a JSON list of sentences) as sentences in the language; text that is not such a list is
    returned as one sentence."""
    if stored is None:
        return None
    try:
        items = json.loads(stored)
    except ValueError:
        return [stored]
    if not isinstance(items, list):
        return [stored]
    return [sample_item(str(x), lang) for x in items]


def details(value: str | None, lang: str | None = None) -> str | None:
    """A check's details (the raw suite's scope, GX's error) in the language."""
    lang = language(lang)
    if not value or lang == "en":
        return value
    return "; ".join(stored_text(p, "gate.details", lang) for p in _split(value, "; "))


def _failed_checks(value: str, lang: str) -> str:
    """'table check; table check' with each check's name in the language."""
    out = []
    for p in value.split("; "):
        table, sep, name = p.partition(" ")
        out.append(f"{table} {check_name(name, lang)}" if sep else p)
    return "; ".join(out)


def run_message(value: str | None, lang: str | None = None) -> str | None:
    """A run's or publish's message (audit.runs / audit.publishes) in the language."""
    lang = language(lang)
    if not value or lang == "en":
        return value
    if value.startswith("gate failed: "):
        return text("gate.message.failed", lang, checks=_failed_checks(value[len("gate failed: "):], lang))
    return stored_text(value, "gate.message", lang, lambda v: run_message(v, lang))


def failed_message(errors) -> str:
    """The blocked run's message as stored: the first failed error checks (`CheckResult`s)."""
    return en("gate.message.failed", checks="; ".join(f"{r.table_name} {r.expectation}" for r in errors[:10]))
