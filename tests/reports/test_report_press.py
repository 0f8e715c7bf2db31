"""Real reporters' phrasing (issue 18): regencies anywhere, number grammar, roles, effective months, local vs
national percentages, budgets vs benefits, families and workforce totals, dates without a year, hard wrapping,
and a reason for every number that gives no fact.

Each expected value is read off the sentence by hand (what a careful reader takes from it), never copied from
the extractor's output.
"""

from __future__ import annotations

import re
import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from cakupan.reports.extract import extract_file, extract_text
from cakupan.reports.vocabulary import ExtractionConfig

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
ARTICLES = REPO / "tests" / "fixtures" / "articles"
SEED_DIR = REPO.parent / "shared" / "city_reports"
PR = "pekerja_rentan"

# a Parepare MoU article (configured), dated Monday 28 April 2025
HEAD = (
    "Pemkot Parepare Lindungi Pekerja Rentan\n\n"
    "PAREPARE — Pemerintah Kota Parepare dan BPJS Ketenagakerjaan menandatangani MoU perlindungan pekerja "
    "rentan, Senin (28/4/2025).\n\n"
)


@pytest.fixture(scope="module")
def config() -> ExtractionConfig:
    return ExtractionConfig.from_dir(CONFIG)


def _run(body: str, config, head: str = HEAD):
    result = extract_text(head + body + "\n", "t.txt", config)
    facts = {(f.regency_code, f.fact_kind, f.role, f.segment, f.value, f.effective_month) for f in result.facts}
    text = head + body + "\n"
    skipped = {text[s.start : s.end]: s.code for s in result.skipped}
    return facts, skipped, result


# --- numbers -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("phrase", "value"),
    [
        ("2.000 (dua ribu) pekerja rentan", 2000),
        ("dua ribu pekerja rentan", 2000),
        ("2 ribu pekerja rentan", 2000),
        ("1,2 juta pekerja rentan", 1_200_000),
        ("seribu lima ratus pekerja rentan", 1500),
    ],
)
def test_number_grammar(phrase, value, config):
    facts, skipped, _ = _run(f"Pemkot akan mengikutsertakan {phrase} dalam program ini.", config)
    assert facts == {("73.72", "count", "total", PR, value, None)}
    assert skipped == {}


def test_a_number_and_its_words_that_disagree_are_skipped(config):
    facts, skipped, _ = _run("Pemkot akan mengikutsertakan 2.000 (tiga ribu) pekerja rentan.", config)
    assert facts == set() and set(skipped.values()) == {"AMBIGUOUS_NUMBER"}


def test_vague_amounts_are_skipped_with_a_reason(config):
    facts, skipped, _ = _run("Ratusan pekerja rentan di pesisir belum terlindungi jaminan sosial.", config)
    assert facts == set() and skipped == {"Ratusan": "VAGUE_NUMBER"}


# --- roles ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Jumlah peserta pekerja rentan ditambah menjadi 5.000 orang.", {("total", PR, 5000)}),
        ("Kerja sama ini akan mengikutsertakan 1.600 pekerja rentan.", {("total", PR, 1600)}),
        ("Pemkot mendaftarkan sebanyak 1.200 pekerja rentan ke BPJS Ketenagakerjaan.", {("total", PR, 1200)}),
        (
            "Hingga kini telah terdaftar sebanyak 953 pekerja rentan, dari target awalnya 1.000 orang.",
            {("stated", PR, 953), ("target", PR, 1000)},
        ),
        (
            "Pemkot menanggung iuran 1.000 pekerja rentan, terdiri atas 600 nelayan dan sisanya 400 petani.",
            {("total", PR, 1000), ("part", "nelayan", 600), ("part", "petani", 400)},
        ),
        ("Sebelumnya baru 750 pekerja rentan yang terlindungi.", {("previous", PR, 750)}),
        ("Pada tahun 2024 Pemkot telah melindungi 640 pekerja rentan.", {("previous", PR, 640)}),
        ("Pemkot menargetkan 3.000 pekerja rentan terlindungi.", {("target", PR, 3000)}),
    ],
)
def test_roles_of_real_phrasing(body, expected, config):
    facts, _, _ = _run(body, config)
    assert {(f[2], f[3], f[4]) for f in facts} == expected


def test_an_addition_is_not_a_total(config):
    facts, skipped, _ = _run("Tahun ini kuota pekerja rentan ditambah 500 orang lagi.", config)
    assert facts == set() and skipped == {"500": "INCREMENT"}


# --- effective months: stated only ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "month"),
    [
        ("Pemkot menanggung iuran 1.000 pekerja rentan yang berlaku mulai Februari 2025.", date(2025, 2, 1)),
        ("Perlindungan bagi 1.000 pekerja rentan mulai berlaku Januari 2026.", date(2026, 1, 1)),
        ("Pemkot menanggung iuran 1.000 pekerja rentan untuk periode November dan Desember 2025.", date(2025, 11, 1)),
        ("Pemkot menanggung iuran 1.000 pekerja rentan selama dua bulan.", None),
        ("Pemkot menanggung iuran 1.000 pekerja rentan.", None),  # never the signing month
    ],
)
def test_effective_month_only_as_stated(body, month, config):
    facts, _, _ = _run(body, config)
    assert facts == {("73.72", "count", "total", PR, 1000, month)}


def test_the_article_one_stated_start_applies_to_its_promise(config):
    body = (
        "Pemkot menanggung iuran 1.000 pekerja rentan.\n\n"
        "Kerja sama ini berlaku selama tiga bulan terhitung mulai 1 Oktober 2025.\n"
    )
    facts, _, _ = _run(body, config)
    assert facts == {("73.72", "count", "total", PR, 1000, date(2025, 10, 1))}


# --- percentages, budgets, not workers -------------------------------------------------------------------------
def test_local_and_national_percentages_in_one_sentence(config):
    facts, skipped, _ = _run(
        "Kepesertaan BPJS Ketenagakerjaan di Parepare baru 35 persen, sementara target nasional 49 persen.", config
    )
    assert facts == {("73.72", "participation_rate", "stated", "all_segments", Decimal(35), None)}
    assert skipped == {"49 persen": "PERCENT_NATIONAL"}


@pytest.mark.parametrize(
    ("amount", "value"),
    [
        ("Rp.201.600.000", 201_600_000),
        ("Rp 1,008 miliar", 1_008_000_000),
        ("Rp661.149.750", 661_149_750),
        ("Rp254 juta", 254_000_000),
    ],
)
def test_budget_amounts(amount, value, config):
    facts, _, _ = _run(f"Pemkot menyiapkan anggaran {amount} untuk iuran pekerja rentan.", config)
    assert facts == {("73.72", "budget", "stated", PR, value, None)}


def test_premiums_and_benefits_are_not_budgets(config):
    facts, skipped, _ = _run(
        "Iuran Rp16.800 per orang per bulan. Ahli waris menerima santunan kematian Rp42 juta.", config
    )
    assert facts == set()
    assert skipped == {"Rp16.800": "PER_PERSON_AMOUNT", "Rp42 juta": "BENEFIT"}


def test_families_and_workforce_totals_are_not_vulnerable_worker_promises(config):
    facts, skipped, _ = _run(
        "Program ini menyasar 2.500 keluarga miskin. Parepare memiliki 19.234 pekerja penerima upah (PU), "
        "7.505 pekerja bukan penerima upah (BPU) dan 1.260 pekerja jasa konstruksi.",
        config,
    )
    assert facts == set()
    assert skipped == {
        "2.500": "NOT_WORKERS",
        "19.234": "NOT_VULNERABLE",
        "7.505": "NOT_VULNERABLE",
        "1.260": "NOT_VULNERABLE",
    }


# --- regencies anywhere in Indonesia -----------------------------------------------------------------------------
BREBES = (
    "Pemkab Brebes Teken MoU Perlindungan Pekerja Rentan\n\n"
    "BREBES - Pemerintah Kabupaten (Pemkab) Brebes dan BPJS Ketenagakerjaan Cabang Tegal menandatangani "
    "nota kesepahaman pada Kamis (25/7). Pemkab Brebes akan mengikutsertakan 3.000 pekerja rentan.\n"
    "Baca Juga: Pemkab Tegal Salurkan 500 Paket Sembako, 12 Juli 2024\n"
)


def test_a_regency_that_is_not_configured_is_read_and_marked(config):
    result = extract_text(BREBES, "brebes.txt", config)
    [fact] = [f for f in result.facts if f.fact_kind == "count"]
    assert (fact.regency_code, fact.role, fact.value) == ("33.29", "total", 3000)
    assert {f.value for f in result.facts if f.fact_kind == "branch"} == {"Kantor Cabang Tegal"}
    assert all(f.regency_configured is False for f in result.facts)
    assert fact.event_date is None  # "Kamis (25/7)" has no year, and the related-news date is not the article's
    [note] = result.notes
    assert note.code == "REGENCY_NOT_CONFIGURED" and "config/regencies/33.29.yml" in note.reason
    assert not [s for s in result.skipped if s.code == "REGENCY_UNCLEAR"]


def test_a_configured_regency_has_no_note(config):
    _, _, result = _run("Pemkot menanggung iuran 1.000 pekerja rentan.", config)
    assert result.notes == [] and all(f.regency_configured for f in result.facts)


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        ("Pemkot Binjai menanggung iuran 1.000 pekerja rentan.", "12.75"),
        ("Pemda Pulau Morotai menanggung iuran 1.000 pekerja rentan.", "82.07"),
        ("Pemkab Muba menanggung iuran 1.000 pekerja rentan.", "16.06"),
        ("Bupati PPU menyebut Pemkab menanggung iuran 1.000 pekerja rentan.", "64.09"),
        ("Pemkot Bogor menanggung iuran 1.000 pekerja rentan.", "32.71"),
        ("Pemkab Bogor menanggung iuran 1.000 pekerja rentan.", "32.01"),
    ],
)
def test_regencies_as_reporters_name_them(sentence, code, config):
    result = extract_text(f"Judul Berita\n\n{sentence}\n", "t.txt", config)
    assert [f.regency_code for f in result.facts] == [code]


def test_a_province_figure_is_not_the_regency_s(config):
    facts, skipped, _ = _run("Di Sulawesi Utara sudah 100 ribu pekerja rentan terlindungi.", config)
    assert facts == set() and skipped == {"100 ribu": "SEVERAL_REGENCIES"}


# --- hard-wrapped text reads like the original ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["101_pinrang_mou.txt", "110_sidrap_dateline.txt", "112_barru_furniture.txt"])
def test_hard_wrapped_release_gives_the_same_facts(name, config, tmp_path):
    original = (ARTICLES / name).read_text(encoding="utf-8")
    wrapped = "\n".join(
        textwrap.fill(line, width=68) if len(line) > 68 else line for line in original.split("\n")
    )
    assert wrapped != original
    path = tmp_path / name
    path.write_text(wrapped, encoding="utf-8")

    def keys(p):
        return {(f.regency_code, f.fact_kind, f.role, f.segment, f.value, f.effective_month)
                for f in extract_file(p, config).facts}

    assert keys(path) == keys(ARTICLES / name)


# --- nothing vanishes without a trace ---------------------------------------------------------------------------
QUANTITY = re.compile(
    r"(?:\bRp\.?\s?\d[\d.,]*(?:\s*(?:juta|miliar))?|\b\d[\d.,]*\s*(?:ribu\s+)?(?:orang|pekerja|jiwa|persen|%|peserta|"
    r"nelayan|petani|masyarakat))",
    re.IGNORECASE,
)


def _paths():
    yield from sorted(ARTICLES.iterdir())
    if SEED_DIR.exists():
        yield from sorted(SEED_DIR.iterdir())


@pytest.mark.parametrize("path", list(_paths()), ids=lambda p: p.name)
def test_every_quantity_in_the_article_gives_a_fact_or_a_reason(path, config):
    from cakupan.reports.document import BODY, load_document

    doc = load_document(path)
    result = extract_file(path, config)
    spans = [(f.start, f.end) for f in result.facts] + [(s.start, s.end) for s in result.skipped]
    for block in doc.of_kind(BODY):
        for m in QUANTITY.finditer(doc.text, block.start, block.end):
            assert any(a < m.end() and m.start() < b for a, b in spans), f"{path.name}: {m.group()!r} vanished"
