"""Press releases as files in a real inbox: two `laporan.txt` in two folders, a file nobody may read, a binary file
saved as .txt, a UTF-16 file. One report never stops the others; each fact id names its report's path.

The facts of the seed reports are domain.md's ("The facts in the seed reports"): the Parepare MoU states a total of
1,000 from April 2025, the Palopo MoU 4,000 people (2,000 + 2,000 nelayan).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cakupan.reports.extract import extract_paths
from cakupan.reports.review import ReviewConfig, load_review, review_facts
from cakupan.reports.vocabulary import ExtractionConfig

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO.parent / "shared" / "city_reports"
PAREPARE = SEEDS / "000_ad4fca7776d9b668.txt"
PALOPO = SEEDS / "002_1f643c3dfab7203f.txt"
CONFIG = ExtractionConfig.from_dir(REPO / "config")


@pytest.fixture
def inbox(tmp_path) -> Path:
    """Two offices each send their press release as laporan.txt."""
    for folder, seed in (("73.72", PAREPARE), ("73.73", PALOPO)):
        (tmp_path / folder).mkdir()
        shutil.copyfile(seed, tmp_path / folder / "laporan.txt")
    return tmp_path


def test_two_laporan_txt_in_two_folders_have_their_own_fact_ids(inbox):
    facts = extract_paths([inbox], CONFIG, roots=[inbox]).facts
    ids = [f.fact_id for f in facts]
    assert len(ids) == len(set(ids)), "two facts share an id: dbt's unique test would stop the publish"
    by_file = {f.source_file for f in facts}
    assert by_file == {"73.72/laporan.txt", "73.73/laporan.txt"}
    assert all(f.fact_id.startswith(f.source_file + "#") for f in facts)
    assert {(f.regency_code, int(f.value)) for f in facts if f.role == "total"} >= {("73.72", 1000), ("73.73", 4000)}
    # stable across runs, and the same whether the inbox or one regency folder is given
    assert [f.fact_id for f in extract_paths([inbox], CONFIG, roots=[inbox]).facts] == ids
    assert {f.fact_id for f in extract_paths([inbox / "73.73" / "laporan.txt"], CONFIG, roots=[inbox]).facts} == \
           {i for i in ids if i.startswith("73.73/")}


def test_a_decision_written_with_an_old_fact_id_still_applies_to_exactly_one_fact(inbox, tmp_path_factory):
    """Before ids named the path, a decision said "laporan#1"; with one laporan.txt it still applies, with two it
    would be ambiguous and applies to neither."""
    review = tmp_path_factory.mktemp("review") / "report_facts.yml"
    review.write_text("auto_accept_confidence: 0.0\ndecisions:\n  - {fact_id: 'laporan#1', decision: reject, "
                      "by: Auditor, at: 2025-05-01, why: duplicate}\n", encoding="utf-8")
    decisions = load_review(review)
    one = extract_paths([inbox / "73.72"], CONFIG, roots=[inbox]).facts
    got = {r.fact_id: r.status for r in review_facts(one, decisions)}
    assert got["73.72/laporan.txt#1"] == "rejected" and list(got.values()).count("rejected") == 1
    both = extract_paths([inbox], CONFIG, roots=[inbox]).facts
    assert "rejected" not in {r.status for r in review_facts(both, decisions)}
    assert all(r.status == "accepted" for r in review_facts(both, ReviewConfig(0.0)))


def test_a_binary_file_saved_as_txt_is_a_skip_record_and_the_others_are_read(inbox):
    (inbox / "73.72" / "scan.txt").write_bytes(b"%PDF-1.7\n\x00\x01\x02binary\x00" * 50)
    got = extract_paths([inbox], CONFIG, roots=[inbox])
    (skip,) = [s for s in got.skipped if s.source_file == "73.72/scan.txt"]
    assert skip.code == "REPORT_NOT_TEXT" and "73.72/scan.txt" in skip.reason and "UTF-8" in skip.reason
    assert {f.source_file for f in got.facts} == {"73.72/laporan.txt", "73.73/laporan.txt"}


def test_a_utf16_press_release_is_read_like_its_utf8_text(inbox):
    (inbox / "73.72" / "laporan.txt").write_bytes(PAREPARE.read_text(encoding="utf-8").encode("utf-16"))
    facts = extract_paths([inbox / "73.72"], CONFIG, roots=[inbox]).facts
    assert ("73.72", 1000) in {(f.regency_code, int(f.value)) for f in facts if f.role == "total"}


def test_a_folder_named_like_a_report_is_a_skip_record(tmp_path):
    """A path that cannot be read as a file (here a folder called laporan.txt, given by name) is skipped."""
    from cakupan.reports.extract import extract_file

    (tmp_path / "laporan.txt").mkdir()
    got = extract_file(tmp_path / "laporan.txt", CONFIG)
    assert not got.facts and [s.code for s in got.skipped] == ["FILE_UNREADABLE"]


def test_a_press_release_nobody_may_read_is_a_skip_record_not_a_traceback():
    """chmod 000, read by an unprivileged process (root reads anything, so a root test run drops to nobody)."""
    folder = Path(tempfile.mkdtemp(prefix="cakupan-unreadable-"))
    try:
        folder.chmod(0o755)
        (folder / "73.72").mkdir(mode=0o755)
        shutil.copyfile(PAREPARE, folder / "73.72" / "laporan.txt")
        (folder / "73.73").mkdir(mode=0o755)
        locked = folder / "73.73" / "laporan.txt"
        shutil.copyfile(PALOPO, locked)
        locked.chmod(0)
        code = ("import json, os, sys\n"
                "from pathlib import Path\n"
                "from cakupan.reports.extract import extract_paths\n"
                "from cakupan.reports.vocabulary import ExtractionConfig\n"
                f"config = ExtractionConfig.from_dir(Path({str(REPO / 'config')!r}))\n"
                "if os.getuid() == 0:\n    os.setgid(65534); os.setuid(65534)\n"
                f"root = Path({str(folder)!r})\n"
                "got = extract_paths([root], config, roots=[root])\n"
                "print(json.dumps({'facts': sorted({f.source_file for f in got.facts}),"
                " 'skipped': [(s.source_file, s.code, s.reason) for s in got.skipped if s.code == 'FILE_UNREADABLE']}))")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                              env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        out = json.loads(proc.stdout)
        assert out["facts"] == ["73.72/laporan.txt"]
        ((name, _, reason),) = out["skipped"]
        assert name == "73.73/laporan.txt" and "Permission denied" not in reason       # the OS's English
        assert "tidak ada izin untuk membaca berkas laporan.txt" in reason and reason.endswith("[EACCES]).")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
