"""Deliveries that go wrong in real regency offices (issue 25), written by the tests themselves: synthetic people
only, every expected figure from the definitions in ../shared/domain.md.

`replay_inbox(inbox, outside)` writes all of them into one inbox (and, beside it, the files a link leads to) and
returns what each must end as; the tests in this folder also use the builders one by one.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

PAREPARE, PALOPO, SIDRAP = "73.72", "73.73", "73.14"
DISTRICTS = {PAREPARE: "737201", PALOPO: "737301", SIDRAP: "731401"}
HEADER = ["No", "NIK", "Nama", "Tgl Lahir", "JK", "Pekerjaan", "Desa", "Kecamatan", "Program", "TMT",
          "Tgl Berakhir", "Iuran", "Sumber Dana"]
CONTRIB_HEADER = ["Bulan", "Kab/Kota", "Sumber Dana", "Jumlah Peserta", "Jumlah Tagihan", "Jumlah Dibayar",
                  "Tgl Bayar"]
CLAIMS_HEADER = ["No Klaim", "NIK", "No KPJ", "Program", "Tgl Kejadian", "Tgl Bayar", "Nominal", "Kab/Kota"]
OLD_MTIME = 1_748_736_000          # 2025-06-01: the time a zip keeps for every file it holds
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def nik(regency: str, i: int) -> str:
    """A well-formed synthetic NIK issued in the regency (its first district), unique per i < 9999."""
    day, month, year = 1 + i % 28, 1 + (i // 28) % 12, 60 + (i // 336) % 30
    return f"{DISTRICTS[regency]}{day:02d}{month:02d}{year:02d}{i % 9999 + 1:04d}"


def register_row(regency: str, i: int, start: str = "01-04-2025", **over: str) -> list[str]:
    row = {"No": str(i + 1), "NIK": nik(regency, i), "Nama": f"Peserta Sintetis {regency} {i}",
           "Tgl Lahir": "12-03-1985", "JK": "L", "Pekerjaan": "Nelayan", "Desa": "Lapadde", "Kecamatan": "Ujung",
           "Program": "JKK, JKM", "TMT": start, "Tgl Berakhir": "", "Iuran": "16.800", "Sumber Dana": "APBD"}
    row.update(over)
    return [row[h] for h in HEADER]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list], title: list[str] = (), header: list[str] = HEADER,
               formulas: dict[tuple[int, int], str] | None = None) -> bytes:
    """A workbook with one sheet: title lines, the header, the rows; `formulas`: (data row, column) → a formula
    written without a saved result (as a program that does not calculate writes it)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    ws = wb.add_worksheet("Peserta")
    r = 0
    for line in title:
        ws.write_string(r, 0, line)
        r += 1
    for c, h in enumerate(header):
        ws.write_string(r, c, h)
    first = r + 1
    for i, row in enumerate(rows):
        for c, v in enumerate(row):
            if isinstance(v, int | float):
                ws.write_number(first + i, c, v)
            elif v:
                ws.write_string(first + i, c, v)
    for (i, c), formula in (formulas or {}).items():
        ws.write_formula(first + i, c, formula, None, "")      # no saved result: <v></v>
    wb.close()
    return buf.getvalue()


def write(path: Path, data: bytes, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def unzip(inbox: Path, folder: str, members: dict[str, bytes]) -> list[Path]:
    """Unpack a zip made on the clerk's machine: every member keeps the zip's one modification time."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2025, 6, 1, 0, 0, 0)), data)
    out = []
    with zipfile.ZipFile(buf) as z:
        for info in z.infolist():
            out.append(write(inbox / folder / info.filename, z.read(info), OLD_MTIME))
    return out


def palopo_register(n: int = 10, title: bool = True) -> bytes:
    """Palopo's March 2025 register: its title names Kota Palopo, its NIKs were issued there."""
    rows = [register_row(PALOPO, i, start="01-03-2025") for i in range(n)]
    lines = ["PEMERINTAH KOTA PALOPO", "DAFTAR PESERTA PEKERJA RENTAN BULAN MARET 2025"] if title else []
    return xlsx_bytes(rows, title=lines)


class Writer:
    """Another process appending register rows to a file every few milliseconds (a copy still under way), until
    `stop`. Run in a process of its own, so it writes while this process reads."""

    SCRIPT = ("import os, sys, time\n"
              "path, stop = sys.argv[1], sys.argv[2]\n"
              "i = 0\n"
              "while not os.path.exists(stop):\n"
              "    with open(path, 'a', encoding='utf-8', newline='') as f:\n"
              "        f.write(sys.argv[3].replace('@', str(i)) + '\\r\\n')\n"
              "    i += 1\n"
              "    time.sleep(0.003)\n")

    def __init__(self, path: Path, line: str):
        import subprocess

        self.stop = path.parent / (".stop-" + path.name)
        self.proc = subprocess.Popen([sys.executable, "-c", self.SCRIPT, str(path), str(self.stop), line])
        size = path.stat().st_size
        while path.stat().st_size == size:          # writing now
            time.sleep(0.01)

    def finish(self) -> None:
        self.stop.write_text("")
        self.proc.wait(timeout=30)
        self.stop.unlink()


@dataclass
class Expect:
    """What a file of the replay must end as: its manifest status, and its reason code (file-level) or a row
    reason that must be among its quarantined rows."""

    status: str
    code: str | None = None


def replay_inbox(inbox: Path, outside: Path) -> dict[str, Expect]:
    """Every hostile delivery in one inbox; returns manifest path → what it must end as. Expected coverage
    (domain.md): Parepare April 20 enrolled, May 5 (May's own register governs May), June 3; Palopo March 10."""
    exp: dict[str, Expect] = {}
    # 1. two months unpacked from one zip (one modification time); May's register names sort before April's
    april = [register_row(PAREPARE, i) for i in range(20)]
    may = [register_row(PAREPARE, i) for i in range(5)] + [register_row(PAREPARE, 40, Iuran="12345678901234567")]
    unzip(inbox, PAREPARE, {"daftar_peserta_mei_2025.csv": csv_bytes(may),
                            "register_april_2025.csv": csv_bytes(april)})
    exp[f"{PAREPARE}/daftar_peserta_mei_2025.csv"] = Expect("loaded", "NUMBER_OUT_OF_RANGE")
    exp[f"{PAREPARE}/register_april_2025.csv"] = Expect("loaded")
    # 2. Palopo's register, a copy of it in Parepare's folder, and the same bytes sent again to Palopo
    write(inbox / PALOPO / "register_palopo_2025-03.xlsx", palopo_register(), OLD_MTIME)
    write(inbox / PAREPARE / "register_palopo_2025-03.xlsx", palopo_register(), OLD_MTIME)
    write(inbox / PALOPO / "register_palopo_2025-03_kirim_ulang.xlsx", palopo_register(), OLD_MTIME + 60)
    exp[f"{PALOPO}/register_palopo_2025-03.xlsx"] = Expect("loaded")
    exp[f"{PAREPARE}/register_palopo_2025-03.xlsx"] = Expect("rejected", "FILE_REGENCY_MISMATCH")
    exp[f"{PALOPO}/register_palopo_2025-03_kirim_ulang.xlsx"] = Expect("duplicate", "DUPLICATE_FILE")
    # 3. a deeper folder named like another regency: the first level (Parepare) decides
    june = [register_row(PAREPARE, 50 + i, start="01-06-2025") for i in range(3)]
    write(inbox / PAREPARE / PALOPO / "register_parepare_2025-06.csv", csv_bytes(june), OLD_MTIME)
    exp[f"{PAREPARE}/{PALOPO}/register_parepare_2025-06.csv"] = Expect("loaded")
    # 4. a count of 2^63 and a 17-digit amount in contributions
    contrib = [["Maret 2025", "Sidrap", "APBD", "9223372036854775808", "Rp 168.000", "Rp 168.000", "20/04/2025"],
               ["April 2025", "Sidrap", "APBD", "10", "Rp 168.000", "Rp 12345678901234567", "20/05/2025"],
               ["Mei 2025", "Sidrap", "APBD", "10", "Rp 168.000", "Rp 168.000", "20/06/2025"]]
    write(inbox / SIDRAP / "iuran_sidrap_2025.csv", csv_bytes(contrib, CONTRIB_HEADER), OLD_MTIME)
    exp[f"{SIDRAP}/iuran_sidrap_2025.csv"] = Expect("loaded", "NUMBER_OUT_OF_RANGE")
    # 5. a link to a file outside the inbox, a link to a folder outside it, a named pipe
    secret = write(outside / "secret" / "register_parepare_2025-07.csv", csv_bytes(april))
    (inbox / PAREPARE / "register_parepare_2025-07.csv").symlink_to(secret)
    (inbox / PAREPARE / "shared_drive").symlink_to(secret.parent, target_is_directory=True)
    os.mkfifo(inbox / PAREPARE / "register_parepare_2025-08.csv")
    exp[f"{PAREPARE}/register_parepare_2025-07.csv"] = Expect("rejected", "LINK_OUTSIDE_INBOX")
    exp[f"{PAREPARE}/shared_drive"] = Expect("rejected", "LINK_OUTSIDE_INBOX")
    exp[f"{PAREPARE}/register_parepare_2025-08.csv"] = Expect("rejected", "NOT_A_REGULAR_FILE")
    # 6. file names a spreadsheet reads as formulas; a NIK formula without a saved result; other-script digits
    contrib = [["April 2025", "Parepare", "APBD", "20", "Rp 336.000", "Rp 336.000", "20/05/2025"],
               ["Mei 2025", "Parepare", "APBD", "5", "Rp 84.000", "Rp 84.000", "20/06/2025"]]
    formula_name = "=HYPERLINK(\"http:evil\";\"iuran\") iuran parepare 2025.csv"
    write(inbox / PAREPARE / formula_name, csv_bytes(contrib, CONTRIB_HEADER), OLD_MTIME)
    exp[f"{PAREPARE}/{formula_name}"] = Expect("loaded")
    claims = [[f"K-{i}", nik(PAREPARE, i), "", "JKK", "03/05/2025", "20/05/2025", "Rp 1.000.000", "Parepare"]
              for i in range(3)]
    claims[1][1] = claims[1][1].translate(FULL_WIDTH)
    claims[2][1] = claims[2][1].translate(ARABIC_INDIC)
    write(inbox / PAREPARE / "@klaim_parepare_2025-05.csv", csv_bytes(claims, CLAIMS_HEADER), OLD_MTIME)
    exp[f"{PAREPARE}/@klaim_parepare_2025-05.csv"] = Expect("loaded")
    rows = [[f"K-{10 + i}", nik(PAREPARE, 10 + i), "", "JKM", "04/05/2025", "21/05/2025", "Rp 2.000.000",
             "Parepare"] for i in range(3)]
    rows[1][1] = ""
    write(inbox / PAREPARE / "klaim_parepare_2025-05.xlsx",
          xlsx_bytes(rows, header=CLAIMS_HEADER, formulas={(1, 1): '="7372"&"014503850002"'}), OLD_MTIME)
    exp[f"{PAREPARE}/klaim_parepare_2025-05.xlsx"] = Expect("loaded", "FORMULA_NO_VALUE")
    # 7. dates outside 1900 to next year
    late = [register_row(SIDRAP, i, start="01-03-2025") for i in range(4)]
    late[1][HEADER.index("TMT")] = "01-03-2099"
    late[2][HEADER.index("Tgl Lahir")] = "12-03-1899"
    write(inbox / SIDRAP / "register_sidrap_2025-03.csv", csv_bytes(late), OLD_MTIME)
    exp[f"{SIDRAP}/register_sidrap_2025-03.csv"] = Expect("loaded", "DATE_OUT_OF_RANGE")
    return exp
