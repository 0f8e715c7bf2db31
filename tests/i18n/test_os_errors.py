"""The operating system's errors and the loader's own count check reach the clerk in words (issue 23): a file that
cannot be read is FILE_UNREADABLE with a sentence naming the file for each errno class (not found, no permission,
a folder, disk full, anything else), the errno name kept at the end for engineers; never the OS's English text.
The load invariant's detail and the PostgreSQL publish-wait progress words come from the catalogue too."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import pytest
from cakupan.core.messages import OS_ERRORS, Msg, os_error, text
from cakupan.ingest.inbox import read_delivery
from cakupan.ingest.readers import FileRejected

CLASSES = {errno.ENOENT: "not_found", errno.EACCES: "permission", errno.EPERM: "permission",
           errno.EISDIR: "is_directory", errno.ENOSPC: "disk_full", errno.EIO: "other", errno.ELOOP: "other"}


@pytest.mark.parametrize("number", sorted(CLASSES), ids=[errno.errorcode[n] for n in sorted(CLASSES)])
def test_every_errno_class_is_a_sentence_naming_the_file(number):
    exc = OSError(number, os.strerror(number), "/inbox/73.72/register_2025-04.xlsx")
    msg = os_error(exc, exc.filename)
    assert msg.key == f"error.os.{CLASSES[number]}" and CLASSES[number] == OS_ERRORS.get(number, "other")
    said, english = msg.render("id"), msg.render("en")
    code = errno.errorcode[number]
    for line in (said, english):
        assert "register_2025-04.xlsx" in line and line.endswith(f"[{code}]") and "/inbox" not in line, line
    assert said != english and os.strerror(number) not in said, said


def test_a_missing_file_is_rejected_in_indonesian(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "73.72").mkdir(parents=True)
    with pytest.raises(FileRejected) as caught:
        read_delivery(inbox / "73.72" / "register_2025-04.csv", inbox)
    assert caught.value.code == "FILE_UNREADABLE"
    assert str(caught.value.detail) == ("berkas register_2025-04.csv tidak ditemukan (sudah dipindah atau "
                                        "dihapus) [ENOENT]")


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to read as another user")
def test_a_file_this_user_may_not_read_is_rejected_in_indonesian(tmp_path):
    """A real EACCES: the file is read by an unprivileged user (the tests run as root, which no permission stops)."""
    inbox = tmp_path / "inbox"
    (inbox / "73.72").mkdir(parents=True)
    locked = inbox / "73.72" / "register_2025-04.csv"
    locked.write_text("NIK\n", encoding="utf-8")
    locked.chmod(0)
    for p in (tmp_path, inbox, inbox / "73.72"):
        p.chmod(0o755)
    code = ("import json, os, sys\nfrom pathlib import Path\n"
            "from cakupan.ingest.inbox import read_delivery\nfrom cakupan.ingest.readers import FileRejected\n"
            "os.setgid(65534); os.setuid(65534)\n"
            f"try:\n    read_delivery(Path({str(locked)!r}), Path({str(inbox)!r}))\n"
            "except FileRejected as exc:\n    print(json.dumps([exc.code, str(exc.detail)]))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env={k: v for k, v in os.environ.items() if k != "CAKUPAN_LANG"})
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert json.loads(proc.stdout) == [
        "FILE_UNREADABLE", ("tidak ada izin untuk membaca berkas register_2025-04.csv; minta pengelola folder "
                            "kiriman membuka izinnya [EACCES]")]


def test_the_load_invariant_and_the_publish_wait_read_in_both_languages():
    invariant = Msg("error.ingest.invariant", file="73.72/a.csv", rows_in=10, loaded=7, quarantined=2)
    assert invariant.render("id") == "73.72/a.csv: baris masuk 10 tidak sama dengan dimuat 7 + dikarantina 2"
    assert invariant.render("en") == "73.72/a.csv: rows in 10 != loaded 7 + quarantined 2"
    import datetime as dt

    from cakupan.targets.postgres.publish import _session  # the words naming a session that holds a lock

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CAKUPAN_LANG", "id")
        who = _session(42, "cakupan_bi", "Metabase", "idle in transaction", dt.datetime(2025, 5, 1, 10, 0, 1),
                       "published.mart_x")
        wait = Msg("error.pg.wait_old_readers", n=1, who=who)
        assert str(wait) == ("penerbitan (model berubah) menunggu 1 transaksi pembaca yang lebih tua dari tabel baru "
                             "selesai: pid 42 peran cakupan_bi (Metabase) pada published.mart_x, dalam transaksi "
                             "sejak 2025-05-01 10:00:01, idle in transaction")
        assert text("error.pg.session_ended") == "sesi yang baru saja berakhir"
