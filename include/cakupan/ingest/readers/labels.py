"""Header labels as clerks write them, matched to a contract's columns.

A label matches a column when, folded (case, spaces, dots, slashes and accents ignored: "N.I.K.", "L / P",
"Desa / Kelurahan", "T.M.T"), it equals one of the column's aliases, also after the common abbreviations are
spelt out ("Tgl" = tanggal, "Jns" = jenis, "Kec" = kecamatan, "Kel" = kelurahan, "No." = nomor, ...). A label
that matches nothing that way may still match by a small typo ("Pekerjan", "Sumber Dnaa"): a fuzzy match
(rapidfuzz, ratio of the folded texts) at or above FUZZY_THRESHOLD, unless two different columns score about as
well (AMBIGUITY_MARGIN): such a label is ambiguous and matches nothing (the reason is kept for the message). A
label the contract lists among its `other_columns` (a column deliveries hold that is none of its own: "Tempat
Lahir", the place of birth, scores 88 against "Tempat/Tgl Lahir") is never a typo.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from cakupan.core.contracts import load_contract

FUZZY_THRESHOLD = 88.0      # rapidfuzz ratio (0-100) of the folded texts
AMBIGUITY_MARGIN = 4.0      # two columns scoring within this of each other: ambiguous
FUZZY_MIN_LENGTH = 5        # folded labels shorter than this never match fuzzily ("jk" vs "kk")
FUZZY_MAX_LENGTH = 40

# abbreviations clerks use in headers, spelt out word by word before folding (lower case, without dots)
ABBREVIATIONS = {
    "tgl": "tanggal", "tg": "tanggal", "tang": "tanggal", "jns": "jenis", "jen": "jenis", "kec": "kecamatan",
    "kel": "kelurahan", "kelr": "kelurahan", "no": "nomor", "nmr": "nomor", "nom": "nomor", "jml": "jumlah",
    "jmlh": "jumlah", "bln": "bulan", "thn": "tahun", "th": "tahun", "kab": "kabupaten", "kb": "kabupaten",
    "pst": "peserta", "psrt": "peserta", "kpsrtn": "kepesertaan", "tmpt": "tempat", "tmp": "tempat",
    "lhr": "lahir", "pek": "pekerjaan", "pkrjn": "pekerjaan", "iur": "iuran", "sbr": "sumber", "smbr": "sumber",
    "prog": "program", "prgm": "program", "byr": "bayar", "pembyrn": "pembayaran",
}
_WORD = re.compile(r"[a-z0-9]+")
_NO_DIGITS = str.maketrans("", "", "0123456789")    # an `expand`ed label is ASCII: its digits are these


@functools.lru_cache(maxsize=1 << 14)
def expand(text: str) -> str:
    """The label with abbreviations spelt out, folded ("Tgl. Lahir" -> "tanggallahir")."""
    return _spelt(_ascii_lower(text))


def _spelt(low: str) -> str:
    """`expand` of a text already `_ascii_lower`ed: its words (runs of letters and digits), each abbreviation
    spelt out, joined ("" when it has none)."""
    words = _WORD.findall(low)
    return "".join(map(ABBREVIATIONS.get, words, words))     # each word, or the word it abbreviates


def _ascii_lower(text: str) -> str:
    """The text without accents and what is not ASCII, lower-cased (an ASCII text, most of them, has nothing to
    decompose or drop)."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


@functools.lru_cache(maxsize=1 << 16)
def _forms(text: str) -> tuple[str, str]:
    """A label folded (`normalise_header`), and folded with its abbreviations spelt out (once per text, for every
    contract), both from one ASCII lowering and one pass of the word pattern: the header search asks this of every
    new text of its first rows, a data row's names and places among them (three lowerings and four regex passes
    before: ~40 % of a register workbook's header search)."""
    words = _WORD.findall(_ascii_lower(text))
    # folded: every letter and digit (what is left without the rest); spelt: the same words, each abbreviation
    # spelt out (a word of digits is never one)
    return "".join(words), "".join(map(ABBREVIATIONS.get, words, words))


_HINT = re.compile(r"\s*(\([^()]*\)|\[[^\[\]]*\])\s*$")


@functools.lru_cache(maxsize=1 << 14)
def without_hint(text: str) -> str | None:
    """A label without the hint a template writes after it in brackets ("TMT (dd/mm/yyyy)" -> "TMT", "JK
    (Laki-laki/Perempuan)" -> "JK", "Sumber Dana [APBD/CSR]" -> "Sumber Dana"); None when it has none or nothing
    would be left. A header cell is tried as written first (an alias may hold brackets: "Iuran (Rp)")."""
    if not text.rstrip().endswith((")", "]")):
        return None
    bare = _HINT.sub("", text)
    return bare if bare != text and _WORD.search(_ascii_lower(bare)) else None


@functools.lru_cache(maxsize=1 << 16)
def _cell_forms(text: str) -> tuple[tuple[str, str], ...]:
    """A header cell's `_forms`, and those of it without a hint in brackets when it has one."""
    bare = without_hint(text)
    return (_forms(text),) if bare is None else (_forms(text), _forms(bare))


def label_forms(texts: list[str]) -> list[tuple[str, str]]:
    """The folded forms of a row's non-empty texts (`Labels.exact_columns`), with a hint in brackets and without."""
    return [f for t in texts if t for f in _cell_forms(t)]


@dataclass(frozen=True)
class LabelMatch:
    column: str | None           # the canonical column, or None
    how: str                     # exact | abbreviation | fuzzy | ambiguous | none
    candidates: tuple[str, ...] = ()   # the columns an ambiguous label could be


_NO_MATCH = LabelMatch(None, "none")


class Labels:
    """One contract's labels (its aliases and a regency's header overrides), ready to match header cells."""

    def __init__(self, source: str, overrides: tuple[tuple[str, str], ...] = ()):
        self.source = source
        self.exact = load_contract(source).alias_map(dict(overrides))
        self.expanded: dict[str, str] = {}
        for label, column in self.exact.items():
            self.expanded.setdefault(label, column)
        for c in load_contract(source).columns:
            for a in (c.name.replace("_", " "), *c.aliases):
                self.expanded.setdefault(expand(a), c.name)
        for header, canonical in overrides:
            self.expanded[expand(header)] = canonical
        self._choices = list(self.expanded)
        self.others = frozenset(f for label in load_contract(source).other_columns for f in _forms(label))
        self._near = near_lengths(self._choices, FUZZY_THRESHOLD - AMBIGUITY_MARGIN)

    def _exact(self, folded: str, spelt: str) -> tuple[str, str] | None:
        """The one rule of an exact match, on a text's two `_forms`: its alias as written (folded), else its
        abbreviations spelt out; (column, how) or None."""
        if folded in self.exact:
            return self.exact[folded], "exact"
        if spelt in self.expanded:
            return self.expanded[spelt], "abbreviation"
        return None

    def match_exact(self, text: str) -> LabelMatch:
        """Match one header cell's text by its aliases and spelt-out abbreviations only (no typos)."""
        found = self._exact(*_forms(text))
        return LabelMatch(*found) if found else _NO_MATCH

    def exact_columns(self, forms: list[tuple[str, str]]) -> set[str]:
        """The columns that texts match by `match_exact`, given their `label_forms` (the header search asks this
        of every scanned row, for every contract)."""
        return {found[0] for folded, spelt in forms if (found := self._exact(folded, spelt))}

    @functools.lru_cache(maxsize=1 << 16)  # noqa: B019 - a cell next to a header is fuzzily matched by every contract
    def match(self, text: str) -> LabelMatch:
        """Match one header cell's text: aliases, abbreviations, then a small typo."""
        first = self.match_exact(text)
        if first.column is not None or not text:
            return first
        spelt = expand(text)
        if not _typo_candidate(spelt) or not self.others.isdisjoint(_forms(text)):
            return LabelMatch(None, "none")
        best: dict[str, float] = {}
        for choice, score, _ in process.extract(spelt, self._near[len(spelt)], scorer=fuzz.ratio, limit=8,
                                                score_cutoff=FUZZY_THRESHOLD - AMBIGUITY_MARGIN):
            col = self.expanded[choice]
            best[col] = max(best.get(col, 0.0), score)
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        if not ranked or ranked[0][1] < FUZZY_THRESHOLD:
            return LabelMatch(None, "none")
        if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < AMBIGUITY_MARGIN:
            return LabelMatch(None, "ambiguous", tuple(c for c, _ in ranked[:2]))
        return LabelMatch(ranked[0][0], "fuzzy")

    def knows(self, text: str) -> bool:
        return self.match(text).column is not None

    def closest(self, text: str) -> tuple[str, float] | None:
        """The column a label comes closest to, with its score (for a message), or None."""
        spelt = expand(text)
        if not spelt:
            return None
        hit = process.extractOne(spelt, self._choices, scorer=fuzz.ratio)
        return (self.expanded[hit[0]], hit[1]) if hit else None


def near_lengths(choices: list[str], cutoff: float) -> list[list[str]]:
    """For each length a typo candidate can have (`_typo_candidate`), the choices, in their order, that a text of
    that length could score at least `cutoff` against by `fuzz.ratio`. The Indel distance of two texts is at least
    the difference of their lengths, so their ratio is at most 200 * shorter / (sum of the lengths): a choice of a
    length too far off is not compared (rapidfuzz compared all of them, ~10 us a text; the header search asks it of
    every new text next to a header row, names and places of data rows among them)."""
    def reach(a: int, b: int) -> bool:
        return a + b > 0 and 200.0 * min(a, b) / (a + b) >= cutoff - 1e-6
    return [[c for c in choices if reach(n, len(c))] for n in range(FUZZY_MAX_LENGTH + 1)]


def _typo_candidate(spelt: str) -> bool:
    """Whether a spelt-out text (`expand`) is asked for a typo: of a label's length, under a third of it digits."""
    return FUZZY_MIN_LENGTH <= len(spelt) <= FUZZY_MAX_LENGTH and \
        (len(spelt) - len(spelt.translate(_NO_DIGITS))) * 3 <= len(spelt)


class AnyLabels:
    """Several contracts' labels for one question: could any of them match a text, exactly or by a typo
    (`Labels.match`)? The header search asks it of a block's texts once for every contract: a block with a data
    row in it, new in every file, is asked of each contract whose labels two header cells match (up to four)."""

    def __init__(self, labels: tuple[Labels, ...]):
        self.forms = frozenset(k for lab in labels for k in (*lab.exact, *lab.expanded))
        self._choices = list(dict.fromkeys(c for lab in labels for c in lab._choices))
        self._near = near_lengths(self._choices, FUZZY_THRESHOLD)

    @functools.lru_cache(maxsize=1 << 16)  # noqa: B019 - one per set of contracts, kept for the process
    def none_near(self, text: str) -> bool:
        """True when no contract's `Labels.match` gives the text a column, nor calls it ambiguous: no exact form
        of it is any contract's, and no contract's label scores as close as a typo must (an ambiguous text has
        one that does)."""
        folded, spelt = _forms(text)
        if folded in self.forms or spelt in self.forms:
            return False
        if not text or not _typo_candidate(spelt := expand(text)):
            return True
        return process.extractOne(spelt, self._near[len(spelt)], scorer=fuzz.ratio,
                                  score_cutoff=FUZZY_THRESHOLD) is None


@functools.lru_cache(maxsize=256)
def labels_for(source: str, overrides: tuple[tuple[str, str], ...] = ()) -> Labels:
    """The labels of a source with a regency's header overrides, built once per (source, overrides)."""
    return Labels(source, overrides)
