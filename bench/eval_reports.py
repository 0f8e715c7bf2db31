"""`make eval`: precision and recall of the narrative extractor on the labelled press-release corpus.

The corpus (tests/fixtures/press/NNN_<province>_<topic>.txt|.html, labels in the .yml beside each text) is written
by hand, independently of the extractor. A fact matches when (regency_code, fact_kind, role, segment, value,
effective_month) are equal; each label matches at most one extracted fact. Precision and recall are printed per
fact kind, per role and overall; `--json` prints them as one object.

    python -m bench.eval_reports [CORPUS_DIR] [--config DIR] [--json] [--misses]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "fixtures" / "press"
CONFIG = REPO / "config"
FIELDS = ("regency_code", "fact_kind", "role", "segment", "value", "effective_month")
TEXT_SUFFIXES = (".txt", ".html", ".htm")


def _value(v: object) -> object:
    """Normalise a value for comparison: numbers as Decimal without trailing zeros, text as stripped text."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float, Decimal)):
        return Decimal(str(v)).normalize()
    try:
        return Decimal(str(v).strip()).normalize()
    except InvalidOperation:
        return str(v).strip()


def _month(v: object) -> str | None:
    """Normalise an effective month to "YYYY-MM" (a label writes 2025-02, a fact holds date(2025, 2, 1))."""
    if v is None or v == "":
        return None
    if isinstance(v, date):
        return f"{v.year:04d}-{v.month:02d}"
    return str(v).strip()[:7]


def label_key(f: dict) -> tuple:
    """The match key of a labelled fact."""
    return (str(f["regency_code"]), f["fact_kind"], f["role"], f.get("segment"), _value(f["value"]),
            _month(f.get("effective_month")))


def fact_key(f) -> tuple:
    """The match key of an extracted fact."""
    return (f.regency_code, f.fact_kind, f.role, f.segment, _value(f.value), _month(f.effective_month))


@dataclass
class Score:
    """True positives, extracted and labelled counts, and the misses, for one group of facts."""

    tp: int = 0
    extracted: int = 0
    labelled: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.extracted if self.extracted else 1.0

    @property
    def recall(self) -> float:
        return self.tp / self.labelled if self.labelled else 1.0

    def as_dict(self) -> dict:
        return {"tp": self.tp, "extracted": self.extracted, "labelled": self.labelled,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4)}


@dataclass
class Evaluation:
    """Scores overall, per fact kind and per role, with the unmatched facts of each file."""

    overall: Score = field(default_factory=Score)
    by_kind: dict[str, Score] = field(default_factory=dict)
    by_role: dict[str, Score] = field(default_factory=dict)
    files: int = 0
    missed: list[tuple[str, tuple]] = field(default_factory=list)  # labelled, not extracted
    wrong: list[tuple[str, tuple, str]] = field(default_factory=list)  # extracted, not labelled (+ sentence)

    def _add(self, key: tuple, what: str, n: int = 1) -> None:
        for score in (self.overall, self.by_kind.setdefault(key[1], Score()), self.by_role.setdefault(key[2], Score())):
            setattr(score, what, getattr(score, what) + n)

    def as_dict(self) -> dict:
        return {"files": self.files, "overall": self.overall.as_dict(),
                "by_fact_kind": {k: s.as_dict() for k, s in sorted(self.by_kind.items())},
                "by_role": {k: s.as_dict() for k, s in sorted(self.by_role.items())}}


def corpus_files(corpus: Path) -> list[tuple[Path, Path]]:
    """Return (text, labels) pairs of the corpus, sorted by name."""
    out = []
    for label in sorted(Path(corpus).glob("*.yml")):
        texts = [label.with_suffix(s) for s in TEXT_SUFFIXES if label.with_suffix(s).exists()]
        if texts:
            out.append((texts[0], label))
    return out


def evaluate(corpus: Path = CORPUS, config_dir: Path = CONFIG) -> Evaluation:
    """Extract every corpus text and score the facts against its labels."""
    from cakupan.reports.extract import extract_file
    from cakupan.reports.vocabulary import ExtractionConfig

    config = ExtractionConfig.from_dir(config_dir)
    ev = Evaluation()
    for text, label in corpus_files(corpus):
        ev.files += 1
        labels = Counter(label_key(f) for f in (yaml.safe_load(label.read_text(encoding="utf-8")) or {}).get("facts") or [])
        facts = extract_file(text, config).facts
        got = Counter(fact_key(f) for f in facts)
        for key, n in labels.items():
            ev._add(key, "labelled", n)
            hit = min(n, got.get(key, 0))
            ev._add(key, "tp", hit)
            ev.missed.extend((text.name, key) for _ in range(n - hit))
        for key, n in got.items():
            ev._add(key, "extracted", n)
            over = n - min(n, labels.get(key, 0))
            if over:
                sentence = next(f.sentence for f in facts if fact_key(f) == key)
                ev.wrong.extend((text.name, key, sentence) for _ in range(over))
    return ev


def _table(title: str, rows: dict[str, Score]) -> list[str]:
    lines = [f"{title:<22} {'precision':>9} {'recall':>7} {'tp':>5} {'extracted':>9} {'labelled':>8}"]
    for name, s in rows.items():
        lines.append(f"  {name:<20} {s.precision:>9.3f} {s.recall:>7.3f} {s.tp:>5} {s.extracted:>9} {s.labelled:>8}")
    return lines


def report(ev: Evaluation, misses: bool = False) -> str:
    """Return the human-readable scores (and, with misses, every unmatched fact)."""
    lines = [f"Narrative extractor on {ev.files} labelled press releases"]
    lines += _table("overall", {"all facts": ev.overall})
    lines += _table("per fact kind", dict(sorted(ev.by_kind.items())))
    lines += _table("per role", dict(sorted(ev.by_role.items())))
    if misses:
        lines.append("missed (labelled, not extracted):")
        lines += [f"  {name}: {dict(zip(FIELDS, key, strict=True))}" for name, key in ev.missed]
        lines.append("wrong (extracted, not labelled):")
        lines += [f"  {name}: {dict(zip(FIELDS, key, strict=True))}\n      {s[:160]!r}" for name, key, s in ev.wrong]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--json", action="store_true", help="print the scores as one JSON object")
    parser.add_argument("--misses", action="store_true", help="list every missed and every wrong fact")
    args = parser.parse_args(argv)
    if not corpus_files(args.corpus):
        print(f"{args.corpus}: no labelled press releases (NNN_*.yml beside a .txt or .html)", file=sys.stderr)
        return 2
    ev = evaluate(args.corpus, args.config)
    print(json.dumps(ev.as_dict()) if args.json else report(ev, args.misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
