"""Copies of each run's Great Expectations Data Docs inside the site, made self-contained and scrubbed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import quote

from cakupan.auditor.formatting import scrub_digits
from cakupan.auditor.render import macros
from cakupan.auditor.runs import Run
from cakupan.core.settings import safe_id

_REMOTE = r"""\s*=\s*["']?(?:https?:)?//"""
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_REMOTE_TAG = re.compile(r"<(?:link|img|iframe|source|embed)\b[^>]*\b(?:href|src)" + _REMOTE + r"[^>]*>", re.IGNORECASE)


def offline_gx_page(text: str, origin: Path) -> str:
    """A GX Data Docs page made self-contained: scripts and remote stylesheets/images removed, NIK-like numbers
    scrubbed, and a note saying where the original is."""
    text = _REMOTE_TAG.sub("", _SCRIPT.sub("", scrub_digits(text)))
    page = macros("gx_copy.html")
    css, note = str(page.style()), str(page.note(origin))
    text, n = re.subn(r"(<head\b[^>]*>)", lambda m: m.group(1) + css, text, count=1, flags=re.IGNORECASE)
    if not n:
        text = css + text
    text, n = re.subn(r"(<body\b[^>]*>)", lambda m: m.group(1) + note, text, count=1, flags=re.IGNORECASE)
    return text if n else note + text


def _copy_file(f: Path, target: Path, origin: Path) -> None:
    """HTML made offline, text scrubbed of long numbers, anything else copied as it is."""
    if f.suffix.lower() in (".html", ".htm"):
        target.write_text(offline_gx_page(f.read_text(encoding="utf-8", errors="replace"), origin), encoding="utf-8")
    elif f.suffix.lower() in (".json", ".txt", ".css"):
        target.write_text(scrub_digits(f.read_text(encoding="utf-8", errors="replace")), encoding="utf-8")
    else:
        shutil.copy2(f, target)


def copy_gx_docs(runs: list[Run], out: Path) -> dict[str, str]:
    """Copy each run's GX Data Docs into the site (scrubbed), return run id -> relative link."""
    dest_root = out / "gx"
    if dest_root.exists():
        shutil.rmtree(dest_root)
    links = {}
    for run in runs:
        if run.gx_dir is None:
            continue
        dest = dest_root / safe_id(run.run_id)
        dest.mkdir(parents=True, exist_ok=True)
        for f in sorted(run.gx_dir.rglob("*")):
            if f.is_file():
                target = dest / f.relative_to(run.gx_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                _copy_file(f, target, run.gx_dir)
        links[run.run_id] = f"gx/{quote(safe_id(run.run_id))}/index.html"
    return links
