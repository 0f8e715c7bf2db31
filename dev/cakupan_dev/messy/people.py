"""Synthetic workers and the register rows, title blocks and signatures clerks type around them."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

D = dt.date
PAREPARE = "73.72"
NAMES = ("Andi Muh. Yusuf", "Hasmawati", "Jamaluddin", "Nurhayati", "Syamsul Bahri", "Ramlah", "Baharuddin",
         "Sitti Aisyah", "Kamaruddin", "Rosmini", "Abdul Rahman", "Marwah", "Sudirman", "Asriani", "Takdir",
         "Jumriah", "Lukman Hakim", "Hasnah", "Arsyad", "Rahmawati", "Firman", "Suryani")
OCCUPATIONS = ("NELAYAN", "Petani Penggarap", "ojol", "Pedagang Pasar", "Buruh Tani Harian", "Marbot Masjid",
               "Tukang Ojek", "nelayan tangkap")


def nik(birth: D, female: bool = False, serial: int = 1, district: str = "737201") -> str:
    """A synthetic NIK: 6-digit district code, birth date (day + 40 for women), 4-digit serial."""
    day = birth.day + (40 if female else 0)
    return f"{district}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


@dataclass
class Worker:
    nik: str
    name: str
    birth: D
    sex: str
    occupation: str

    @classmethod
    def make(cls, i: int, seed: int = 0) -> Worker:
        rng = random.Random(f"messy-{seed}-{i}")
        female = rng.random() < 0.5
        birth = D(rng.randint(1960, 2002), rng.randint(1, 12), rng.randint(1, 28))
        return cls(nik(birth, female, 100 * seed + i + 1), NAMES[(i + seed) % len(NAMES)], birth,
                   "P" if female else "L", OCCUPATIONS[(i + 3 * seed) % len(OCCUPATIONS)])


REGISTER_HEADER = ["NO", "NIK", "Nama", "Tgl Lahir", "JK", "Pekerjaan", "Desa", "Kecamatan", "Program", "TMT",
                   "Iuran", "Sumber Dana"]
COL = {h: i for i, h in enumerate(REGISTER_HEADER)}


def register_row(no: int, w: Worker, **changes) -> list:
    """One register row in REGISTER_HEADER order, typed the way clerks type it; `changes` by header name."""
    row = [no, w.nik, w.name, w.birth.strftime("%d-%m-%Y"), w.sex, w.occupation, "Lumpue", "Bacukiki",
           "JKK, JKM", "01/04/2025", "16.800", "APBD"]
    for k, v in changes.items():
        row[COL[k.replace("_", " ")]] = v
    return row


def workers(n: int, seed: int = 0) -> list[Worker]:
    return [Worker.make(i, seed) for i in range(n)]


def title_rows(text: str = "DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE — BULAN APRIL 2025") -> list[list]:
    return [["PEMERINTAH KOTA PAREPARE"], ["DINAS TENAGA KERJA"], [text], []]


SIGNATURE = [
    [],
    [None, "Mengetahui,", None, None, None, None, None, None, None, "Parepare, 2 Mei 2025"],
    [None, "Kepala Dinas Tenaga Kerja", None, None, None, None, None, None, None, "Pembuat Daftar"],
    [],
    [None, "( Drs. H. Abdul Rahman, M.Si )", None, None, None, None, None, None, None, "( Nurhayati )"],
    [None, "NIP. 19700101 199003 1 001"],
]


def money_total(rows: Sequence[list]) -> int:
    return sum(int(str(r[COL["Iuran"]]).replace(".", "")) for r in rows)


def sheet_row(rows_before: int, k: int) -> int:
    """1-based sheet row of the k-th row written after `rows_before` rows."""
    return rows_before + k + 1
