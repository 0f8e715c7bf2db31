"""NIK validation and keyed pseudonyms, in vectorised SQL (DuckDB) so a million rows check in one query.

The rules are written once, as SQL expressions; `nik_problem()` and `pseudonym()` run the same SQL on one value
for unit tests and small callers. The HMAC is standard HMAC-SHA256 (RFC 2104), so any tool holding the key can
recompute a pseudonym; tests check it against Python's `hmac` module.
"""

from __future__ import annotations

import functools

import duckdb

from cakupan.core.regions import nik_prefixes

NIK_REASONS = ("NIK_MISSING", "NIK_PRECISION_LOST", "NIK_NOT_DIGITS", "NIK_15_DIGITS", "NIK_17_DIGITS",
               "NIK_WRONG_LENGTH", "NIK_REGION_UNKNOWN", "NIK_BIRTH_DATE_INVALID")


NIK_CLUTTER = "^'|[\\s.\\-\u00a0]"   # RE2: a leading apostrophe, spaces, dots, dashes and NBSPs in a NIK cell


def normalise_nik_sql(col: str) -> str:
    """SQL: strip a leading apostrophe, spaces, dots, dashes and NBSPs from a NIK cell."""
    pattern = NIK_CLUTTER.replace("'", "''")
    return f"nullif(regexp_replace(coalesce({col}, ''), '{pattern}', '', 'g'), '')"


def nik_birth_date_sql(nik: str) -> str:
    """SQL: the birth date encoded in digits 7-12 (day + 40 for women), or NULL if impossible."""
    day = f"(try_cast(substr({nik}, 7, 2) as integer) - case when try_cast(substr({nik}, 7, 2) as integer) > 40 then 40 else 0 end)"
    # two-digit years: a birth year after this year's two digits is in the 1900s
    return (f"try_strptime(lpad(cast({day} as varchar), 2, '0') || substr({nik}, 9, 2) || "
            f"case when try_cast(substr({nik}, 11, 2) as integer) > year(current_date) % 100 "
            f"then '19' else '20' end || substr({nik}, 11, 2), '%d%m%Y')::date")


def nik_problem_sql(nik: str, numeric_flag: str, prefixes_table: str = "nik_prefixes") -> str:
    """SQL: the reason code of an invalid NIK (already normalised), or NULL when the NIK is valid."""
    return f"""case
        when {nik} is null then 'NIK_MISSING'
        when {numeric_flag} or regexp_matches({nik}, '^[0-9]+(,[0-9]+)?[eE]\\+?[0-9]+$') then 'NIK_PRECISION_LOST'
        when not regexp_matches({nik}, '^[0-9]+$') then 'NIK_NOT_DIGITS'
        when length({nik}) = 15 then 'NIK_15_DIGITS'
        when length({nik}) = 17 then 'NIK_17_DIGITS'
        when length({nik}) <> 16 then 'NIK_WRONG_LENGTH'
        when substr({nik}, 1, 4) not in (select prefix from {prefixes_table}) then 'NIK_REGION_UNKNOWN'
        when {nik_birth_date_sql(nik)} is null then 'NIK_BIRTH_DATE_INVALID'
    end"""


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """Return the HMAC-SHA256 inner and outer padded keys."""
    import hashlib

    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    k = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


def normalise_nik_arrow(arr):
    """`normalise_nik_sql` on an Arrow string array (the same RE2 pattern)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = pc.replace_substring_regex(pc.fill_null(arr, ""), NIK_CLUTTER, "")
    return pc.if_else(pc.equal(out, ""), pa.scalar(None, pa.string()), out)


@functools.cache
def _known_prefixes():
    """A lookup table: index = a 4-digit prefix as a number, True where it is a region's (`register_prefixes`)."""
    import numpy as np

    known = np.zeros(10_000, dtype=bool)
    known[[int(p) for p in nik_prefixes()]] = True
    return known


def nik_surely_valid(normalised, numeric=None):
    """The rows whose normalised NIK `nik_problem_sql` certainly finds valid (a numpy mask), computed from the
    bytes in bulk: 16 ASCII digits, a known region prefix, not flagged numeric, and a birth-date part that is a
    real date whether its year is read in the 1900s or the 2000s (so the current year never matters). False
    only means "not sure": such rows are left to the SQL, which gives their reason code."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from cakupan.ingest.arrays import np_bools

    if isinstance(normalised, pa.ChunkedArray):
        normalised = normalised.combine_chunks()
    n = len(normalised)
    ok = np.zeros(n, dtype=bool)
    if n == 0 or normalised.null_count == n:
        return ok
    _, offsets_buf, data_buf = normalised.buffers()
    offsets = np.frombuffer(offsets_buf, np.int32)[normalised.offset: normalised.offset + n + 1]
    rows = np.flatnonzero(np.diff(offsets) == 16)
    if normalised.null_count:
        rows = rows[np_bools(pc.is_valid(normalised))[rows]]
    if numeric is not None:
        rows = rows[~np.asarray(numeric, dtype=bool)[rows]]
    if len(rows) == 0:
        return ok
    d = np.frombuffer(data_buf, np.uint8)[offsets[rows][:, None] + np.arange(16)].astype(np.int16) - 48
    digits = ((d >= 0) & (d <= 9)).all(axis=1)
    d = np.where(digits[:, None], d, 0)
    known = _known_prefixes()[d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]]
    dd, month, yy = d[:, 6] * 10 + d[:, 7], d[:, 8] * 10 + d[:, 9], d[:, 10] * 10 + d[:, 11]
    day = np.where(dd > 40, dd - 40, dd)
    month_days = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int16)
    in_month = (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days[np.clip(month, 0, 12)])
    feb29_both = (yy % 4 == 0) & (yy != 0)        # 29 February exists in both 19yy and 20yy (not 1900)
    date_ok = in_month & ~((month == 2) & (day == 29) & ~feb29_both)
    ok[rows[digits & known & date_ok]] = True
    return ok


def pseudonyms_arrow(values, ipad: bytes, opad: bytes):
    """`pseudonym_sql` on an Arrow string array: hex HMAC-SHA256 once per distinct value; NULL stays NULL."""
    import hashlib

    import pyarrow as pa
    import pyarrow.compute as pc

    uniq = pc.unique(values)
    inner, outer = hashlib.sha256(ipad), hashlib.sha256(opad)
    keys = []
    for v in uniq.to_pylist():
        if v is None:
            keys.append(None)
            continue
        h = inner.copy()
        h.update(v.encode("utf-8"))
        o = outer.copy()
        o.update(h.digest())
        keys.append(o.hexdigest())
    return pa.array(keys, pa.string()).take(pc.index_in(values, value_set=uniq, skip_nulls=False))


def pseudonym_sql(value: str, ipad_param: str = "$ipad", opad_param: str = "$opad") -> str:
    """SQL: hex HMAC-SHA256 of a text value with the pads bound as BLOB parameters; NULL stays NULL."""
    return (f"case when {value} is null then null else "
            f"sha256({opad_param}::BLOB || unhex(sha256({ipad_param}::BLOB || encode({value})))) end")


def register_prefixes(con: duckdb.DuckDBPyConnection, name: str = "nik_prefixes") -> None:
    """Create a temp table of the valid 4-digit NIK prefixes on the connection."""
    con.execute(f"create or replace temp table {name} as select unnest($prefixes::varchar[]) as prefix",
                {"prefixes": sorted(nik_prefixes())})


def nik_problem(text: str | None, numeric: bool = False) -> str | None:
    """Return the reason code for one NIK cell text, or None when it is valid."""
    con = duckdb.connect()
    register_prefixes(con)
    return con.execute(f"select {nik_problem_sql(normalise_nik_sql('$text::varchar'), '$numeric::boolean')}",
                       {"text": text, "numeric": numeric}).fetchone()[0]


def pseudonym(nik: str, key: bytes) -> str:
    """Return the pseudonym of one normalised NIK (same SQL as the bulk path)."""
    ipad, opad = hmac_pads(key)
    con = duckdb.connect()
    return con.execute(f"select {pseudonym_sql('$v')}", {"v": nik, "ipad": ipad, "opad": opad}).fetchone()[0]
