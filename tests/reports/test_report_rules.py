"""Small pure pieces of the narrative extractor: numbers, dates, furniture, single rules on tiny texts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from cakupan.core.config import ConfigError
from cakupan.reports.document import (
    BODY,
    DATELINE,
    FURNITURE,
    TITLE,
    classify_lines,
    html_to_text,
    load_document,
)
from cakupan.reports.extract import extract_file, extract_text
from cakupan.reports.lexicon import effective_start, find_dates, parse_number_words
from cakupan.reports.vocabulary import ExtractionConfig

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
ARTICLES = REPO / "tests" / "fixtures" / "articles"


@pytest.fixture(scope="module")
def config() -> ExtractionConfig:
    return ExtractionConfig.from_dir(CONFIG)


# --- lexicon -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("dua ribu", 2000),
        ("seribu lima ratus", 1500),
        ("dua ratus lima puluh ribu", 250_000),
        ("sebelas", 11),
        ("tiga belas ribu", 13_000),
        ("satu juta dua ratus ribu", 1_200_000),
        ("dua", None),  # a bare unit word is too often not a count ("salah satu")
    ],
)
def test_parse_number_words(text, value):
    assert parse_number_words(text) == value


@pytest.mark.parametrize(
    ("text", "value", "weekday_ok"),
    [
        ("Senin (28/4/2025)", date(2025, 4, 28), True),
        ("Kamis 13 Maret 2025", date(2025, 3, 13), True),
        ("Kamis, 3 Oktober 2024", date(2024, 10, 3), True),
        ("28 Apr 2025 10:09 WITA", date(2025, 4, 28), True),
        ("pada 2025-03-13", date(2025, 3, 13), True),
        ("Selasa (28/4/2025)", date(2025, 4, 28), False),
    ],
)
def test_find_dates(text, value, weekday_ok):
    [found] = find_dates(text)
    assert (found.value, found.weekday_matches) == (value, weekday_ok)


@pytest.mark.parametrize(
    ("clause", "event", "month"),
    [
        ("kemudian dimulai bulan April ini bisa ditambah", date(2025, 4, 28), date(2025, 4, 1)),
        ("ditargetkan mulai Juli 2025", date(2025, 2, 5), date(2025, 7, 1)),
        ("mulai Januari", date(2024, 11, 12), date(2025, 1, 1)),  # said in November: next January
        ("terhitung mulai 1 Juni 2025", date(2025, 5, 2), date(2025, 6, 1)),
        ("mulai tahun 2026", date(2025, 5, 2), date(2026, 1, 1)),
        ("iuran Rp16.800 per orang per bulan", date(2025, 5, 2), None),
        ("verifikasi data sejak Januari", date(2025, 3, 13), None),  # "sejak" looks back, it starts nothing
    ],
)
def test_effective_start(clause, event, month):
    assert effective_start(clause, event)[0] == month


# --- furniture -----------------------------------------------------------------------------------------------
def test_classify_lines_marks_menu_ticker_dateline_title_and_related_list():
    ticker = "Headline Satu Resmi Dibuka Fasilitas Lengkap " * 5
    lines = [
        "Menu",
        ticker.strip(),
        "Parepare · 28 Apr 2025 10:09 WITA ·",
        "Judul Berita Tentang Pekerja Rentan",
        "PAREPARE — Pemkot Parepare meneken MoU dengan BPJS Ketenagakerjaan hari ini.",
        "Artikel ini telah dibaca 12 kali",
        "Baca Lainnya",
        "Headline Lain yang Tidak Berkaitan",
        "7 Maret 2026 - 19:06 WITA",
    ]
    text = "\n".join(lines)
    kinds = [b.kind for b in classify_lines(text)]
    assert kinds == [FURNITURE, FURNITURE, DATELINE, TITLE, BODY, FURNITURE, FURNITURE, FURNITURE, FURNITURE]


def test_html_to_text_drops_furniture_elements():
    html = """<html><head><title>x 99</title><script>var n = 5;</script></head><body>
      <nav><a>Top 10</a></nav><header><p>Situs 2025</p></header>
      <article><header><h1>Judul</h1></header>
        <p>Isi &amp; berita <span class="share-count">12 kali</span>pertama.</p>
        <div class="related-posts"><p>Lain 300</p></div><div id="sidebar">Trending 7</div>
        <p>Paragraf<br>kedua.</p></article>
      <aside>Samping 8</aside><footer>&copy; 2025</footer></body></html>"""
    assert html_to_text(html).splitlines() == ["Judul", "Isi & berita pertama.", "Paragraf", "kedua."]


def test_html_offsets_point_into_the_extracted_text(config):
    path = ARTICLES / "107_maros_portal.html"
    doc = load_document(path)
    facts = {f.value: f for f in extract_file(path, config).facts}
    assert doc.text[facts[2500].start : facts[2500].end] == "2.500"
    assert doc.text[facts[1100].start : facts[1100].end] == "1.100"


# --- single rules on tiny texts ------------------------------------------------------------------------------
HEAD = (
    "Pemkot Parepare Lindungi Pekerja Rentan\n\n"
    "PAREPARE — Pemerintah Kota Parepare dan BPJS Ketenagakerjaan menandatangani MoU perlindungan pekerja "
    "rentan, Senin (28/4/2025).\n\n"
)


def _facts(body: str, config) -> tuple[set[tuple], set[str]]:
    result = extract_text(HEAD + body + "\n", "t.txt", config)
    facts = {
        (f.regency_code, f.fact_kind, f.role, f.segment, f.value, f.effective_month) for f in result.facts
    }
    return facts, {s.code for s in result.skipped}


@pytest.mark.parametrize(
    ("body", "value"),
    [
        ("Pemkot menanggung iuran 2 ribu pekerja rentan.", 2000),
        ("Pemkot menanggung iuran 1,5 ribu pekerja rentan.", 1500),
        ("Pemkot menyiapkan anggaran Rp 2,5 miliar untuk iuran pekerja rentan.", 2_500_000_000),
        ("Pemkot menyiapkan anggaran Rp 705.600.000 untuk iuran pekerja rentan.", 705_600_000),
    ],
)
def test_number_values_in_prose(body, value, config):
    facts, _ = _facts(body, config)
    assert {f[4] for f in facts} == {value}


def test_comma_with_three_digits_is_ambiguous(config):
    facts, skipped = _facts("Pemkot menanggung iuran 1,500 pekerja rentan.", config)
    assert facts == set() and skipped == {"AMBIGUOUS_NUMBER"}


def test_claims_and_accidents_are_not_coverage(config):
    facts, skipped = _facts(
        "Tahun lalu BPJS Ketenagakerjaan membayar klaim kepada 12 pekerja rentan.", config
    )
    assert facts == set() and skipped == {"NOT_COVERAGE"}


def test_participants_of_all_segments_are_stated_not_promised(config):
    facts, _ = _facts("Jumlah peserta BPJS Ketenagakerjaan di Parepare saat ini 25.000 peserta.", config)
    assert facts == {("73.72", "count", "stated", "all_segments", 25000, None)}


def test_province_figure_is_not_given_to_the_regency(config):
    facts, skipped = _facts("Di Sulawesi Selatan sudah 250.000 pekerja rentan terlindungi.", config)
    assert facts == set() and skipped == {"SEVERAL_REGENCIES"}


def test_premium_percentage_is_not_participation(config):
    facts, skipped = _facts("Iuran peserta ditanggung 100 persen oleh APBD.", config)
    assert facts == set() and skipped == {"PERCENT_UNCLEAR"}


def test_two_totals_that_do_not_add_up_are_skipped(config):
    facts, skipped = _facts(
        "Pemkot menanggung iuran 1.000 pekerja rentan. Dari jumlah itu, Pemkot menanggung 800 pekerja rentan.",
        config,
    )
    assert facts == set() and skipped == {"CONFLICTING_TOTALS"}


def test_part_after_the_number(config):
    facts, _ = _facts("Pemkot menanggung iuran 1.000 pekerja rentan, 600 di antaranya nelayan.", config)
    assert facts == {
        ("73.72", "count", "total", "pekerja_rentan", 1000, None),
        ("73.72", "count", "part", "nelayan", 600, None),
    }


def test_regency_mentioned_in_passing_is_left_for_review(config):
    result = extract_text(
        HEAD + "Minggu kemarin Bupati Gowa juga menandatangani MoU untuk 2.000 pekerja rentan di desa.\n",
        "t.txt",
        config,
    )
    [fact] = result.facts
    assert fact.regency_code == "73.06"
    assert fact.confidence < 0.8


def test_weekday_that_does_not_match_lowers_confidence(config):
    text = (
        HEAD.replace("Senin (28/4/2025)", "Selasa (28/4/2025)")
        + "Pemkot menanggung iuran 1.000 pekerja rentan.\n"
    )
    [fact] = extract_text(text, "t.txt", config).facts
    assert fact.event_date == date(2025, 4, 28)
    assert fact.confidence < 0.8


def test_weekday_day_month_takes_the_year_of_the_dateline(config):
    text = (
        "Parepare · 29 Apr 2025 08:00 WITA ·\n\nPAREPARE — Pemkot Parepare meneken MoU perlindungan pekerja "
        "rentan dengan BPJS Ketenagakerjaan, Senin (28/4). Pemkot menanggung iuran 1.000 pekerja rentan.\n"
    )
    [fact] = extract_text(text, "t.txt", config).facts
    assert fact.event_date == date(2025, 4, 28)


# --- configuration -------------------------------------------------------------------------------------------
def test_regency_aliases_and_branches_come_from_the_regency_config():
    config = ExtractionConfig.from_dir(CONFIG)
    assert config.aliases["sidrap"] == "73.14"
    assert config.aliases["parepare"] == "73.72"
    assert config.aliases["palopo"] == "73.73"
    assert config.branches["73.72"] == "Kantor Cabang Makassar"


def test_bad_regency_code_names_the_file(tmp_path):
    (tmp_path / "regencies").mkdir()
    bad = tmp_path / "regencies" / "99.99.yml"
    bad.write_text("code: '99.99'\nname: Nowhere\naliases: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"99\.99\.yml.*code"):
        ExtractionConfig.from_dir(tmp_path)
