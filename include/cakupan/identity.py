"""NIK validation and keyed pseudonyms, in vectorised SQL (DuckDB) so a million rows check in one query.

The rules are written once, as SQL expressions; `nik_problem()` and `pseudonym()` run the same SQL on one value
for unit tests and small callers. The HMAC is standard HMAC-SHA256 (RFC 2104), so any tool holding the key can
recompute a pseudonym; tests check it against Python's `hmac` module.
"""

from __future__ import annotations

import duckdb

from cakupan.regions import nik_prefixes

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
