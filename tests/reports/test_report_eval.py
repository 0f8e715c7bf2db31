"""The extractor on the hand-labelled press-release corpus (tests/fixtures/press, written independently of it):
precision at least 0.98 and recall at least 0.90 over every fact, scored by `bench/eval_reports.py` (`make eval`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.eval_reports import CORPUS, corpus_files, evaluate, fact_key, label_key

MIN_PRECISION = 0.98
MIN_RECALL = 0.90


@pytest.mark.skipif(not corpus_files(CORPUS), reason="the press corpus (tests/fixtures/press) is not in this tree")
def test_extractor_meets_precision_and_recall_on_the_corpus():
    ev = evaluate()
    assert ev.files >= 60
    wrong = "\n".join(f"  {name}: {key}" for name, key, _ in ev.wrong)
    missed = "\n".join(f"  {name}: {key}" for name, key in ev.missed)
    assert ev.overall.precision >= MIN_PRECISION, f"precision {ev.overall.precision:.3f}; wrong facts:\n{wrong}"
    assert ev.overall.recall >= MIN_RECALL, f"recall {ev.overall.recall:.3f}; missed facts:\n{missed}"


def test_scoring_matches_on_every_field(tmp_path: Path):
    """A fact counts only when regency, kind, role, segment, value and effective month all agree."""
    (tmp_path / "900_x_mou.txt").write_text(
        "Pemkot Parepare Lindungi Pekerja Rentan\n\nPAREPARE — Pemerintah Kota Parepare menandatangani MoU "
        "perlindungan pekerja rentan, Senin (28/4/2025). Pemkot akan mengikutsertakan 1.000 pekerja rentan "
        "yang berlaku mulai Mei 2025.\n",
        encoding="utf-8",
    )
    (tmp_path / "900_x_mou.yml").write_text(
        "facts:\n"
        "  - {regency_code: '73.72', fact_kind: count, role: total, segment: pekerja_rentan, value: 1000,"
        " effective_month: '2025-05'}\n"
        "  - {regency_code: '73.72', fact_kind: count, role: total, segment: pekerja_rentan, value: 1000,"
        " effective_month: '2025-04'}\n",
        encoding="utf-8",
    )
    ev = evaluate(tmp_path)
    assert (ev.overall.tp, ev.overall.extracted, ev.overall.labelled) == (1, 1, 2)
    assert ev.overall.precision == 1.0 and ev.overall.recall == 0.5
    assert ev.by_role["total"].labelled == 2 and ev.by_kind["count"].tp == 1
    assert label_key({"regency_code": "73.72", "fact_kind": "budget", "role": "stated", "segment": None,
                      "value": 1.5e9}) == ("73.72", "budget", "stated", None, fact_key_value(1_500_000_000), None)


def fact_key_value(v):
    from decimal import Decimal

    return Decimal(v).normalize()


def test_fact_key_reads_extracted_facts():
    from datetime import date

    from cakupan.reports.facts import Fact

    f = Fact("a#1", "a.txt", "73.72", None, "mou_signed", "count", "pekerja_rentan", "total", 1000, "workers",
             date(2025, 5, 1), "s", 0, 1, 0.9)
    assert fact_key(f) == ("73.72", "count", "total", "pekerja_rentan", fact_key_value(1000), "2025-05")
