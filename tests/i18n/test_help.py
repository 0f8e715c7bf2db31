"""`cakupan --help` speaks the clerk's language: every command's and option's help comes from the catalogue
(help.cmd.*, help.opt.*), Bahasa Indonesia by default, English with CAKUPAN_LANG=en or --lang en (issue 23)."""

from __future__ import annotations

import typer
from _support import run_cli
from cakupan.cli import app
from cakupan.core.messages import catalogue
from cakupan.helptext import command_key, lang_from_argv, option_key, walk


def test_every_command_and_parameter_has_help_in_the_catalogue():
    tree = list(walk(typer.main.get_command(app)))
    assert len(tree) > 20 and {p for p, _ in tree} >= {(), ("ingest",), ("template", "register"), ("history", "list")}
    missing = [command_key(p) for p, c in tree if command_key(p) not in catalogue()]
    missing += [f"{'.'.join(p) or 'cakupan'} {prm.name}" for p, c in tree for prm in c.params
                if option_key(p, prm.name) is None]
    assert not missing, missing


def test_the_language_is_read_from_the_command_line_before_the_command():
    assert lang_from_argv(["--lang", "en", "ingest", "--help"]) == "en"
    assert lang_from_argv(["--lang=id", "coverage"]) == "id"
    assert lang_from_argv(["ingest", "--lang", "en"]) is None        # an option of the root only
    assert lang_from_argv([]) is None


def test_help_is_indonesian_by_default_and_english_on_the_switch(tmp_path):
    home = tmp_path / "home"
    out = run_cli(home, "--help", COLUMNS="200").stdout
    assert "Perintah" in out and "Opsi" in out and "Tampilkan pesan ini lalu keluar." in out, out
    assert "Muat berkas ke zona mentah" in out and "Load files into the raw zone" not in out, out
    out = run_cli(home, "--help", COLUMNS="200", CAKUPAN_LANG="en").stdout
    assert "Commands" in out and "Load files into the raw zone" in out and "Muat berkas" not in out, out
    out = run_cli(home, "--lang", "en", "ingest", "--help", COLUMNS="200").stdout
    assert "Files or folders; default: every new file" in out and "Show this message and exit." in out, out
    out = run_cli(home, "template", "register", "--help", COLUMNS="200").stdout
    assert "Kode atau nama Kemendagri" in out and "[wajib]" in out, out
