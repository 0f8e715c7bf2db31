"""`cakupan rejections export` and `cakupan template register|contributions|claims`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cakupan.core.config import ConfigError, load_regencies
from cakupan.core.messages import Msg

rejections_app = typer.Typer(help="Rejected rows back to the regency that sent them.", no_args_is_help=True)
template_app = typer.Typer(help="The recommended workbook for a regency's deliveries.", no_args_is_help=True)

RegencyOpt = Annotated[str | None, typer.Option("--regency", help="Kemendagri code, e.g. 73.72 (default: all).")]


@rejections_app.callback()
def _rejections() -> None:
    """Rejected rows back to the regency that sent them."""


@rejections_app.command("export")
def export(regency: RegencyOpt = None,
           home: Annotated[Path | None, typer.Option("--home", help="CAKUPAN_HOME.")] = None,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False) -> None:
    """Write a workbook of each delivery's rejected rows into outbox/<regency>/ (personal data: 0600 files in 0700
    folders, never published)."""
    from cakupan.core.settings import Settings
    from cakupan.outbox.fixes import record_fixes
    from cakupan.outbox.workbook import export_rejections, outbox_root

    settings = Settings.from_env(home=home)
    record_fixes(settings)
    written = export_rejections(settings, regency)
    root = outbox_root(settings)
    names = [str(p.relative_to(root)) for p in written]
    if as_json:
        print(json.dumps({"outbox": str(root), "workbooks": names}, ensure_ascii=False))
    else:
        print(f"{len(names)} workbook(s) in {root}" + "".join(f"\n  {n}" for n in names))


def _template(source: str, regency: str, out: Path | None) -> None:
    from cakupan.core.settings import Settings
    from cakupan.outbox.template import write_template

    settings = Settings.from_env()
    regs = load_regencies(settings.config_dir)
    reg = regs.get(regency) or next((r for r in regs.values() if regency.lower() in
                                     [a.lower() for a in (r.name, *r.aliases)]), None)
    if reg is None:
        raise ConfigError(Msg("error.config.no_regency", regency=regency, codes=", ".join(sorted(regs))))
    print(write_template(source, reg, out or Path.cwd()))


TemplateRegency = Annotated[str, typer.Option("--regency", help="Kemendagri code or name, e.g. 73.72 or Parepare.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="File or folder to write (default: this folder).")]


@template_app.command("register")
def template_register(regency: TemplateRegency, out: OutOpt = None) -> None:
    """The participant register template (daftar peserta)."""
    _template("register", regency, out)


@template_app.command("contributions")
def template_contributions(regency: TemplateRegency, out: OutOpt = None) -> None:
    """The contributions template (tagihan dan pembayaran iuran)."""
    _template("contributions", regency, out)


@template_app.command("claims")
def template_claims(regency: TemplateRegency, out: OutOpt = None) -> None:
    """The claims template (klaim)."""
    _template("claims", regency, out)
