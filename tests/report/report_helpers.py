"""Shared by tests/report and tests/browser: one real published warehouse per test session, and a small HTML tree.

The warehouse is built from the sample deliveries in ../shared/samples with the real CLI: `cakupan run` (ingest,
dbt build, GX gate, atomic publish) in a subprocess, exactly as an operator would run it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "samples"
EXPECTED_JSON = SAMPLES / "EXPECTED.json"
CAKUPAN = Path(sys.executable).parent / "cakupan"
PSEUDONYM_KEY = "report-test-key"
REGENCY = "73.14"


def settings_for(home: Path):
    """Settings for a test home, independent of any CAKUPAN_* variable in the caller's environment."""
    from cakupan.core.settings import PROJECT_ROOT, Settings

    return Settings(home=home.resolve(), inbox=(home / "inbox").resolve(), config_dir=PROJECT_ROOT / "config",
                    pseudonym_key=PSEUDONYM_KEY)


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAKUPAN_")}
    env.update(CAKUPAN_HOME=str(home), CAKUPAN_PSEUDONYM_KEY=PSEUDONYM_KEY, NO_COLOR="1",
               DBT_SEND_ANONYMOUS_USAGE_STATS="False", GX_ANALYTICS_ENABLED="False")
    return env


def build_published_home(home: Path) -> Path:
    """Copy the samples into <home>/inbox/73.14 and run `cakupan run` (ingest → build → gate + publish)."""
    if (home / "published" / "cakupan.duckdb").exists():
        return home
    if not SAMPLES.is_dir():
        raise RuntimeError(f"the sample deliveries are missing: {SAMPLES}")
    inbox = home / "inbox" / REGENCY
    inbox.mkdir(parents=True, exist_ok=True)
    for f in sorted(SAMPLES.iterdir()):
        if f.suffix.lower() in (".xlsx", ".xls", ".csv"):
            shutil.copy2(f, inbox / f.name)
    res = subprocess.run([str(CAKUPAN), "run"], env=_env(home), capture_output=True, text=True, timeout=300,
                         check=False)
    if res.returncode != 0:
        raise RuntimeError(f"`cakupan run` failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    if not (home / "published" / "cakupan.duckdb").exists():
        raise RuntimeError("the pipeline ran but published nothing")
    return home


def shared_site(tmp_path_factory, lang: str = "id") -> tuple[Path, Path]:
    """(home, index.html) of the session's published warehouse and its report in `lang` (Bahasa Indonesia, the
    default, or English); the warehouse is built once per session, each language's report once."""
    from cakupan.auditor.report import write_report
    from cakupan.core.messages import using

    base = tmp_path_factory.getbasetemp()
    home = build_published_home(base / "cakupan-published-home")
    site = base / ("cakupan-report-site" if lang == "id" else f"cakupan-report-site-{lang}")
    index = site / "index.html"
    if not index.exists():
        with using(lang):
            write_report(settings_for(home), site)
    return home, index


# ------------------------------------------------------------------------------------------ HTML tree -------
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict = field(default_factory=dict)
    children: list = field(default_factory=list)   # Node or str
    parent: Node | None = None

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list[Node]:
        out = []
        for n in self.iter():
            if tag and n.tag != tag:
                continue
            if cls and cls not in n.classes:
                continue
            if any(n.attrs.get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            out.append(n)
        return out

    def find(self, tag: str | None = None, cls: str | None = None, **attrs) -> Node | None:
        got = self.find_all(tag, cls, **attrs)
        return got[0] if got else None

    def by_id(self, ident: str) -> Node | None:
        return next((n for n in self.iter() if n.attrs.get("id") == ident), None)


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root")
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, {k: (v or "") for k, v in attrs}, parent=self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, {k: (v or "") for k, v in attrs}, parent=self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse_html(text: str) -> Node:
    b = _Builder()
    b.feed(text)
    b.close()
    return b.root
