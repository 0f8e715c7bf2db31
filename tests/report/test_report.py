"""The auditor report written from a real published warehouse (the sample deliveries through the real pipeline).

What an auditor relies on: the quarantine lists exactly the rejected rows, the per-file counts balance, every linked
figure has a trace page whose rows add up to it, the header names the exact bytes, and no NIK or name appears
anywhere in the site.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import duckdb
import pii
import pytest
from cakupan.auditor.report import write_report
from python_calamine import CalamineWorkbook
from report_helpers import EXPECTED_JSON, REGENCY, SAMPLES, parse_html, settings_for

pytestmark = pytest.mark.integration

ID_MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember")



# ------------------------------------------------------------------------------------------ oracles ---------
def _register_rows(path: Path) -> tuple[list[str], list[tuple[int, list]]]:
    """(header, [(1-based sheet row, cells)]) of a sample register: data rows carry a number in the first cell."""
    wb = CalamineWorkbook.from_path(str(path))
    rows = wb.get_sheet_by_name(wb.sheet_names[0]).to_python()
    h = next(i for i, r in enumerate(rows) if any(re.fullmatch(r"(nik|no\.? ?ktp)", str(c).strip(), re.IGNORECASE) for c in r))
    header = [str(c).strip() for c in rows[h]]
    data = [(i + 1, r) for i, r in enumerate(rows[h + 1:], start=h + 1)
            if isinstance(r[0], (int, float)) and not isinstance(r[0], bool)]
    return header, data


def _col(header: list[str], pattern: str) -> int:
    return next(i for i, c in enumerate(header) if re.match(pattern, c, re.IGNORECASE))


def expected_rejections() -> set[tuple[str, int, str]]:
    """(file, row, reason) of every row the samples must send to quarantine, read from the sample files."""
    out = set()
    for f in sorted(SAMPLES.glob("register_*.xls*")):
        header, data = _register_rows(f)
        nik, occ = _col(header, r"(nik|no\.? ?ktp)$"), _col(header, r"(pekerjaan|profesi)")
        for row, cells in data:
            v = cells[nik]
            digits = re.sub(r"\s", "", str(v))
            if isinstance(v, float):
                out.add((f.name, row, "NIK_PRECISION_LOST"))
            elif len(digits) == 17:
                out.add((f.name, row, "NIK_17_DIGITS"))
            if not str(cells[occ]).strip():
                out.add((f.name, row, "OCCUPATION_MISSING"))
    for f in sorted(SAMPLES.glob("claims_*.csv")):
        lines = list(csv.reader(io.StringIO(f.read_bytes().decode("cp1252")), delimiter=";"))
        header = [c.strip() for c in lines[0]]
        nik, kpj = header.index("NIK"), header.index("No KPJ")
        for row, cells in enumerate(lines[1:], start=2):
            if cells and not cells[nik].strip() and not cells[kpj].strip():
                out.add((f.name, row, "NO_PARTICIPANT_ID"))
    return out


def sample_names() -> set[str]:
    """Every person's name in the sample registers (the "Nama…" column)."""
    names = set()
    for f in sorted(SAMPLES.glob("*.xls*")):
        try:
            header, data = _register_rows(f)
        except StopIteration:  # not a register (the city report)
            continue
        col = _col(header, r"nama")
        names |= {str(cells[col]).strip() for _, cells in data if str(cells[col]).strip()}
    return names


def sample_niks() -> set[str]:
    niks = set()
    for f in sorted(SAMPLES.glob("register_*.xls*")):
        header, data = _register_rows(f)
        col = _col(header, r"(nik|no\.? ?ktp)$")
        for _, cells in data:
            v = cells[col]
            niks.add(f"{v:.0f}" if isinstance(v, float) else re.sub(r"\s", "", str(v)))
    return niks


def site_files(index: Path) -> list[Path]:
    return sorted(p for p in index.parent.rglob("*") if p.is_file())


# ------------------------------------------------------------------------------------------ tests -----------
def test_oracle_agrees_with_expected_json():
    expected = json.loads(EXPECTED_JSON.read_text(encoding="utf-8"))
    got: dict[str, list[str]] = {}
    for f, _, reason in expected_rejections():
        got.setdefault(f, []).append(reason)
    want = {f: sorted(v.get("reasons", [])) for f, v in expected.items() if v.get("reasons")}
    assert {f: sorted(r) for f, r in got.items()} == want


def test_quarantine_lists_exactly_the_rejected_rows(report_site):
    _, index = report_site
    doc = parse_html(index.read_text(encoding="utf-8"))
    section = doc.by_id("quarantine")
    assert section is not None
    rows = section.find_all("tr", cls="q-row")
    got = {(Path(r.attrs["data-file"]).name, int(r.attrs["data-row"]), r.attrs["data-reason"]) for r in rows}
    assert len(rows) == 4
    assert got == expected_rejections()
    for r in rows:  # what is shown matches the data attributes
        assert r.find("td", cls="source-row").text().strip() == r.attrs["data-row"]
        assert r.find("td", cls="reason-code").text().strip() == r.attrs["data-reason"]


def test_per_file_counts_equal_expected_json(report_site):
    _, index = report_site
    expected = json.loads(EXPECTED_JSON.read_text(encoding="utf-8"))
    section = parse_html(index.read_text(encoding="utf-8")).by_id("loads")
    assert section is not None
    for name, exp in expected.items():
        rows = section.find_all("tr", cls="load", data_file=name)
        assert len(rows) == 1, f"{name}: {len(rows)} load rows"
        r = rows[0]

        def cell(cls: str, row=r) -> int:
            return int(row.find("td", cls=cls).text().replace(".", "").strip())

        assert (cell("rows-in"), cell("rows-loaded"), cell("rows-quarantined")) == (
            exp["rows_in"], exp["loaded"], exp["quarantined"]), name
        reasons = sorted(n.attrs["data-reason"] for n in r.find_all(cls="reason"))
        assert reasons == sorted(exp.get("reasons", [])), name
        assert r.attrs["data-status"] == "loaded"


def test_no_personal_data_anywhere_in_the_site(report_site):
    home, index = report_site
    names = sample_names()
    with duckdb.connect(str(settings_for(home).work_db), read_only=True) as con:  # allowed in the test only
        names |= {n.strip() for (n,) in con.execute("select distinct full_name from raw.register "
                                                     "where full_name is not null").fetchall() if n.strip()}
    assert len(names) >= 10, names
    niks = sample_niks()
    assert len(niks) >= 15
    files = site_files(index)
    assert any(p.suffix == ".html" and p.parent.name == "trace" for p in files)
    people = pii.PersonalData(niks={n for n in niks if 15 <= len(n) <= 17}, names=names)
    for p in files:
        text = p.read_text(encoding="utf-8", errors="replace")
        hits = pii.find(text, people)        # any 16-digit number (not inside a pseudonym), NIKs in any form, names
        assert not hits, f"{p}: {hits[:3]}"
        for nik in niks:
            assert nik[:12] not in text, f"the first 12 digits of a NIK are in {p}"
        for name in names:
            assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE), f"name {name!r} in {p}"


def test_sections_and_header(report_site):
    home, index = report_site
    text = index.read_text(encoding="utf-8")
    doc = parse_html(text)
    for ident in ("checks", "loads", "quarantine", "coverage", "promises", "charts"):
        assert doc.by_id(ident) is not None, ident
    published = settings_for(home).published_db
    sha = hashlib.sha256(published.read_bytes()).hexdigest()
    assert doc.by_id("published-sha256").text() == sha
    with duckdb.connect(str(published), read_only=True) as con:
        run_id, published_at = con.execute("select run_id, published_at from audit.publishes where status = "
                                           "'published' order by published_at desc limit 1").fetchone()
        checks = con.execute("select severity, success, count(*) from audit.checks where run_id = ? group by all",
                             [run_id]).fetchall()
        n_promises = con.execute("select count(*) from marts.mart_promise_vs_delivery").fetchone()[0]
        regencies = [r for (r,) in con.execute("select distinct regency_code from marts.mart_coverage_monthly")
                     .fetchall()]
    month = ID_MONTHS[published_at.month - 1]   # the report is in Bahasa Indonesia unless told otherwise
    assert f"{published_at.day} {month} {published_at.year} {published_at:%H:%M:%S}" in doc.by_id("published-at").text()
    # the newest run is the one that published, open, with every check and the right counts
    runs = doc.by_id("checks").find_all("details", cls="run")
    assert runs and runs[0].attrs["data-run-id"] == run_id and runs[0].attrs["data-status"] == "published"
    assert "open" in runs[0].attrs
    rows = runs[0].find_all("tr", cls="check")
    assert len(rows) == sum(n for _, _, n in checks)
    for sev, ok, n in checks:
        span = runs[0].find("span", cls="count", data_severity=sev)
        assert int(span.attrs["data-passed" if ok else "data-failed"]) == n
    failed = [r for r in rows if r.attrs["data-success"] == "false"]
    assert all("fail-" + r.attrs["data-severity"] in r.classes for r in failed)
    assert runs[0].find("a", cls="gx-link") is not None
    gx = index.parent / runs[0].find("a", cls="gx-link").attrs["href"]
    assert gx.is_file(), "the GX Data Docs are copied into the site"
    assert len(doc.by_id("promises").find_all("tr", cls="promise")) == n_promises
    for reg in regencies:
        fig = doc.by_id(f"chart-{reg}")
        assert fig is not None and fig.find("svg") is not None and fig.find_all("circle")
    # self-contained: no scripts and nothing remote in the report's own pages; the copied GX Data Docs load
    # nothing remote either (plain links to GX's web site may stay)
    for p in [index, *sorted((index.parent / "trace").glob("*.html"))]:
        t = p.read_text(encoding="utf-8")
        assert "<script" not in t.lower()
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", t), p
    gx_pages = sorted((index.parent / "gx").rglob("*.html"))
    assert len(gx_pages) > 1
    for p in gx_pages:
        t = p.read_text(encoding="utf-8")
        assert "<script" not in t.lower(), p
        assert not re.search(r"""<(?:link|img|iframe|source|embed)\b[^>]*(?:src|href)\s*=\s*["']?(?:https?:)?//""",
                             t, re.IGNORECASE), p


def test_figures_link_to_traces_that_add_up(report_site):
    _, index = report_site
    doc = parse_html(index.read_text(encoding="utf-8"))
    links = doc.by_id("coverage").find_all("a", cls="trace-link")
    assert len(links) >= 6
    seen = {}
    for a in links:
        row = a.parent
        while row.tag != "tr":
            row = row.parent
        measure, value = a.attrs["data-measure"], int(a.attrs["data-value"])
        assert int(a.text().replace(".", "")) == value
        href = a.attrs["href"]
        assert href == f"trace/{row.attrs['data-regency']}_{row.attrs['data-month']}_{measure}.html"
        page = parse_html((index.parent / href).read_text(encoding="utf-8"))
        figure = page.by_id("figure")
        assert figure is not None and int(figure.attrs["data-value"]) == value
        trace_rows = page.find_all("tr", cls="trace-row")
        enrolled = [r for r in trace_rows if r.attrs["data-measure"] == "enrolled"]
        assert int(page.by_id("row-count").attrs["data-rows"]) == len(trace_rows)
        if measure == "enrolled":  # one row per person counted
            assert len({r.attrs["data-pseudonym"] for r in enrolled}) == value == len(enrolled)
        else:  # protected: the enrolled rows and the payment rows, with both counts printed
            counts = {d.attrs["data-count"]: d.text() for d in page.find_all("dd")}
            assert int(counts["protected"].replace(".", "")) == value
            assert int(counts["enrolled"].replace(".", "")) == len({r.attrs["data-pseudonym"] for r in enrolled})
            assert value <= len(enrolled)
            assert any(r.attrs["data-measure"] == "payment" for r in trace_rows)
        seen[(row.attrs["data-regency"], row.attrs["data-month"], measure)] = (value, trace_rows)
    # the domain rule: the corrected May register (15 workers) governs June
    value, trace_rows = seen[(REGENCY, "2025-06", "enrolled")]
    assert value == 15 and len(trace_rows) == 15
    assert {r.find("td", cls="file").text() for r in trace_rows} == {f"{REGENCY}/register_sidrap_2025-05_koreksi.xlsx"}


def test_missing_published_file_says_nothing_is_published(tmp_path):
    index = write_report(settings_for(tmp_path / "empty-home"))
    assert index == tmp_path / "empty-home" / "reports" / "site" / "index.html"
    doc = parse_html(index.read_text(encoding="utf-8"))
    assert "Belum ada yang diterbitkan" in doc.by_id("nothing-published").text()


def test_unreadable_published_file(tmp_path):
    s = settings_for(tmp_path)
    s.published_dir.mkdir(parents=True)
    s.published_db.write_bytes(b"not a duckdb file")
    doc = parse_html(write_report(s, tmp_path / "site").read_text(encoding="utf-8"))
    assert doc.by_id("unreadable") is not None


def _copy_home(home: Path, dest: Path) -> Path:
    """The published side of a home (published file + GX Data Docs), not the work warehouse."""
    shutil.copytree(home / "published", dest / "published")
    if (home / "reports" / "gx").exists():
        shutil.copytree(home / "reports" / "gx", dest / "reports" / "gx")
    return dest


def _add_blocked_run(db: Path, run_id: str) -> None:
    """Record a run whose gate failed, as the pipeline does in audit.checks and audit.publishes."""
    with duckdb.connect(str(db)) as con:
        con.execute("""insert into audit.checks (run_id, suite, expectation, expectation_type, table_name,
                       column_name, severity, success, observed_value, unexpected_count, unexpected_sample, details,
                       checked_at) values
                       (?, 'marts', 'protected <= enrolled', 'expect_column_pair_values_a_to_be_greater_than_b',
                        'marts.mart_coverage_monthly', 'enrolled,protected', 'error', false, null, 2, '["x"]', null,
                        now()::timestamp + interval 1 hour),
                       (?, 'marts', 'coverage not empty', 'expect_table_row_count_to_be_between',
                        'marts.mart_coverage_monthly', null, 'error', true, '4', null, null, null,
                        now()::timestamp + interval 1 hour)""", [run_id, run_id])
        con.execute("insert into audit.publishes values (?, now()::timestamp + interval 1 hour, 'blocked', 'abc', "
                    "null, '1,2', false, 1, 0, 'gate failed: marts.mart_coverage_monthly protected <= enrolled')",
                    [run_id])


def test_blocked_run_recorded_in_the_published_file(report_site, tmp_path):
    home = _copy_home(report_site[0], tmp_path / "home")
    s = settings_for(home)
    _add_blocked_run(s.published_db, "manual__blocked-run")
    doc = parse_html(write_report(s, tmp_path / "site").read_text(encoding="utf-8"))
    banner = doc.by_id("latest-run-status")
    assert "dihentikan oleh gerbang mutu" in banner.text() and "berkas terbitan tidak diubah" in banner.text()
    run = doc.by_id("checks").find_all("details", cls="run")[0]
    assert run.attrs["data-run-id"] == "manual__blocked-run" and run.attrs["data-status"] == "blocked"
    failed = run.find_all("tr", cls="fail-error")
    assert len(failed) == 1 and "terlindungi <= terdaftar" in failed[0].text()   # the check's name, in Indonesian
    assert failed[0].find("td", data_check="protected <= enrolled") is not None    # its stable identifier kept
    assert run.find("span", cls="count", data_severity="error").attrs["data-failed"] == "1"
    # the figures are still those of the last good publish
    assert doc.by_id("coverage").find_all("a", cls="trace-link")


def test_blocked_run_with_a_kept_candidate(report_site, tmp_path, monkeypatch):
    monkeypatch.setenv("CAKUPAN_LANG", "en")
    home = _copy_home(report_site[0], tmp_path / "home")
    s = settings_for(home)
    # a candidate the gate refused, with its own records in it, and one with no records of its own at all
    with_records = s.published_dir / "next-scheduled__2030-01-01T00_00_00_00_00.duckdb"
    shutil.copyfile(s.published_db, with_records)
    _add_blocked_run(with_records, "scheduled__2030-01-01T00:00:00+00:00")
    bare = s.published_dir / "next-cli__20300102T000000000000.duckdb"
    shutil.copyfile(s.published_db, bare)
    bare.touch()
    doc = parse_html(write_report(s, tmp_path / "site").read_text(encoding="utf-8"))
    runs = {r.attrs["data-run-id"]: r for r in doc.by_id("checks").find_all("details", cls="run")}
    blocked = runs["scheduled__2030-01-01T00:00:00+00:00"]
    assert blocked.attrs["data-status"] == "blocked" and len(blocked.find_all("tr", cls="fail-error")) == 1
    assert "Candidate kept for inspection" in blocked.text()
    unknown = runs["cli__20300102T000000000000"]
    assert unknown.attrs["data-status"] == "not published"
    assert "never renamed over the published file" in unknown.text()
    assert doc.by_id("latest-run-status").attrs["data-status"] != "published"


def test_task_failures_from_the_log_are_shown(report_site, tmp_path):
    home = _copy_home(report_site[0], tmp_path / "home")
    s = settings_for(home)
    s.logs_dir.mkdir(parents=True)
    (s.logs_dir / "task_failures.jsonl").write_text(
        json.dumps({"run_id": "manual__x", "dag_id": "cakupan_ingest", "task_id": "ingest_files",
                    "failed_at": "2030-01-01T00:00:00", "try_number": 2,
                    "error": "bad NIK 7314022108760001 in row 4"}) + "\nnot json\n", encoding="utf-8")
    text = write_report(s, tmp_path / "site").read_text(encoding="utf-8")
    run = parse_html(text).find("details", cls="run", data_run_id="manual__x")
    assert run is not None
    failure = run.find("tr", cls="task-failure")
    assert "ingest_files" in failure.text() and "bad NIK" in failure.text()
    assert "7314022108760001" not in text, "identifiers in error text are scrubbed"
    assert "1 baris logs/task_failures.jsonl tidak dapat dibaca" in text   # the one "not json" line, in Indonesian


def test_report_cli(report_site, tmp_path, monkeypatch):
    from cakupan.cli import app
    from typer.testing import CliRunner

    home = _copy_home(report_site[0], tmp_path / "home")
    for k in ("CAKUPAN_INBOX", "CAKUPAN_CONFIG", "CAKUPAN_TARGET"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("CAKUPAN_HOME", str(home))
    res = CliRunner().invoke(app, ["report", "--json"])
    assert res.exit_code == 0, res.output
    index = Path(json.loads(res.output)["index"])
    assert index == home / "reports" / "site" / "index.html" and index.is_file()


def test_audit_findings_are_rendered_when_published(report_site, tmp_path):
    home = _copy_home(report_site[0], tmp_path / "home")
    s = settings_for(home)
    with duckdb.connect(str(s.published_db), read_only=True) as con:
        published = con.execute("select code, severity from marts.mart_audit_findings").fetchall()
    # the Sidrap samples: June paid in part, July unpaid — at least those two are findings
    codes = {c for c, _ in published}
    assert {"PAYMENT_SHORTFALL", "PAYMENT_UNPAID"} <= codes
    doc = parse_html(write_report(s, tmp_path / "site").read_text(encoding="utf-8"))
    section = doc.by_id("findings")
    assert section is not None
    table = section.find("table", cls="findings")
    header = [th.text() for th in table.find_all("th")]
    rows = table.find_all("tr", cls="finding")
    assert len(rows) == len(published)
    code_at, title_at = header.index("Kode"), header.index("Judul")   # headers in Bahasa Indonesia, the default
    assert sorted(r.find_all("td")[code_at].text() for r in rows) == sorted(c for c, _ in published)
    # a finding's title in the report's language, by its code (the mart keeps config/findings.yml's English)
    unpaid = [r.find_all("td")[title_at].text() for r in rows if r.find_all("td")[code_at].text() == "PAYMENT_UNPAID"]
    assert unpaid and all(t.startswith("Iuran ditagih tetapi tidak dibayar") for t in unpaid), unpaid
    # its detail too: the rules' English sentence ("paid Rp 0 of Rp …") read through the catalogue's detail.* shape
    detail_at = header.index("Rincian")
    unpaid = [r.find_all("td")[detail_at].text() for r in rows if r.find_all("td")[code_at].text() == "PAYMENT_UNPAID"]
    assert all(t.startswith("dibayar Rp 0 dari Rp ") for t in unpaid), unpaid
    errors = sum(1 for _, sev in published if sev == "error")
    assert all("fail-error" in r.classes for r in rows[:errors])             # errors first
    assert not any("fail-error" in r.classes for r in rows[errors:])
    assert doc.find("a", href="#findings") is not None
    # grouped by regency and severity: each group's total is its count in the mart
    groups = section.find_all("tr", cls="findings-group")
    expected = {}
    with duckdb.connect(str(s.published_db), read_only=True) as con:
        for regency, sev, n in con.execute("select regency_code, severity, count(*) from marts.mart_audit_findings "
                                           "group by all").fetchall():
            expected[(regency, sev)] = n
    got = {(g.attrs["data-regency"], g.attrs["data-severity"]): int(g.find_all("td")[2].text()) for g in groups}
    assert got == expected


def test_no_findings_section_without_the_mart(report_site, tmp_path):
    home = _copy_home(report_site[0], tmp_path / "home")
    s = settings_for(home)
    with duckdb.connect(str(s.published_db)) as con:
        con.execute("drop table marts.mart_audit_findings")
    doc = parse_html(write_report(s, tmp_path / "site").read_text(encoding="utf-8"))
    assert doc.by_id("findings") is None


def test_first_run_blocked_nothing_published(report_site, tmp_path, monkeypatch):
    monkeypatch.setenv("CAKUPAN_LANG", "en")
    src = report_site[0]
    s = settings_for(tmp_path / "home")
    s.published_dir.mkdir(parents=True)
    cand = s.published_dir / "next-cli__20300101T000000000000.duckdb"
    shutil.copyfile(src / "published" / "cakupan.duckdb", cand)
    _add_blocked_run(cand, "cli__20300101T000000000000")
    doc = parse_html(write_report(s, tmp_path / "site").read_text(encoding="utf-8"))
    assert doc.by_id("nothing-published") is not None
    run = doc.find("details", cls="run", data_run_id="cli__20300101T000000000000")
    assert run is not None and run.attrs["data-status"] == "blocked"
    assert len(run.find_all("tr", cls="fail-error")) == 1
    assert "blocked by the quality gate" in doc.by_id("latest-run-status").text()
