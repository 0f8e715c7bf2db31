"""Every messy case, by name, and writing them into an inbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cakupan_dev.messy.delivery_cases import (
    csv_cases,
    delivery_cases,
    old_template_cases,
    rejected_file_cases,
)
from cakupan_dev.messy.layout_cases import layout_cases
from cakupan_dev.messy.outcomes import MessyCase
from cakupan_dev.messy.register_cases import register_layout_cases, register_value_cases
from cakupan_dev.messy.source_cases import other_source_cases

_BUILDERS: tuple[Callable[[], list[MessyCase]], ...] = (
    register_layout_cases, register_value_cases, csv_cases, old_template_cases, delivery_cases,
    rejected_file_cases, other_source_cases, layout_cases)


def cases() -> list[MessyCase]:
    """Every messy case, in a stable order, with unique names."""
    out = [c for build in _BUILDERS for c in build()]
    names = [c.name for c in out]
    assert len(names) == len(set(names)), "case names must be unique"
    return out


def case_by_name(name: str) -> MessyCase:
    for c in cases():
        if c.name == name:
            return c
    raise KeyError(name)


def write_case(case: MessyCase, inbox: Path) -> list[Path]:
    """Write a case's files under <inbox>/<folder>/ and return their paths in load order."""
    paths = []
    for f in case.files:
        p = Path(inbox) / f.folder / f.name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f.data)
        paths.append(p)
    return paths


def write_all(out_dir: Path) -> dict[str, list[Path]]:
    """Write every case under out_dir/<case name>/<folder>/<file> (one inbox per case)."""
    return {c.name: write_case(c, Path(out_dir) / c.name) for c in cases()}
