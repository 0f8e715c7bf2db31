"""Source contracts (one YAML per source) and the reason-code registry, loaded once and shared by every tool."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from functools import cache

from cakupan.core.files import load_yaml
from cakupan.core.messages import LANGUAGES, Msg, language
from cakupan.core.settings import CONTRACTS_DIR

SOURCES = ("register", "contributions", "claims", "city_report")
COLUMN_TYPES = {
    "nik", "text", "birth_date", "sex", "regency", "kpj", "programs", "program", "date", "month", "money",
    "count", "funding_source",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool
    aliases: tuple[str, ...]
    personal: bool = False

    @property
    def header(self) -> str:
        """The column's header as the template writes it (`cakupan template`): its first alias, else its name."""
        return self.aliases[0] if self.aliases else self.name


@dataclass(frozen=True)
class Contract:
    source: str
    description: str
    grain: str
    columns: tuple[Column, ...]
    period_from: tuple[str, ...]
    regency_from: tuple[str, ...]
    one_of: tuple[tuple[str, ...], ...] = ()
    # labels of columns deliveries often hold that are none of the contract's ("Tempat Lahir", "Alamat"): never
    # taken for a typo of one of its labels ("Tempat Lahir" is one word from "Tempat/Tgl Lahir")
    other_columns: tuple[str, ...] = ()

    def __reduce__(self):
        """The shipped contract is pickled as its source's name (a reader process hands one with every file it
        read: ~2 KB and 0.05 ms less a file); any other contract with its fields."""
        if self.source in SOURCES and self is load_contract(self.source):
            return (load_contract, (self.source,))
        return (Contract, tuple(getattr(self, f.name) for f in fields(self)))

    def column(self, name: str) -> Column:
        """Return the column called name."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.source} has no column {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def alias_map(self, overrides: dict[str, str] | None = None) -> dict[str, str]:
        """Map each normalised header text to its canonical column (overrides from regency config win)."""
        out: dict[str, str] = {}
        for c in self.columns:
            out[normalise_header(c.name)] = c.name
            for a in c.aliases:
                out[normalise_header(a)] = c.name
        for header, canonical in (overrides or {}).items():
            out[normalise_header(header)] = canonical
        return out


def normalise_header(text: object) -> str:
    """Fold a header cell case-, space-, accent- and punctuation-insensitively."""
    s = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", s.lower())


class ContractError(ValueError):
    """A contract file is malformed; the message names the file and key."""


@cache
def load_contract(source: str) -> Contract:
    """Load and check the contract of one source."""
    path = CONTRACTS_DIR / f"{source}.yml"
    data = load_yaml(path.read_text(encoding="utf-8"))
    cols = []
    for i, c in enumerate(data.get("columns") or []):
        if c.get("type") not in COLUMN_TYPES:
            raise ContractError(Msg("error.config.column_type", path=path, i=i, value=repr(c.get("type")),
                                      types=", ".join(sorted(COLUMN_TYPES))))
        cols.append(Column(c["name"], c["type"], bool(c.get("required")), tuple(c.get("aliases") or ()),
                           bool(c.get("personal"))))
    return Contract(
        source=data["source"], description=data["description"], grain=data["grain"], columns=tuple(cols),
        period_from=tuple(data.get("period_from") or ()), regency_from=tuple(data.get("regency_from") or ()),
        one_of=tuple(tuple(g) for g in data.get("one_of") or ()),
        other_columns=tuple(data.get("other_columns") or ()),
    )


def all_contracts() -> dict[str, Contract]:
    """Return every source's contract."""
    return {s: load_contract(s) for s in SOURCES}


@dataclass(frozen=True)
class Reason:
    code: str
    level: str
    texts: tuple[tuple[str, str], ...]   # (language, template): Bahasa Indonesia and English

    def template(self, lang: str | None = None) -> str:
        """The message template in the language (CAKUPAN_LANG when not given, Indonesian by default)."""
        return dict(self.texts)[language(lang)]

    @property
    def message(self) -> str:
        """The message template in the current language."""
        return self.template()

    def render(self, column: str | None = None, value: object = None, lang: str | None = None) -> str:
        """Fill the plain-words message in the language."""
        shown = "" if value is None else str(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return self.template(lang).format(column=column or "", value=shown)


@cache
def reasons() -> dict[str, Reason]:
    """Return the reason-code registry."""
    data = load_yaml((CONTRACTS_DIR / "reasons.yml").read_text(encoding="utf-8"))
    return {code: Reason(code, v["level"], tuple((lang, v[lang]) for lang in LANGUAGES if lang in v))
            for code, v in data.items()}


def reason(code: str) -> Reason:
    """Return one registered reason; an unregistered code is a programming error."""
    try:
        return reasons()[code]
    except KeyError:
        raise KeyError(f"reason code {code!r} is not in contracts/reasons.yml") from None
