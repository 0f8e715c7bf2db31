"""The demo's deliveries at the seed reports' scale (`make demo`: `python -m cakupan_dev.demo PATH`), and the
comparison of the published coverage mart with a synthetic ground truth (used by `make demo` and the tests)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

# The seed reports (../shared/city_reports, domain.md): Parepare covered about 750 vulnerable workers before its
# MoU and promised 1,000 in total from April 2025; Palopo protects 4,000, half of them fishermen. Sidrap is not in
# the seeds' story: a small regency beside them. A demo-only scale: the tests' synthetic sets stay at 40 workers.
DEMO_MONTHS = "2025-03..2025-08"
DEMO_WORKERS = {"73.72": 750, "73.73": 3900, "73.14": 300}
DEMO_GROW_TO = {"73.72": ("2025-04", 1000)}
DEMO_FISHER_SHARE = {"73.73": 0.5}
DEMO_SCENARIOS = ("late_payment", "partial_payment", "correction", "duplicate_worker", "bad_rows")


def demo_spec(months: str = DEMO_MONTHS):
    """The demo's synthetic spec: the three regencies at the seed reports' scale, claims, realistic troubles."""
    from cakupan_dev.synth import SynthSpec, parse_months

    return SynthSpec(regencies=list(DEMO_WORKERS), months=parse_months(months), workers=40, seed=7,
                     scenarios=DEMO_SCENARIOS, sources=("claims",), workers_by_regency=dict(DEMO_WORKERS),
                     grow_to=dict(DEMO_GROW_TO), fisher_share=dict(DEMO_FISHER_SHARE))


def expected_from_truth(truth_path: Path) -> dict[tuple[str, str], dict]:
    """Return (regency, YYYY-MM) -> expected figures, from the generator's own record of what it generated."""
    truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    out = {}
    for r in truth["coverage_by_regency_month"]:
        out[(r["regency_code"], r["month"])] = {
            "enrolled": r["enrolled"], "protected": r["protected"],
            "premium_billed": r["amount_billed"], "premium_paid": r["amount_paid"],
        }
    return out


def compare_with_truth(published: Path, truth_path: Path) -> list[str]:
    """Return every difference between the published mart and the ground truth (empty = equal)."""
    expected = expected_from_truth(truth_path)
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute("select regency_code, strftime(month_start, '%Y-%m'), enrolled, protected, "
                           "premium_billed, premium_paid from marts.mart_coverage_monthly").fetchall()
    got = {(r[0], r[1]): {"enrolled": r[2], "protected": r[3],
                          "premium_billed": None if r[4] is None else float(r[4]),
                          "premium_paid": None if r[5] is None else float(r[5])} for r in rows}
    problems = []
    for key in sorted(set(expected) | set(got)):
        e, g = expected.get(key), got.get(key)
        if e is None:
            problems.append(f"{key}: in the mart but not in the ground truth: {g}")
        elif g is None:
            problems.append(f"{key}: in the ground truth but not in the mart: {e}")
        else:
            for k, v in e.items():
                if v is None or g[k] is None:  # no data (a month with no bill: protected NULL, not 0)
                    if (v is None) != (g[k] is None):
                        problems.append(f"{key} {k}: mart {g[k]} != ground truth {v}")
                elif abs(float(g[k]) - float(v)) > 0.005:
                    problems.append(f"{key} {k}: mart {g[k]} != ground truth {v}")
    return problems


if __name__ == "__main__":
    import sys

    from cakupan_dev.synth import generate

    truth = generate(demo_spec(), Path(sys.argv[1]))
    print(f"{len(truth['files'])} demo deliveries written to {sys.argv[1]}")
