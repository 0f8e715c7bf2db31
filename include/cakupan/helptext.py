"""The command line's --help texts, from the message catalogue (issue 23): Bahasa Indonesia by default, English with
CAKUPAN_LANG=en or `--lang en`.

The English docstrings and `help=` strings in cli.py stay what a developer reads in the code; what a person reads
under --help comes from `help.cmd.<command path>` (the command) and `help.opt.<command path>.<parameter>` or, for an
option every command shares (--home, --json, --as-of…), `help.opt.<parameter>` in messages.yml. The language is
known before Click parses anything (`--lang` is looked for in argv), so the whole tree is localised once, before the
command line is read. A command or parameter without an entry fails tests/i18n/test_help.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from cakupan.core.messages import catalogue, language, set_language, stored_text, template, text

# Typer's own words around the texts (its rich help panels and markers), by their names in typer.rich_utils
PANEL_WORDS = {"ARGUMENTS_PANEL_TITLE": "arguments", "OPTIONS_PANEL_TITLE": "options",
               "COMMANDS_PANEL_TITLE": "commands", "REQUIRED_LONG_STRING": "required", "DEFAULT_STRING": "default",
               "ERRORS_PANEL_TITLE": "error"}


def lang_from_argv(argv: Sequence[str]) -> str | None:
    """The value of `--lang X` / `--lang=X` before the first command word, if given."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
        if not arg.startswith("-"):
            return None
    return None


def walk(command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """Every command of the tree with its path (() for the root), depth first."""
    yield path, command
    if hasattr(command, "list_commands"):
        from typer._click.core import Context

        ctx = Context(command)
        for name in command.list_commands(ctx):
            yield from walk(command.get_command(ctx, name), (*path, name))


def command_key(path: tuple[str, ...]) -> str:
    return "help.cmd." + (".".join(p.replace("-", "_") for p in path) or "cakupan")


def option_keys(path: tuple[str, ...], name: str) -> tuple[str, str]:
    """The keys a parameter's help may have: its own under the command, then the shared one."""
    own = ".".join([*(p.replace("-", "_") for p in path), name]) if path else f"cakupan.{name}"
    return f"help.opt.{own}", f"help.opt.{name}"


def option_key(path: tuple[str, ...], name: str) -> str | None:
    known = catalogue()
    return next((k for k in option_keys(path, name) if k in known), None)


def localise(command, lang: str | None = None) -> None:
    """Set every command's and parameter's help (and the help option's, and Typer's panel titles) in the language;
    a language given (`--lang`, read from argv) is the process's from here on, so a usage error Click finds before
    it reads --lang itself is written in it too."""
    import typer.rich_utils as ru
    from typer._click.core import Context

    lang = set_language(lang) if lang else language()
    for attr, word in PANEL_WORDS.items():
        setattr(ru, attr, template(f"help.word.{word}", lang))    # raw: Typer fills its own {}
    for path, cmd in walk(command):
        key = command_key(path)
        if key in catalogue():
            cmd.help = text(key, lang)
            cmd.short_help = None
        for param in cmd.params:
            key = option_key(path, param.name)
            if key is not None:
                param.help = text(key, lang)
        help_option = cmd.get_help_option(Context(cmd))
        if help_option is not None:
            help_option.help = text("help.opt.help", lang)


def usage_error(exc) -> str:
    """A usage error of Click / Typer (an unknown option or command, a missing argument, a wrong value) as one line
    in the language: Click's own message read through the `usage.*` entries (their English side is Click's
    wording), a wrong value's reason through `usage.value.*`, and where to look for help. A message no entry
    matches (a future Click wording) is shown as Click wrote it."""
    lang = language()
    said = stored_text(exc.format_message(), "usage", lang,
                       lambda v: stored_text(v, "usage.value", lang))
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "cakupan"
    return text("usage.help", lang, message=said, command=command)
