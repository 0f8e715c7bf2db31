"""The auditor site's templates: text from the data is escaped, missing values print as nothing, a template that
names an unknown variable fails, and the copies of GX Data Docs load nothing remote."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from cakupan.auditor.gx_docs import offline_gx_page
from cakupan.auditor.render import environment, macros, render
from cakupan.auditor.report import write_report
from jinja2 import UndefinedError
from report_helpers import parse_html, settings_for

MARKUP = "<script>alert(1)</script> & \"quoted\""
HOSTILE = MARKUP + " 7314022108760001"
SCRUBBED = MARKUP + " [long number removed]"


def test_none_prints_nothing_and_unknown_names_fail():
    assert environment().from_string("[{{ x }}]").render(x=None) == "[]"
    with pytest.raises(UndefinedError):
        environment().from_string("{{ not_passed }}").render()


def test_delivered_text_a_spreadsheet_would_run_as_a_formula_gets_an_apostrophe():
    """Excel opens an HTML table as a sheet: a file named =HYPERLINK(…) must arrive there as text."""
    cell = environment().from_string("<td>{{ x }}</td>")
    for name in ('=HYPERLINK("http://x","klik").csv', "+cmd|' /C calc'!A0.xlsx", "-2+3.csv", "@SUM(1).xls",
                 "\tregister.csv"):
        assert parse_html(cell.render(x=name)).find("td").text() == "'" + name
    for text in ("register_parepare_2025-03.csv", "-200", "+5", "-1.234,5%", "-", "—"):
        assert parse_html(cell.render(x=text)).find("td").text() == text


def test_hashes_break_every_eight_characters():
    assert str(macros("macros.html").hex("a" * 16)) == "aaaaaaaa<wbr>aaaaaaaa"
    assert str(macros("macros.html").hex(None)) == "—"


def test_a_trace_error_is_escaped_and_scrubbed():
    page = render("trace.html", title=f"Trace: {MARKUP}", error=ValueError(HOSTILE))
    assert "<script" not in page and "7314022108760001" not in page
    doc = parse_html(page)
    assert doc.find("h1").text() == f"Trace: {MARKUP}"
    assert doc.by_id("trace-error").text() == SCRUBBED


def test_report_from_a_partial_published_file_escapes_every_text(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CAKUPAN_LANG", "en")
    """A published file with only some audit tables, and only some of their columns (as older files have)."""
    s = settings_for(tmp_path)
    s.published_dir.mkdir(parents=True)
    with duckdb.connect(str(s.published_db)) as con:
        con.execute("create schema audit")
        con.execute("create table audit.checks (run_id varchar, suite varchar, expectation varchar, "
                    "severity varchar, success boolean, details varchar, checked_at timestamp)")
        con.execute("insert into audit.checks values ('run<1>', 'marts', ?, 'error', false, ?, null)",
                    [MARKUP, HOSTILE])
        con.execute("create table audit.task_failures (run_id varchar, dag_id varchar, task_id varchar, "
                    "error varchar, failed_at timestamp)")
        con.execute("insert into audit.task_failures values ('run<1>', 'dag', 'task', ?, null)", [HOSTILE])
    text = write_report(s, tmp_path / "site").read_text(encoding="utf-8")
    assert "<script" not in text and "7314022108760001" not in text
    doc = parse_html(text)
    run = doc.find("details", cls="run", data_run_id="run<1>")
    assert run is not None and run.attrs["data-status"] == "unknown (gate failed)"
    cells = run.find("tr", cls="fail-error").find_all("td")
    assert cells[2].text() == MARKUP and cells[7].text() == SCRUBBED
    assert run.find("tr", cls="task-failure").find_all("td")[4].text() == SCRUBBED
    assert doc.by_id("no-publish-record") is not None
    assert "The published file has no coverage mart." in doc.by_id("coverage").text()


def test_gx_copies_load_nothing_remote():
    page = ('<html><head><script src="https://cdn.example/x.js"></script><link rel="stylesheet" '
            'href="//cdn.example/x.css"></head><body><img src="https://cdn.example/logo.png"><p>NIK '
            "7314022108760001</p></body></html>")
    out = offline_gx_page(page, Path("/home/<gx>"))
    assert "<script" not in out and "cdn.example" not in out and "7314022108760001" not in out
    assert out.count('class="cakupan-note"') == 1 and "/home/&lt;gx&gt;" in out and "/home/<gx>" not in out
    assert out.index("<style>") < out.index("</head>") < out.index('class="cakupan-note"')
