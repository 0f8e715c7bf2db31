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
    provinces: frozenset[str] | None = None  # None: every province (a fact for any Kemendagri regency is read)
    configured: frozenset[str] | None = None  # codes of config/regencies/*.yml; None: those the aliases name

    @classmethod
    def from_dir(cls, config_dir: Path) -> ExtractionConfig:
        """Load the dictionaries from a config folder (regencies/*.yml and sectors.yml, each optional)."""
        config_dir = Path(config_dir)
        regs = load_regencies(config_dir) if (config_dir / "regencies").is_dir() else {}
        sectors: list[tuple[str, list[str]]] = []
        if (config_dir / "sectors.yml").exists():
            for sector in load_sectors(config_dir)[0]:
                words = [k for k in sector.keywords if len(k) > 2]  # "rt", "rw": too short to read in prose
                words += [w for w in REPORTED_SECTOR_WORDS.get(sector.code, []) if w not in words]
                if words:
                    sectors.append((sector.code, words))
        return cls(
            aliases=alias_index(regs),
            branches={code: str(r.branch).strip() for code, r in regs.items() if r.branch},
            sectors=sectors,
            configured=frozenset(regs),
        )

    def is_configured(self, code: str) -> bool:
        """Return True if the regency has a config/regencies/<code>.yml."""
        configured = self.configured if self.configured is not None else set(self.aliases.values())
        return code in configured

    @cached_property
    def names(self) -> regions.RegencyNames:
        """The regency name matcher: configured aliases, every Kemendagri name and reporters' short names."""
        return regions.RegencyNames(self.aliases, self.provinces)


# --- cue words -----------------------------------------------------------------------------------------------
# Learned from regional news about regency MoUs with BPJS Ketenagakerjaan (Java, Sumatra, Kalimantan, Bali/NTB/NTT,
# Sulawesi, Maluku, Papua): the words reporters put around a figure to say what it counts and what role it plays.
# words reporters use for the workers of a configured sector, besides the occupation keywords of sectors.yml
REPORTED_SECTOR_WORDS: dict[str, list[str]] = {
    "keagamaan": ["keagamaan", "rohaniwan", "pemangku pura", "marbut", "bilal", "garim", "penyuluh agama",
                  "guru agama", "pengurus masjid"],
    "transportasi": ["tukang ojek", "pengemudi ojek", "ojek online", "sopir angkot"],
    "nelayan": ["nelayan tangkap", "nelayan kecil"],
}
FALLBACK_SECTORS = [
    ("nelayan", ["nelayan"]),
    ("buruh_tani", ["buruh tani"]),
    ("petani", ["petani", "pekebun", "peternak"]),
    ("pedagang", ["pedagang"]),
]
RENTAN = re.compile(
    r"\brentan\b|\bmiskin\b|\binformal\b|\bnon-?formal\b|\bbukan penerima upah\b|\bBPU\b|\bkurang mampu\b|"
    r"\bDTKS\b|\bdesil\b",
    re.IGNORECASE,
)
EVERY_SEGMENT = re.compile(
    r"\bkepesertaan\b|\bpeserta aktif\b|\bseluruh (?:peserta|segmen)\b|\bsemua segmen\b", re.IGNORECASE
)
# a workforce or the participants of other segments: wage earners, construction, the employed population
WORKFORCE = re.compile(
    r"(?<!bukan )\bpenerima upah\b|\bPU\b|\bjasa konstruksi\b|\bjakon\b|\bangkatan kerja\b|\bpotensi\b|"
    r"\bpenduduk (?:yang )?bekerja\b|\bpekerja formal\b|\btenaga kerja formal\b|\bpekerja migran\b|"
    r"\bnon-?ASN\b|\bASN\b|\bhonorer\b|\bPPPK\b|\bpegawai\b",
    re.IGNORECASE,
)
PERSON = re.compile(
    r"^(?:orang|jiwa|warga|masyarakat|peserta|pekerja|tenaga|buruh|karyawan|pegawai|anggota|penerima|"
    r"nelayan|petani|pedagang|data)\b",
    re.IGNORECASE,
)
# counts of families, households or places are not counts of workers
NOT_PEOPLE_AFTER = re.compile(
    r"^\s*(?:kepala keluarga|keluarga|KK\b|rumah tangga|KPM\b|desa\b|kelurahan\b|kecamatan\b|perusahaan\b|"
    r"badan usaha\b|unit\b|paket\b)",
    re.IGNORECASE,
)
FILLERS = {"orang", "jiwa", "data", "di", "antaranya", "diantaranya", "merupakan", "adalah", "yang"}
COUNT_LEAD = re.compile(
    r"(?:sebanyak|sejumlah|berjumlah|mencapai|total|sampai|hingga|menjadi|sekitar|kepada|untuk|bagi|yakni|"
    r"yaitu|sebesar)\s*:?\s*$",
    re.IGNORECASE,
)
SILENT_LEAD = re.compile(
    r"(?:\b(?:nomor|no|pp|uu|perpres|permenaker|permen|pergub|perwali|perwal|perbup|perda|inpres|keppres|pasal|"
    r"ayat|tahun|lantai|ruang|jalan|jl|jln|rt|rw|km|pukul|jam|tanggal|tgl|halaman|hal|nomer|kode|gedung|blok|"
    r"periode|edisi|versi|tahap|gelombang|angkatan|desil|usia|umur|hari|minggu|pekan)\.?|\bke-?)\s*$",
    re.IGNORECASE,
)
PERSON_BEFORE = re.compile(
    r"\b(?:orang|warga|masyarakat|peserta|pekerja|nelayan|petani|pedagang|buruh|tenaga kerja)\b",
    re.IGNORECASE,
)
HEDGE = re.compile(r"(?:sekitar|kira-kira|kurang lebih|lebih kurang|sekira|±|\+/-)\s*$", re.IGNORECASE)
BOUND_BEFORE = re.compile(
    r"(?<!kurang )(?<!lebih )(?:lebih dari|lebih|di atas|diatas|kurang dari|di bawah|dibawah|hampir|nyaris|"
    r"minimal|maksimal|paling sedikit|paling banyak|setidaknya|sedikitnya|sekurang-kurangnya|"
    r"sebanyak-banyaknya|tak kurang dari|tidak kurang dari|lebih dari)\s*$",
    re.IGNORECASE,
)
BOUND_AFTER = re.compile(r"^\s*(?:orang\s+)?(?:lebih|lebihan|an\b|-an\b)", re.IGNORECASE)
# "ratusan pekerja", "ribuan nelayan": an amount without a figure
VAGUE = re.compile(
    r"\b(?:belasan|puluhan|ratusan|ribuan|jutaan)(?:\s+(?:ribu|juta))?(?=\s+(?:orang\s+|jiwa\s+)?[\w\-]+)",
    re.IGNORECASE,
)
RANGE_BETWEEN = re.compile(
    r"^\s*(?:[a-z]+\s+)?(?:-|–|—|hingga|sampai|s\.?d\.?|sd|atau|ke)\s*$", re.IGNORECASE
)
CLAUSE_BREAK = re.compile(
    r"(?<!\d)[,;]|[,;](?!\d)|\s[—–]\s|\s--\s|[“”\"]|''"
    r"|\s(?=(?:kemudian|namun|tetapi|tapi|sedangkan|sementara|dimana|di mana|yang mana|sehingga|"
    r"sisanya|selebihnya)\b)",
    re.IGNORECASE,
)
CROSS_REGENCY = re.compile(
    r"\b(?:dua|kedua|tiga|ketiga|empat|keempat|beberapa|seluruh|semua|sejumlah|\d+)\s+(?:kabupaten|kota|daerah|"
    r"wilayah|kabupaten/kota|pemda|pemerintah daerah|provinsi)\b|\bse-?(?:provinsi|wilayah|kabupaten/kota)\b|"
    r"\bse-[A-Z]\w+|\bkabupaten/kota\b|\b(?:wilayah|se-?)\s*(?:Kalimantan|Sumatera|Sumatra|Sulawesi|Jawa|Papua|"
    r"Maluku|Nusa Tenggara|Bali)\b(?!\s+(?:Barat|Timur|Utara|Selatan|Tengah|Tenggara))",
    re.IGNORECASE,
)
# a national figure: the cue sits just before or after the number ("target nasional 49 persen", "... secara nasional")
NATIONAL_BEFORE = re.compile(
    r"(?:nasional|se-?indonesia|seluruh indonesia|pusat|pemerintah pusat|presiden)\b[^.;]{0,25}$"
    r"|\b(?:RPJPN|RPJMN)\b[^.;]{0,60}$",
    re.IGNORECASE,
)
NATIONAL_AFTER = re.compile(r"^[^,.;]{0,45}\b(?:secara nasional|nasional|se-?indonesia)\b", re.IGNORECASE)

PREVIOUS = re.compile(
    r"\bsebelumnya\b|\bsebelum ini\b|\bselama ini\b|(?<!sejak )\btahun lalu\b|\btahun sebelumnya\b|\bsemula\b|"
    r"\bawalnya\b|\btahun kemarin\b|\bperiode sebelumnya\b|\bsempat\b",
    re.IGNORECASE,
)
PART = re.compile(
    r"\bterdiri (?:atas|dari)\b|\bdi ?antaranya\b|\bmeliputi\b|\bmasing-masing\b|\bsebagian\b(?!\s+besar)|"
    r"\brinciannya\b|\bsisanya\b|\bselebihnya\b|\bdengan rincian\b|\btermasuk\b",
    re.IGNORECASE,
)
TOTAL = re.compile(r"\btotal\b|\bseluruhnya\b|\bkeseluruhan\b|\bsecara keseluruhan\b", re.IGNORECASE)
TARGET = re.compile(
    r"\btarget\w*|\bditargetkan\b|\bmenargetkan\b|\bsasaran\b|\brencana\w*|\bdirencanakan\b|\bdiproyeksikan\b|"
    r"\bdiharapkan\b|\bmenyasar\b|\bdisasar\b|\bmengusulkan\b|\bdiusulkan\b|\busulan\b",
    re.IGNORECASE,
)
# the target word governs the number that follows it closely ("target awalnya 1.000", "ditargetkan mencapai 3.000")
TARGET_NEAR = re.compile(
    r"\b(?:target\w*|ditargetkan|menargetkan|sasaran)\b(?:\s+\w+){0,3}\s*:?\s*$", re.IGNORECASE
)
BECOMES = re.compile(r"\bmenjadi\b", re.IGNORECASE)
# an addition to an earlier figure ("ditambah 5 ribu"), unless "menjadi" says the new total
INCREMENT = re.compile(
    r"\b(?:di)?tambah(?:kan)?\b|\bbertambah\b|\bpenambahan\b|\btambahan\b|\bmenambah\b|\bnaik\b|\bmeningkat\b",
    re.IGNORECASE,
)
STATED = re.compile(
    r"\bsaat ini\b|\bhingga kini\b|\bsampai kini\b|\bkini\b|\btercatat\b|\bmencapai\b|\bterdaftar\b|"
    r"\b(?:telah|sudah) (?:ter|di)lindungi\b|\b(?:telah|sudah) (?:men|di)daftarkan\b|\bsejauh ini\b|"
    r"\bper hari ini\b|"
    r"\bcapaian\b|\brealisasi\w*\b|\bhingga akhir\b",
    re.IGNORECASE,
)
# a level reached so far, whatever other words say ("total 22.474 ... kini telah terdaftar")
STATED_NOW = re.compile(
    r"\bsaat ini\b|\bhingga kini\b|\bsampai kini\b|\bkini\b|\btercatat\b|\b(?:telah|sudah) terdaftar\b|"
    r"\b(?:telah|sudah) (?:men|di)daftarkan\b|\bsejauh ini\b|\b(?:telah|sudah) (?:me|di)lindungi\b|"
    r"\bkartu\b",
    re.IGNORECASE,
)
# verbs of the promise itself: the regency enrols, covers or pays for these workers
ENROL = re.compile(
    r"\b(?:meng|di)ikutsertakan\b|\b(?:men|di)daftarkan\b|\b(?:meng|di)ikutkan\b|\b(?:me|di)lindungi\b|"
    r"\b(?:me|di)nanggung\b|\bditanggung\b|\b(?:meng|di)-?cover\b|\b(?:mem|di)biayai\b|"
    r"\b(?:mem|di)bayarkan\b|\b(?:meng|di)akomodir\b|\b(?:men|di)jamin\b|\bkuota\b|\bpeserta baru\b|"
    r"\bbagi\b|\buntuk\b|\bkepada\b",
    re.IGNORECASE,
)
PROTECTION = re.compile(
    r"perlindung|lindungi|\bcover\b|\bjaminan\b|daftar|kepesertaan|\bpeserta\b|\bmou\b|"
    r"menanggung|ditanggung|\biuran|dibayarkan|kerja ?sama|\bpks\b|ikutsertakan|ikutkan",
    re.IGNORECASE,
)
# counts of claims, accidents or beneficiaries of benefits are not counts of covered workers
NOT_COVERAGE = re.compile(
    r"\bklaim\b|\bmeninggal\b|\bkorban\b|\bahli waris\b|\bsantunan\b|\bbeasiswa\b|mengalami kecelakaan|"
    r"\btewas\b|\bcedera\b|\bluka\b|\bpenerima manfaat\b|\bnon-?aktif\b|\btidak aktif\b",
    re.IGNORECASE,
)
PARTICIPATION = re.compile(
    r"kepesertaan|partisipasi|cakupan|coverage|terlindungi|peserta aktif|universal coverage|tercover|"
    r"ter-cover|\bUCJ\b|\bcapaian\b",
    re.IGNORECASE,
)
# a percentage of a premium, a budget or a payment is not a participation rate
PERCENT_OTHER = re.compile(
    r"ditanggung|dibayar|\biuran|anggaran|realisasi|serapan|apbd|subsidi|diskon|bunga|inflasi|kemiskinan|"
    r"pertumbuhan ekonomi",
    re.IGNORECASE,
)
CHANGE = re.compile(
    r"\b(?:naik|turun|meningkat|menurun|bertambah|berkurang|kenaikan|penurunan|pertumbuhan|tumbuh|"
    r"peningkatan|lonjakan)(?:nya)?\b(?:\s+\w+){0,2}\s*(?:sebesar|sekitar)?\s*$",
    re.IGNORECASE,
)
BUDGET = re.compile(
    r"\banggaran\b|\bapbd\w*|\bdialokasikan\b|\balokasi\w*|\bmengalokasikan\b|\bmenganggarkan\b|"
    r"\bdianggarkan\b|\bdana\b|\bbiaya\b|\bdisiapkan\b|\bmenyiapkan\b|\bmenyediakan\b|\bpagu\b|"
    r"\bmenyisihkan\b|\bpembiayaan\b|\biuran\b|\bsenilai\b",
    re.IGNORECASE,
)
# money paid to a participant or heirs: a benefit, never a budget
BENEFIT = re.compile(
    r"\bsantunan\b|\bahli waris\b|\bklaim\b|\bmanfaat\b|\bbeasiswa\b|\bmeninggal\b|"
    r"\bbantuan\b|\bdiserahkan\b|\bpenyerahan\b|\bmenerima\b|\bmemperoleh\b|\blaba\b|\bdividen\b",
    re.IGNORECASE,
)
PER_PERSON = re.compile(
    r"^\s*(?:per|/|tiap|setiap)\s*(?:orang|peserta|pekerja|bulan|jiwa|kepala|tenaga)", re.IGNORECASE
)
PREMIUM = re.compile(r"\biuran\b|\bpremi\b", re.IGNORECASE)
PERCENT_AFTER = re.compile(r"^\s*(?:persen|prosen|%)", re.IGNORECASE)

MOU = re.compile(
    r"\bmou\b|memorandum of understanding|nota kesepahaman|perjanjian kerja ?sama|\bpks\b|penandatanganan|"
    r"menandatangani|ditandatangani|\bteken\b|\bmeneken\b|\bditeken\b|kesepakatan bersama",
    re.IGNORECASE,
)
AUDIENCE = re.compile(
    r"\baudiensi\b|\bkunjungan\b|\bsilaturahmi\b|\bmelaporkan\b|\bmenerima\b.*\bkepala\b|\bkoordinasi\b",
    re.IGNORECASE,
)
TARGET_EVENT = re.compile(r"\btargetkan\b|\bmenargetkan\b|\bditargetkan\b|\btarget\b", re.IGNORECASE)

OFFICE_BEFORE = re.compile(
    r"(?:BPJS\s*(?:Ketenagakerjaan|TK|Naker)|BPJamsostek|BP\s*Jamsostek|Jamsostek|Cabang|KCP|Kacab|Kepala Kantor)"
    r"\s*(?:Cabang\s*)?$",
    re.IGNORECASE,
)
BRANCH = re.compile(
    r"\b(?:Kantor\s+Cabang|Kepala\s+Cabang|Kacab|KC)\s+(?:(?:Utama\s+)?(?:BPJS\s+Ketenagakerjaan|BPJS\s+TK|"
    r"BPJamsostek)\s+)?(?:(?:Kota|Kabupaten|Kab\.)\s+)?(?P<name>[A-Z][\w\-]+(?:\s+[A-Z][\w\-]+)?)"
    r"|\b(?:BPJS\s+Ketenagakerjaan|BPJamsostek)\s+Cabang\s+(?:(?:Kota|Kabupaten|Kab\.)\s+)?"
    r"(?P<name2>[A-Z][\w\-]+(?:\s+[A-Z][\w\-]+)?)",
)
