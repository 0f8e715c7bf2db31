"""Header inference (issue 19): labels as clerks write them, the not-found message, ODS, and a re-sent rejected
file recognised as a duplicate delivery. Expected values come from the layouts' definitions."""

from __future__ import annotations

import pytest
from cakupan.core.contracts import SOURCES, all_contracts
from cakupan.ingest.loader import Loader
from cakupan.ingest.readers import FileRejected, read_file
from cakupan.ingest.readers.labels import ABBREVIATIONS, Labels, label_forms, labels_for, without_hint
from cakupan_dev.messy.formats import Sheet, ods_bytes, xlsx_bytes
from cakupan_dev.messy.layout_cases import Layout, register_layout
from cakupan_dev.messy.people import REGISTER_HEADER, register_row, title_rows, workers
from hypothesis import example, given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize(("label", "column"), [
    ("N.I.K.", "nik"), ("L / P", "sex"), ("Desa / Kelurahan", "village"), ("T.M.T", "coverage_start"),
    ("Tgl. Lahir", "birth_date"), ("Jns Kelamin", "sex"), ("Kec.", "district"), ("Kel.", "village"),
    ("No. KPJ", "kpj"), ("Pekerjan", "occupation"), ("Sumber Dnaa", "funding_source"),
    ("Nama Lengkp", "full_name"), ("Keterangan", None), ("NO", None), ("No HP", None), ("JKK", None),
    ("Tangal Lahir", "birth_date"), ("TEMPAT LAHIR", None), ("Tmpt. Lahir", None),     # the place of birth: no date
    ("TanggalLahir", "birth_date"), ("TempatLahir", None), ("KOTA/KAB", "regency"), ("Kota / Kabupaten", "regency"),
    # as a BPJS export heads its dates of participation; a worker's first day at work is none of them
    ("TGL MULAI KEPESERTAAN", "coverage_start"), ("Tanggal Mulai Kepesertaan", "coverage_start"),
    ("Tgl. Akhir Kepesertaan", "coverage_end"), ("TANGGAL BERAKHIR KEPESERTAAN", "coverage_end"),
    ("TGL MULAI BEKERJA", None), ("STATUS KEPESERTAAN", None),
])
def test_labels_as_clerks_write_them(label, column):
    assert labels_for("register").match(label).column == column


def test_a_label_two_columns_fit_equally_is_ambiguous_and_matches_neither():
    labels = Labels("register", (("Kode Unit A", "district"), ("Kode Unit B", "village")))
    m = labels.match("Kode Unit C")          # one letter from both overrides
    assert (m.column, m.how, set(m.candidates)) == (None, "ambiguous", {"district", "village"})
    assert labels.match("Kode Unit A").column == "district"


def _rejected(tmp_path, data: bytes, name: str = "register.xlsx") -> FileRejected:
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(FileRejected) as info:
        read_file(p)
    return info.value


def test_not_found_names_found_missing_and_closest_labels(tmp_path):
    case = register_layout(Layout("m", "", header_rows=3, labels={"Pekerjaan": "Pkrjaan Pokok"}))
    err = _rejected(tmp_path, case.files[0].data)
    assert err.code == "HEADER_NOT_FOUND"
    detail = err.detail.render("en")    # a catalogue message (issue 23), read here in English
    # each column as the template heads it (what the clerk writes) and by its contract name (what an engineer
    # adds an alias to)
    assert "lacks required columns: Pekerjaan (occupation);" in detail
    assert ("found: NIK (nik), Nama (full_name), Program (programs), TMT (coverage_start), Iuran "
            "(monthly_contribution), Sumber Dana (funding_source)") in detail
    assert "closest labels seen: occupation ~ 'Pkrjaan Pokok'" in detail
    assert "tidak memiliki kolom wajib: Pekerjaan (occupation);" in err.detail.render("id")


def test_header_inference_reads_the_issue_layout_and_ods(tmp_path):
    """The issue's three-row header under a 14-row letterhead, as XLSX (merged) and ODS (labels once)."""
    for fmt in ("xlsx", "ods"):
        lay = Layout("issue", "", fmt=fmt, title_height=14, header_rows=3, numbers_row=True, n=3)
        p = tmp_path / f"register.{fmt}"
        p.write_bytes(register_layout(lay).files[0].data)
        [block] = read_file(p).blocks
        assert block.header_row == 17                      # rows 15-17 are the header, 18 the numbers
        assert {c: i for c, i in block.mapping.items()} == {
            "nik": 1, "full_name": 2, "birth_date": 3, "sex": 4, "occupation": 5, "village": 6, "district": 7,
            "programs": 8, "coverage_start": 9, "monthly_contribution": 10, "funding_source": 11}
        assert block.source_rows == [19, 20, 21] and "APRIL 2025" in block.title_text


def test_a_hidden_sheet_is_not_read_and_a_zip_that_is_no_workbook_is_rejected(tmp_path):
    ws = workers(2)
    rows = [REGISTER_HEADER, register_row(1, ws[0]), register_row(2, ws[1])]
    p = tmp_path / "register.ods"
    p.write_bytes(ods_bytes([Sheet("Lama", rows, hidden=True), Sheet("Baru", rows)]))
    assert [b.sheet for b in read_file(p).blocks] == ["Baru"]
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/zip")
        z.writestr("content.xml", "<x/>")
    assert _rejected(tmp_path, buf.getvalue(), "register.ods").code == "FILE_TYPE_UNSUPPORTED"


def test_a_rejected_file_sent_again_is_a_duplicate_delivery(home):
    """The same bytes rejected once, delivered again under another name, are not read again."""
    data = register_layout(Layout("dup", "", header_rows=2, drop=("Pekerjaan",))).files[0].data
    folder = home.inbox / "73.72"
    folder.mkdir(parents=True)
    (folder / "register_2025-04.xlsx").write_bytes(data)
    (folder / "register_2025-04_kirim_ulang.xlsx").write_bytes(data)
    loader = Loader(home)
    try:
        first = loader.load(folder / "register_2025-04.xlsx")
        again = loader.load(folder / "register_2025-04_kirim_ulang.xlsx")
        assert (first.status, first.error_code) == ("rejected", "HEADER_NOT_FOUND")
        assert (again.status, again.error_code, again.duplicate_of) == ("duplicate", "DUPLICATE_FILE", first.load_id)
        assert f"ditolak sebagai muatan {first.load_id}" in again.error_message
        other = home.inbox / "73.73"
        other.mkdir()
        (other / "register_2025-04.xlsx").write_bytes(data)     # another regency's folder: its own delivery
        assert loader.load(other / "register_2025-04.xlsx").status == "rejected"
    finally:
        loader.con.close()


def test_a_merged_district_is_filled_down(tmp_path):
    lay = Layout("d", "", district_merged=True, n=3)
    p = tmp_path / "register.xlsx"
    p.write_bytes(register_layout(lay).files[0].data)
    [block] = read_file(p).blocks
    assert block.cells["district"] == ["Bacukiki"] * 3


def test_xlsm_workbook_reads(tmp_path):
    ws = workers(1)
    p = tmp_path / "register.xlsm"
    p.write_bytes(xlsx_bytes([Sheet("S", [REGISTER_HEADER, register_row(1, ws[0])])]))
    assert read_file(p).blocks[0].n_rows == 1


def test_an_instruction_sheet_naming_one_column_is_no_second_kind_but_a_real_one_is(tmp_path):
    """Offices add a "Keterangan" sheet explaining the columns. One known word in it ("Periode", a city report's
    column) is no header: the workbook is a register with one sheet without a header. A second sheet with a real
    contributions header (several columns) still makes the workbook two kinds."""
    ws = workers(2)
    data = [*title_rows(), REGISTER_HEADER, register_row(1, ws[0]), register_row(2, ws[1])]
    notes = [["Keterangan pengisian"], [], ["Kolom", "Penjelasan"], ["NIK", "16 digit sesuai KTP"],
             ["Periode", "bulan laporan, mis. April 2025"], ["TMT", "tanggal mulai kepesertaan"]]
    p = tmp_path / "register.xlsx"
    p.write_bytes(xlsx_bytes([Sheet("Data", data), Sheet("Keterangan", notes)]))
    got = read_file(p)
    assert (got.source, [b.sheet for b in got.blocks], got.sheets_without_header) == ("register", ["Data"],
                                                                                     ["Keterangan"])
    assert got.blocks[0].source_rows == [len(title_rows()) + 2, len(title_rows()) + 3]
    bill = [["Bulan", "Kab/Kota", "Sumber Dana", "Jumlah Peserta", "Jumlah Tagihan", "Jumlah Dibayar"],
            ["April 2025", "Kota Parepare", "APBD", 2, 33600, 33600]]
    p.write_bytes(xlsx_bytes([Sheet("Data", data), Sheet("Tagihan", bill)]))
    assert _rejected(tmp_path, p.read_bytes()).code == "WRONG_KIND"


def test_a_hidden_row_is_read_as_any_other_row(tmp_path):
    """README "Sheets": hiding a row in Excel is a view, not a deletion, so a hidden worker is still delivered."""
    import openpyxl

    ws_people = workers(3)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Peserta"
    for values in [REGISTER_HEADER] + [register_row(i + 1, w) for i, w in enumerate(ws_people)]:
        ws.append(list(values))
    ws.row_dimensions[3].hidden = True                    # the second worker's row, hidden by the clerk
    p = tmp_path / "register.xlsx"
    wb.save(p)
    assert openpyxl.load_workbook(p).active.row_dimensions[3].hidden      # it really is hidden in the file
    [block] = read_file(p).blocks
    assert block.source_rows == [2, 3, 4]
    delivered = [register_row(i + 1, w)[REGISTER_HEADER.index("NIK")] for i, w in enumerate(ws_people)]
    assert list(block.cells["nik"]) == [str(v) for v in delivered]


_ALIASES = sorted({a for c in all_contracts().values() for col in c.columns
                   for a in (col.name.replace("_", " "), *col.aliases)})
_SHORT = {}
for _short, _word in ABBREVIATIONS.items():
    _SHORT.setdefault(_word, []).append(_short)


@st.composite
def _label(draw):
    """An alias as a clerk shortens it: some of its words abbreviated ("Tanggal Lahir" -> "Tgl. Lahir")."""
    words = draw(st.sampled_from(_ALIASES)).split()
    short = [[w, *(s.title() + "." for s in _SHORT.get(w.lower(), []))] for w in words]
    return " ".join(draw(st.sampled_from(forms)) for forms in short)


@settings(max_examples=200, deadline=None)
@given(source=st.sampled_from(SOURCES),
       texts=st.lists(st.one_of(_label(), st.text(max_size=12), st.just("")), max_size=12))
@example(source="register", texts=["Nomor KTP", "Tanggal Kepesertaan"])    # matched only once spelt out
@example(source="claims", texts=["Tanggal Meninggal", "", "Nomor Kartu Peserta"])
@example(source="register", texts=["TMT (dd/mm/yyyy)", "Iuran (Rp)", "JK [L/P]"])     # with and without the hint
def test_a_row_s_exact_columns_are_its_cells_exact_matches(source, texts):
    """The header search's row-at-once lookup (`exact_columns` on `label_forms`) finds the columns `match_exact`
    finds cell by cell, each cell as written and without a hint in brackets (as `_match_columns` tries it):
    aliases as written, spelt-out abbreviations, nothing fuzzy; and its prefilter (`may_match`) lets every such
    row through."""
    from cakupan.ingest.readers import header

    labels = labels_for(source)
    one_by_one = {m.column for t in texts if t for u in (t, without_hint(t)) if u
                  and (m := labels.match_exact(u)).column}
    assert labels.exact_columns(label_forms(texts)) == one_by_one
    # the header search asks no contract of a row that `may_match` none of them: never a row with an exact match
    every = header._any_exact(tuple(labels_for(s) for s in SOURCES))
    assert header.may_match(label_forms(texts), every) or not one_by_one


def _expand_by_definition(text: str) -> str:
    """A label folded as `normalise_header` folds it, empty if that is; else its words, lower-cased without
    accents and split at anything but a letter or digit, each abbreviation spelt out, joined."""
    import re
    import unicodedata

    from cakupan.core.contracts import normalise_header

    if not normalise_header(text):
        return ""
    low = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ABBREVIATIONS.get(w, w) for w in re.sub(r"[^a-z0-9]+", " ", low).split())


@settings(max_examples=400, deadline=None)
@given(st.one_of(_label(), st.text(max_size=16),
                 st.text(alphabet="TglKecNo. /-_()éÉñß\u00a0\u2160\ufb01\u0130\u212a1234 ", max_size=16)))
@example("Tgl. Lahir")
@example("N.I.K.")
@example("\u2160")         # a Roman numeral one: NFKD gives "I"
@example("2025")
def test_a_label_s_forms_are_its_folding_and_its_spelt_out_words(text):
    """The forms the header search matches a text by: folded as `normalise_header` folds a header, and with its
    abbreviations spelt out (a text of digits only keeps its folding)."""
    from cakupan.core.contracts import normalise_header
    from cakupan.ingest.readers import labels

    folded = normalise_header(text)
    assert labels.expand(text) == _expand_by_definition(text)
    assert labels._forms(text) == (folded, folded if not folded or folded.isdigit() else _expand_by_definition(text))


class _Everything:
    def __contains__(self, _):
        return True


def _header_outcomes(paths) -> list:
    out = []
    for p in paths:
        try:
            r = read_file(p)
        except FileRejected as exc:
            out.append((p.name, exc.code, str(exc)))
            continue
        out.append((p.name, r.source, [(b.sheet, b.header_row, b.mapping, b.headers, b.title_text, b.source_rows,
                                        {c: list(v) for c, v in b.cells.items()}, b.notes_skipped, b.extras)
                                       for b in r.blocks]))
    return out


def test_the_header_search_kept_across_files_finds_what_a_fresh_search_finds(tmp_path, monkeypatch):
    """The header search keeps block matches across sheets (`header._kept_match`), asks no contract of a row
    none of whose texts any contract knows (`header._any_exact`), and asks no contract's typo search of a text
    none is near (`AnyLabels.none_near`, in `_match_columns`): every messy and layout file reads the same with the
    caches warm (read twice) as with all three turned off."""
    from cakupan.ingest.readers import header
    from cakupan_dev.messy import cases
    from cakupan_dev.messy.layout_cases import layout_cases

    paths = []
    for case in [*cases(), *layout_cases()]:
        for f in case.files:
            p = tmp_path / case.name / f.name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(f.data)
            paths.append(p)
    header._kept_match.cache_clear()
    first, warm = _header_outcomes(paths), _header_outcomes(paths)
    assert header._kept_match.cache_info().hits > len(paths)
    monkeypatch.setattr(header, "_kept_match", lambda b, labels, fuzzy, any_labels=None: header._match_block(
        [list(r) for r in b], labels, fuzzy))
    monkeypatch.setattr(header, "_any_exact", lambda labels: _Everything())
    monkeypatch.setattr(header, "_unmatched", lambda block, any_labels: None)
    plain = _header_outcomes(paths)
    assert len(paths) > 100 and sum(1 for o in plain if len(o) == 3 and isinstance(o[2], list)) > 50
    assert first == plain and warm == plain


def _near_by_definition(each: list[Labels], text: str) -> bool:
    """Whether some contract could match a text: one of its exact forms is a contract's, or it is a typo
    candidate (`_fuzzy_by_definition`'s length and digit rule) that some label of some contract, every one of
    them scored, scores at least the threshold against."""
    from cakupan.ingest.readers import labels as lab
    from rapidfuzz import fuzz

    folded, spelt = lab._forms(text)
    if any(folded in x.exact or spelt in x.exact or folded in x.expanded or spelt in x.expanded for x in each):
        return True
    spelt = lab.expand(text)
    if not text or not (lab.FUZZY_MIN_LENGTH <= len(spelt) <= lab.FUZZY_MAX_LENGTH) or \
            sum(ch.isdigit() for ch in spelt) * 3 > len(spelt):
        return False
    return any(fuzz.ratio(spelt, choice) >= lab.FUZZY_THRESHOLD for x in each for choice in x.expanded)


def _fuzzy_by_definition(labels: Labels, text: str):
    """A label's typo match by definition: a spelt-out label of a fuzzy length with at most a third of it digits,
    scored against every known label; the best column unless the second is within the margin; none for a label of
    one of the contract's `other_columns`."""
    from cakupan.ingest.readers import labels as lab
    from rapidfuzz import fuzz

    spelt = lab.expand(text)
    if not (lab.FUZZY_MIN_LENGTH <= len(spelt) <= lab.FUZZY_MAX_LENGTH) or \
            sum(ch.isdigit() for ch in spelt) * 3 > len(spelt):
        return None, "none"
    others = {f for label in all_contracts()[labels.source].other_columns for f in lab._forms(label)}
    if others & set(lab._forms(text)):      # a column the contract knows to be none of its own
        return None, "none"
    best: dict[str, float] = {}
    for choice, column in labels.expanded.items():
        score = fuzz.ratio(spelt, choice)
        if score >= lab.FUZZY_THRESHOLD - lab.AMBIGUITY_MARGIN:
            best[column] = max(best.get(column, 0.0), score)
    ranked = sorted(best.values(), reverse=True)
    if not ranked or ranked[0] < lab.FUZZY_THRESHOLD:
        return None, "none"
    if len(ranked) > 1 and ranked[0] - ranked[1] < lab.AMBIGUITY_MARGIN:
        return None, "ambiguous"
    return max(best, key=best.get), "fuzzy"


@settings(max_examples=300, deadline=None)
@given(source=st.sampled_from(SOURCES),
       text=st.one_of(_label(), st.text(alphabet="TglNamaKecNIK0123456789 ./-", min_size=1, max_size=24),
                      st.builds(lambda a, d: a + d, _label(), st.text(alphabet="0123456789 ", max_size=12))))
@example(source="register", text="Tgl Lahir 12")
@example(source="register", text="Nama 1234")
@example(source="register", text="Tempat Lahir")
@example(source="register", text="Tempat Lahri")
def test_a_label_with_a_typo_matches_what_the_definition_gives(source, text):
    """`Labels.match` beyond aliases and abbreviations: what scoring every known label by definition gives (the
    digit rule only spares the scoring of a text no label is near)."""
    labels = labels_for(source)
    if labels.match_exact(text).column is not None:
        return
    got = labels.match(text)
    want = _fuzzy_by_definition(labels, text)
    assert (got.column, got.how) == want


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(_label(), st.text(alphabet="TglNamaKecNIK0123456789 ./-", max_size=24), st.text(max_size=10),
                      st.builds(lambda a, b: a + " " + b, _label(), _label())))
@example(text="Nama Lengkapp")          # a typo: near
@example(text="Supriadi")
@example(text="")
@example(text="Jenis Kelamn")           # a typo one letter short of its label
@example(text="Tanggal Lahirrrr")       # three letters too many: 88.9, just over the threshold
@example(text="Tanggal Lahirrrrr")      # four: 85.7, under it
@example(text="Kabupaten Kota Kecamatan Kelurahan Desa")    # long, and near no label
def test_a_text_no_contract_is_near_is_matched_by_none(text):
    """The header search asks `AnyLabels.none_near` of a block's texts once for all contracts, and maps nothing
    of a block where it holds for every text: then no contract's `Labels.match` finds a column or an ambiguity
    in any of them, and a text some contract matches is never called none near."""
    from cakupan.ingest.readers.labels import AnyLabels

    each = [labels_for(s) for s in SOURCES]
    matches = [lab.match(text) for lab in each]
    none_near = AnyLabels(tuple(each)).none_near(text)
    found = any(m.column is not None or m.how == "ambiguous" for m in matches)
    assert not (none_near and found)
    assert none_near == (not _near_by_definition(each, text))
    if text in ("Nama Lengkapp",):
        assert found and not none_near


def test_a_register_laid_out_as_a_bpjs_export_loads(home):
    """A register laid out as a BPJS Ketenagakerjaan participant export: its title merged over the columns, a line
    saying when it was exported, a blank row, then the header on row 4 with the export's own columns beside the
    contract's (place of birth, address, phone, marital status, participation status) and its dates of participation
    headed "TGL MULAI KEPESERTAAN" and "TGL AKHIR KEPESERTAAN". Every row loads, with the dates as typed; the other
    columns are named once in an EXTRA_COLUMNS finding."""
    import datetime as dt

    header = ["NO", "NIK", "NO KPJ", "NAMA LENGKAP", "TEMPAT LAHIR", "TANGGAL LAHIR", "JENIS KELAMIN",
              "STATUS PERKAWINAN", "ALAMAT", "KELURAHAN", "KECAMATAN", "NO HP", "PEKERJAAN", "PROGRAM",
              "TGL MULAI KEPESERTAAN", "TGL AKHIR KEPESERTAAN", "IURAN", "STATUS KEPESERTAAN", "SUMBER DANA"]
    ws = workers(3)
    rows = [[i + 1, w.nik, "", w.name, "Parepare", w.birth, "L" if i % 2 else "P", "K", "Jl. Poros No. 1",
             "Ujung Sabbang", "Ujung", "", "Nelayan", "JKK, JKM", dt.date(2025, 4, 1),
             dt.date(2025, 12, 31) if i == 2 else None, 16800, "AKTIF", "APBD"] for i, w in enumerate(ws)]
    title = "LAPORAN DATA PESERTA BPJS KETENAGAKERJAAN PEKERJA RENTAN KOTA PAREPARE BULAN APRIL 2025"
    sheet = Sheet("Data Peserta", [[title], ["Tanggal Export: 02-05-2025 09:14 | Total: 3 peserta"], [], header,
                                   *rows], merges=[(0, 0, 0, len(header) - 1, title)])
    folder = home.inbox / "73.72"
    folder.mkdir(parents=True)
    (folder / "register_2025-04.xlsx").write_bytes(xlsx_bytes([sheet]))
    loader = Loader(home)
    try:
        result = loader.load(folder / "register_2025-04.xlsx")
        assert (result.status, result.rows_in, result.rows_loaded, result.rows_quarantined) == ("loaded", 3, 3, 0)
        got = loader.con.execute("select coverage_start, coverage_end from raw.register where load_id = ? "
                                 "order by source_row", [result.load_id]).fetchall()
        assert got == [(dt.date(2025, 4, 1), None), (dt.date(2025, 4, 1), None),
                       (dt.date(2025, 4, 1), dt.date(2025, 12, 31))]
        [(note,)] = loader.con.execute("select message from audit.load_findings where load_id = ? and code = "
                                       "'EXTRA_COLUMNS'", [result.load_id]).fetchall()
        for label in ("TEMPAT LAHIR", "ALAMAT", "NO HP", "STATUS PERKAWINAN", "STATUS KEPESERTAAN"):
            assert label in note
    finally:
        loader.con.close()
