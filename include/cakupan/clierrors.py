"""The one line the CLI prints for a failure it did not expect (`cakupan.cli.main`): what went wrong and what to
do, in the chosen language, never a traceback nor the operating system's English."""

from __future__ import annotations

import errno
import re

from cakupan.core.messages import text

_LOCKED = re.compile(r'Could not set lock on file "(?P<path>[^"]+)"(?:[^(]*\(PID (?P<pid>\d+)\))?')
_DENIED = {"permission denied": "EACCES", "read-only file system": "EROFS", "operation not permitted": "EPERM"}


def explain(exc: BaseException) -> str:
    """One line saying what went wrong and what to do, for any failure a command can meet (never a traceback)."""
    said = " ".join(str(exc).split())
    locked = _LOCKED.search(str(exc))
    if locked:
        who = text("cli.explain.process", pid=locked["pid"]) if locked["pid"] else ""
        return text("cli.explain.locked", path=locked["path"], who=who)
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM) or \
            isinstance(exc, duckdb_error()) and any(d in said.lower() for d in _DENIED):
        where = getattr(exc, "filename", None) or next(iter(re.findall(r'"([^"]+)"', said)), "-")
        why = errno.errorcode.get(getattr(exc, "errno", None) or 0) or next(c for d, c in _DENIED.items() if d in said.lower())
        return text("cli.explain.cannot_write", where=where, why=f"[{why}]")      # the errno name, not the OS's English
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return text("cli.explain.disk_full", where=getattr(exc, "filename", None) or "", why=f"[{errno.errorcode[exc.errno]}]")
    return text("cli.explain.other", kind=type(exc).__name__, error=said[:500])


def duckdb_error() -> type:
    """duckdb.Error, imported only when a failure needs explaining (the CLI starts without DuckDB)."""
    import duckdb

    return duckdb.Error
