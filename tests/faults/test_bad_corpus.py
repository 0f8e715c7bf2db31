"""The bad-input corpus (tests/faults/faults_corpus.py, >= 40 files written by the test): every file gives a clear
file-level error or row-level quarantine reasons — never a traceback — and rows in = loaded + quarantined holds for
every load, in the loader's result, in audit.loads, and in the rows actually present in raw + quarantine."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from pathlib import Path

import duckdb
import pytest
from faults_corpus import build_corpus

ROOT = Path(__file__).resolve().parents[2]
KEY = "test-only-pseudonym-key"

# Cases a reader/ingest bug makes fail today: name -> reason (reported to the ingest owner); xfail(strict=True)
KNOWN_BUGS: dict[str, str] = {
    # fixed in the reader while these tests were written: a zlib.error from a damaged deflate stream escaped
    # check_container (INTERNAL_ERROR + traceback); the duplicate message lacked the file name; rows not split by
    # the delimiter were dropped as notes (now ROW_NOT_SPLIT); csv's 128 KiB field limit rejected a whole file
}

with tempfile.TemporaryDirectory() as _d:
    CASES = [c.name for c in build_corpus(Path(_d))]


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _settings(home: Path):
    from cakupan.core.settings import Settings

    for k in [k for k in os.environ if k.startswith("CAKUPAN_")]:
        os.environ.pop(k)
    return Settings.from_env(home=home, inbox=home / "inbox", config_dir=ROOT / "config", pseudonym_key=KEY)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Load every corpus file, in order, with the project's loader; keep each result, exception and log record."""
    from cakupan.ingest.loader import Loader

    home = tmp_path_factory.mktemp("bad_corpus")
    settings = _settings(home)
    cases = build_corpus(settings.inbox)
    handler = _Records()
    logger = logging.getLogger("cakupan")
    logger.addHandler(handler)
    out = {}
    loader = Loader(settings, run_id="faults__corpus")
    try:
        for c in cases:
            handler.records.clear()
            try:
                res, exc = loader.load(c.path), None
            except BaseException as e:  # noqa: BLE001 - recorded and asserted on per case
                res, exc = None, e
            tracebacks = [r for r in handler.records if r.exc_info]
            out[c.name] = {"case": c, "result": res, "exception": exc, "tracebacks": tracebacks}
        con = loader.con
        for o in out.values():
            r = o["result"]
            if r is None or r.load_id is None:
                continue
            o["audit"] = con.execute("select status, rows_in, rows_loaded, rows_quarantined, error_code, "
                                     "error_message, source from audit.loads where load_id = ?",
                                     [r.load_id]).fetchone()
            raw = 0
            for src in ("register", "contributions", "claims", "city_report"):
                raw += con.execute(f"select count(*) from raw.{src} where load_id = ?", [r.load_id]).fetchone()[0]
            o["raw"] = raw
            o["quarantine"] = con.execute("select count(*) from quarantine.rows where load_id = ?",
                                          [r.load_id]).fetchone()[0]
            o["quarantine_messages"] = [m for (m,) in con.execute(
                "select message from quarantine.rows where load_id = ?", [r.load_id]).fetchall()]
            o["quarantine_codes"] = {c for (c,) in con.execute(
                "select distinct unnest(from_json(reasons, '[{\"column\": \"VARCHAR\", \"code\": \"VARCHAR\"}]'))"
                ".code from quarantine.rows where load_id = ?", [r.load_id]).fetchall()}
    finally:
        loader.con.close()
        logger.removeHandler(handler)
    return out


def test_corpus_has_at_least_40_files():
    assert len(CASES) >= 40
    assert len(set(CASES)) == len(CASES)


def _matches(case, res, codes_seen: set[str]) -> bool:
    alternatives = [case.expect] + [(s, frozenset(c)) for s, c in case.extra.get("alt", [])]
    for status, codes in alternatives:
        if res.status != status:
            continue
        if status in ("rejected", "duplicate"):
            if res.error_code in codes:
                return True
        elif case.extra.get("any_code"):
            if not codes or codes & codes_seen:
                return True
        elif not codes:
            if res.rows_quarantined == 0:
                return True
        elif codes <= codes_seen:
            return True
    return False


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[n]))
                                  if n in KNOWN_BUGS else n for n in CASES])
def test_bad_file_gives_a_clear_outcome(corpus, name):
    from cakupan.core.contracts import reasons

    o = corpus[name]
    case, res = o["case"], o["result"]
    assert o["exception"] is None, f"{name}: the loader raised {type(o['exception']).__name__}: {o['exception']}"
    assert not o["tracebacks"], f"{name}: a traceback was logged: {o['tracebacks'][0].getMessage()}"
    assert res.status in ("loaded", "rejected", "duplicate"), \
        f"{name}: status {res.status} ({res.error_code}: {res.error_message})"
    registry = reasons()
    if res.status in ("rejected", "duplicate"):
        assert res.error_code in registry and registry[res.error_code].level == "file", res.error_code
        assert case.path.name in (res.error_message or ""), f"the message does not name the file: {res.error_message}"
        assert o["raw"] == 0 and o["quarantine"] == 0
        assert o["audit"][0] == res.status and o["audit"][4] == res.error_code
    else:
        for code in list(res.reasons) + sorted(o["quarantine_codes"]):
            assert code in registry and registry[code].level == "row", f"{name}: unregistered row reason {code}"
        assert all(case.path.name in m for m in o["quarantine_messages"]), "a quarantine message lacks the file name"
    # rows in = loaded + quarantined: in the result, in the manifest, and in the rows really written
    assert res.rows_in == res.rows_loaded + res.rows_quarantined
    _status, rows_in, loaded, quarantined = o["audit"][:4]
    assert (rows_in, loaded, quarantined) == (res.rows_in, res.rows_loaded, res.rows_quarantined)
    assert o["raw"] == loaded and o["quarantine"] == quarantined
    assert o["raw"] + o["quarantine"] == rows_in
    if "rows_in" in case.extra:
        assert res.rows_in == case.extra["rows_in"], f"{name}: {res.rows_in} data rows read, " \
                                                    f"expected {case.extra['rows_in']}"
    assert _matches(case, res, set(res.reasons) | o["quarantine_codes"]), (
        f"{name}: got {res.status} {res.error_code or ''} {res.error_message or ''} reasons={res.reasons} "
        f"quarantine codes={sorted(o['quarantine_codes'])}; expected {case.expect} {case.extra.get('alt', '')}")


def test_corpus_reasons_are_varied(corpus):
    """The corpus exercises many distinct reasons (a loader that rejects everything alike would fail this)."""
    codes = set()
    for o in corpus.values():
        r = o["result"]
        if r is not None:
            codes |= {r.error_code} if r.error_code else set()
            codes |= set(r.reasons)
    assert len(codes) >= 15, sorted(codes)


@pytest.mark.integration
def test_cli_ingest_of_the_corpus_prints_no_traceback(tmp_path):
    """`cakupan ingest --json` over the whole corpus in a real process: exit 0, no traceback, a line per file."""
    from _support import BIN, cakupan_env

    home = tmp_path / "home"
    # files of known bugs are left out here (each has its own xfail case above); the folder scan skips
    # unconfigured folders, so the files are named explicitly, in corpus order
    cases = [c for c in build_corpus(home / "inbox") if c.name not in KNOWN_BUGS]
    proc = subprocess.run([str(BIN / "cakupan"), "ingest", "--json", *[str(c.path) for c in cases]],
                          env=cakupan_env(home), capture_output=True, text=True, timeout=600, check=False)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    assert len(lines) == len(cases)
    for r in lines:
        assert r["status"] in ("loaded", "rejected", "duplicate"), r
        assert r["rows_in"] == r["rows_loaded"] + r["rows_quarantined"], r
    with duckdb.connect(str(home / "warehouse" / "work.duckdb"), read_only=True) as con:
        bad = con.execute("select count(*) from audit.loads where rows_in <> rows_loaded + rows_quarantined "
                          "or status not in ('loaded', 'rejected', 'duplicate')").fetchone()[0]
    assert bad == 0
