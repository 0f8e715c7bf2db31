"""Compare two published files table by table, row by row: the restructuring's "behaviour unchanged" check.

    python -m bench.compare_published BEFORE.duckdb AFTER.duckdb [--audit]

Every table of the `marts` schema (and with --audit the pseudonymised audit exports that do not hold run ids or
clock times) is compared as a multiset of rows. Columns whose values are clock times of the run that made the file
(TIMESTAMP columns, run ids, sha256 of files that embed them) are left out and named in the output; every other
column must be equal. Exit 0 when every table is equal, 1 otherwise (each difference printed with a few rows).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from pathlib import Path

import duckdb

# audit exports whose rows are a run's own record (run ids, clock times, check results of that run)
RUN_RECORDS = {"checks", "publishes", "runs", "task_failures", "raw_validations"}
VOLATILE_NAMES = {"run_id"}


def _tables(con, schema: str) -> list[str]:
    return [t for (t,) in con.execute("select table_name from information_schema.tables where table_schema = ? "
                                      "and table_catalog = current_database() order by table_name", [schema]).fetchall()]


def _columns(con, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute("select column_name, data_type from information_schema.columns where table_schema = ? and "
                       "table_name = ? and table_catalog = current_database() order by ordinal_position", [schema, table]).fetchall()


def compare(before: Path, after: Path, audit: bool = False, show: int = 5) -> list[str]:
    """Return one line per difference (empty when the two files publish the same figures)."""
    problems: list[str] = []
    con = duckdb.connect()
    with closing(con):
        con.execute(f"attach '{str(before).replace(chr(39), chr(39) * 2)}' as a (read_only)")
        con.execute(f"attach '{str(after).replace(chr(39), chr(39) * 2)}' as b (read_only)")
        con.execute("use a")
        schemas = ["marts"] + (["audit"] if audit else [])
        for schema in schemas:
            con.execute("use a")
            ta = set(_tables(con, schema))
            con.execute("use b")
            tb = set(_tables(con, schema))
            if schema == "audit":
                ta, tb = ta - RUN_RECORDS, tb - RUN_RECORDS
            for t in sorted(ta ^ tb):
                problems.append(f"{schema}.{t}: only in {'before' if t in ta else 'after'}")
            for t in sorted(ta & tb):
                con.execute("use a")
                ca = _columns(con, schema, t)
                con.execute("use b")
                cb = _columns(con, schema, t)
                if ca != cb:
                    problems.append(f"{schema}.{t}: columns differ: {ca} vs {cb}")
                    continue
                keep = [c for c, ty in ca if not ty.startswith("TIMESTAMP") and c not in VOLATILE_NAMES]
                cols = ", ".join(f'"{c}"' for c in keep)
                na = con.execute(f"select count(*) from a.{schema}.{t}").fetchone()[0]
                nb = con.execute(f"select count(*) from b.{schema}.{t}").fetchone()[0]
                only_a = con.execute(f"select {cols} from a.{schema}.{t} except all select {cols} from b.{schema}.{t}"
                                     ).fetchall()
                only_b = con.execute(f"select {cols} from b.{schema}.{t} except all select {cols} from a.{schema}.{t}"
                                     ).fetchall()
                left_out = [c for c, _ in ca if c not in keep]
                status = "equal" if not (only_a or only_b) and na == nb else "DIFFERENT"
                print(f"{schema}.{t}: {na} vs {nb} rows, {status}"
                      + (f" (not compared: {', '.join(left_out)})" if left_out else ""))
                if status != "equal":
                    problems.append(f"{schema}.{t}: {len(only_a)} rows only before, {len(only_b)} only after")
                    for r in only_a[:show]:
                        problems.append(f"    before: {r}")
                    for r in only_b[:show]:
                        problems.append(f"    after:  {r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--audit", action="store_true", help="also the audit exports that are not a run's own record")
    a = ap.parse_args(argv)
    for p in (a.before, a.after):
        if not p.is_file():
            print(f"error: {p} is not a file", file=sys.stderr)
            return 2
    problems = compare(a.before, a.after, a.audit)
    for line in problems:
        print(line)
    print("published figures equal" if not problems else f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
