"""`make demo` tells the seed reports' story at their scale (domain.md): Parepare about 750 covered workers before
its promise of 1,000 from April 2025, Palopo about 4,000 of whom half are fishermen. The scale is the demo's own
setting: the synthetic sets of the other tests keep `workers` for every regency."""

from __future__ import annotations

import csv
import io

from cakupan_dev.demo import demo_spec
from cakupan_dev.synth import SynthSpec, generate


def test_the_demo_grows_parepare_to_its_promise_and_palopo_is_half_fishermen(tmp_path):
    spec = demo_spec("2025-03..2025-04")
    spec.scenarios, spec.sources, spec.formats = (), (), ("csv",)
    truth = generate(spec, tmp_path)
    enrolled = {(r["regency_code"], r["month"]): r["enrolled"] for r in truth["coverage_by_regency_month"]}
    assert enrolled[("73.72", "2025-03")] == 750
    assert enrolled[("73.72", "2025-04")] >= 1000            # the MoU's total from April 2025
    assert 3800 <= enrolled[("73.73", "2025-03")] <= 4200    # "4,000 people protected"
    (palopo,) = [f for f in truth["files"] if f["source"] == "register" and f["regency_code"] == "73.73"
                 and f["period"] == "2025-03"]
    text = (tmp_path / palopo["path"]).read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=csv.Sniffer().sniff(text[:4000], ";,\t").delimiter))
    header = next(i for i, r in enumerate(rows) if any("pekerjaan" in c.lower() for c in r))
    col = next(i for i, c in enumerate(rows[header]) if "pekerjaan" in c.lower())
    jobs = [r[col].lower() for r in rows[header + 1:] if len(r) > col and r[col]]
    share = sum("nelayan" in j for j in jobs) / len(jobs)
    assert 0.45 <= share <= 0.55, share


def test_without_the_demo_settings_every_regency_has_the_spec_workers(tmp_path):
    truth = generate(SynthSpec(regencies=["73.72", "73.73"], months=["2025-03"], workers=12, seed=1,
                               formats=("csv",)), tmp_path)
    assert {r["enrolled"] for r in truth["coverage_by_regency_month"]} == {12}
