"""GX Data Docs: the pages rendered with one shared view equal those rendered with a view per page (the old way),
except for the ids and times GX makes up on every render."""

from __future__ import annotations

import re

import pandas as pd
from cakupan import quality
from cakupan.quality import engine

VOLATILE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{8}T\d{6}\.\d{6}Z|"
                      r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?")


def test_one_shared_view_renders_the_same_pages(tmp_path, monkeypatch):
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    E = quality._gx().expectations
    frames = {
        "marts.a": pd.DataFrame({"n": [1, 2, None], "k": ["x", "y", "z"]}),
        "marts.b": pd.DataFrame({"v": [5, -1, 7]}),
        "raw.c": pd.DataFrame({"flag": [True, False, True]}),
    }
    checks = [
        quality.Check("marts", "marts.a", E.ExpectColumnValuesToNotBeNull(column="n"), "error", "n present"),
        quality.Check("marts", "marts.a", E.ExpectColumnValuesToMatchRegex(column="k", regex="^[xyz]$"), "warn",
                      "k letters"),
        quality.Check("marts", "marts.b", E.ExpectColumnValuesToBeBetween(column="v", min_value=0), "error",
                      "v non-negative"),
        quality.Check("raw", "raw.c", E.ExpectColumnValuesToBeInSet(column="flag", value_set=[True]), "error",
                      "flag set"),
    ]
    seen = []
    write = engine.write_data_docs

    def keep(results, docs_dir, run_id):
        seen.extend(results)
        return write(results, docs_dir, run_id)

    monkeypatch.setattr(engine, "write_data_docs", keep)
    gate = quality.validate(frames, checks, "docs-run", docs_dir=tmp_path)
    assert [r.success for r in gate.results].count(False) == 3
    assert [t for t, _ in seen] == ["marts.a", "marts.b", "raw.c"]
    for table, res in seen:
        shared = (tmp_path / "docs-run" / (table.replace(".", "_") + ".html")).read_text(encoding="utf-8")
        alone = DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(res))
        assert "Data Docs rendering failed" not in shared
        assert VOLATILE.sub("~", shared) == VOLATILE.sub("~", alone), table
