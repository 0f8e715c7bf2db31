"""Audit finding details read in the report's language: the dbt rules write an English sentence (the published
column's stable text); the catalogue's detail.* entries give its shape and the Indonesian sentence, counted nouns
included (issue 23). Every sentence the rules write is checked in tests/findings/test_findings_e2e.py."""

from __future__ import annotations

from cakupan.core.messages import catalogue, finding_detail, placeholders


def test_a_late_delivery_reads_in_indonesian_with_its_nouns():
    # the shape int_findings_deliveries.sql writes for DELIVERY_LATE
    en = "contributions for 2025-05 first received 2025-06-13, due 2025-06-10: 3 days late"
    assert finding_detail(en, "id") == ("iuran untuk 2025-05 pertama kali diterima 2025-06-13, jatuh tempo "
                                        "2025-06-10: terlambat 3 hari")
    assert finding_detail(en, "en") == en
    assert finding_detail("1 worker billed, 2 enrolled (APBD)", "id") == "1 pekerja ditagih, 2 terdaftar (APBD)"


def test_a_sentence_without_an_entry_is_shown_as_stored():
    assert finding_detail("a sentence no rule writes", "id") == "a sentence no rule writes"
    assert finding_detail(None, "id") is None


def test_every_detail_entry_has_the_same_parts_in_both_languages():
    entries = {k: v for k, v in catalogue().items() if k.startswith("detail.")}
    assert len(entries) > 20
    assert all(placeholders(v["id"]) == placeholders(v["en"]) for v in entries.values())
