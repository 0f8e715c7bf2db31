"""Missing and late deliveries (issue 23): real files in a real inbox, the real loader, dbt on DuckDB, the gate and
the publish. Each file's arrival is set where Cakupan records it (audit.inbox_files, its first look at the file),
so the calendar is judged against known dates. Expected statuses come from the definition (config/deliveries.yml:
month M due by day D of M+1; a month never received and due before the latest file received is missing), not
from the mart."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from browser.conftest import chrome, chromium  # noqa: F401 - the browser tests' headless Chromium
from hostile_deliveries import CONTRIB_HEADER, PALOPO, PAREPARE, SIDRAP, csv_bytes, register_row, write
from ingest.conftest import home_factory, initialised_warehouse  # noqa: F401 - the ingest tests' fixtures


@pytest.fixture(autouse=True)
def _english(settings_factory, monkeypatch):
    """These tests read the English text of the catalogue's error messages (tests/i18n reads both languages);
    after settings_factory, which cleans every CAKUPAN_ variable."""
    monkeypatch.setenv("CAKUPAN_LANG", "en")

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]


# from the definition: due by day D of M+1 (Parepare: the default 10th; Palopo: its own 5th, register only; Sidrap:
# expected from May, never sent); the latest file arrived 2 July 2025, so a month due before then and never
# received is missing, a later one not yet due. (status, days late)
EXPECTED = {
    (PAREPARE, "register", "2025-03"): ("delivered", None),
    (PAREPARE, "register", "2025-04"): ("late", 3),
    (PAREPARE, "register", "2025-05"): ("missing", None),
    (PAREPARE, "register", "2025-06"): ("delivered", None),
    (PAREPARE, "contributions", "2025-03"): ("delivered", None),
    (PAREPARE, "contributions", "2025-04"): ("missing", None),
    (PAREPARE, "contributions", "2025-05"): ("missing", None),
    (PAREPARE, "contributions", "2025-06"): ("not_due", None),      # due 10 July
    (PALOPO, "register", "2025-04"): ("late", 2),                   # its own due day: 5 May
    (PALOPO, "register", "2025-05"): ("missing", None),
    (PALOPO, "register", "2025-06"): ("not_due", None),             # due 5 July
    (SIDRAP, "register", "2025-05"): ("missing", None),
    (SIDRAP, "register", "2025-06"): ("not_due", None),
    (SIDRAP, "contributions", "2025-05"): ("missing", None),
    (SIDRAP, "contributions", "2025-06"): ("not_due", None),
}


def _arrived(settings, path: Path, when: str) -> None:
    """Record Cakupan's first look at the file at `when` (as the scheduler's look that day would have)."""
    st = os.stat(path)
    rel = path.relative_to(settings.inbox).as_posix()
    with duckdb.connect(str(settings.work_db)) as con:
        con.execute("insert into audit.inbox_files values (?, ?, ?, null, ?)",
                    [rel, st.st_size, st.st_mtime_ns, dt.datetime.fromisoformat(when)])


def _register(settings, regency: str, month: str, when: str) -> None:
    """A register of as many workers as the month's number (no two files have the same bytes)."""
    rows = [register_row(regency, i, start="01-01-2025") for i in range(int(month[-2:]))]
    path = write(settings.inbox / regency / f"register_{regency}_{month}.csv", csv_bytes(rows))
    _arrived(settings, path, when)


@pytest.fixture(scope="module")
def calendar(tmp_path_factory, initialised_warehouse):  # noqa: F811
    from _support import TEST_KEY
    from cakupan import pipeline
    from cakupan.core.settings import Settings

    home = tmp_path_factory.mktemp("calendar")
    config = home / "config"
    shutil.copytree(ROOT / "config", config)
    # Palopo: an override (due on the 5th, only the register); Sidrap: expected from May though it never sent
    with open(config / "regencies" / "73.73.yml", "a", encoding="utf-8") as f:
        f.write("deliveries: {due_day: 5, sources: [register]}\n")
    with open(config / "regencies" / "73.14.yml", "a", encoding="utf-8") as f:
        f.write("deliveries: {from: 2025-05}\n")
    saved = {k: os.environ.pop(k) for k in [k for k in os.environ if k.startswith("CAKUPAN_")]}
    try:
        s = Settings.from_env(home=home / "home", pseudonym_key=TEST_KEY, config_dir=config)
        s.ensure_dirs()
        shutil.copyfile(initialised_warehouse, s.work_db)
        # Parepare (the default: register and contributions, due on the 10th)
        _register(s, PAREPARE, "2025-03", "2025-04-05 09:00")       # on time
        _register(s, PAREPARE, "2025-04", "2025-05-13 08:00")       # due 10 May: received on day D+3
        _register(s, PAREPARE, "2025-06", "2025-07-02 10:00")       # May's register never arrives
        contrib = write(s.inbox / PAREPARE / "iuran_parepare_2025-03.csv", csv_bytes(
            [["Maret 2025", "Parepare", "APBD", "3", "Rp 50.400", "Rp 50.400", "01/04/2025"]], CONTRIB_HEADER))
        _arrived(s, contrib, "2025-04-08 11:00")
        # Palopo: April's register on 7 May (on time for the default's 10th, late for its own 5th)
        _register(s, PALOPO, "2025-04", "2025-05-07 09:00")
        outcome = pipeline.run_all(s)
        assert outcome.published, outcome.message
        with duckdb.connect(str(s.published_db), read_only=True) as con:
            rows = con.execute("select regency_code, source, strftime(month_start, '%Y-%m'), delivery_status, "
                               "days_late, due_date, load_id from marts.mart_delivery_calendar").fetchall()
        yield s, {(r[0], r[1], r[2]): r[3:] for r in rows}
    finally:
        os.environ.update(saved)


def _status(cal: dict) -> dict:
    return {k: (v[0], v[1]) for k, v in cal.items()}


def test_each_regency_month_and_source_is_delivered_late_missing_or_not_due_by_the_definition(calendar):
    _, cal = calendar
    # latest file received: 2 July 2025 → a month due before then and never received is missing
    assert _status(cal) == EXPECTED


def test_due_dates_follow_the_default_and_the_override(calendar):
    _, cal = calendar
    assert cal[(PAREPARE, "register", "2025-04")][2] == dt.date(2025, 5, 10)
    assert cal[(PALOPO, "register", "2025-04")][2] == dt.date(2025, 5, 5)


def test_a_delivered_month_names_the_load_that_brought_it(calendar):
    s, cal = calendar
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        load = con.execute("select load_id from audit.loads where file_name = ?",
                           [f"register_{PAREPARE}_2025-04.csv"]).fetchone()[0]
    assert cal[(PAREPARE, "register", "2025-04")][3] == load
    assert cal[(PAREPARE, "register", "2025-05")][3] is None


def test_missing_and_late_deliveries_are_findings_of_their_regency_month_and_source(calendar):
    s, cal = calendar
    with duckdb.connect(str(s.published_db), read_only=True) as con:
        found = con.execute("select code, regency_code, strftime(month_start, '%Y-%m'), subject, days_late, severity "
                            "from marts.mart_audit_findings where code like 'DELIVERY%'").fetchall()
    expected = {("DELIVERY_MISSING", r, m, src, None) for (r, src, m), v in cal.items() if v[0] == "missing"}
    expected |= {("DELIVERY_LATE", PAREPARE, "2025-04", "register", 3), ("DELIVERY_LATE", PALOPO, "2025-04", "register", 2)}
    assert {f[:5] for f in found} == expected
    assert {f[5] for f in found if f[0] == "DELIVERY_MISSING"} == {"warning"}


def test_the_gate_warns_on_missing_deliveries_and_still_publishes(calendar):
    s, cal = calendar
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        (severity, success, count, sample), = con.execute(
            "select severity, success, unexpected_count, unexpected_sample from audit.checks "
            "where table_name = 'check.deliveries'").fetchall()
    missing = [k for k, v in cal.items() if v[0] == "missing"]
    assert (severity, success, count) == ("warn", False, len(missing))
    sentences = json.loads(sample)
    assert sentences
    for sentence in sentences:       # each names a regency, month and source the calendar counts missing
        m = re.fullmatch(r".+ \((\d\d\.\d\d)\) (\d{4}-\d\d): (\w+) never received; due (\S+)", sentence)
        assert m, sentence
        code, month, source, due = m.groups()
        assert cal[(code, source, month)][0] == "missing" and cal[(code, source, month)][2].isoformat() == due
    assert s.published_db.exists()           # the run published (the fixture asserts outcome.published)


def test_a_late_delivery_finding_points_at_the_file_that_came_late(calendar):
    s, _ = calendar
    with duckdb.connect(str(s.published_db), read_only=True) as con:
        files = con.execute("select e.source_file from marts.mart_findings_evidence e join marts.mart_audit_findings f "
                            "using (finding_id) where f.code = 'DELIVERY_LATE' order by 1").fetchall()
    assert files == [(f"{PAREPARE}/register_{PAREPARE}_2025-04.csv",), (f"{PALOPO}/register_{PALOPO}_2025-04.csv",)]


# ------------------------------------------------------------------------------------------ the report ------
GRID_WORDS = {
    "id": {"months": ["Maret 2025", "April 2025", "Mei 2025", "Juni 2025"], "late": "terlambat 2 hari",
           "due": "jatuh tempo 5 Mei 2025", "nav": "Kiriman", "letters": {"register": "R", "contributions": "I"}},
    "en": {"months": ["March 2025", "April 2025", "May 2025", "June 2025"], "late": "2 days late",
           "due": "due 5 May 2025", "nav": "Deliveries", "letters": {"register": "R", "contributions": "C"}},
}
SYMBOL = {"delivered": "✓", "late": "!", "missing": "✗", "not_due": "·"}


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_calendar_grid_reads_at_a_glance_in_chromium(calendar, chrome, lang, tmp_path):  # noqa: F811
    from cakupan.auditor.report import write_report
    from cakupan.core.messages import using
    from selenium.webdriver.common.by import By

    s, _ = calendar
    words = GRID_WORDS[lang]
    with using(lang):
        write_report(s, tmp_path / "site")
    chrome.get((tmp_path / "site" / "index.html").as_uri())
    assert words["nav"] in [a.text for a in chrome.find_elements(By.CSS_SELECTOR, "nav a")]
    grid = chrome.find_element(By.ID, "delivery-calendar")
    chrome.execute_script("arguments[0].scrollIntoView({block: 'center'})", grid)
    assert [th.text for th in grid.find_elements(By.CSS_SELECTOR, "thead th")][1:] == words["months"]
    seen = {}
    for row in grid.find_elements(By.CSS_SELECTOR, "tbody tr"):
        regency = row.get_attribute("data-regency")
        for month, td in zip(["2025-03", "2025-04", "2025-05", "2025-06"], row.find_elements(By.TAG_NAME, "td"),
                             strict=True):
            for mark in td.find_elements(By.CSS_SELECTOR, "span.dl"):
                source, status = mark.get_attribute("data-source"), mark.get_attribute("data-status")
                assert mark.is_displayed() and mark.text == words["letters"][source] + SYMBOL[status]
                seen[(regency, source, month)] = status
                if (regency, source, month) == (PALOPO, "register", "2025-04"):
                    assert words["late"] in mark.get_attribute("title") and words["due"] in mark.get_attribute("title")
    assert seen == {k: v[0] for k, v in EXPECTED.items()}
    # a month with a missing delivery is red, whatever else arrived that month
    cell = grid.find_element(By.CSS_SELECTOR, f'tr[data-regency="{PAREPARE}"] td[data-status="missing"]')
    assert cell.value_of_css_property("background-color") == "rgba(254, 228, 226, 1)"
    assert chrome.save_screenshot(str(tmp_path / "calendar.png"))


# ------------------------------------------------------------------------------------------ the config ------
def _config(tmp_path, default: str | None = None, sidrap: str | None = None) -> Path:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    if default is not None:
        (config / "deliveries.yml").write_text(default, encoding="utf-8")
    if sidrap is not None:
        with open(config / "regencies" / "73.14.yml", "a", encoding="utf-8") as f:
            f.write(sidrap)
    return config


def test_a_regency_without_an_entry_gets_the_default_and_an_entry_overrides_only_what_it_names(tmp_path):
    from cakupan.core.config import load_delivery_calendar

    config = _config(tmp_path, "default: {due_day: 12, sources: [register, contributions]}\n",
                     "deliveries: {sources: {register: 3, claims: null}, from: 2025-02}\n")
    got = {(e.regency_code, e.source): (e.due_day, e.first_month) for e in load_delivery_calendar(config)}
    assert got[(None, "register")] == got[(PAREPARE, "register")] == (12, None)
    assert got[(PAREPARE, "contributions")] == (12, None)
    assert got[(SIDRAP, "register")] == (3, dt.date(2025, 2, 1))
    assert got[(SIDRAP, "claims")] == (12, dt.date(2025, 2, 1))          # the default's due day
    assert (SIDRAP, "contributions") not in got                          # its own list replaces the default's


@pytest.mark.parametrize(("sidrap", "words"), [
    ("deliveries: {due_day: 32}\n", "key 'due_day' = 32 must be a day of the month"),
    ("deliveries: {sources: [register, city_report]}\n", "key 'sources' names 'city_report', not a monthly source"),
    ("deliveries: {from: May}\n", "key 'from' = 'May' must be a month (YYYY-MM)"),
    ("deliveries: {due: 5}\n", "unknown key(s) due"),
])
def test_a_wrong_calendar_entry_names_the_file_and_the_key(tmp_path, sidrap, words):
    from cakupan.core.config import ConfigError, load_delivery_calendar

    with pytest.raises(ConfigError) as err:
        load_delivery_calendar(_config(tmp_path, sidrap=sidrap))
    assert "73.14.yml" in str(err.value) and "deliveries" in str(err.value) and words in str(err.value)
