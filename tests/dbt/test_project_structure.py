"""The dbt project's layout, read from its manifest (`make manifest`): layers, sources, grain tests, descriptions.

Layers, in the order data flows; a model lives in the folder of its layer and refs only its own or earlier
layers. findings/ may also read the published coverage mart: promises and reports are audited against the
figures Cakupan publishes (FINDINGS_MAY_READ).
"""

from __future__ import annotations

import json

import pytest
from cakupan.core.dbt_sources import gate_rules
from cakupan.core.settings import DBT_PROJECT_DIR

LAYERS = ("staging", "intermediate", "marts/core", "findings", "marts/published")
FINDINGS_MAY_READ = {"mart_coverage_monthly"}
# a grain test: a unique combination of the grain columns, or unique on a one-column key
GRAIN_TESTS = {"unique_combination", "unique"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    path = DBT_PROJECT_DIR / "target" / "manifest.json"
    assert path.is_file(), "make test builds it first (make manifest)"
    return json.loads(path.read_text(encoding="utf-8"))


def layer_of(node: dict) -> str:
    """The layer of a model: the longest LAYERS folder its file is under."""
    path = node["original_file_path"].removeprefix("models/")
    found = [layer for layer in LAYERS if path.startswith(layer + "/")]
    assert found, f"{node['name']} ({node['original_file_path']}) is in no layer folder {LAYERS}"
    return max(found, key=len)


def models(manifest: dict) -> dict[str, dict]:
    return {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}


def data_tests_by_model(manifest: dict) -> dict[str, list[dict]]:
    """Generic data tests by the model they test."""
    out: dict[str, list[dict]] = {}
    for n in manifest["nodes"].values():
        if n["resource_type"] == "test" and n.get("attached_node") and n.get("test_metadata"):
            out.setdefault(n["attached_node"], []).append(n)
    return out


def test_every_model_is_in_a_layer_folder(manifest):
    assert {layer_of(n) for n in models(manifest).values()} == set(LAYERS)


def test_only_staging_models_call_source(manifest):
    outside = sorted(n["name"] for n in models(manifest).values()
                     if layer_of(n) != "staging" and any(d.startswith("source.") for d in n["depends_on"]["nodes"]))
    assert not outside, f"source() outside models/staging: {outside}"


def test_a_staging_model_reads_one_source_table_and_nothing_else(manifest):
    for n in models(manifest).values():
        if layer_of(n) == "staging":
            parents = n["depends_on"]["nodes"]
            assert len(parents) == 1 and parents[0].startswith("source."), (n["name"], parents)


def test_no_model_refs_a_later_layer(manifest):
    nodes = models(manifest)
    backwards = []
    for n in nodes.values():
        for parent in (nodes[d] for d in n["depends_on"]["nodes"] if d in nodes):
            if LAYERS.index(layer_of(parent)) <= LAYERS.index(layer_of(n)):
                continue
            if layer_of(n) == "findings" and parent["name"] in FINDINGS_MAY_READ:
                continue
            backwards.append(f"{n['name']} ({layer_of(n)}) -> {parent['name']} ({layer_of(parent)})")
    assert not backwards, backwards


def test_every_mart_and_fact_has_a_grain_test(manifest):
    tested = data_tests_by_model(manifest)
    missing = sorted(
        n["name"] for uid, n in models(manifest).items()
        if layer_of(n) in ("marts/core", "findings", "marts/published") and n["config"]["materialized"] != "ephemeral"
        and not any(t["test_metadata"]["name"] in GRAIN_TESTS for t in tested.get(uid, [])))
    assert not missing, f"no grain test (unique_combination of the grain columns, or unique): {missing}"


def test_every_model_is_described(manifest):
    undescribed = sorted(n["name"] for n in models(manifest).values() if not n["description"].strip())
    assert not undescribed, undescribed


def test_every_source_table_is_described(manifest):
    undescribed = sorted(f"{s['source_name']}.{s['name']}" for s in manifest["sources"].values()
                         if not s["description"].strip())
    assert not undescribed, undescribed


def test_every_published_column_is_described_and_typed(manifest):
    for n in models(manifest).values():
        if "published" not in n["tags"]:
            continue
        assert n["config"]["contract"]["enforced"], n["name"]   # the YAML columns are exactly the model's columns
        bare = [c for c, col in n["columns"].items() if not col["description"].strip() or not col["data_type"]]
        assert n["columns"] and not bare, (n["name"], bare)


def test_the_published_tag_is_exactly_on_the_published_folder(manifest):
    tagged = {n["name"] for n in models(manifest).values() if "published" in n["tags"]}
    in_folder = {n["name"] for n in models(manifest).values() if layer_of(n) == "marts/published"}
    assert tagged == in_folder and tagged


def test_restricted_staging_is_ephemeral_and_private(manifest):
    restricted = [n for n in models(manifest).values()
                  if n["original_file_path"].startswith("models/staging/restricted/")]
    assert restricted
    for n in restricted:
        assert n["config"]["materialized"] == "ephemeral" and n["access"] == "private" and n["group"], n["name"]
        readers = [m for m in models(manifest).values() if n["unique_id"] in m["depends_on"]["nodes"]]
        assert readers and all(m["group"] == n["group"] for m in readers), n["name"]


def test_the_gate_checks_each_dbt_test_marked_for_it(manifest):
    """A rule both dbt and the publish gate check is written once, as a dbt test with meta.gate."""
    marked = sorted((f"marts.{manifest['nodes'][t['attached_node']]['name']}", t["column_name"],
                     t["test_metadata"]["kwargs"]["other"], t["config"]["meta"]["gate"]["check"])
                    for t in manifest["nodes"].values()
                    if t["resource_type"] == "test" and t["config"].get("meta", {}).get("gate"))
    assert marked == sorted(r[:4] for r in gate_rules())
    assert ("marts.mart_coverage_monthly", "protected", "enrolled", "protected <= enrolled") in marked
