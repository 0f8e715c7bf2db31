"""Every clerk-facing text of the outbox (rejection workbooks, templates, the delivery calendar), in Bahasa Indonesia.

One dict, keyed like the reason registry (`contracts/reasons.yml`): the message catalogue of issue 23 takes these
entries over as its `id` texts. `{column}` and `{value}` are filled in as in the registry.
"""

from __future__ import annotations

# the reason of a rejected row, as the clerk reads it in the workbook's "Alasan penolakan" column
REASONS_ID: dict[str, str] = {
    "NIK_MISSING": "NIK kosong. Isi NIK 16 digit peserta.",
    "NIK_15_DIGITS": "NIK hanya 15 digit; NIK harus tepat 16 digit. Periksa kembali KTP peserta.",
    "NIK_17_DIGITS": "NIK berisi 17 digit; NIK harus tepat 16 digit. Periksa kembali KTP peserta.",
    "NIK_WRONG_LENGTH": "NIK tidak 16 digit. Periksa kembali KTP peserta.",
    "NIK_NOT_DIGITS": "NIK berisi karakter selain angka. Ketik hanya 16 angka.",
    "NIK_PRECISION_LOST": ("NIK tersimpan sebagai angka di Excel sehingga digit terakhirnya hilang; ketik NIK sebagai "
                           "teks lalu kirim ulang berkas ini."),
    "NIK_REGION_UNKNOWN": "Empat digit pertama NIK bukan kode kabupaten/kota yang dikenal.",
    "NIK_BIRTH_DATE_INVALID": "Digit ke-7 sampai ke-12 NIK bukan tanggal lahir yang sah (tanggal + 40 untuk perempuan).",
    "NO_PARTICIPANT_ID": "Baris ini tidak berisi NIK maupun nomor KPJ. Isi salah satunya.",
    "REQUIRED_MISSING": "Kolom wajib '{column}' kosong. Isi kolom ini.",
    "OCCUPATION_MISSING": "Pekerjaan kosong. Isi pekerjaan peserta (mis. nelayan, petani, pedagang).",
    "DATE_INVALID": "'{value}' di kolom '{column}' bukan tanggal yang bisa dibaca. Tulis seperti 30/04/2025.",
    "MONTH_INVALID": "'{value}' di kolom '{column}' bukan bulan yang bisa dibaca. Tulis seperti April 2025.",
    "NUMBER_INVALID": "'{value}' di kolom '{column}' bukan angka yang bisa dibaca.",
    "NUMBER_NEGATIVE": "'{value}' di kolom '{column}' bernilai negatif.",
    "COUNT_NOT_WHOLE": "'{value}' di kolom '{column}' bukan bilangan bulat.",
    "PROGRAM_UNKNOWN": "'{value}' bukan program yang dikenal (JKK, JKM, JHT, JP, JKP).",
    "SEX_INVALID": "'{value}' bukan kode jenis kelamin (L / P).",
    "FUNDING_SOURCE_UNKNOWN": "'{value}' bukan sumber dana yang dikenal (APBD, APBDes, CSR, BAZNAS, Mandiri).",
    "REGENCY_UNKNOWN": "'{value}' bukan kabupaten/kota yang dikenal (periksa nama atau kode Kemendagri).",
    "REGENCY_MISMATCH": "Kabupaten/kota '{value}' pada baris ini bukan kabupaten/kota pemilik folder ini.",
    "KPJ_INVALID": "Nomor KPJ '{value}' tidak seluruhnya angka.",
    "COVERAGE_END_BEFORE_START": "Tanggal berakhir kepesertaan lebih awal dari tanggal mulai (TMT).",
    "DATE_OUT_OF_RANGE": "Tanggal '{value}' di kolom '{column}' di luar rentang yang wajar (1900 sampai tahun depan).",
    "DUPLICATE_IN_FILE": "Orang yang sama tercantum dua kali dalam berkas ini; baris pertama yang dipakai.",
    "VALUE_TOO_LONG": "Isi sel di kolom '{column}' lebih dari 1.000 karakter.",
    "REGENCY_MISSING": "Baris ini tidak menyebut kabupaten/kota, dan folder maupun judul berkas juga tidak.",
    "PERIOD_MISSING": "Baris ini tidak berisi periode (Bulan), dan judul maupun nama berkas juga tidak menyebut bulannya.",
    "ROW_NOT_SPLIT": "Baris ini tidak terbagi ke dalam kolom-kolom berkas (pemisah lain, atau seluruh baris diketik dalam satu sel).",
    "NUMBER_OUT_OF_RANGE": ("'{value}' di kolom '{column}' terlalu besar. Apakah NIK atau nomor rekening terketik di sini? "
                            "Perbaiki selnya lalu kirim ulang."),
    "FORMULA_NO_VALUE": ("Sel di kolom '{column}' berisi rumus yang hasilnya tidak tersimpan. Buka berkas di Excel, "
                         "simpan, lalu kirim ulang, atau ketik nilainya langsung."),
}

# every other text of the outbox, by key
TEXTS_ID: dict[str, str] = {
    "reason_header": "Alasan penolakan",
    "origin_sheet_header": "Lembar asal",
    "origin_row_header": "Baris asal",
    "rows_sheet": "Baris ditolak",
    "summary_sheet": "Ringkasan",
    "title": "PERBAIKAN {source_name} {regency} BULAN {period}",
    "instructions": ("Perbaiki sel yang berwarna pada setiap baris, jangan ubah kolom 'Lembar asal' dan 'Baris asal', "
                     "hapus baris yang tidak bisa diperbaiki, simpan, lalu kirim ulang berkas ini ke folder kiriman "
                     "kabupaten/kota Anda. Baris yang diperbaiki ditambahkan ke kiriman asal; peserta lain tetap."),
    "summary_file": "Berkas asal",
    "summary_load": "Nomor muatan",
    "summary_received": "Diterima",
    "summary_period": "Periode kiriman",
    "summary_rows_in": "Baris masuk",
    "summary_loaded": "Baris dimuat",
    "summary_rejected": "Baris ditolak",
    "summary_by_reason": "Ditolak menurut alasan",
    "summary_reason_code": "Kode alasan",
    "summary_reason_text": "Alasan",
    "summary_count": "Jumlah baris",
    "summary_personal": ("Berkas ini berisi data pribadi (UU 27/2022). Simpan hanya di folder kabupaten/kota Anda, "
                         "jangan dibagikan, dan hapus setelah dikirim ulang."),
    "source_register": "DAFTAR PESERTA",
    "source_contributions": "IURAN DAN PEMBAYARAN",
    "source_claims": "KLAIM",
    # the delivery calendar (mart_delivery_calendar.status, report grid)
    "delivery_delivered": "tepat waktu",
    "delivery_late": "terlambat",
    "delivery_missing": "belum dikirim",
    "delivery_not_due": "belum jatuh tempo",
}

MONTHS_ID = ["JANUARI", "FEBRUARI", "MARET", "APRIL", "MEI", "JUNI", "JULI", "AGUSTUS", "SEPTEMBER", "OKTOBER",
             "NOVEMBER", "DESEMBER"]


def reason_id(code: str, column: str | None = None, value: object = None) -> str:
    """The reason in Bahasa Indonesia, with {column} and {value} filled in (the code itself when unknown)."""
    text = REASONS_ID.get(code, code)
    shown = "" if value is None else str(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return text.replace("{column}", column or "").replace("{value}", shown)
