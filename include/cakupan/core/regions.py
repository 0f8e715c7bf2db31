"""Kemendagri areas (vendored idn-area-data 4.0.1, ODbL) and the one regency name matcher.

Every regency name the project reads goes through here: a register's regency column and a file's title block
(ingest), and the names reporters write in press releases (reports). A name is folded (case, punctuation and the
Kabupaten/Kota prefix removed) and looked up in the configured aliases (config/regencies/*.yml), then in the
official Kemendagri names; a name a Kabupaten and a Kota share ("Bekasi") resolves only when the text, a cue word
before it ("Pemkab", "Bupati", "Wali Kota") or an alias says which, and a Kabupaten/Kota prefix in the text always
decides between the two, configured aliases included. In prose (``RegencyNames`` with ``official=True``) the short
names reporters use (Muba, PPU, Sidrap: reference/regency_short_names.csv) are known too, and a province name
alone ("Bengkulu", "Jambi", "Gorontalo") is not read as the regency of the same name without such a cue.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from cakupan.core.settings import REFERENCE_DIR

_PREFIXES = re.compile(
    r"^(?P<p>kab\.|(?:kabupaten|kab|kota|kotamadya|kodya|provinsi|prov\.?)(?=\s))\s*(?:administrasi\s+)?"
)
_KINDS = {"kabupaten": "kab", "kab": "kab", "kab.": "kab", "kota": "kota", "kotamadya": "kota", "kodya": "kota",
          "provinsi": "prov", "prov": "prov", "prov.": "prov"}
# words a reporter writes before a bare name to say which of a Kabupaten and a Kota is meant
_KAB_CUE = re.compile(r"(?:Pemkab|Bupati|Kabupaten|Kab\.?)\)?\s*$", re.IGNORECASE)
_KOTA_CUE = re.compile(r"(?:Pemkot|Pemko|Wali\s*Kota|Walikota|Kota)\)?\s*$", re.IGNORECASE)
_CUE_REACH = 30  # characters before a name searched for a cue word
# names in running text are capitalised: a run of capitalised words, split on spaces, tabs or one line break
# (a hard-wrapped press release)
_CAPITALISED_RUN = re.compile(r"[A-Z][\w'’\-]*(?:(?:[ \t]+|[ \t]*\n[ \t]*)[A-Z][\w'’\-]*)*")
_LONGEST_PREFIX = len("kabupaten")  # the longest prefix fold_name strips (a title window may carry one)
_PHRASES_KEPT = 50_000  # phrases `RegencyNames.named_in` keeps resolved


def _read(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def provinces() -> dict[str, str]:
    """Return province code → name."""
    return {r["code"]: r["name"] for r in _read("provinces")}


@cache
def regencies() -> dict[str, tuple[str, str]]:
    """Return regency code ("73.72") → (province code, name)."""
    return {r["code"]: (r["province_code"], r["name"]) for r in _read("regencies")}


@cache
def districts() -> dict[str, tuple[str, str]]:
    """Return district code → (regency code, name)."""
    return {r["code"]: (r["regency_code"], r["name"]) for r in _read("districts")}


@cache
def villages_by_district() -> dict[str, list[tuple[str, str]]]:
    """Return district code → [(village code, name)]."""
    out: dict[str, list[tuple[str, str]]] = {}
    for r in _read("villages"):
        out.setdefault(r["district_code"], []).append((r["code"], r["name"]))
    return out


def nik_prefixes() -> frozenset[str]:
    """Return the 4-digit NIK prefixes of every regency ("7372")."""
    return frozenset(code.replace(".", "") for code in regencies())


def fold_name(text: str) -> str:
    """Fold a region name for matching: case, punctuation and the Kab./Kota prefix removed."""
    s = re.sub(r"\s+", " ", str(text).strip().lower())
    s = _PREFIXES.sub("", s)
    return re.sub(r"[^a-z0-9]", "", s)


def name_kind(text: str) -> str | None:
    """Return "kab", "kota" or "prov" for a name written with that prefix ("Kab. Bogor", "Kota Bogor"), else None."""
    m = _PREFIXES.match(re.sub(r"\s+", " ", str(text).strip().lower()))
    return _KINDS[m.group("p")] if m else None


def regency_kind(code: str) -> str:
    """Return "kota" for a Kota, "kab" for a Kabupaten."""
    return "kota" if regencies()[code][1].lower().startswith("kota") else "kab"


def alias_key(text: str) -> str:
    """Return the alias index key of a configured name: its folded form, qualified by its prefix when it has one
    ("Kota Bogor" → "kota:bogor"), so a Kabupaten and a Kota of the same name can both be configured."""
    kind = name_kind(text)
    return f"{kind}:{fold_name(text)}" if kind in ("kab", "kota") else fold_name(text)


def alias_lookup(name: str, aliases: Mapping[str, str] | None) -> str | None:
    """Look a name up in an alias index (`build_alias_index`); a Kabupaten/Kota prefix in the name must agree."""
    if not aliases:
        return None
    folded, kind = fold_name(name), name_kind(name)
    if kind == "prov":
        return None
    if kind and (code := aliases.get(f"{kind}:{folded}")):
        return code
    code = aliases.get(folded)
    return code if code and (kind is None or regency_kind(code) == kind) else None


def build_alias_index(names: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Map configured (name or alias, code) pairs to alias keys → code.

    A prefixed name ("Kota Bogor") gives its qualified key and, unless another configured regency shares the bare
    name, the bare key too; a bare alias ("Bogor") is the regency's own word for itself and wins the bare key over
    a prefixed name of another regency. A bare key two regencies claim alike is left out: the text must say which.
    """
    idx: dict[str, str] = {}
    strong: dict[str, set[str]] = {}
    weak: dict[str, set[str]] = {}
    for name, code in names:
        folded = fold_name(name)
        if not folded:
            continue
        key = alias_key(name)
        if key != folded:
            idx[key] = code
            weak.setdefault(folded, set()).add(code)
        else:
            strong.setdefault(folded, set()).add(code)
    for folded in {*strong, *weak}:
        codes = strong.get(folded) or weak.get(folded, set())
        if len(codes) == 1:
            idx[folded] = next(iter(codes))
    return idx


@cache
def _names_index() -> dict[str, set[str]]:
    idx: dict[str, set[str]] = {}
    for code, (_, name) in regencies().items():
        idx.setdefault(fold_name(name), set()).add(code)
    return idx


def resolve_regency(text: object, aliases: dict[str, str] | None = None) -> str | None:
    """Resolve a regency name, alias or code ("Kab. Sidrap", "7314", "73.14") to its Kemendagri code, or None.

    `aliases` maps folded alias → code (from config/regencies/*.yml). A name shared by a Kabupaten and a Kota
    (e.g. "Bekasi") resolves only when the text says which, or an alias does.
    """
    if text is None:
        return None
    raw = str(text).strip()
    if not raw:
        return None
    digits = re.sub(r"[.\s]", "", raw)
    if re.fullmatch(r"\d{4}(\.0)?", digits) or re.fullmatch(r"\d{4}", digits.split(".")[0] if "." in raw else digits):
        d = digits[:4]
        code = f"{d[:2]}.{d[2:]}"
        if code in regencies():
            return code
    if re.fullmatch(r"\d{2}\.\d{2}", raw) and raw in regencies():
        return raw
    folded, kind = fold_name(raw), name_kind(raw)
    if kind == "prov":
        return None  # "Provinsi Bengkulu" is not Kota Bengkulu
    if code := alias_lookup(raw, aliases):
        return code
    candidates = _names_index().get(folded, set())
    if kind:
        candidates = {c for c in candidates if regency_kind(c) == kind}
    return next(iter(candidates)) if len(candidates) == 1 else None


def regency_name(code: str) -> str:
    """Return the official name of a regency code."""
    return regencies()[code][1]


@cache
def short_names() -> dict[str, str]:
    """Return folded short name → regency code (reference/regency_short_names.csv: Muba, PPU, Sidrap, Kukar...)."""
    with open(REFERENCE_DIR.parent / "regency_short_names.csv", encoding="utf-8", newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {fold_name(r["short_name"]): r["code"] for r in rows}


# short names reporters use for provinces, besides their official names
_PROVINCE_SHORT = {
    "sulsel": "73", "sultra": "74", "sulteng": "72", "sulut": "71", "sulbar": "76", "kaltim": "64", "kalsel": "63",
    "kalteng": "62", "kalbar": "61", "kaltara": "65", "jabar": "32", "jateng": "33", "jatim": "35", "sumut": "12",
    "sumbar": "13", "sumsel": "16", "ntb": "52", "ntt": "53", "diy": "34", "dki": "31", "dkijakarta": "31",
    "babel": "19", "bangkabelitung": "19", "jakarta": "31", "kepri": "21", "malut": "82", "jogja": "34", "papuabaratdaya": "96",
}


# regency names that are also everyday words at the start of a sentence ("Puncak acara", "Batang tubuh"): in prose
# they name a regency only with a prefix or cue word ("Kabupaten Puncak", "Bupati Batang")
_COMMON_WORDS = frozenset({"puncak", "batang", "lebak", "landak", "pati", "lingga", "buru"})


@cache
def province_index() -> dict[str, str]:
    """Return folded province name or short name ("sulawesiselatan", "sulsel") → province code."""
    idx = {fold_name(name): code for code, name in provinces().items()}
    idx.update(_PROVINCE_SHORT)
    return idx


def _longest_names(text: str, start: int, end: int, max_words: int, lookup) -> list[NameMatch]:
    """Scan the capitalised runs of text[start:end]; at each word the longest window (up to max_words words) that
    lookup(start, end) names wins."""
    out: list[NameMatch] = []
    for run in _CAPITALISED_RUN.finditer(text, start, end):
        words = [(m.start() + run.start(), m.end() + run.start()) for m in re.finditer(r"\S+", run.group())]
        i = 0
        while i < len(words):
            for j in range(min(len(words), i + max_words), i, -1):
                s, e = words[i][0], words[j - 1][1]
                code = lookup(s, e)
                if code:
                    out.append(NameMatch(s, e, code))
                    i = j
                    break
            else:
                i += 1
    return out


@dataclass(frozen=True)
class NameMatch:
    """A regency name found in a text: its character span and code."""

    start: int
    end: int
    code: str


@cache
def _needs_cue() -> frozenset[str]:
    """Bare names that name a regency in prose only with a prefix or cue word: province names, everyday words."""
    return _COMMON_WORDS | frozenset(province_index())


class RegencyNames:
    """Regency names in text → Kemendagri codes, with one set of aliases and rules.

    `aliases` maps alias keys → code (`cakupan.core.config.alias_index`); `provinces`, when given, keeps only
    regencies of those provinces; `official=False` matches the aliases alone (the configured regencies), not
    every Kemendagri name or short name. `max_words` is the longest name looked for in running text, in words
    (a prefix counts: "Kabupaten Kepulauan Siau Tagulandang Biaro" has five).
    """

    def __init__(self, aliases: Mapping[str, str] | None = None, provinces: Iterable[str] | None = None,
                 official: bool = True, max_words: int = 5) -> None:
        self.aliases = dict(aliases or {})
        self.provinces = None if provinces is None else frozenset(provinces)
        self.official = official
        self.max_words = max_words
        longest = max((len(k) for k in self.aliases), default=0)
        if official:
            longest = max(longest, *(len(k) for k in _names_index()))
        self._longest = longest + _LONGEST_PREFIX
        # a title's phrases, kept resolved (titles repeat their words file after file)
        self._phrase = functools.lru_cache(maxsize=_PHRASES_KEPT)(self.resolve)

    def resolve(self, name: str, before: str = "") -> str | None:
        """Resolve one name ("Sidrap", "Kota Palopo"); `before` is the text just before it, for a cue word."""
        if not name.strip() or re.fullmatch(r"[\d.\s]+", name):
            return None
        code = self._lookup(name)
        if code is None:
            before = before[-_CUE_REACH:]
            if _KAB_CUE.search(before):
                code = self._lookup(f"Kabupaten {name}")
            elif _KOTA_CUE.search(before):
                code = self._lookup(f"Kota {name}")
        if code is None or (self.provinces is not None and code.split(".")[0] not in self.provinces):
            return None
        return code

    def _lookup(self, name: str) -> str | None:
        if not self.official:
            return alias_lookup(name, self.aliases)
        code = resolve_regency(name, self.aliases)
        folded, kind = fold_name(name), name_kind(name)
        if code is not None and kind is None and folded in _needs_cue() and folded not in self.aliases:
            return None  # "Bengkulu" alone is the province as often as the city, "Puncak acara" is no regency
        short = short_names().get(folded) if code is None and kind != "prov" else None
        return short if short and (kind is None or regency_kind(short) == kind) else code

    def province_mentions(self, text: str, start: int = 0, end: int | None = None) -> list[NameMatch]:
        """Find province names in text[start:end] ("Sulawesi Selatan", "Provinsi Kaltim", "Sulsel"); code is the
        province code. A name that is also a regency's ("Bengkulu") counts only with "Provinsi"/"Pemprov" before it
        or when no regency is read there."""
        end = len(text) if end is None else end
        taken = [(m.start, m.end) for m in self.mentions(text, start, end)]

        def province(s: int, e: int) -> str | None:
            if any(a < e and s < b for a, b in taken):
                return None
            return province_index().get(fold_name(text[s:e]))

        return _longest_names(text, start, end, 4, province)

    def mentions(self, text: str, start: int = 0, end: int | None = None) -> list[NameMatch]:
        """Find the names written in text[start:end] ("Kota Palopo", "PAREPARE", "Pemkab Sidrap").

        Names are capitalised runs of words; at each word the longest name (up to `max_words` words) wins.
        """
        end = len(text) if end is None else end
        return _longest_names(text, start, end, self.max_words,
                              lambda s, e: self.resolve(text[s:e], text[max(0, s - _CUE_REACH) : s]))

    def named_in(self, text: str) -> str | None:
        """Return the one regency a text names anywhere, in any case (a title block), or None if none or several."""
        words = re.findall(r"[a-z0-9]+", str(text).lower())
        found: set[str] = set()
        for i in range(len(words)):
            size = 0        # the letters of words[i:j + 1]: a phrase longer than any name is none
            for j in range(i, len(words)):
                size += len(words[j])
                if size > self._longest:
                    break
                code = self._phrase(" ".join(words[i:j + 1]))
                if code:
                    found.add(code)
        return found.pop() if len(found) == 1 else None
