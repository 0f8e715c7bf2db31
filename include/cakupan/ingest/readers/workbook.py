"""Workbooks (.xlsx, .xls, .ods) read with python-calamine, in a forked child process unless surely harmless.

The spreadsheet library is native code: a damaged .xls can make it panic, and a stray cell in XFD1048576 makes it
allocate the whole used range and abort the process. In a child (with a memory cap and a time limit) either ends
as FILE_CORRUPT for this file only. A small .xlsx whose cells all lie in a small area is read in-process: a fork
per file costs more than reading it.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import re
import select
import signal
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from python_calamine import CalamineWorkbook

from cakupan.ingest.readers.blocks import FileRejected

WORKBOOK_TIMEOUT_S = 600
CHILD_EXTRA_MEMORY = 6 << 30     # address space a workbook reader child may add to what the parent already uses
IN_PROCESS_MAX_BYTES = 4 << 20          # an .xlsx up to this size whose cells all lie in a small area ...
IN_PROCESS_MAX_CELLS = 2_000_000        # ... is read in-process
_XLSX_REFS = re.compile(rb"<(?:\w+:)?(row|c|dimension)\b([^>]*)>")
_XLSX_REF_ATTR = re.compile(rb'\sr(?:ef)?="([A-Z]*)([0-9]*)(?::([A-Z]*)([0-9]*))?"')

Sheets = list[tuple[str, list[list]]]


def read_workbook(path: Path, skip_sheets: Sequence[str] = ()) -> Sheets:
    """Read a workbook's visible sheets as rows of cell values, in a forked child process so that a damaged file
    cannot take the loader down (in-process without fork(), and for a small .xlsx (`_small_plain_xlsx`))."""
    if not hasattr(os, "fork") or _small_plain_xlsx(path):
        return _sheets_in_process(path, skip_sheets)
    fd, tmp = tempfile.mkstemp(prefix="cakupan-workbook-", suffix=".pickle")
    os.close(fd)
    err = tmp + ".stderr"
    done_r, done_w = os.pipe()          # the child holds the write end: EOF on the read end = the child is gone
    try:
        pid = os.fork()
        if pid == 0:
            _child(path, skip_sheets, tmp, err, done_r)
        os.close(done_w)
        done_w = -1
        _wait_for_child(pid, done_r, err)
        with open(tmp, "rb") as f:
            result = pickle.load(f)
    finally:
        for fd_ in (done_r, done_w):
            if fd_ >= 0:
                os.close(fd_)
        for name in (tmp, err):
            try:
                os.unlink(name)
            except OSError:
                pass
    if result[0] == "rejected":
        raise FileRejected(result[1], result[2])
    return result[1]


def _child(path: Path, skip_sheets: Sequence[str], out: str, err: str, done_r: int) -> None:
    """The forked child: read the sheets, pickle what came of it to `out`, and exit (never returns)."""
    code = 0
    try:
        os.close(done_r)
        faulthandler.disable()                       # a native abort is expected here, not a bug to dump
        fd_err = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd_err, 2)                           # keep the native reader's last words for the detail
        _limit_memory()
        try:
            result: tuple = ("ok", _sheets_in_process(path, skip_sheets))
        except FileRejected as exc:
            result = ("rejected", exc.code, exc.detail)
        except BaseException as exc:  # noqa: BLE001
            result = ("rejected", "FILE_CORRUPT", f"{type(exc).__name__}: {str(exc)[:200]}")
        with open(out, "wb") as f:
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)


def _wait_for_child(pid: int, done: int, err: str) -> None:
    """Wait for the child to end (killing it after the time limit); reject the file if it did not end well."""
    ready, _, _ = select.select([done], [], [], WORKBOOK_TIMEOUT_S)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise FileRejected("FILE_CORRUPT", f"reading the workbook took longer than {WORKBOOK_TIMEOUT_S} s")
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) or os.WEXITSTATUS(status) != 0:
        why = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}")
        last = _last_line(err)
        raise FileRejected("FILE_CORRUPT", f"the workbook reader stopped ({why}{': ' + last if last else ''}); "
                           "the file is damaged or its used range is far too large (a stray cell far below or "
                           "right of the data?)")


def _sheets_in_process(path: Path, skip_sheets: Sequence[str]) -> Sheets:
    """Read every visible, not skipped sheet of a workbook as rows of cell values (python-calamine)."""
    skip = {s.lower() for s in skip_sheets}
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except BaseException as exc:  # calamine errors, and pyo3 PanicException (a BaseException)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        msg = str(exc)
        if "password" in msg.lower() or "encrypt" in msg.lower():
            raise FileRejected("FILE_ENCRYPTED") from None
        raise FileRejected("FILE_CORRUPT", msg[:200]) from None
    out = []
    for meta in wb.sheets_metadata:
        name = meta.name
        if name.lower() in skip or str(getattr(meta, "visible", "Visible")).lower().endswith("hidden"):
            continue
        try:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            raise FileRejected("FILE_CORRUPT", f"sheet {name!r}: {str(exc)[:200]}") from None
        out.append((name, rows))
    return out


def _limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (used + CHILD_EXTRA_MEMORY, resource.RLIM_INFINITY))
    except (OSError, ValueError, ImportError):
        pass


def _last_line(path: str) -> str:
    """The last line a child wrote to its captured stderr (shortened), or ''."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 4096))
            lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    firsts = [ln for ln in lines if not ln.startswith(("note:", "stack backtrace", "at "))]
    return (firsts[0] if firsts else "")[:160]


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _small_plain_xlsx(path: Path) -> bool:
    """True when a workbook is a small .xlsx whose every row, cell and dimension reference lies within
    IN_PROCESS_MAX_CELLS (the spreadsheet library allocates the whole used range: a far-away cell aborts it).
    Anything else, or any doubt (an .xls, a cell without a reference, a damaged zip), says False."""
    try:
        if path.suffix.lower() not in (".xlsx", ".xlsm") or path.stat().st_size > IN_PROCESS_MAX_BYTES:
            return False
        with zipfile.ZipFile(path) as zf:
            sheets = [i for i in zf.infolist() if i.filename.startswith("xl/worksheets/") and
                      i.filename.endswith(".xml")]
            if not sheets or sum(i.file_size for i in sheets) > 16 * IN_PROCESS_MAX_BYTES:
                return False
            return all(_sheet_area(zf.read(info)) <= IN_PROCESS_MAX_CELLS for info in sheets)
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError, NotImplementedError, EOFError):
        return False


def _sheet_area(xml: bytes) -> float:
    """The cells of the rectangle every row, cell and dimension reference of a sheet lies in (inf when a
    position would have to be inferred, or a reference is out of any sheet's bounds)."""
    max_row = max_col = 0
    for tag, attrs in _XLSX_REFS.findall(xml):
        ref = _XLSX_REF_ATTR.search(attrs)
        if ref is None:
            if tag == b"dimension":
                continue
            return float("inf")                 # a position the reader has to infer: be careful
        for letters, digits in ((ref[1], ref[2]), (ref[3] or b"", ref[4] or b"")):
            if (tag == b"row" and letters) or len(letters) > 3 or len(digits) > 7:
                return float("inf")
            max_col = max(max_col, _column_number(letters) if letters else 0)
            max_row = max(max_row, int(digits) if digits else 0)
    return max_row * max(max_col, 1)
