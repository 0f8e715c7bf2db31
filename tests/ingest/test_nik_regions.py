"""A file whose rows name a worker by NIK or by KPJ alone: its NIK regions are judged on the NIKs it has.

Found by bench/per_file.py on the benchmark's own claims files: a claims file with as many KPJ-only rows as NIKs of
its regency failed with an internal error (the rows without a NIK were counted as a region of their own).
"""

from __future__ import annotations

import pytest


def _claims(rows: list[tuple[str, str]]) -> bytes:
    lines = ["No Klaim;NIK;No KPJ;Jenis Klaim;Tanggal Kejadian/Meninggal;Tgl Bayar;Manfaat (Rp);Kab/Kota"]
    for i, (nik, kpj) in enumerate(rows):
        lines.append(f"KLM-2025-{i:06d};{nik};{kpj};JKK;04/11/2025;26/11/2025;Rp3.900.000;Parepare")
    return ("\n".join(lines) + "\n").encode()


def test_kpj_only_rows_beside_as_many_niks_load(home, loader):
    niks = [(f"73720115039{i:01d}0001", "") for i in range(4)]
    kpjs = [("", f"6121267900{i}") for i in range(4)]
    path = home.inbox / "73.72" / "claims_parepare_2025.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(_claims([x for pair in zip(niks, kpjs) for x in pair]))
    r = loader.load(path)
    assert (r.status, r.error_code, r.rows_in, r.rows_loaded + r.rows_quarantined) == ("loaded", None, 8, 8)


def test_most_niks_of_another_regency_still_reject_the_file(home, loader):
    niks = [(f"73730115039{i:01d}0001", "") for i in range(6)]       # 73.73's NIKs in 73.72's folder
    kpjs = [("", f"6121267900{i}") for i in range(6)]
    path = home.inbox / "73.72" / "claims_parepare_2025.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(_claims(niks + kpjs))
    r = loader.load(path)
    assert (r.status, r.error_code) == ("rejected", "FILE_REGENCY_MISMATCH")


# --- a big file read in parts is judged whole ---------------------------------------------------------------
# Found on the bench's 200,000-row workbook (rows of many regencies one after another) read in parts of 15,360
# rows: one part held 320 valid NIKs, all Ogan Komering Ulu's, and the whole file was rejected as that regency's,
# though no regency held most of its NIKs. A register sorted by NIK puts the workers from a neighbouring regency
# with a lower code first (Makassar's 7371 before Parepare's 7372) in the same way.
REGISTER = ["No", "NIK", "Nama", "Tgl Lahir", "L/P", "Pekerjaan", "Kelurahan", "Kecamatan", "Program", "TMT",
            "Iuran", "Sumber Dana"]
PART = 100


def _register_rows(regions: list[str]) -> list[list]:
    """A register row a NIK region (7371 Makassar, 7372 Parepare), in that order (sorted by NIK)."""
    return [[i + 1, f"{region}01{1 + i % 28:02d}{1 + i % 12:02d}{70 + i % 25:02d}{i + 1:04d}", f"Peserta Sintetis {i}",
             f"{1 + i % 28:02d}-{1 + i % 12:02d}-{1970 + i % 25}", "LP"[i % 2], "Nelayan", "Lapadde", "Ujung",
             "JKK, JKM", "01-04-2025", 16800, "APBD"] for i, region in enumerate(regions)]


def _write(path, rows: list[list]) -> None:
    if path.suffix == ".csv":
        lines = [";".join(REGISTER), *(";".join(map(str, r)) for r in rows)]
        path.write_bytes(("\n".join(lines) + "\n").encode())
        return
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    ws = wb.add_worksheet("Peserta")
    for r, row in enumerate([REGISTER, *rows]):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    wb.close()


def _load(home_factory, monkeypatch, name: str, suffix: str, rows: list[list], parts: bool):
    from cakupan.ingest import prepare
    from cakupan.ingest.loader import Loader
    from cakupan.ingest.readers import bookparts

    s = home_factory(name)
    path = s.inbox / "73.72" / f"register_parepare_2025-06{suffix}"
    path.parent.mkdir(parents=True)
    _write(path, rows)
    with monkeypatch.context() as m:
        m.setattr(prepare, "STREAM_MIN_BYTES", 0 if parts else 1 << 40)
        m.setattr(bookparts, "BOOK_STREAM_MIN_BYTES", 0 if parts else 1 << 40)
        for setting in ("STREAM_PART_LINES", "STREAM_FIRST_PART_LINES", "STREAM_MIN_PART_LINES", "BOOK_PART_ROWS"):
            m.setattr(prepare, setting, PART)
        inserts: list[int] = []
        real = Loader._insert

        def insert(self, batch, contract, load):
            inserts.append(batch.num_rows)
            return real(self, batch, contract, load)

        m.setattr(Loader, "_insert", insert)
        ld = Loader(s)
        try:
            r = ld.load(path)
            raw = ld.con.execute("select count(*) from raw.register").fetchone()[0]
        finally:
            ld.con.close()
    return r, raw, inserts


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize(("makassar", "parepare", "status"), [(300, 900, "loaded"), (0, 0, "rejected")],
                         ids=["makassar_first_parepare_most", "parepare_first_makassar_most"])
def test_a_file_read_in_parts_is_judged_on_all_its_niks(home_factory, monkeypatch, suffix, makassar, parepare,
                                                         status):
    """300 Makassar workers sorted before 900 of Parepare's: the first three parts hold Makassar's NIKs only, and the
    file is Parepare's. 500 of Parepare's before 700 of Makassar's: the first five parts are Parepare's, and the
    file is Makassar's. Read in parts of 100 rows, each is judged as the whole read judges it."""
    regions = ["7371"] * makassar + ["7372"] * parepare if makassar else ["7372"] * 500 + ["7371"] * 700
    rows = _register_rows(regions)
    tag = f"{suffix[1:]}{makassar}"
    r_parts, raw_parts, inserts = _load(home_factory, monkeypatch, f"{tag}p", suffix, rows, parts=True)
    r_whole, raw_whole, whole_inserts = _load(home_factory, monkeypatch, f"{tag}w", suffix, rows, parts=False)
    assert len(inserts) >= 12       # (the parts really were parts, written before the file was judged)
    assert len(whole_inserts) == (status == "loaded")       # (the whole read: judged before anything is written)
    assert (r_whole.status, r_parts.status) == (status, status), (r_whole.error_message, r_parts.error_message)
    assert (r_parts.error_code, r_parts.error_message) == (r_whole.error_code, r_whole.error_message)
    if status == "loaded":
        assert raw_parts == raw_whole == r_whole.rows_loaded == 1200 - r_whole.rows_quarantined
        assert r_whole.rows_quarantined < 10
    else:
        assert r_whole.error_code == "FILE_REGENCY_MISMATCH" and raw_parts == raw_whole == 0
        assert "700" in r_whole.error_message and "1200" in r_whole.error_message.replace(".", "")
