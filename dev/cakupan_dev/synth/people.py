"""Synthetic people: names, occupations and NIKs that have the right shape but belong to nobody."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

GIVEN_MALE = (
    "Muh.", "Muhammad", "Ahmad", "Abdul Rahman", "Syamsul", "Jamaluddin", "Kamaruddin", "Sudirman", "Takdir",
    "Lukman", "Arsyad", "Yusuf", "Hasan", "Rahmat", "Baharuddin", "Anwar", "Irwan", "Agus", "Budi", "Joko",
    "Slamet", "Bambang", "Heru", "Supriadi", "Darwis", "Ramli", "Mansyur", "Haeruddin", "Firman", "Akbar",
    "Fadli", "Ilham", "Rudi", "Sulaiman", "Yunus", "Idris", "Saharuddin", "Nasrullah", "Hendra", "Wahyu",
    "Hamzah", "Muh. Arsyad",
)
GIVEN_FEMALE = (
    "Hasmawati", "Nurhayati", "Ramlah", "Marwah", "Asriani", "Hasnah", "Nurjannah", "Sitti Aisyah", "Rosmini",
    "Fatimah", "Jumriah", "Hasniah", "Darmawati", "Rahmawati", "Suryani", "Nurlina", "Haslinda", "Murni",
    "Ernawati", "Sri Wahyuni", "Siti Aminah", "Sumarni", "Kartini", "Rosdiana", "Irawati", "Nurbaya", "Wahidah",
    "Halijah", "Mardiana", "Syamsiah", "Dewi", "Indah", "Rina", "Sartika", "Mulyani", "Asmawati", "Hartati",
    "Nurfadillah", "Rismawati", "St. Hadijah",
)
FAMILY = (
    "Syamsuddin", "Hasanuddin", "Nurdin", "Rahman", "Amiruddin", "Baso", "Dg. Ngalle", "Dg. Tompo", "Dg. Sese",
    "Dg. Bani", "Latif", "Mappa", "Mappiare", "Tahir", "Sulaiman", "Hamid", "Kadir", "Saleh", "Haris", "Arifin",
    "Makmur", "Lamba", "Paturusi", "Palallo", "Mattalatta", "Ambo Dalle", "Ambo Tang", "La Tunru", "Yunus",
    "Said", "Rasyid", "Mahmud", "Jufri", "Husain", "Ismail", "Bakri", "Ridwan", "Halim", "Majid", "Samad",
    "Santoso", "Wibowo", "Susanto", "Prasetyo", "Hidayat", "Setiawan", "Nugroho", "Purnomo", "Kurniawan",
    "Wijaya", "Saputra", "Gunawan", "Hartono", "Sutrisno", "Suryadi", "Rahayu", "Lestari", "Wulandari",
    "Pratama", "Ramadhan",
)
OCCUPATIONS = (
    "NELAYAN", "Nelayan", "nelayan tangkap", "Nelayan Tangkap", "Nelayan Budidaya", "pembudidaya rumput laut",
    "PETANI", "petani", "Petani Penggarap", "Petani Sawah", "pekebun kakao", "peternak", "buruh tani",
    "Buruh Tani Harian", "pedagang kaki lima", "Pedagang Pasar", "PEDAGANG KELILING", "penjual sayur",
    "tukang ojek", "Tukang Ojek", "ojol", "Ojek Online", "pengemudi becak", "Tukang Becak", "sopir angkot",
    "marbot masjid", "Marbot", "imam masjid", "Guru Ngaji", "buruh harian", "Buruh Harian Lepas",
    "kuli bangunan", "tukang batu", "Kader Posyandu", "Linmas", "pemulung", "penjahit", "buruh pelabuhan",
)
SERIAL_MAX = 9998  # 9999 is reserved for the cross-regency duplicate person


class Worker:
    __slots__ = (
        "birth",
        "csv_cells",
        "district",
        "end",
        "excel_dates",
        "female",
        "funding",
        "name",
        "nik",
        "occupation",
        "spaced",
        "start",
        "tag",
        "village",
        "xlsx_cells",
    )

    def __init__(self, nik: str, name: str, birth: date, female: bool, occupation: str, village: str,
                 district: str, start: date, funding: str, excel_dates: bool, spaced: bool, tag: str = "") -> None:
        self.nik = nik
        self.name = name
        self.birth = birth
        self.female = female
        self.occupation = occupation
        self.village = village
        self.district = district
        self.start = start
        self.end: date | None = None
        self.funding = funding
        self.excel_dates = excel_dates
        self.spaced = spaced
        self.tag = tag  # "", "prereg", "cross", "correction_added", "junk:<REASON>"
        self.csv_cells: list[str] | None = None
        self.xlsx_cells: list[tuple[str, Any]] | None = None

    def copy(self) -> Worker:
        w = Worker(self.nik, self.name, self.birth, self.female, self.occupation, self.village, self.district,
                    self.start, self.funding, self.excel_dates, self.spaced, self.tag)
        w.end = self.end
        return w


def make_nik(district_code: str, birth: date, female: bool, serial: int) -> str:
    day = birth.day + (40 if female else 0)
    nik = f"{district_code.replace('.', '')}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"
    assert len(nik) == 16 and nik.isdigit(), nik
    return nik


def kpj_of(nik: str) -> str:
    """The person's synthetic KPJ card number: 11 digits derived from the NIK (no random draw)."""
    return str(int(hashlib.sha256(f"kpj/{nik}".encode()).hexdigest(), 16))[:11]


def spaced_nik(nik: str) -> str:
    return " ".join(nik[i:i + 4] for i in range(0, len(nik), 4))
