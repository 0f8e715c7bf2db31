"""Review of extracted facts: accept, correct, reject, auto-accept, and clear errors for bad review files."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from cakupan.reports.facts import Fact
from cakupan.reports.review import (
    ACCEPTED,
    PROPOSED,
    REJECTED,
    ReviewFileError,
    apply_review,
    load_review,
)


@pytest.fixture(autouse=True)
def _english(settings_factory, monkeypatch):
    """These tests read the English text of the catalogue's error messages (tests/i18n reads both languages);
    after settings_factory, which cleans every CAKUPAN_ variable."""
    monkeypatch.setenv("CAKUPAN_LANG", "en")

REPO = Path(__file__).resolve().parents[2]


def _fact(n: int, value, confidence: float, unit: str = "workers", kind: str = "count") -> Fact:
    return Fact(
        fact_id=f"000_test#{n}",
        source_file="000_test.txt",
        regency_code="73.72",
        event_date=date(2025, 4, 28),
        event_kind="mou_signed",
        fact_kind=kind,
        segment="pekerja_rentan" if kind != "branch" else None,
        role="total" if kind == "count" else "stated",
        value=value,
        unit=unit,
        effective_month=date(2025, 4, 1) if kind == "count" else None,
        sentence="…",
        start=0,
        end=1,
        confidence=confidence,
    )


FACTS = [
    _fact(1, 750, 0.95),  # high confidence, no decision → auto-accepted
    _fact(2, 1000, 0.60),  # low confidence, no decision → proposed
    _fact(3, 1000, 0.60),  # low confidence, accepted by a person
    _fact(4, 900, 0.90),  # high confidence, corrected
    _fact(5, 4000, 0.95),  # high confidence, rejected
    _fact(6, "Kantor Cabang Makassar", 0.70, unit="text", kind="branch"),  # corrected text value
]


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "report_facts.yml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


GOOD = """\
    auto_accept_confidence: 0.8
    decisions:
      - fact_id: "000_test#3"
        decision: accept
        by: "Dinas Tenaga Kerja Parepare (A. Rahman)"
        at: 2025-05-02
        why: "Matches the MoU annex"
      - fact_id: "000_test#4"
        decision: correct
        value: 1000
        effective_month: 2025-05
        by: "Dinas Tenaga Kerja Parepare (A. Rahman)"
        at: 2025-05-02
        why: "MoU annex says 1,000 from May 2025"
      - fact_id: "000_test#5"
        decision: reject
        by: "Auditor B"
        at: "2025-05-03"
        why: "Counts another regency"
      - fact_id: "000_test#6"
        decision: correct
        value: "Kantor Cabang Parepare"
        by: "Auditor B"
        at: 2025-05-03
        why: "Parepare branch opened in May"
"""


def test_accept_correct_reject_and_auto_accept(tmp_path):
    reviewed = {r.fact_id: r for r in apply_review(FACTS, _write(tmp_path, GOOD))}

    auto = reviewed["000_test#1"]
    assert (auto.status, auto.value, auto.decision, auto.reviewed_by) == (ACCEPTED, 750, "auto", "auto")
    assert auto.used

    proposed = reviewed["000_test#2"]
    assert (proposed.status, proposed.reviewed_by, proposed.reviewed_at) == (PROPOSED, None, None)
    assert not proposed.used

    accepted = reviewed["000_test#3"]
    assert (accepted.status, accepted.value, accepted.decision) == (ACCEPTED, 1000, "accept")
    assert accepted.reviewed_by == "Dinas Tenaga Kerja Parepare (A. Rahman)"
    assert accepted.reviewed_at == date(2025, 5, 2)
    assert accepted.review_why == "Matches the MoU annex"

    corrected = reviewed["000_test#4"]
    assert (corrected.status, corrected.value, corrected.decision) == (ACCEPTED, 1000, "correct")
    assert corrected.effective_month == date(2025, 5, 1)
    assert corrected.fact.value == 900  # the extracted value stays on the fact for the audit trail

    rejected = reviewed["000_test#5"]
    assert (rejected.status, rejected.decision, rejected.reviewed_at) == (
        REJECTED,
        "reject",
        date(2025, 5, 3),
    )
    assert not rejected.used

    branch = reviewed["000_test#6"]
    assert (branch.status, branch.value) == (ACCEPTED, "Kantor Cabang Parepare")


def test_threshold_is_inclusive(tmp_path):
    path = _write(tmp_path, "auto_accept_confidence: 0.95\ndecisions: []\n")
    reviewed = apply_review([_fact(1, 1, 0.95), _fact(2, 1, 0.94)], path)
    assert [r.status for r in reviewed] == [ACCEPTED, PROPOSED]


def test_the_committed_review_file_loads():
    config = load_review(REPO / "config" / "report_facts.yml")
    assert 0 <= config.auto_accept_confidence <= 1


def test_decimal_correction_for_a_percentage(tmp_path):
    fact = _fact(1, Decimal(48), 0.9, unit="percent", kind="participation_rate")
    path = _write(
        tmp_path,
        """\
        auto_accept_confidence: 0.8
        decisions:
          - {fact_id: "000_test#1", decision: correct, value: 48.5, by: x, at: 2025-01-01, why: typo}
    """,
    )
    assert apply_review([fact], path)[0].value == Decimal("48.5")


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("decisions: []\n", "auto_accept_confidence"),
        ("auto_accept_confidence: 1.5\ndecisions: []\n", "auto_accept_confidence"),
        ("auto_accept_confidence: high\ndecisions: []\n", "auto_accept_confidence"),
        ("auto_accept_confidence: 0.8\ndecisions: {}\n", "decisions"),
        ("auto_accept_confidence: 0.8\nthreshold: 1\n", "threshold"),
        (
            "auto_accept_confidence: 0.8\ndecisions:\n  - {decision: accept, by: x, at: 2025-01-01, why: y}\n",
            "decisions[0].fact_id",
        ),
        (
            "auto_accept_confidence: 0.8\ndecisions:\n  - {fact_id: a, decision: maybe, by: x, at: 2025-01-01, why: y}\n",
            "decisions[0].decision",
        ),
        (
            "auto_accept_confidence: 0.8\ndecisions:\n  - {fact_id: a, decision: accept, at: 2025-01-01, why: y}\n",
            "decisions[0].by",
        ),
        (
            "auto_accept_confidence: 0.8\ndecisions:\n  - {fact_id: a, decision: reject, by: x, at: 2025-01-01}\n",
            "decisions[0].why",
        ),
        (
            "auto_accept_confidence: 0.8\ndecisions:\n  - {fact_id: a, decision: accept, by: x, at: soon, why: y}\n",
            "decisions[0].at",
        ),
        (
            "auto_accept_confidence: 0.8\ndecisions:\n  - {fact_id: a, decision: correct, by: x, at: 2025-01-01, why: y}\n",
            "decisions[0].value",
        ),
        (
            (
                "auto_accept_confidence: 0.8\ndecisions:\n"
                "  - {fact_id: a, decision: correct, effective_month: April, by: x, at: 2025-01-01, why: y}\n"
            ),
            "decisions[0].effective_month",
        ),
        (
            "auto_accept_confidence: 0.8\ndecisions:\n  - {fact_id: a, decision: accept, value: 3, by: x, at: 2025-01-01, why: y}\n",
            "decisions[0].value",
        ),
        (
            "auto_accept_confidence: 0.8\ndecisions:\n  - {fact_id: a, decision: accept, by: x, at: 2025-01-01, why: y, who: z}\n",
            "decisions[0].who",
        ),
        (
            (
                "auto_accept_confidence: 0.8\ndecisions:\n  - {fact_id: a, decision: accept, by: x, at: 2025-01-01, why: y}\n"
                "  - {fact_id: a, decision: reject, by: x, at: 2025-01-02, why: y}\n"
            ),
            "decisions[1].fact_id",
        ),
        ("auto_accept_confidence: 0.8\ndecisions: [\n", "not valid YAML"),
        ("- just a list\n", "top level"),
    ],
)
def test_bad_review_file_names_file_and_key(tmp_path, body, key):
    path = _write(tmp_path, body)
    with pytest.raises(ReviewFileError) as err:
        load_review(path)
    assert str(path) in str(err.value)
    assert key in str(err.value)


def test_missing_review_file(tmp_path):
    with pytest.raises(ReviewFileError, match="does not exist"):
        apply_review(FACTS, tmp_path / "nope.yml")


def test_text_correction_of_a_count_is_refused(tmp_path):
    path = _write(
        tmp_path,
        """\
        auto_accept_confidence: 0.8
        decisions:
          - {fact_id: "000_test#1", decision: correct, value: seribu, by: x, at: 2025-01-01, why: y}
    """,
    )
    with pytest.raises(ReviewFileError, match="000_test#1"):
        apply_review(FACTS, path)
