"""Messy regency deliveries, each a named case with the outcome a correct loader must produce.

Every file here reproduces something regencies really send (sources.md, "Real files look like this"): title
blocks, headers on row 9 or 15 or over two merged rows, "NO" columns, blank rows, totals, sub-totals, notes and
signatures, one sheet per district, Indonesian numbers and dates, NIKs typed as numbers, CSVs in three
encodings and two delimiters, old `.xls` templates, files sent twice or corrected, empty, encrypted, corrupt or
misfiled files. All people, NIKs and amounts are synthetic.

The expected outcome of each file is written from the case's own definition (which rows were made bad and how),
never by running the loader. Files are built in memory (xlsxwriter, xlwt, csv) and are byte-for-byte
deterministic, so "the same file sent twice" really is the same bytes.

    from cakupan_dev.messy import cases, write_case
    for case in cases():
        paths = write_case(case, inbox)        # <inbox>/<folder>/<name>, in load order

Modules: `outcomes` (what a file must give), `formats` (XLSX, XLS, CSV, OLE2 bytes), `people` (workers and
register rows), the cases by kind (`register_cases`, `delivery_cases`, `source_cases`) and `catalogue`.
"""

from cakupan_dev.messy.catalogue import case_by_name, cases, write_all, write_case
from cakupan_dev.messy.formats import Sheet, cfb_bytes, csv_bytes, xls_bytes, xlsx_bytes
from cakupan_dev.messy.outcomes import MessyCase, MessyFile, Outcome
from cakupan_dev.messy.people import REGISTER_HEADER, nik, register_row, workers

__all__ = [
    "REGISTER_HEADER",
    "MessyCase",
    "MessyFile",
    "Outcome",
    "Sheet",
    "case_by_name",
    "cases",
    "cfb_bytes",
    "csv_bytes",
    "nik",
    "register_row",
    "workers",
    "write_all",
    "write_case",
    "xls_bytes",
    "xlsx_bytes",
]
