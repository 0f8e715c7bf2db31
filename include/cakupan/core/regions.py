"""Kemendagri areas (vendored idn-area-data 4.0.1, ODbL) and the one regency name matcher.

Every regency name the project reads goes through here: a register's regency column and a file's title block
(ingest), and the names reporters write in press releases (reports). A name is folded (case, punctuation and the
Kabupaten/Kota prefix removed) and looked up in the configured aliases (config/regencies/*.yml), then in the
official Kemendagri names; a name a Kabupaten and a Kota share ("Bekasi") resolves only when the text, a cue word
before it ("Pemkab", "Bupati", "Wali Kota") or an alias says which.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from cakupan.core.settings import REFERENCE_DIR

_PREFIXES = r"^(kabupaten|kab\.?|kota|kotamadya|kodya|provinsi|prov\.?)\s+"
# words a reporter writes before a bare name to say which of a Kabupaten and a Kota is meant
_KAB_CUE = re.compile(r"(?:Pemkab|Bupati|Kabupaten|Kab\.?)\s*$", re.IGNORECASE)
_KOTA_CUE = re.compile(r"(?:Pemkot|Wali\s*Kota|Walikota|Kota)\s*$", re.IGNORECASE)
_CUE_REACH = 30  # characters before a name searched for a cue word
# names in running text are capitalised: a run of capitalised words, split on spaces and tabs
_CAPITALISED_RUN = re.compile(r"[A-Z][\w'’\-]*(?:[ \t]+[A-Z][\w'’\-]*)*")
_LONGEST_PREFIX = len("kabupaten")  # the longest prefix fold_name strips (a title window may carry one)


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
    s = re.sub(_PREFIXES, "", s)
    return re.sub(r"[^a-z0-9]", "", s)


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
    folded = fold_name(raw)
    if aliases and folded in aliases:
        return aliases[folded]
    lowered = raw.lower()
    candidates = _names_index().get(folded, set())
    if len(candidates) == 1:
        return next(iter(candidates))
    if len(candidates) > 1:
        want_kota = lowered.startswith("kota")
        want_kab = lowered.startswith("kab")
        for code in candidates:
            name = regencies()[code][1].lower()
            if (want_kota and name.startswith("kota")) or (want_kab and name.startswith("kabupaten")):
                return code
    return None


def regency_name(code: str) -> str:
    """Return the official name of a regency code."""
    return regencies()[code][1]


@dataclass(frozen=True)
class NameMatch:
    """A regency name found in a text: its character span and code."""

    start: int
    end: int
    code: str


class RegencyNames:
    """Regency names in text → Kemendagri codes, with one set of aliases and rules.

    `aliases` maps folded alias → code (`cakupan.core.config.alias_index`); `provinces`, when given, keeps only
    regencies of those provinces; `official=False` matches the aliases alone (the configured regencies), not
    every Kemendagri name. `max_words` is the longest name looked for in running text, in words.
    """

    def __init__(self, aliases: Mapping[str, str] | None = None, provinces: Iterable[str] | None = None,
                 official: bool = True, max_words: int = 3) -> None:
        self.aliases = dict(aliases or {})
        self.provinces = None if provinces is None else frozenset(provinces)
        self.official = official
        self.max_words = max_words
        longest = max((len(k) for k in self.aliases), default=0)
        if official:
            longest = max(longest, *(len(k) for k in _names_index()))
        self._longest = longest + _LONGEST_PREFIX

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
        if self.official:
            return resolve_regency(name, self.aliases)
        return self.aliases.get(fold_name(name))

    def mentions(self, text: str, start: int = 0, end: int | None = None) -> list[NameMatch]:
        """Find the names written in text[start:end] ("Kota Palopo", "PAREPARE", "Pemkab Sidrap").

        Names are capitalised runs of words; at each word the longest name (up to `max_words` words) wins.
        """
        end = len(text) if end is None else end
        out: list[NameMatch] = []
        for run in _CAPITALISED_RUN.finditer(text, start, end):
            words = [(m.start() + run.start(), m.end() + run.start()) for m in re.finditer(r"\S+", run.group())]
            i = 0
            while i < len(words):
                for j in range(min(len(words), i + self.max_words), i, -1):
                    s, e = words[i][0], words[j - 1][1]
                    code = self.resolve(text[s:e], text[max(0, s - _CUE_REACH) : s])
                    if code:
                        out.append(NameMatch(s, e, code))
                        i = j
                        break
                else:
                    i += 1
        return out

    def named_in(self, text: str) -> str | None:
        """Return the one regency a text names anywhere, in any case (a title block), or None if none or several."""
        words = re.findall(r"[a-z0-9]+", str(text).lower())
        found: set[str] = set()
        for i in range(len(words)):
            for j in range(i + 1, len(words) + 1):
                if sum(map(len, words[i:j])) > self._longest:
                    break
                code = self.resolve(" ".join(words[i:j]))
                if code:
                    found.add(code)
        return found.pop() if len(found) == 1 else None
