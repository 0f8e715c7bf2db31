"""The one regency name matcher (core.regions): whole names, names in prose, the regency a title names."""

from __future__ import annotations

import pytest
from cakupan.core.regions import NameMatch, RegencyNames, fold_name, resolve_regency

ALIASES = {"sidrap": "73.14", "parepare": "73.72", "palopo": "73.73"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Kota Parepare", "73.72"),
        ("KOTA PAREPARE", "73.72"),
        ("7372", "73.72"),
        ("73.72", "73.72"),
        ("Kab. Sidenreng Rappang", "73.14"),
        ("Kota Bekasi", "32.75"),
        ("Kabupaten Bekasi", "32.16"),
        ("Bekasi", None),  # a Kabupaten and a Kota share the name: the text must say which
        ("Sidrap", None),  # a reporter's short name: only an alias knows it
        ("", None),
    ],
)
def test_resolve_regency_official_names_and_codes(text, code):
    assert resolve_regency(text) == code


def test_resolve_regency_aliases_win():
    assert resolve_regency("Kab Sidrap", ALIASES) == "73.14"
    assert fold_name("Kota Pare-Pare") == "parepare"


@pytest.mark.parametrize(
    ("name", "before", "code"),
    [
        ("Bekasi", "Pemkab ", "32.16"),
        ("Bekasi", "Bupati ", "32.16"),
        ("Bekasi", "Pemkot ", "32.75"),
        ("Bekasi", "Wali Kota ", "32.75"),
        ("Bekasi", "rapat di ", None),
        ("2025", "Kota ", None),  # numbers are never names, even after a cue word
    ],
)
def test_resolve_reads_a_cue_word_before_the_name(name, before, code):
    assert RegencyNames().resolve(name, before) == code


def test_resolve_keeps_only_the_given_provinces():
    names = RegencyNames(ALIASES, provinces={"73"})
    assert names.resolve("Maros") == "73.09"
    assert names.resolve("Kota Bekasi") is None


def test_mentions_finds_capitalised_names_longest_first():
    text = "Pemkot Parepare dan Pemkab Sidrap bersama Kabupaten Sidenreng Rappang, bukan pekerja palopo."
    found = RegencyNames(ALIASES).mentions(text)
    assert [(text[m.start : m.end], m.code) for m in found] == [
        ("Parepare", "73.72"),
        ("Sidrap", "73.14"),
        ("Kabupaten Sidenreng Rappang", "73.14"),
    ]
    assert found[0] == NameMatch(7, 15, "73.72")


def test_mentions_within_a_span():
    text = "PAREPARE — Wali Kota Palopo hadir."
    names = RegencyNames(ALIASES)
    assert [m.code for m in names.mentions(text, 11)] == ["73.73"]


@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("DAFTAR PESERTA PEKERJA RENTAN KOTA PALOPO BULAN APRIL 2025", "73.73"),
        ("daftar peserta kab.sidrap 2025", "73.14"),
        ("DAFTAR PESERTA KOTA PARE-PARE", "73.72"),
        ("DAFTAR PEKERJA RENTAN KABUPATEN PINRANG", None),  # not a configured regency
        ("PAREPARE DAN PALOPO", None),  # several: the title does not say which
        ("DAFTAR PESERTA 7372", None),  # a number is not a name
    ],
)
def test_named_in_finds_the_one_configured_regency_of_a_title(title, code):
    assert RegencyNames(ALIASES, official=False).named_in(title) == code


# --- a Kabupaten and a Kota of the same name, both configured (Bogor: 32.01 and 32.71) ----------------------
def _bogor_config(tmp_path):
    from cakupan.core.config import alias_index, load_regencies

    (tmp_path / "regencies").mkdir()
    (tmp_path / "regencies" / "32.01.yml").write_text("code: '32.01'\nname: Kabupaten Bogor\naliases: []\n")
    (tmp_path / "regencies" / "32.71.yml").write_text("code: '32.71'\nname: Kota Bogor\naliases: []\n")
    return alias_index(load_regencies(tmp_path))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Kabupaten Bogor", "32.01"),
        ("Kab. Bogor", "32.01"),
        ("KAB BOGOR", "32.01"),
        ("Kota Bogor", "32.71"),
        ("KOTA BOGOR", "32.71"),
        ("Bogor", None),  # both are configured: the name alone does not say which
    ],
)
def test_a_configured_kabupaten_and_kota_of_one_name_stay_apart(tmp_path, text, code):
    aliases = _bogor_config(tmp_path)
    assert resolve_regency(text, aliases) == code  # the loader's regency column
    assert RegencyNames(aliases, official=False).named_in(f"DAFTAR PESERTA {text} BULAN APRIL 2025") == code
    assert RegencyNames(aliases).resolve(text) == code


def test_a_bare_alias_is_the_regency_own_word_for_itself(tmp_path):
    from cakupan.core.regions import build_alias_index

    aliases = build_alias_index([("Kota Bogor", "32.71"), ("Bogor", "32.71"), ("Kabupaten Bogor", "32.01")])
    assert resolve_regency("Bogor", aliases) == "32.71"
    assert resolve_regency("Kabupaten Bogor", aliases) == "32.01"
    assert resolve_regency("Kota Bogor", aliases) == "32.71"


def test_a_prefix_must_agree_with_an_alias():
    assert resolve_regency("Kota Sidrap", ALIASES) is None  # Sidrap is a Kabupaten
    assert resolve_regency("Provinsi Bengkulu") is None  # a province is not Kota Bengkulu
    assert resolve_regency("Kota Administrasi Jakarta Selatan") == "31.74"
    assert resolve_regency("Jakarta Selatan") == "31.74"


# --- prose: every regency, reporters' short names, provinces ----------------------------------------------
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Pemkab Muba menanggung iuran", "16.06"),
        ("Bupati PPU menandatangani", "64.09"),
        ("Pemkab Pangkep dan", "73.10"),
        ("warga Kukar yang", "64.02"),
        ("Pemkab Brebes", "33.29"),
        ("Pemkot Binjai", "12.75"),
        ("Pemda Pulau Morotai", "82.07"),
        ("Kabupaten Bolaang Mongondow Selatan", "71.11"),
        ("Pemerintah Kota (Pemkot) Bengkulu", "17.71"),
        ("Pemko Pematangsiantar", "12.72"),
        ("Wali Kota Bekasi", "32.75"),
        ("di Bengkulu", None),  # the province as often as the city
        ("Puncak acara itu", None),  # an everyday word that is also a regency's name needs a cue
        ("Bupati Puncak", "94.05"),
        ("Provinsi Jambi", None),
        ("Sulawesi Selatan", None),
    ],
)
def test_mentions_read_every_regency_as_reporters_write_it(text, code):
    found = RegencyNames().mentions(text)
    assert [m.code for m in found] == ([code] if code else [])


def test_province_mentions_leave_regencies_alone():
    names = RegencyNames()
    text = "Kabupaten Aceh Besar, Provinsi Aceh, dan warga Sulsel serta Kalimantan Timur"
    got = [(text[m.start : m.end], m.code) for m in names.province_mentions(text)]
    assert got == [("Provinsi Aceh", "11"), ("Sulsel", "73"), ("Kalimantan Timur", "64")]
