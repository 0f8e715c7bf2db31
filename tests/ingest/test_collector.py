"""A file read and validated whole runs without Python's cycle collector, which is on again afterwards.

A workbook's sheet (and a CSV the column-wise reader leaves) is read a list a row: without the pause every few
hundred rows started a collection, and the full ones walked every row made so far (a quarter of a 200,000-row
workbook's load, bench/findings.md "Session 31")."""

from __future__ import annotations

import gc

import pytest
from cakupan.ingest.prepare import Preparer
from cakupan.ingest.readers import FileRejected


@pytest.fixture(scope="module")
def big_workbook(tmp_path_factory):
    """A generated 3,000-row Parepare register workbook."""
    from cakupan_dev.synth import SynthSpec, generate

    tmp = tmp_path_factory.mktemp("big_workbook")
    generate(SynthSpec(regencies=["73.72"], months=["2025-06"], workers=3000, seed=5, formats=("xlsx",)), tmp)
    return tmp / "73.72" / "register_parepare_2025-06.xlsx"


def _collections_during(run) -> tuple[int, object]:
    """How many collections started while `run()` ran, and what it returned or raised."""
    started = []

    def seen(phase, info):
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        try:
            out = run()
        except FileRejected as exc:
            out = exc
    finally:
        gc.callbacks.remove(seen)
    return len(started), out


def test_a_workbook_is_read_and_validated_without_a_collection(home_factory, big_workbook):
    s = home_factory("collector")
    dest = s.inbox / "73.72" / big_workbook.name
    dest.parent.mkdir(parents=True)
    dest.write_bytes(big_workbook.read_bytes())
    preparer = Preparer(s)
    assert gc.isenabled()
    gc.collect()
    n, prep = _collections_during(lambda: preparer.prepare(dest))
    # (one at most: the first allocation after the pause, which finds the counter past its threshold)
    assert prep.batch.num_rows >= 3000 and n <= 1, n
    assert gc.isenabled()
    # the rows made meanwhile are the collector's again: the next allocations start collections as before
    n, _ = _collections_during(lambda: [[i] for i in range(50_000)])
    assert n > 0


def test_the_collector_is_on_again_after_a_rejected_file(home_factory):
    s = home_factory("collector_rejected")
    dest = s.inbox / "73.72" / "register_parepare_2025-06.csv"
    dest.parent.mkdir(parents=True)
    dest.write_text("tidak ada kepala kolom di sini\n1;2;3\n", encoding="utf-8")
    _, got = _collections_during(lambda: Preparer(s).prepare(dest))
    assert isinstance(got, FileRejected) and gc.isenabled()


def test_a_caller_that_turned_the_collector_off_finds_it_off(home_factory, big_workbook):
    s = home_factory("collector_off")
    dest = s.inbox / "73.72" / big_workbook.name
    dest.parent.mkdir(parents=True)
    dest.write_bytes(big_workbook.read_bytes())
    gc.disable()
    try:
        Preparer(s).prepare(dest)
        assert not gc.isenabled()
    finally:
        gc.enable()
