"""The message catalogue is complete: every text shown to people exists in Bahasa Indonesia and in English, with the
same placeholders; every key the code and the templates use is in it; no template holds words of its own; dates
and Rupiah are written the Indonesian way (issue 23)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from cakupan.core import messages
from cakupan.core.files import load_yaml
from cakupan.core.settings import PACKAGE_DIR, SettingsError

TEMPLATES = PACKAGE_DIR / "auditor" / "templates"
# texts that read the same in both languages: codes, table names, m+N, "DAG", "Status"
SAME_IN_BOTH = {"report.col.dag", "report.col.status", "cli.col.status", "report.col.delivered_m1", "report.col.delivered_m3",
                "report.col.delivered_m6", "report.deliveries.letter.register"}
# what a template may hold outside {{ }}, {% %} and tags: the product's name, hashes, units, punctuation
TEMPLATE_WORDS_ALLOWED = {"Cakupan", "sha256", "UTC"}


def _entries() -> dict[str, dict[str, str]]:
    """Read straight from the two YAML files (not through the module's own loader)."""
    out = {f"reason.{code}": v for code, v in load_yaml(messages.REASONS_FILE.read_text("utf-8")).items()}
    out.update(load_yaml(messages.MESSAGES_FILE.read_text("utf-8")))
    return out


def test_every_entry_has_both_languages_with_the_same_placeholders():
    problems = []
    for key, entry in _entries().items():
        for lang in messages.LANGUAGES:
            if not isinstance(entry.get(lang), str) or not entry[lang].strip():
                problems.append(f"{key}: no {lang!r} text")
        if all(isinstance(entry.get(lang), str) for lang in messages.LANGUAGES):
            ids, ens = (messages.placeholders(entry[lang]) for lang in messages.LANGUAGES)
            if ids != ens:
                problems.append(f"{key}: placeholders differ, id {sorted(ids)} vs en {sorted(ens)}")
            if entry["id"] == entry["en"] and key not in SAME_IN_BOTH:
                problems.append(f"{key}: the Indonesian text is the English one")
    assert not problems, "\n".join(problems)


def test_every_reason_has_a_level_and_no_single_language_message():
    for code, entry in load_yaml(messages.REASONS_FILE.read_text("utf-8")).items():
        assert entry.get("level") in ("row", "file", "finding", "report"), code
        assert "message" not in entry, f"{code}: 'message' is one language; write 'id' and 'en'"


def test_the_placeholder_check_catches_a_mismatch():
    assert messages.placeholders("'{value}' pada kolom '{column}'") == {"value", "column"}
    assert messages.placeholders("Kolom '{column}' kosong.") != messages.placeholders("'{value}' is empty.")


_KEY_CALL = re.compile(r"""\b(?:t|text|Msg)\(\s*["']((?:reason|word|cli|report|load|check|finding|outbox|template|error)\.[A-Za-z0-9_.]*[A-Za-z0-9_])["']""")


def _used_keys() -> dict[str, str]:
    used = {}
    files = list(TEMPLATES.rglob("*.html")) + list(TEMPLATES.rglob("*.svg")) + list(PACKAGE_DIR.rglob("*.py"))
    for path in files:
        for key in _KEY_CALL.findall(path.read_text("utf-8")):
            used[key] = str(path.relative_to(PACKAGE_DIR))
    return used


def test_every_key_used_in_code_and_templates_is_in_the_catalogue():
    used = _used_keys()
    assert len(used) > 100   # the scan found the report's keys (a broken pattern would pass vacuously)
    known = _entries()
    missing = {k: where for k, where in used.items() if k not in known}
    assert not missing, missing


def test_keys_built_at_render_time_are_in_the_catalogue():
    from cakupan.auditor.chart import SERIES
    from cakupan.auditor.sections import COVERAGE_COLUMNS, TRACE_MEASURES

    known = _entries()
    for name in [c for c, _, _, _ in COVERAGE_COLUMNS] + [s for s, _, _ in SERIES] + list(TRACE_MEASURES):
        assert f"report.col.{name}" in known, name
    from cakupan.auditor.deliveries import SOURCES, STATUSES

    for key in ([f"report.deliveries.status.{s}" for s in STATUSES] + [f"report.deliveries.source.{s}" for s in SOURCES]
                + [f"report.deliveries.letter.{s}" for s in SOURCES]):
        assert key in known, key


def _template_words(source: str) -> set[str]:
    text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", source, flags=re.DOTALL)
    text = re.sub(r"<style>.*?</style>", " ", text, flags=re.DOTALL)    # base.html includes the CSS
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"&[a-z]+;", " ", text)
    return set(re.findall(r"[A-Za-z][A-Za-z0-9]*", text))


@pytest.mark.parametrize("path", sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".svg")),
                         ids=lambda p: p.name)
def test_templates_hold_no_words_of_their_own(path):
    """Every word a page shows comes from the catalogue; a sentence typed into a template fails here."""
    assert _template_words(path.read_text("utf-8")) <= TEMPLATE_WORDS_ALLOWED


def test_the_word_scan_sees_a_sentence():
    assert _template_words("<p>{{ t('x.y') }} Files received</p>") == {"Files", "received"}


def test_dates_and_rupiah_are_written_the_indonesian_way():
    assert messages.fmt_date(dt.date(2025, 4, 30), "id") == "30 April 2025"
    assert messages.fmt_date(dt.date(2025, 8, 17), "id") == "17 Agustus 2025"
    assert messages.fmt_date("2025-05-01", "en") == "1 May 2025"
    assert messages.fmt_month(dt.date(2025, 5, 1), "id") == "Mei 2025"
    assert messages.fmt_rupiah(16800) == "Rp 16.800"
    assert messages.fmt_rupiah(1234567) == "Rp 1.234.567"


def test_the_language_switch(monkeypatch):
    monkeypatch.delenv("CAKUPAN_LANG", raising=False)
    assert messages.language() == "id"                       # Bahasa Indonesia unless told otherwise
    assert messages.text("report.col.row") == "Baris"
    monkeypatch.setenv("CAKUPAN_LANG", "en")
    assert messages.text("report.col.row") == "Row"
    assert messages.text("report.col.row", "id") == "Baris"   # an explicit language wins
    monkeypatch.setenv("CAKUPAN_LANG", "fr")
    with pytest.raises(SettingsError, match="CAKUPAN_LANG"):
        messages.language()


def test_a_reason_renders_in_either_language():
    from cakupan.core.contracts import reason

    r = reason("REQUIRED_MISSING")
    assert r.render("pekerjaan", lang="id") == "Kolom wajib 'pekerjaan' kosong. Isi kolom ini lalu kirim ulang berkas ini."
    assert r.render("pekerjaan", lang="en") == "The required column 'pekerjaan' is empty."


def test_catalogue_files_ship_with_the_package():
    data = Path(PACKAGE_DIR.parents[1] / "pyproject.toml").read_text("utf-8")
    assert '"*.yml"' in data and '"contracts/*.yml"' in data   # messages.yml and reasons.yml are package data


def test_every_check_the_gate_runs_has_a_name_in_both_languages():
    """Check names are stable English identifiers in audit.checks; each reads in Indonesian through the catalogue
    (a new check without an entry would be shown in English only, and fails here)."""
    from cakupan.quality.suites import mart_checks, raw_checks

    names = {c.name for c in raw_checks()} | {c.name for c in mart_checks({"marts.mart_coverage_monthly": 10})}
    assert len(names) > 30
    untranslated = sorted(n for n in names if messages.check_name(n, "id") == n)
    assert not untranslated, untranslated
    assert messages.check_name("nik shape", "id") == "bentuk nik benar"
    assert messages.check_name("row count within tolerance of previous 12", "en") == \
        "row count within tolerance of previous 12"


def test_every_finding_code_has_a_title_in_both_languages():
    codes = load_yaml((PACKAGE_DIR.parents[1] / "config" / "findings.yml").read_text("utf-8"))["codes"]
    known = _entries()
    for code, entry in codes.items():
        assert f"finding.{code}" in known, code
        assert known[f"finding.{code}"]["en"] == entry["title"], f"{code}: config/findings.yml says otherwise"


@pytest.mark.parametrize("model", ["mart_audit_findings", "mart_promise_vs_delivery"])
def test_every_column_the_report_shows_of_a_mart_has_a_header(model):
    """The findings and promise tables show every column of their mart (dbt_project's published YAML, the
    definition) but detail_id (the report shows `detail` in its language): each has a header in both languages."""
    from cakupan.auditor.sections import REPORT_HIDES

    docs = PACKAGE_DIR.parents[1] / "dbt_project" / "models" / "marts" / "published"
    models = [m for f in docs.glob("*.yml") for m in load_yaml(f.read_text("utf-8")).get("models") or ()]
    columns = next(m["columns"] for m in models if m["name"] == model)
    known = _entries()
    assert len(columns) > 10
    assert [c["name"] for c in columns if f"report.col.{c['name']}" not in known and c["name"] not in REPORT_HIDES] \
        == []
