"""The loaders Cakupan's ingest is compared with, one per process, run from the bench-only venv (.venv-bench,
bench/requirements-peers.txt; none of them is in the runtime lock):

    .venv-bench/bin/python -m bench.peers NAME JSON-ARGS      (prints one JSON line, as bench/phases.py does)

- `duckdb`: bare DuckDB `read_csv`, dialect detected, every column as text, into a table of a fresh file;
- `duckdb_told`: the same, told the dialect its sniffer got wrong (`bench.shapes.TOLD`: only the shapes it fails on);
- `polars`: polars reads every column as text (a CSV, or an .xlsx through fastexcel, its calamine engine, from
  the header row it is told), checks what a register needs (NIK: 16 digits; dates and money in the styles it is
  given formats for; required cells), keeps the valid rows and counts the others, into DuckDB;
- `dlt`: dlt's filesystem source with `read_csv_duckdb` (its Arrow path) into a DuckDB destination.

Every peer writes into a DuckDB file and checkpoints it, as the Cakupan phase does. This module imports nothing
of Cakupan (the bench venv does not have its dependencies).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path


def _fresh(db: Path) -> None:
    for p in (db, db.with_suffix(".duckdb.wal")):
        if p.exists():
            p.unlink()


def _utf8(path: Path, encoding: str, work: Path) -> Path:
    """The file as UTF-8, written beside `work` when it is not (timed with the load: a user of DuckDB or dlt
    re-encodes a cp1252 file first; DuckDB's own Latin-1 reader rejects cp1252's 0x80-0x9F characters and its
    encodings extension is a download)."""
    if encoding == "utf-8":
        return path
    out = work.parent / "utf8" / path.name
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(path.read_bytes().decode(encoding).encode("utf-8"))
    return out


def duckdb(a: dict) -> dict:
    import duckdb as ddb

    db = Path(a["db"])
    _fresh(db)
    t = time.perf_counter()
    path = _utf8(Path(a["path"]), a["encoding"], db)
    con = ddb.connect(str(db))
    told = "".join(f", {k} = {_sql(v)}" for k, v in (a.get("read_csv") or {}).items()) if a.get("told") else ""
    con.execute(f"create table t as select * from read_csv(?, all_varchar = true, skip = ?{told})",
                [str(path), a["skip"]])
    con.execute("checkpoint")
    rows = con.execute("select count(*) from t").fetchone()[0]
    con.close()
    return {"seconds": time.perf_counter() - t, "rows": rows}


def _sql(value: object) -> str:
    """A read_csv option's value as SQL (a string quoted, a flag as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"


# the date and money styles the polars peer reads: every style bench/shapes.py writes (a user writes the ones their
# files use); day names and times are dropped, month names become numbers, an Excel serial counts from 1899-12-30
POLARS_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y/%m/%d", "%d %m %Y", "%m %d, %Y", "%Y%m%d")
MONTH_NAMES = dict(sorted(((name, f"{i:02d}") for i, names in enumerate(
    ("januari january jan", "februari february feb", "maret march mar", "april apr", "mei may", "juni june jun",
     "juli july jul", "agustus august aug agu", "september sep", "oktober october oct okt", "november nov",
     "desember december dec des"), start=1)
    for name in names.split()), key=lambda kv: -len(kv[0])))     # longest first (replace_many, leftmost)
DAY_NAME = r"^(senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu|ahad),\s*"
TIME_OF_DAY = r"\s+[0-9]{1,2}[:.][0-9]{2}([:.][0-9]{2})?(\s*(wib|wita|wit))?$"


def polars(a: dict) -> dict:
    import duckdb as ddb
    import polars as pl

    db = Path(a["db"])
    _fresh(db)
    t = time.perf_counter()
    if a["path"].endswith(".xlsx"):     # through fastexcel (calamine, as Cakupan), every cell as text
        df = pl.read_excel(a["path"], engine="calamine", read_options={"header_row": a.get("header_row", 0)},
                           infer_schema_length=0)
    else:
        raw = Path(a["path"]).read_bytes()
        if a["encoding"] != "utf-8":
            raw = raw.decode(a["encoding"]).encode("utf-8")
        df = pl.read_csv(raw, separator=a["delimiter"], infer_schema=False, quote_char='"', skip_rows=a["skip"])
    cols = df.columns
    nik, birth, start, money = (cols[i] for i in a["columns"])

    def date(c: str) -> pl.Expr:
        s = (pl.col(c).str.strip_chars().str.to_lowercase().str.replace(DAY_NAME, "").str.replace(TIME_OF_DAY, "")
             .str.replace_many(MONTH_NAMES, leftmost=True))
        serial = pl.when(s.str.contains(r"^[0-9]{5}$")).then(
            pl.lit(dt.date(1899, 12, 30)) + pl.duration(days=s.cast(pl.Int64, strict=False)))
        short_year = pl.when(s.str.contains(r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{2}$")).then(
            s.str.to_date("%d/%m/%y", strict=False))
        return pl.coalesce([serial, short_year, *(s.str.to_date(f, strict=False) for f in POLARS_DATE_FORMATS)])

    m = (pl.col(money).str.strip_chars().str.to_lowercase().str.replace(r"\s*/\s*(bulan|bln)$", "")
         .str.replace(r"^(rp|idr)\.?\s*", ""))
    thousands = pl.when(m.str.contains(r"^[0-9]+(,[0-9])? ribu$")).then(
        (m.str.replace(r" ribu$", "").str.replace(",", ".").cast(pl.Float64, strict=False) * 1000).round()
        .cast(pl.Int64))
    money_value = pl.coalesce([thousands, m.str.replace(r"[,.]00$|,-$", "").str.replace_all(r"[.,]", "")
                               .cast(pl.Int64, strict=False)])
    out = df.with_columns(
        # a NIK written in groups ("1108 1355 1188 0036", dots, dashes, a leading apostrophe) is one NIK
        nik_ok=pl.col(nik).str.replace_all(r"^'|[\t\n\f\r .\-\u00a0]", "").str.contains(r"^[0-9]{16}$")
        .fill_null(False),
        birth_value=date(birth), start_value=date(start),
        money_value=money_value,
    ).with_columns(
        valid=pl.col("nik_ok") & pl.col("start_value").is_not_null() & pl.col("money_value").is_not_null()
        & (pl.col(birth).is_null() | pl.col("birth_value").is_not_null()))
    good = out.filter(pl.col("valid")).drop("valid", "nik_ok")
    bad = out.filter(~pl.col("valid")).select(cols)
    con = ddb.connect(str(db))
    con.register("good", good.to_arrow())
    con.register("bad", bad.to_arrow())
    con.execute("create table t as select * from good")
    con.execute("create table q as select * from bad")
    con.execute("checkpoint")
    rows = con.execute("select count(*) from t").fetchone()[0]
    rejected = con.execute("select count(*) from q").fetchone()[0]
    con.close()
    return {"seconds": time.perf_counter() - t, "rows": rows, "rejected": rejected}


def dlt(a: dict) -> dict:
    import dlt as dlt_
    from dlt.sources.filesystem import filesystem, read_csv_duckdb

    db = Path(a["db"])
    _fresh(db)
    work = db.parent / "dlt_pipelines"
    shutil.rmtree(work, ignore_errors=True)
    path = Path(a["path"]).resolve()
    t = time.perf_counter()
    path = _utf8(path, a["encoding"], db)      # (dlt's read_csv_duckdb copies UTF-8 only)
    files = filesystem(bucket_url=path.parent.as_uri(), file_glob=path.name)
    # use_pyarrow: Arrow batches (its default is JSON rows, which dlt then normalises one by one)
    reader = files | read_csv_duckdb(chunk_size=500_000, use_pyarrow=True, all_varchar=True, sep=a["delimiter"],
                                     skiprows=a["skip"])
    pipeline = dlt_.pipeline(pipeline_name="bench_peer", destination=dlt_.destinations.duckdb(str(db)),
                             dataset_name="raw", pipelines_dir=str(work))
    pipeline.run(reader.with_name("register"))
    secs = time.perf_counter() - t
    import duckdb as ddb

    with ddb.connect(str(db), read_only=True) as con:
        rows = con.execute("select count(*) from raw.register").fetchone()[0]
    return {"seconds": secs, "rows": rows}


PEERS = {"duckdb": duckdb, "duckdb_told": lambda a: duckdb({**a, "told": True}), "polars": polars, "dlt": dlt}


def main() -> None:
    name, args = sys.argv[1], json.loads(sys.argv[2])
    import os

    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    os.environ.setdefault("DLT_TELEMETRY_DISABLED", "1")
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    result = PEERS[name](args)
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                result["vmhwm_mb"] = int(line.split()[1]) / 1024
    except OSError:
        pass
    sys.stdout.flush()
    print("\n" + json.dumps(result, default=str))


if __name__ == "__main__":
    main()
