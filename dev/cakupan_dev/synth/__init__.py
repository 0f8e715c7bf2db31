"""Synthetic regency deliveries (registers + contributions) and the ground truth they were generated from.

Everything here is synthetic: NIKs have the right shape (real Kemendagri district codes, a valid birth date with
day + 40 for women, a serial) but belong to nobody. The generator is deterministic: every random draw comes from
`random.Random` instances seeded from `SynthSpec.seed` (one per regency, seeded with a string so the result does
not depend on PYTHONHASHSEED or on the order of `regencies`), never from the global `random` module or the clock.

Layout written under ``out_dir``::

    <regency code>/register_<slug>_<YYYY-MM>.xlsx|.csv          one delivery per regency per month
    <regency code>/register_<slug>_<YYYY-MM>_koreksi.<ext>      "correction" scenario: supersedes the one above
    <regency code>/contributions_<slug>_<YYYY>.csv              one per regency per calendar year
    <regency code>/klaim_<slug>_<YYYY>.csv                      claims paid (source "claims", see below)
    <regency code>/laporan_<slug>_<YYYY>.csv                    structured city report (source "city_report")
    berita/<NN>_<slug>_<YYYY-MM>.txt                            narrative press releases (source "narrative")
    ground_truth.json                                           what was generated (see `generate`)

Registers and contributions are always written; claims, city reports and narrative reports only when asked for
(`SynthSpec.sources`) or when a scenario needs them. With claims, registers carry a KPJ column too.

Scenarios: SCENARIOS are the delivery problems (late or partial payment, corrections, duplicates, bad rows);
FINDING_SCENARIOS inject the discrepancies the audit findings must catch (fct_audit_findings). Every injected
entry lists the findings a correct pipeline raises for it under "findings" ({code, regency_code, month}); a run
with no scenario raises none (payments are on time, NIKs belong to the regency, reports agree with the data).

The ground truth is the generator's *intent*, computed from its own worker lists, never by reading files back.

Modules: `spec` (what to generate), `people` and `regency` (who is listed and how each regency's clerks write
it), `text` (Indonesian dates and money), `scenarios` (where each scenario happens), `generator` (monthly
rosters and the run), one writer per source (`registers`, `contributions`, `claims`, `reports`) and `truth`.
"""

from cakupan_dev.synth.generator import generate, synth_main
from cakupan_dev.synth.regency import regency_slug
from cakupan_dev.synth.reports import NARRATIVE_DIR
from cakupan_dev.synth.spec import (
    ALL_SCENARIOS,
    DUE_DAY,
    EXTRA_SOURCES,
    FINDING_SCENARIOS,
    FORMATS,
    FUNDING_SOURCES,
    SCENARIO_SOURCES,
    SCENARIOS,
    SynthSpec,
    month_range,
    parse_months,
    parse_regencies,
)
from cakupan_dev.synth.truth import GROUND_TRUTH_NAME, load_ground_truth, write_ground_truth

__all__ = [
    "ALL_SCENARIOS",
    "DUE_DAY",
    "EXTRA_SOURCES",
    "FINDING_SCENARIOS",
    "FORMATS",
    "FUNDING_SOURCES",
    "GROUND_TRUTH_NAME",
    "NARRATIVE_DIR",
    "SCENARIOS",
    "SCENARIO_SOURCES",
    "SynthSpec",
    "generate",
    "load_ground_truth",
    "month_range",
    "parse_months",
    "parse_regencies",
    "regency_slug",
    "synth_main",
    "write_ground_truth",
]
