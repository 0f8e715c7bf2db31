"""Errors raised deep in other modules reach the clerk's screen in the clerk's language: every error the command
line prints as its one failure line (settings, config, history, PostgreSQL, published file, trace, review file) and
every file rejection's detail carries a catalogue key and parameters (`core.messages.Msg`), rendered in the language
of `--lang` / CAKUPAN_LANG where it is printed (issue 23). A new raise with an English sentence fails here."""

from __future__ import annotations

import ast
import pickle

import pytest
from _support import run_cli
from cakupan.core.messages import Msg
from cakupan.core.settings import PACKAGE_DIR

# the errors `cakupan` prints as one line (cli.main's expected failures, and the ones a command catches itself)
CLI_ERRORS = {"SettingsError", "ConfigError", "PublishError", "DbtError", "PublishedFileError", "PgError",
              "HistoryError", "TraceError", "ReviewFileError", "KeyChanged", "ContractError",
              "LoadInvariantError"}   # the last: its text is the failed load's audit.loads.error_message
# where the language itself is what is wrong, there is no language to render a catalogue entry in
ALLOWED = {("core/messages.py", "SettingsError")}


def _is_sentence(node: ast.AST | None) -> bool:
    """A literal sentence, an f-string, or text glued or formatted from them: English typed into the code."""
    if node is None:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and any(c.isalpha() for c in node.value)
    if isinstance(node, ast.JoinedStr):
        return any(_is_sentence(v) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _is_sentence(node.left) or _is_sentence(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _is_sentence(node.func.value)
    return False


def _name(func: ast.AST) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def english_raises(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, class) of every raise of a CLI error with an English message, and every FileRejected whose detail
    is an English sentence (a detail is shown after the reason, in the rejection message and the CLI's table)."""
    out = []
    for node in ast.walk(tree):
        call = node.exc if isinstance(node, ast.Raise) else node if isinstance(node, ast.Return) else None
        call = getattr(call, "value", call) if isinstance(node, ast.Return) else call
        if not isinstance(call, ast.Call):
            continue
        cls = _name(call.func)
        if cls in CLI_ERRORS:
            if any(_is_sentence(a) for a in call.args):
                out.append((node.lineno, cls))
        elif cls == "FileRejected":
            detail = call.args[1] if len(call.args) > 1 else next(
                (k.value for k in call.keywords if k.arg == "detail"), None)
            if _is_sentence(detail):
                out.append((node.lineno, cls))
    return out


def test_no_error_that_reaches_the_command_line_is_an_english_sentence():
    found, problems = 0, []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE_DIR))
        tree = ast.parse(path.read_text("utf-8"))
        found += sum(1 for n in ast.walk(tree) if isinstance(n, ast.Raise) and isinstance(n.exc, ast.Call)
                     and _name(n.exc.func) in CLI_ERRORS | {"FileRejected"})
        problems += [f"{rel}:{line} raise {cls}(…) with an English sentence: give it a Msg(key, …) from the catalogue"
                     for line, cls in english_raises(tree) if (rel, cls) not in ALLOWED]
    assert found > 100          # the scan sees the raises (a broken walk would pass vacuously)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("source, bad", [
    ('raise ConfigError(f"{path}: key missing")', True),
    ('raise HistoryError("no publish " + run)', True),
    ('raise PgError(Msg("error.pg.no_marts", schema=s))', False),
    ('raise FileRejected("FILE_CORRUPT", "binary data, not text")', True),
    ('raise FileRejected("FILE_CORRUPT", Msg("error.ingest.binary"))', False),
    ('raise FileRejected("FILE_EMPTY")', False),
    ('raise ValueError(f"internal {x}")', False),       # not an error the command line prints as its line
])
def test_the_scan_sees_an_english_raise(source, bad):
    assert bool(english_raises(ast.parse(source))) is bad


def test_a_message_renders_late_in_the_language_asked_and_survives_a_process_boundary(monkeypatch):
    from cakupan.core.config import ConfigError

    exc = ConfigError(Msg("error.config.not_mapping", path="config/gate.yml"))
    monkeypatch.setenv("CAKUPAN_LANG", "en")
    english = str(exc)
    monkeypatch.setenv("CAKUPAN_LANG", "id")
    indonesian = str(exc)
    assert english.startswith("config/gate.yml: ") and indonesian.startswith("config/gate.yml: ")
    assert english != indonesian
    again = pickle.loads(pickle.dumps(exc))
    assert str(again) == indonesian


@pytest.fixture
def bad_config(tmp_path):
    """A regency file whose code is not a Kemendagri code: a ConfigError raised deep in core.config."""
    home, config = tmp_path / "home", tmp_path / "config"
    (config / "regencies").mkdir(parents=True)
    (config / "regencies" / "x.yml").write_text('code: "99.99"\nname: Nowhere\n', encoding="utf-8")
    (home / "inbox").mkdir(parents=True)
    return home, config


def test_a_deep_config_error_is_one_indonesian_line_by_default_and_english_on_the_switch(bad_config):
    home, config = bad_config
    proc = run_cli(home, "ingest", check=False, CAKUPAN_CONFIG=str(config))
    line = proc.stderr.strip()
    assert proc.returncode == 1 and len(line.splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "'99.99'" in line and "bukan kode kabupaten/kota Kemendagri" in line, line
    proc = run_cli(home, "--lang", "en", "ingest", check=False, CAKUPAN_CONFIG=str(config))
    assert "'99.99'" in proc.stderr and "is not a Kemendagri regency code" in proc.stderr, proc.stderr


def test_a_history_error_and_a_settings_error_reach_the_line_in_the_language(tmp_path):
    home = tmp_path / "home"
    proc = run_cli(home, "coverage", "--as-of", "yesterday", check=False)
    assert proc.returncode == 1 and "'yesterday'" in proc.stderr and "bukan tanggal" in proc.stderr, proc.stderr
    proc = run_cli(home, "--lang", "en", "coverage", "--as-of", "yesterday", check=False)
    assert "'yesterday' is not a date" in proc.stderr, proc.stderr
    proc = run_cli(home, "ingest", check=False, CAKUPAN_TARGET="oracle")
    assert proc.returncode == 1 and "CAKUPAN_TARGET" in proc.stderr and "'oracle'" in proc.stderr, proc.stderr
    assert "harus" in proc.stderr and "must" not in proc.stderr, proc.stderr


def _calls(tree: ast.AST, attr: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _name(n.func) == attr]


def english_for_people(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) of the OS's own English put into a message (`.strerror`), a PostgreSQL publish-wait progress
    line (`Wait.tick`) given an English sentence, and a typed `error:` prefix of a CLI failure line."""
    out = [(n.lineno, "uses the OS's English text (.strerror): use core.messages.os_error")
           for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "strerror"]
    out += [(c.lineno, "Wait.tick with an English sentence: give it a Msg")
            for c in _calls(tree, "tick") for a in c.args if _is_sentence(a)]
    out += [(n.lineno, "a typed 'error:' prefix: use text('cli.error')") for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and "error:[/]" in n.value]
    return out


def test_no_os_english_progress_line_or_english_prefix_reaches_people():
    """The OS's own English (`strerror`) is never put into a message (core.messages.os_error names the file and
    keeps the errno name); the PostgreSQL publish-wait progress lines (`Wait.tick`) are catalogue messages; the CLI's
    failure prefix is `cli.error` (galat: / error:), not a typed `error:`."""
    problems, ticks = [], 0
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE_DIR))
        tree = ast.parse(path.read_text("utf-8"))
        ticks += len(_calls(tree, "tick"))
        problems += [f"{rel}:{line} {what}" for line, what in english_for_people(tree)]
    assert ticks >= 3          # the scan sees the publish waits
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("source, bad", [
    ('why = exc.strerror', True),
    ('wait.tick(Msg("error.pg.old_readers"), f"waiting for {n} readers")', True),
    ('wait.tick(Msg("error.pg.old_readers"), Msg("error.pg.wait_old_readers", n=n, who=w))', False),
    ('err.print(f"[bold red]error:[/] {message}")', True),
    ('err.print(f"[bold red]{prefix}:[/] {message}")', False),
])
def test_the_scan_sees_os_english_a_progress_sentence_and_a_typed_prefix(source, bad):
    assert bool(english_for_people(ast.parse(source))) is bad
