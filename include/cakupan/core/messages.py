"""The one message catalogue: every text shown to people, in Bahasa Indonesia (`id`, the default) and English (`en`).

Two YAML files, one catalogue: `contracts/reasons.yml` (every reason code: quarantine reasons, file-level errors,
load findings, press-release skips; the registry of stable codes, each with `id` and `en`) and `messages.yml`
(everything else: CLI lines, the auditor report's headings and text, finding titles, check names; key -> `id`/`en`).
A reason's text is looked up as `reason.<CODE>`. The language is `CAKUPAN_LANG` (`id` or `en`), which `--lang` sets
for the process; `text(key, lang, **params)` fills `{placeholders}`, the same set in both languages
(tests/i18n/test_catalogue.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import os
import re
import string
from pathlib import Path

from cakupan.core.files import load_yaml

PACKAGE_DIR = Path(__file__).resolve().parents[1]
CONTRACTS_DIR = PACKAGE_DIR / "contracts"

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
LANG_VARIABLE = "CAKUPAN_LANG"
MESSAGES_FILE = PACKAGE_DIR / "messages.yml"
REASONS_FILE = CONTRACTS_DIR / "reasons.yml"

MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}


class SettingsError(RuntimeError):
    """A setting is missing or wrong; the message names the variable (re-exported by core.settings, which raises it
    with catalogue messages: defined here so that the catalogue depends on nothing but the YAML reader)."""


class Msg:
    """A message not yet rendered: a catalogue key and its parameters. An error raised deep in a module carries one
    (`raise ConfigError(Msg("error.config.not_yaml", path=p, error=exc))`); `str()` renders it in the current
    language, so the CLI's one failure line reads in the language of `--lang` / CAKUPAN_LANG, and a test or a log
    reads it in its own. A parameter may itself be a Msg (a detail inside a sentence). Picklable (a reader process
    hands a FileRejected with its detail to the writer)."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, /, **params):
        self.key = key
        self.params = params

    def render(self, lang: str | None = None) -> str:
        return text(self.key, lang, **{k: v.render(lang) if isinstance(v, Msg) else v for k, v in self.params.items()})

    def __str__(self) -> str:
        return self.render()

    def __format__(self, spec: str) -> str:
        return format(self.render(), spec)

    def __repr__(self) -> str:
        return f"Msg({self.key!r}, {self.params!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Msg) and (self.key, self.params) == (other.key, other.params)

    __hash__ = None

    def __reduce__(self):
        return (_msg, (self.key, self.params))


def _msg(key: str, params: dict) -> Msg:
    return Msg(key, **params)


# errno classes an office's file share produces, each a sentence (`error.os.*`); anything else is `other`
OS_ERRORS = {errno.ENOENT: "not_found", errno.EACCES: "permission", errno.EPERM: "permission",
             errno.EISDIR: "is_directory", errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full"}


def os_error(exc: OSError, path) -> Msg:
    """An operating-system error reading `path` as a sentence naming the file, the errno name kept at the end as
    a code for engineers ("berkas x.xlsx tidak ditemukan … [ENOENT]"); never the OS's own English text."""
    code = errno.errorcode.get(exc.errno, type(exc).__name__) if exc.errno else type(exc).__name__
    return Msg(f"error.os.{OS_ERRORS.get(exc.errno, 'other')}", file=Path(path).name, code=code)


def language(lang: str | None = None) -> str:
    """The language to render in: `lang` if given, else CAKUPAN_LANG, else Indonesian; anything else is refused in
    one line naming the variable."""
    chosen = (lang or os.environ.get(LANG_VARIABLE) or DEFAULT_LANGUAGE).strip().lower()
    if chosen not in LANGUAGES:
        # English only: the language itself is what is wrong, so there is none to render the catalogue in
        raise SettingsError(f"{LANG_VARIABLE} / --lang must be 'id' (Bahasa Indonesia) or 'en' (English), "
                            f"not {chosen!r}")
    return chosen


def set_language(lang: str | None) -> str:
    """Make `lang` the language of this process and of the processes it starts (through CAKUPAN_LANG)."""
    chosen = language(lang)
    os.environ[LANG_VARIABLE] = chosen
    return chosen


def _load(path: Path) -> dict[str, dict]:
    return load_yaml(path.read_text(encoding="utf-8")) or {}


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every key -> {language: template}: `reason.<CODE>` from reasons.yml, the rest from messages.yml."""
    out = {f"reason.{code}": {k: v for k, v in entry.items() if k in LANGUAGES}
           for code, entry in _load(REASONS_FILE).items()}
    out.update(_load(MESSAGES_FILE))
    return out


def template(key: str, lang: str | None = None) -> str:
    """The raw template of one key; an unknown key is a programming error (the i18n test finds them first)."""
    try:
        entry = catalogue()[key]
    except KeyError:
        raise KeyError(f"message {key!r} is not in the catalogue (messages.yml / contracts/reasons.yml)") from None
    return entry[language(lang)]


def text(key: str, lang: str | None = None, /, **params) -> str:
    """One message in the language, its placeholders filled."""
    tpl = template(key, lang)
    return tpl.format(**params) if params or "{" in tpl else tpl


def section(prefix: str, lang: str | None = None) -> dict[str, str]:
    """Every entry under `prefix.` in the language, keyed without the prefix (texts a module writes by name)."""
    lang = language(lang)
    return {k[len(prefix) + 1:]: v[lang] for k, v in catalogue().items() if k.startswith(prefix + ".")}


def placeholders(tpl: str) -> set[str]:
    """The names of a template's {placeholders}."""
    return {name for _, name, _, _ in string.Formatter().parse(tpl) if name}


def fmt_date(value, lang: str | None = None) -> str:
    """A date the way the language writes it: 30 April 2025 (both languages, month names their own)."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return f"{value.day} {MONTHS[language(lang)][value.month - 1]} {value.year}"


def fmt_month(value, lang: str | None = None) -> str:
    """A month: April 2025."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:7] + "-01")
        except ValueError:
            return value
    return f"{MONTHS[language(lang)][value.month - 1]} {value.year}"


def fmt_rupiah(value) -> str:
    """Rupiah as written in Indonesia, in either language: Rp 16.800 (a dot between thousands, no decimals)."""
    return "Rp " + f"{float(value):,.0f}".replace(",", ".")


@contextlib.contextmanager
def using(lang: str | None):
    """Render in `lang` inside the block (a report written in English from a process whose default is Indonesian);
    None keeps the current language."""
    if lang is None:
        yield language()
        return
    saved = os.environ.get(LANG_VARIABLE)
    try:
        yield set_language(lang)
    finally:
        if saved is None:
            os.environ.pop(LANG_VARIABLE, None)
        else:
            os.environ[LANG_VARIABLE] = saved


@functools.cache
def _english_patterns(prefix: str) -> list[tuple[re.Pattern, str]]:
    """(regex of the English text, its key) for every `<prefix>.*` entry, most words first: the English side of a
    check name (the stable identifier stored in audit.checks) or of a finding detail is the shape of what is
    stored; people read it through the catalogue, its {parts} taken from the stored text."""
    out = []
    for key, entry in catalogue().items():
        if key.startswith(prefix + "."):
            parts = re.split(r"\{(\w+)\}", entry["en"])
            rx = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
            out.append((re.compile(rx + "$"), key, sum(len(p) for p in parts[::2])))
    # the most words first: 'enrolled is empty but …' before 'enrolled is {enrolled} but …'
    return [(rx, key) for rx, key, _ in sorted(out, key=lambda p: (-p[2], -len(p[0].pattern)))]


def check_name(name: str, lang: str | None = None) -> str:
    """A quality-gate check's name in the language (its stored English name when the catalogue has no entry)."""
    for rx, key in _english_patterns("check"):
        m = rx.match(name or "")
        if m:
            return text(key, lang, **m.groupdict())
    return name


_COUNTED = re.compile(r"^(-?[\d.,]+) (.+?)$")


def _detail_value(value: str, lang: str) -> str:
    """A part of a finding's detail in the language: a count and its noun ('5 days' -> '5 hari', from
    `word.unit.<noun>`), a list of date parts ('day, month'), a word the rules write (`word.detail.<word>`)."""
    known = catalogue()
    m = _COUNTED.match(value)
    if m:
        for noun in (m[2], m[2][:-1] if m[2].endswith("s") else None):
            if noun and f"word.unit.{noun.replace(' ', '_')}" in known:
                return f"{m[1]} {text('word.unit.' + noun.replace(' ', '_'), lang)}"
    words = value.split(", ")
    if all(f"word.detail.{w.replace(' ', '_').replace('-', '_')}" in known for w in words):
        return ", ".join(text(f"word.detail.{w.replace(' ', '_').replace('-', '_')}", lang) for w in words)
    return value


def stored_text(value: str | None, prefix: str, lang: str | None = None, part=None) -> str | None:
    """A stored English text of a known shape read in the language: the `<prefix>.*` entry whose English side
    matches it whole, its {parts} read by `part` (a text no entry matches is shown as stored). The stored text stays
    the English one, a stable value for BI tools and auditors (a check's name, a finding's detail or side label, a
    gate problem); people read it through the catalogue."""
    lang = language(lang)
    if not value or lang == "en":
        return value
    for rx, key in _english_patterns(prefix):
        m = rx.match(value)
        if m:
            return text(key, lang, **{k: part(v) if part and v != value else v for k, v in m.groupdict().items()})
    return value


def finding_detail(detail: str | None, lang: str | None = None) -> str | None:
    """An audit finding's detail sentence in the language. The published `detail` is written by the dbt finding
    rules in English, the stable text of the column (like a check's name in audit.checks); people read it through
    the `detail.*` entries, whose English side is the sentence's shape ({parts} are its values). A sentence no entry
    matches is shown as stored (tests/findings/test_findings_e2e.py fails on one the rules write)."""
    lang = language(lang)
    return stored_text(detail, "detail", lang, lambda v: _detail_value(v, lang))


def finding_side(label: str | None, lang: str | None = None) -> str | None:
    """A finding's `source_side` / `reference_side` label in the language (`side.*` entries; the stored label is
    the rules' English, a stable value like `detail`)."""
    lang = language(lang)
    return stored_text(label, "side", lang, lambda v: _detail_value(v, lang))
