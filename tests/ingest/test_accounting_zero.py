"""A bill saved as CSV from a sheet in Excel's accounting format (outside input): there a zero amount shows as a
dash after the currency ("Rp -", padded to the column's width), and "Save As CSV" writes what is shown. Such a
row was quarantined NUMBER_INVALID, so a month not yet paid could not load; a bare "-" stays no number (a clerk may
mean "not known")."""

from __future__ import annotations

from cakupan.ingest.loader import Loader

BILL = (
    "Periode;Kab/Kota;Sumber Dana;Jumlah Tenaga Kerja;Tagihan (Rp);Pembayaran (Rp);Tanggal Pembayaran\r\n"
    "Apr 2025;Kota Parepare;APBD;1.000; Rp 16.800.000 ; Rp 16.800.000 ;15 Mei 2025\r\n"
    "Mei 2025;Kota Parepare;APBD;1.000; Rp 16.800.000 ; Rp -   ;\r\n"
    "Jun 2025;Kota Parepare;APBD;1.000; Rp 16.800.000 ;Rp-;\r\n"
    "Jul 2025;Kota Parepare;APBD;1.000; Rp 16.800.000 ;-;\r\n"
)


def test_a_zero_in_accounting_format_loads_as_zero_and_a_bare_dash_is_set_apart(home):
    folder = home.inbox / "73.72"
    folder.mkdir(parents=True)
    path = folder / "tagihan_iuran_2025.csv"
    path.write_bytes(BILL.encode("cp1252"))
    loader = Loader(home)
    try:
        result = loader.load(path)
        assert (result.status, result.rows_in, result.rows_loaded, result.rows_quarantined) == ("loaded", 4, 3, 1)
        got = loader.con.execute("select strftime(period, '%Y-%m'), amount_billed, amount_paid from raw.contributions "
                                 "where load_id = ? order by source_row", [result.load_id]).fetchall()
        assert got == [("2025-04", 16_800_000, 16_800_000), ("2025-05", 16_800_000, 0), ("2025-06", 16_800_000, 0)]
        [(row, code, column)] = loader.con.execute(
            "select source_row, reason_code, column_name from quarantine.rows where load_id = ?",
            [result.load_id]).fetchall()
        assert (row, code, column) == (5, "NUMBER_INVALID", "amount_paid")
    finally:
        loader.con.close()
