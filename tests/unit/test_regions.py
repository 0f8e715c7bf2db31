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
