"""Golden facts for the seed city reports and the synthetic articles.

Every expectation below is written by hand from /work/shared/domain.md ("The facts in the seed reports") or
from the synthetic article's own text, never copied from the extractor's output. An effective month is expected
only where the text states when the figure starts (issue 18: never invented; the ledger's rule supplies the event
month); "akan menanggung" / "akan melindungi" state the promise itself, a total (issue 18). A fact is compared as
(regency, fact kind, role, segment, value, effective month); the set per file must match exactly.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from cakupan.reports.extract import extract_file
from cakupan.reports.vocabulary import ExtractionConfig

REPO = Path(__file__).resolve().parents[2]
SEED_DIR = REPO.parent / "shared" / "city_reports"
ARTICLES = REPO / "tests" / "fixtures" / "articles"
CONFIG = REPO / "config"

SEED_000 = "000_ad4fca7776d9b668.txt"
SEED_002 = "002_1f643c3dfab7203f.txt"
SEED_003 = "003_cb0cb53713b16e8c.txt"

PR = "pekerja_rentan"

# file → (event date, event kind, {(regency, fact_kind, role, segment, value, effective_month)})
SEED_EXPECTED = {
    # Parepare MoU, Monday 28 April 2025: ~750 covered before; from April 2025 a total of 1,000.
    # The article names the Makassar branch (Kepala Cabang BPJS Ketenagakerjaan Kota Makassar).
    SEED_000: (
        date(2025, 4, 28),
        "mou_signed",
        {
            ("73.72", "count", "previous", PR, 750, None),
            ("73.72", "count", "total", PR, 1000, date(2025, 4, 1)),
            ("73.72", "branch", "stated", None, "Kantor Cabang Makassar", None),
        },
    ),
    # Palopo MoU, Thursday 13 March 2025: 4,000 = 2,000 vulnerable workers + 2,000 fishermen.
    SEED_002: (
        date(2025, 3, 13),
        "mou_signed",
        {
            ("73.73", "count", "total", PR, 4000, None),
            ("73.73", "count", "part", PR, 2000, None),
            ("73.73", "count", "part", "nelayan", 2000, None),
        },
    ),
    # Parepare audience, Thursday 3 October 2024: participation 48 percent, all segments.
    SEED_003: (
        date(2024, 10, 3),
        "audience_report",
        {
            ("73.72", "participation_rate", "stated", "all_segments", Decimal(48), None),
        },
    ),
}

ARTICLE_EXPECTED = {
    "101_pinrang_mou.txt": (
        date(2025, 1, 14),
        "mou_signed",
        {
            ("73.15", "count", "total", PR, 1500, None),
            ("73.15", "count", "part", "petani", 900, None),
            ("73.15", "count", "part", "nelayan", 600, None),
            ("73.15", "branch", "stated", None, "Kantor Cabang Parepare", None),
        },
    ),
    "102_maros_target.txt": (
        date(2025, 2, 5),
        "target_announced",
        {
            ("73.09", "count", "target", PR, 3000, date(2025, 7, 1)),
            ("73.09", "count", "stated", PR, 1250, None),
        },
    ),
    "103_gowa_budget.txt": (
        date(2025, 3, 7),
        "mou_signed",
        {
            ("73.06", "budget", "stated", PR, Decimal(1200000000), None),
            ("73.06", "count", "total", PR, 5950, None),
        },
    ),
    "104_makassar_audience.txt": (
        date(2024, 10, 9),
        "audience_report",
        {
            ("73.71", "participation_rate", "stated", "all_segments", Decimal("61.5"), None),
            ("73.71", "branch", "stated", None, "Kantor Cabang Makassar", None),
        },
    ),
    "105_sidrap_pinrang.txt": (
        date(2025, 2, 20),
        "mou_signed",
        {
            ("73.14", "count", "total", PR, 1200, None),
            ("73.15", "count", "total", PR, 800, None),
        },
    ),
    "106_wajo_no_numbers.txt": (None, None, set()),
    "107_maros_portal.html": (
        date(2025, 2, 10),
        "mou_signed",
        {
            ("73.09", "count", "previous", PR, 1100, None),
            ("73.09", "count", "total", PR, 2500, None),
            ("73.09", "branch", "stated", None, "Kantor Cabang Makassar", None),
        },
    ),
    "108_bone_ambiguous.txt": (
        date(2025, 3, 15),
        None,
        {
            ("73.08", "count", "previous", PR, 2400, None),
        },
    ),
    "109_enrekang_target_2026.txt": (
        date(2024, 11, 12),
        "target_announced",
        {
            ("73.16", "count", "target", PR, 4000, date(2026, 1, 1)),
            ("73.16", "count", "previous", PR, 2150, None),
            ("73.16", "budget", "stated", PR, Decimal(372960000), None),
        },
    ),
    "110_sidrap_dateline.txt": (
        date(2025, 5, 21),
        "mou_signed",
        {
            ("73.14", "count", "total", PR, 3500, None),
            ("73.14", "count", "part", "petani", 2000, None),
            ("73.14", "count", "part", "nelayan", 800, None),
            ("73.14", "count", "part", "pedagang", 700, None),
            ("73.14", "branch", "stated", None, "Kantor Cabang Parepare", None),
        },
    ),
    "111_parepare_words.txt": (
        date(2025, 1, 13),
        "target_announced",
        {
            ("73.72", "count", "target", PR, 1500, None),
            ("73.72", "participation_rate", "stated", "all_segments", Decimal(35), None),
        },
    ),
    "112_barru_furniture.txt": (
        date(2025, 2, 6),
        "mou_signed",
        {
            ("73.11", "count", "total", PR, 1800, None),
            ("73.11", "count", "previous", PR, 640, None),
        },
    ),
}


@pytest.fixture(scope="module")
def config() -> ExtractionConfig:
    return ExtractionConfig.from_dir(CONFIG)


def _keys(facts) -> set[tuple]:
    return {(f.regency_code, f.fact_kind, f.role, f.segment, f.value, f.effective_month) for f in facts}


def _check(path: Path, expected, config) -> None:
    event_date, event_kind, fact_set = expected
    result = extract_file(path, config)
    assert _keys(result.facts) == fact_set
    assert len(result.facts) == len(fact_set), "a fact was extracted twice"
    for f in result.facts:
        assert f.source_file == path.name
        assert f.fact_id.startswith(f"{path.stem}#")
        if event_date is not None:
            assert f.event_date == event_date
        if event_kind is not None:
            assert f.event_kind == event_kind
        assert 0.0 <= f.confidence <= 1.0
        assert f.sentence.strip()
        assert (
            f.unit
            == {"count": "workers", "participation_rate": "percent", "budget": "IDR", "branch": "text"}[
                f.fact_kind
            ]
        )


@pytest.mark.skipif(not SEED_DIR.exists(), reason="seed city reports (../shared/city_reports) not present")
@pytest.mark.parametrize("name", sorted(SEED_EXPECTED))
def test_seed_report_facts(name, config):
    _check(SEED_DIR / name, SEED_EXPECTED[name], config)


@pytest.mark.parametrize("name", sorted(ARTICLE_EXPECTED))
def test_synthetic_article_facts(name, config):
    _check(ARTICLES / name, ARTICLE_EXPECTED[name], config)


def test_every_article_fixture_has_an_expectation():
    on_disk = {p.name for p in ARTICLES.iterdir() if p.suffix in (".txt", ".html")}
    assert on_disk == set(ARTICLE_EXPECTED)


# --- offsets, furniture and stability on the seeds -------------------------------------------------------
def _seed_text(name: str) -> str:
    return (SEED_DIR / name).read_bytes().decode("utf-8")


@pytest.mark.skipif(not SEED_DIR.exists(), reason="seed city reports not present")
def test_seed_offsets_point_into_the_original_text(config):
    text = _seed_text(SEED_000)
    facts = {f.value: f for f in extract_file(SEED_DIR / SEED_000, config).facts}
    assert text[facts[750].start : facts[750].end] == "750"
    assert text[facts[1000].start : facts[1000].end] == "1000"
    assert "sekitar 750 orang" in facts[750].sentence
    assert facts[750].sentence in text


@pytest.mark.skipif(not SEED_DIR.exists(), reason="seed city reports not present")
def test_seed_furniture_is_never_read(config):
    result = extract_file(SEED_DIR / SEED_000, config)
    text = _seed_text(SEED_000)
    furniture_start = text.index("Artikel ini telah dibaca")
    ticker_end = text.index("Parepare · 28 Apr")
    spans = [(f.start, f.end) for f in result.facts] + [(s.start, s.end) for s in result.skipped]
    for start, _ in spans:
        assert ticker_end <= start < furniture_start
    values = {f.value for f in result.facts}
    assert 100 not in values and Decimal(300_000_000) not in values
    assert all(f.event_date.year == 2025 for f in result.facts)  # not 2026 from the related headlines


@pytest.mark.skipif(not SEED_DIR.exists(), reason="seed city reports not present")
def test_seed_002_repeated_total_is_skipped_as_duplicate(config):
    result = extract_file(SEED_DIR / SEED_002, config)
    assert [s.code for s in result.skipped] == ["DUPLICATE"]
    assert "4.000 masyarakat" in result.skipped[0].sentence


@pytest.mark.skipif(not SEED_DIR.exists(), reason="seed city reports not present")
def test_fact_ids_are_stable_across_runs(config):
    first = extract_file(SEED_DIR / SEED_002, config).facts
    second = extract_file(SEED_DIR / SEED_002, config).facts
    assert [f.fact_id for f in first] == [f.fact_id for f in second]
    assert [f.fact_id for f in first] == [f"002_1f643c3dfab7203f#{i}" for i in range(1, len(first) + 1)]
    assert first == second


# --- skipped numbers in the synthetic articles ----------------------------------------------------------
def _skipped(name: str, config) -> dict[str, str]:
    path = ARTICLES / name
    text = path.read_text(encoding="utf-8")
    return {text[s.start : s.end]: s.code for s in extract_file(path, config).skipped}


def test_ambiguous_numbers_are_skipped_not_guessed(config):
    skipped = _skipped("108_bone_ambiguous.txt", config)
    assert skipped["3.000"] == "RANGE"
    assert skipped["3.500"] == "RANGE"
    assert skipped["600"] == "BOUND"
    assert skipped["27"] == "NOT_WORKERS"


def test_total_over_two_regencies_is_skipped(config):
    assert _skipped("105_sidrap_pinrang.txt", config) == {"2.000": "SEVERAL_REGENCIES"}


def test_premium_per_person_is_not_a_budget(config):
    skipped = _skipped("103_gowa_budget.txt", config)
    assert skipped == {"Rp16.800": "PER_PERSON_AMOUNT"}


def test_change_in_percent_is_not_a_participation_rate(config):
    assert _skipped("104_makassar_audience.txt", config) == {"4 persen": "PERCENT_CHANGE"}


def test_furniture_numbers_in_txt_are_not_seen(config):
    # ticker, "Baca Juga" line, view counter and the related list all carry numbers: none is a fact or skipped
    assert _skipped("112_barru_furniture.txt", config) == {}
    assert _skipped("101_pinrang_mou.txt", config) == {}


def test_html_furniture_is_dropped(config):
    path = ARTICLES / "107_maros_portal.html"
    result = extract_file(path, config)
    assert result.skipped == []
    for f in result.facts:
        assert "Baca Juga" not in f.sentence and "Iklan" not in f.sentence


def test_no_numbers_no_facts(config):
    result = extract_file(ARTICLES / "106_wajo_no_numbers.txt", config)
    assert result.facts == [] and result.skipped == []


def test_event_date_falls_back_to_the_dateline(config):
    facts = extract_file(ARTICLES / "110_sidrap_dateline.txt", config).facts
    assert {f.event_date for f in facts} == {date(2025, 5, 21)}


def test_branch_matching_config_is_confident(config):
    facts = {f.fact_kind: f for f in extract_file(ARTICLES / "110_sidrap_dateline.txt", config).facts}
    assert facts["branch"].confidence >= 0.8  # config/regencies/73.14.yml names the same branch
    makassar = [
        f
        for f in extract_file(ARTICLES / "104_makassar_audience.txt", config).facts
        if f.fact_kind == "branch"
    ]
    assert makassar[0].confidence < 0.8  # no configured branch to confirm it: left for review


def test_unsupported_format_is_reported(tmp_path, config):
    pdf = tmp_path / "laporan.pdf"
    pdf.write_bytes(b"%PDF-1.4 ...")
    result = extract_file(pdf, config)
    assert result.facts == []
    assert [s.code for s in result.skipped] == ["FORMAT_UNSUPPORTED"]
