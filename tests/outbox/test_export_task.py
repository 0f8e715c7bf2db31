"""The ingest DAG's export_rejections task, run by a real `airflow tasks test`, writes the same rejection workbooks
as `cakupan rejections export`: the same files, and in each the same rejected rows with the same reasons and the
same summary (reopened with calamine; rows compared, not bytes: a workbook's zip carries its own write time)."""

from __future__ import annotations

import datetime as dt

import pytest
from _support import airflow_tasks_test, run_cli
from python_calamine import CalamineWorkbook

pytestmark = pytest.mark.integration

HEADER = "NIK,Nama,Jenis Kelamin,Tanggal Lahir,Pekerjaan,Program,Iuran,Sumber Dana,Tanggal Mulai,Bulan\n"
# synthetic people: one good row, a NIK Excel rounded (and no occupation), a NIK of 15 digits, a sex that is no code
ROWS = ("7372014101900001,Ani Sintetis,P,1990-01-01,Nelayan,JKK+JKM,16800,APBD,2025-04-01,2025-04\n"
        "7.37201410119E+15,Budi Sintetis,L,1990-01-01,,JKK+JKM,16800,APBD,2025-04-01,2025-04\n"
        "737201410190002,Cici Sintetis,P,1990-01-01,Petani,JKK+JKM,16800,APBD,2025-04-01,2025-04\n"
        "7372014101900003,Dedi Sintetis,X,1990-01-01,Pedagang,JKK+JKM,16800,APBD,2025-04-01,2025-04\n")
REJECTED = 3


def _home(root):
    (root / "inbox" / "73.72").mkdir(parents=True)
    (root / "inbox" / "73.72" / "register_2025-04.csv").write_text(HEADER + ROWS, encoding="utf-8")
    run_cli(root, "ingest")
    return root


def _workbooks(home) -> dict[str, dict[str, list[list]]]:
    """Every workbook in the outbox: its name -> sheet -> rows (a date-time cell, when it was received or written,
    is the home's own clock and is left out)."""
    out = {}
    for path in sorted((home / "outbox").rglob("*.xlsx")):
        wb = CalamineWorkbook.from_path(str(path))
        out[str(path.relative_to(home / "outbox"))] = {
            name: [[None if isinstance(c, dt.datetime) else c for c in row]
                   for row in wb.get_sheet_by_name(name).to_python(skip_empty_area=False)]
            for name in wb.sheet_names}
    return out


def test_the_dag_task_writes_the_workbooks_the_command_writes(tmp_path, airflow_home):
    by_cli, by_dag = _home(tmp_path / "cli"), _home(tmp_path / "dag")
    run_cli(by_cli, "rejections", "export")
    proc = airflow_tasks_test(airflow_home, by_dag, "cakupan_ingest", "export_rejections")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]

    cli, dag = _workbooks(by_cli), _workbooks(by_dag)
    assert list(cli) == list(dag) and len(cli) == 1, (list(cli), list(dag))
    (name,) = cli
    assert name.startswith("73.72/")
    assert dag[name] == cli[name]
    rows = cli[name]["Baris ditolak"]
    header = next(i for i, r in enumerate(rows) if "Alasan penolakan" in r)
    data = [r for r in rows[header + 1:] if any(c not in (None, "") for c in r)]
    assert len(data) == REJECTED                                      # exactly the rejected rows, each with a reason
    reason_col = rows[header].index("Alasan penolakan")
    assert all(r[reason_col] for r in data)
    assert any("Ketik NIK sebagai teks" in r[reason_col] for r in data)   # the registry's Indonesian text
