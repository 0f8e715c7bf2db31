"""The words the extraction rules look for: the configured dictionaries (regency aliases, BPJS branches,
sector keywords from the config folder) and the fixed cue words of Indonesian reporting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cakupan.core import regions
from cakupan.core.config import alias_index, load_regencies, load_sectors


@dataclass(frozen=True)
class ExtractionConfig:
    """Dictionaries the rules use: regency aliases, branches, sector keywords, provinces to look for."""

    aliases: dict[str, str] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    sectors: list[tuple[str, list[str]]] = field(default_factory=list)
    provinces: frozenset[str] | None = None  # None: the provinces of the configured regencies (or all)

    @classmethod
    def from_dir(cls, config_dir: Path) -> ExtractionConfig:
        """Load the dictionaries from a config folder (regencies/*.yml and sectors.yml, each optional)."""
        config_dir = Path(config_dir)
        regs = load_regencies(config_dir) if (config_dir / "regencies").is_dir() else {}
        sectors: list[tuple[str, list[str]]] = []
        if (config_dir / "sectors.yml").exists():
            for sector in load_sectors(config_dir)[0]:
                words = [k for k in sector.keywords if len(k) > 2]  # "rt", "rw": too short to read in prose
                if words:
                    sectors.append((sector.code, words))
        return cls(
            aliases=alias_index(regs),
            branches={code: str(r.branch).strip() for code, r in regs.items() if r.branch},
            sectors=sectors,
        )

    def allowed_provinces(self) -> frozenset[str] | None:
        """Return the province codes whose regencies are looked for by bare name."""
        if self.provinces is not None:
            return self.provinces
        codes = set(self.aliases.values()) | set(self.branches)
        return frozenset(c.split(".")[0] for c in codes) or None

    @cached_property
    def names(self) -> regions.RegencyNames:
        """The regency name matcher for these aliases and provinces."""
        return regions.RegencyNames(self.aliases, self.allowed_provinces())


# --- cue words -----------------------------------------------------------------------------------------------
FALLBACK_SECTORS = [
    ("nelayan", ["nelayan"]),
    ("buruh_tani", ["buruh tani"]),
    ("petani", ["petani", "pekebun", "peternak"]),
    ("pedagang", ["pedagang"]),
]
RENTAN = re.compile(
    r"\brentan\b|\bmiskin\b|\bpekerja informal\b|\bbukan penerima upah\b|\bBPU\b", re.IGNORECASE
)
EVERY_SEGMENT = re.compile(
    r"\bkepesertaan\b|\bpeserta aktif\b|\bseluruh (?:peserta|segmen)\b|\bsemua segmen\b", re.IGNORECASE
)
PERSON = re.compile(
    r"^(?:orang|jiwa|warga|masyarakat|peserta|pekerja|tenaga|buruh|karyawan|pegawai|anggota|penerima|"
    r"nelayan|petani|pedagang|data)\b",
    re.IGNORECASE,
)
FILLERS = {"orang", "jiwa", "data", "di", "antaranya", "diantaranya", "merupakan", "adalah", "yang"}
COUNT_LEAD = re.compile(
    r"(?:sebanyak|sejumlah|berjumlah|mencapai|total|sampai|hingga|menjadi|sekitar|kepada|untuk|bagi|yakni|"
    r"yaitu|sebesar)\s*:?\s*$",
    re.IGNORECASE,
)
SILENT_LEAD = re.compile(
    r"(?:\b(?:nomor|no|pp|uu|perpres|permenaker|permen|pergub|perwali|perbup|perda|inpres|keppres|pasal|ayat|"
    r"tahun|lantai|ruang|jalan|jl|jln|rt|rw|km|pukul|jam|tanggal|tgl|halaman|hal|nomer|kode|gedung|blok|"
    r"periode|edisi|versi|tahap|gelombang|angkatan)\.?|\bke-?)\s*$",
    re.IGNORECASE,
)
PERSON_BEFORE = re.compile(
    r"\b(?:orang|warga|masyarakat|peserta|pekerja|nelayan|petani|pedagang|buruh|tenaga kerja)\b",
    re.IGNORECASE,
)
HEDGE = re.compile(r"(?:sekitar|kira-kira|kurang lebih|lebih kurang|sekira|±|\+/-)\s*$", re.IGNORECASE)
BOUND_BEFORE = re.compile(
    r"(?<!kurang )(?:lebih dari|lebih|di atas|diatas|kurang dari|di bawah|dibawah|hampir|nyaris|minimal|maksimal|"
    r"paling sedikit|paling banyak|setidaknya|sedikitnya|sekurang-kurangnya|sebanyak-banyaknya|puluhan|"
    r"ratusan|ribuan|tak kurang dari|tidak kurang dari|lebih dari)\s*$",
    re.IGNORECASE,
)
BOUND_AFTER = re.compile(r"^\s*(?:orang\s+)?(?:lebih|lebihan|an\b|-an\b)", re.IGNORECASE)
RANGE_BETWEEN = re.compile(
    r"^\s*(?:[a-z]+\s+)?(?:-|–|—|hingga|sampai|s\.?d\.?|sd|atau|ke)\s*$", re.IGNORECASE
)
CLAUSE_BREAK = re.compile(
    r"(?<!\d)[,;]|[,;](?!\d)|\s[—–]\s|\s--\s|[“”\"]|''"
    r"|\s(?=(?:kemudian|lalu|namun|tetapi|tapi|sedangkan|sementara|dimana|di mana|yang mana|sehingga)\b)",
    re.IGNORECASE,
)
CROSS_REGENCY = re.compile(
    r"\b(?:dua|kedua|tiga|ketiga|empat|keempat|beberapa|seluruh|semua|sejumlah|24)\s+(?:kabupaten|kota|daerah|"
    r"wilayah|kabupaten/kota|pemda|pemerintah daerah)\b|\bse-?sulsel\b|\bse-?sulawesi\b|\bsulawesi selatan\b|"
    r"\bprovinsi\b|\bnasional\b|\bse-?indonesia\b",
    re.IGNORECASE,
)

PREVIOUS = re.compile(
    r"\bsebelumnya\b|\bsebelum ini\b|\bselama ini\b|\btahun lalu\b|\btahun sebelumnya\b|\bsemula\b|\bawalnya\b",
    re.IGNORECASE,
)
PART = re.compile(
    r"\bterdiri (?:atas|dari)\b|\bdi ?antaranya\b|\bmeliputi\b|\bmasing-masing\b|\bsebagian\b|\brinciannya\b",
    re.IGNORECASE,
)
TOTAL = re.compile(r"\btotal\b|\bseluruhnya\b|\bkeseluruhan\b", re.IGNORECASE)
TARGET = re.compile(
    r"\btarget\w*|\bditargetkan\b|\bmenargetkan\b|\bsasaran\b|\bakan\b|\brencana\w*|\bdirencanakan\b|"
    r"\bdiharapkan\b|\bdiproyeksikan\b",
    re.IGNORECASE,
)
BECOMES = re.compile(r"\bmenjadi\b", re.IGNORECASE)
STATED = re.compile(
    r"\bsaat ini\b|\bhingga kini\b|\bsampai kini\b|\bkini\b|\btercatat\b|\bmencapai\b|\bterdaftar\b|"
    r"\b(?:telah|sudah) (?:ter|di)lindungi\b|\bsejauh ini\b|\bper hari ini\b",
    re.IGNORECASE,
)
PROTECTION = re.compile(
    r"perlindung|lindungi|\bcover\b|\bjaminan\b|daftar|kepesertaan|\bpeserta\b|\bmou\b|"
    r"menanggung|ditanggung|\biuran|dibayarkan|kerja ?sama",
    re.IGNORECASE,
)
# counts of claims, accidents or beneficiaries of benefits are not counts of covered workers
NOT_COVERAGE = re.compile(
    r"\bklaim\b|\bmeninggal\b|\bkorban\b|\bahli waris\b|\bsantunan\b|\bbeasiswa\b|mengalami kecelakaan|"
    r"\btewas\b|\bcedera\b|\bluka\b",
    re.IGNORECASE,
)
PARTICIPATION = re.compile(
    r"kepesertaan|partisipasi|cakupan|coverage|terlindungi|peserta aktif|universal coverage", re.IGNORECASE
)
# a percentage of a premium, a budget or a payment is not a participation rate
PERCENT_OTHER = re.compile(
    r"ditanggung|dibayar|\biuran|anggaran|realisasi|serapan|apbd|subsidi|diskon|bunga|inflasi", re.IGNORECASE
)
CHANGE = re.compile(
    r"\b(?:naik|turun|meningkat|menurun|bertambah|berkurang|kenaikan|penurunan|pertumbuhan|tumbuh)(?:nya)?\b",
    re.IGNORECASE,
)
BUDGET = re.compile(
    r"\banggaran\b|\bapbd\w*|\bdialokasikan\b|\balokasi\b|\bmenganggarkan\b|\bdianggarkan\b|\bdana\b|"
    r"\bbiaya\b|\bdisiapkan\b|\bpagu\b",
    re.IGNORECASE,
)
PER_PERSON = re.compile(
    r"^\s*(?:per|/|tiap|setiap)\s*(?:orang|peserta|pekerja|bulan|jiwa|kepala|tenaga)", re.IGNORECASE
)
PREMIUM = re.compile(r"\biuran\b|\bpremi\b", re.IGNORECASE)
PERCENT_AFTER = re.compile(r"^\s*(?:persen|prosen|%)", re.IGNORECASE)

MOU = re.compile(
    r"\bmou\b|memorandum of understanding|nota kesepahaman|perjanjian kerja ?sama|\bpks\b|penandatanganan|"
    r"menandatangani|ditandatangani|\bteken\b|\bmeneken\b|\bditeken\b",
    re.IGNORECASE,
)
AUDIENCE = re.compile(
    r"\baudiensi\b|\bkunjungan\b|\bsilaturahmi\b|\bmelaporkan\b|\bmenerima\b.*\bkepala\b", re.IGNORECASE
)
TARGET_EVENT = re.compile(r"\btargetkan\b|\bmenargetkan\b|\bditargetkan\b|\btarget\b", re.IGNORECASE)

OFFICE_BEFORE = re.compile(
    r"(?:BPJS\s*(?:Ketenagakerjaan|TK|Naker)|BPJamsostek|Jamsostek|Cabang|KCP|Kacab)\s*$", re.IGNORECASE
)
BRANCH = re.compile(
    r"\b(?:Kantor\s+Cabang|Kepala\s+Cabang|Kacab|KC)\s+(?:(?:Utama\s+)?(?:BPJS\s+Ketenagakerjaan|BPJS\s+TK|"
    r"BPJamsostek)\s+)?(?:(?:Kota|Kabupaten|Kab\.)\s+)?(?P<name>[A-Z][\w\-]+(?:\s+[A-Z][\w\-]+)?)"
    r"|\b(?:BPJS\s+Ketenagakerjaan|BPJamsostek)\s+Cabang\s+(?:(?:Kota|Kabupaten|Kab\.)\s+)?"
    r"(?P<name2>[A-Z][\w\-]+(?:\s+[A-Z][\w\-]+)?)",
)
