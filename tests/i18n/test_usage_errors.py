"""A wrong command line is one line in the clerk's language (issue 23): Click's / Typer's own usage errors (an
unknown option or command, a missing argument, an option without its value, extra arguments) are read through the
catalogue's usage.* entries and printed after the `cli.error` prefix (galat: / error:), naming what is wrong and
where the help is; exit code 64 (2 is a blocked publish, README 'Exit codes'). A Click wording the catalogue does not
know stays English and fails here."""

from __future__ import annotations

import re

import pytest
import typer
from _support import run_cli
from cakupan.cli import app
from cakupan.core.messages import text, using
from cakupan.helptext import usage_error
from typer._click.exceptions import UsageError

# (arguments, what the Indonesian line must say, what the English one must say)
CASES = [
    (["coverage", "--nope"], "Opsi --nope tidak dikenal", "No such option: --nope"),
    (["ingest", "--hom"], "Opsi --hom tidak dikenal (mungkin maksudnya: --home)",
     "No such option: --hom (Possible options: --home)"),
    (["nosuch"], "Perintah 'nosuch' tidak dikenal.", "No such command 'nosuch'."),
    (["rollback"], "Argumen 'run' wajib diisi.", "Missing argument 'run'."),
    (["coverage", "--home"], "Opsi '--home' memerlukan satu nilai.", "Option '--home' requires an argument."),
    (["history", "list", "extra"], "Ada argumen berlebih yang tidak dikenal: (extra).",
     "Got unexpected extra argument(s) (extra)"),
]
CLICK_WORDS = re.compile(r"\b(No such|Missing|Invalid value|Got unexpected|requires|does not take|Possible options|"
                         r"Usage|Try|Error|See)\b")


def _usage_error(args: list[str]) -> UsageError:
    command = typer.main.get_command(app)
    with pytest.raises(UsageError) as caught:
        command(args, prog_name="cakupan", standalone_mode=False)
    return caught.value


@pytest.mark.parametrize("args, indonesian, english", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_every_usage_error_reads_in_both_languages(args, indonesian, english):
    exc = _usage_error(args)
    where = exc.ctx.command_path if exc.ctx is not None else "cakupan"   # an option's usage error has no context
    with using("id"):
        line = usage_error(exc)
    assert indonesian in line and not CLICK_WORDS.search(line), line
    assert line.endswith(f"Lihat '{where} --help'."), line
    with using("en"):
        line = usage_error(exc)
    assert line.startswith(english) and line.endswith(f" See '{where} --help'."), line


def test_a_wording_no_entry_knows_is_shown_as_click_wrote_it():
    with using("id"):
        assert usage_error(UsageError("Something new went wrong.")) == \
            text("usage.help", "id", message="Something new went wrong.", command="cakupan")


@pytest.mark.integration
def test_the_real_command_line_prints_one_line_and_exits_64(tmp_path):
    home = tmp_path / "home"
    proc = run_cli(home, "ingest", "--hom", "x", check=False)
    assert proc.returncode == 64 and proc.stdout == "", proc.stdout
    assert proc.stderr.strip() == ("galat: Opsi --hom tidak dikenal (mungkin maksudnya: --home). "
                                   "Lihat 'cakupan ingest --help'."), proc.stderr
    proc = run_cli(home, "--lang", "en", "rollback", check=False)
    assert proc.returncode == 64
    assert proc.stderr.strip() == "error: Missing argument 'run'. See 'cakupan rollback --help'.", proc.stderr
