"""A file whose rows name a worker by NIK or by KPJ alone: its NIK regions are judged on the NIKs it has.

Found by bench/per_file.py on the benchmark's own claims files: a claims file with as many KPJ-only rows as NIKs of
its regency failed with an internal error (the rows without a NIK were counted as a region of their own).
"""

from __future__ import annotations


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
