"""The published marts as BI users see them: dbt's descriptions (from the model YAML) become table and column
comments in PostgreSQL, and the generated section of docs/postgres.md (`python -m cakupan.targets.postgres docs`)."""

from __future__ import annotations

from cakupan.core.files import load_yaml
from cakupan.core.settings import DBT_PROJECT_DIR
from cakupan.orchestration import MANIFEST_PATH
from cakupan.targets.base import published_marts
from cakupan.targets.postgres.zones import PUBLISHED

DOCS_FILE = DBT_PROJECT_DIR.parent / "docs" / "postgres.md"
DOCS_BEGIN = "<!-- BEGIN GENERATED: published marts (python -m cakupan.targets.postgres docs --write) -->"
DOCS_END = "<!-- END GENERATED -->"


def model_docs() -> dict[str, dict]:
    """Descriptions from the dbt YAML under models/: {model: {"description", "columns": {name: (type, desc)}}}."""
    out: dict[str, dict] = {}
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("*.yml")):
        doc = load_yaml(path.read_text(encoding="utf-8")) or {}
        for m in doc.get("models") or []:
            cols = {}
            for c in m.get("columns") or []:
                cols[c["name"]] = (c.get("data_type"), " ".join(str(c.get("description") or "").split()))
            out[m["name"]] = {"description": " ".join(str(m.get("description") or "").split()), "columns": cols,
                              "file": path.relative_to(DBT_PROJECT_DIR).as_posix()}
    return out


def render_published_docs() -> str:
    """Markdown: every published mart (the project manifest's, by name) with its grain and columns."""
    docs = model_docs()
    out = []
    for m in (m for m in published_marts(MANIFEST_PATH) if m in docs):
        d = docs[m]
        out.append(f"### `{PUBLISHED}.{m}`\n\n{d['description']}\n\n_Source: `dbt_project/{d['file']}`._\n")
        out.append("| column | type | description |\n|---|---|---|")
        for c, (ty, desc) in d["columns"].items():
            out.append(f"| `{c}` | {ty or ''} | {desc.replace('|', '/')} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def docs_with_tables(text: str) -> str:
    """Replace the generated section of docs/postgres.md with the current render."""
    head, _, rest = text.partition(DOCS_BEGIN)
    _, _, tail = rest.partition(DOCS_END)
    return f"{head}{DOCS_BEGIN}\n\n{render_published_docs()}\n{DOCS_END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """`docs` prints the section; `docs --write` rewrites docs/postgres.md; `docs --check` exits 1 when stale."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["docs"]:
        text = DOCS_FILE.read_text(encoding="utf-8")
        new = docs_with_tables(text)
        if "--write" in args:
            DOCS_FILE.write_text(new, encoding="utf-8")
            return 0
        if "--check" in args:
            return 0 if new == text else 1
        print(render_published_docs())
        return 0
    print("usage: python -m cakupan.targets.postgres docs [--write | --check]")
    return 2
