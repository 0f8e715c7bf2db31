"""Fault injection: the loader's own check that rows in = rows loaded + rows quarantined.

A planted bug loses the quarantined rows on their way to quarantine.rows (the insert is skipped). The loader must
notice inside the load's transaction: raise LoadInvariantError with the counts, roll back every row of that file
(raw and quarantine), and leave a manifest row that says why. Expected counts come from the generator's truth.
"""

from __future__ import annotations

import duckdb
import pytest
from cakupan.ingest.loader import Loader, LoadInvariantError
from cakupan_dev.synth import SynthSpec, generate


class QuarantineDroppingLoader(Loader):
    """The planted bug: rows with a problem are never written to quarantine.rows."""

    def _quarantine(self, staged, batch, contract, load) -> None:
        return None


def test_rows_lost_on_the_way_to_quarantine_stop_the_load_and_roll_it_back(home):
    truth = generate(SynthSpec(regencies=["73.72"], months=["2025-04"], workers=6, seed=2, scenarios=("bad_rows",),
                               formats=("csv",)), home.inbox)
    (f,) = [f for f in truth["files"] if f["source"] == "register"]
    assert f["quarantined"] > 0
    loader = QuarantineDroppingLoader(home)
    try:
        # error.ingest.invariant, in the default language (Bahasa Indonesia)
        with pytest.raises(LoadInvariantError, match=rf"{f['path']}: baris masuk {f['rows_in']} tidak sama dengan "
                                                     rf"dimuat {f['loaded']} \+ dikarantina 0"):
            loader.load(home.inbox / f["path"])
        con = loader.con
        status, code, message, *counts = con.execute(
            "select status, error_code, error_message, rows_in, rows_loaded, rows_quarantined from audit.loads "
            "where source_file = ?", [f["path"]]).fetchone()
        load_id = con.execute("select load_id from audit.loads where source_file = ?", [f["path"]]).fetchone()[0]
        assert con.execute("select count(*) from raw.register where load_id = ?", [load_id]).fetchone()[0] == 0
        assert con.execute("select count(*) from quarantine.rows where load_id = ?", [load_id]).fetchone()[0] == 0
    finally:
        loader.con.close()
    assert (status, code, counts) == ("failed", "LOAD_INVARIANT", [0, 0, 0])   # nothing of the file kept
    name = f["path"].rsplit("/", 1)[-1]
    assert message.startswith(f"{name}: Jumlah baris yang dihitung Cakupan")
    assert f"baris masuk {f['rows_in']} tidak sama dengan dimuat {f['loaded']} + dikarantina 0" in message
    # the same file through a correct loader, in a fresh warehouse: the counts the truth gives
    with duckdb.connect(str(home.work_db)) as con:
        con.execute("delete from audit.loads")
    good = Loader(home)
    try:
        r = good.load(home.inbox / f["path"])
    finally:
        good.con.close()
    assert (r.status, r.rows_in, r.rows_loaded, r.rows_quarantined) == ("loaded", f["rows_in"], f["loaded"],
                                                                         f["quarantined"])
