"""Publish history: every published state, readable as the file readers saw, under a policy auditors can rely on.

Each publish (and each rollback) links the file it made the published file into `published/history/` as
`<published_at>-<run_id>.duckdb` (a hard link: no byte is copied, the file is never written again) beside a record
`<same name>.json`: run id, the moment it became visible, sha256, gate verdict, row counts per table, and for a
rollback the run it restored and the reason. The records are kept for ever; retention prunes states:

- every publish of the last `history_days` days (CAKUPAN_HISTORY_DAYS, 90);
- then the last publish of each calendar month (UTC), for the last `history_monthly` months
  (CAKUPAN_HISTORY_MONTHLY: a number of months, or `all`, the default: for ever);
- and, whatever their age, the newest `history_keep` publishes (CAKUPAN_HISTORY_KEEP, 5: the old setting, now a
  floor) — the current published state is always one of them.

"Now" is the newest publish time, so the policy depends only on the stored publish times, never on the clock of
the machine that prunes: a warehouse left alone for a year keeps what it had.

Record, then rename: a publish or rollback writes (and fsyncs) an *intended* record naming the sha256 it is about to
make the published file, renames, then completes the record (the hard link, the row counts). A process killed
between the steps leaves an intended record; the next publisher (or any reader that can take the history lock)
settles it: complete when the published file has its sha256 and the newest complete record has another (the rename
happened), abandoned otherwise (it did not). Lists show complete records only, so the published file always has
its record and no half entry is ever listed. One history writer at a time: an exclusive `flock` on
`history/.lock`, held from the intended record to the completed one (the kernel releases it when a process dies).

Compact storage: each complete state is also appended to the changed-rows store (`targets.changes`:
`history/changes.duckdb`, row versions over a state sequence), inside the history lock, after its record is complete.
Whole files are kept only for the newest `history_files` states (CAKUPAN_HISTORY_FILES, 5); an older file is deleted
once its state is in the store, never before. The retention policy above decides which states stay readable: a
pruned state's file is deleted, its record marked pruned, and the store's row versions that no readable state holds
are deleted. `state_file` is the one way to read a state: its whole file while kept, else a file rebuilt from the
store into `history/cache/` (temp + rename) whose every table matched the row count and digest recorded at append.
A state the store lacks (a writer killed before its append, a warehouse from before the store) is appended, in
published order, by the next history writer (`writing`). BENCHMARKS.md "Publish history storage" has the measurement.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cakupan.core.files import fsync_file, sha256_file
from cakupan.core.messages import Msg
from cakupan.core.settings import Settings, safe_id
from cakupan.targets import changes

log = logging.getLogger("cakupan.targets.history")

# the figures `diff` and the restatements compare: mart_coverage_monthly's measures (shortfall and the gap are
# derived from these)
MEASURES = ("enrolled", "enrolled_apbd", "protected", "protected_apbd", "promised", "participants_billed",
            "premium_billed", "premium_paid")


class HistoryError(ValueError):
    """A history request cannot be answered (unknown run, date before the first publish, pruned, damaged)."""


@dataclass
class Entry:
    """One published state: its record, and its file while retention keeps it."""

    name: str                       # the file stem: <published_at>-<run_id>
    run_id: str
    published_at: dt.datetime       # UTC, naive: the moment the rename made it visible
    sha256: str
    kind: str = "publish"           # publish | rollback
    restores: str | None = None     # a rollback: the run whose state it republished
    reason: str | None = None
    gate: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)
    pruned_at: dt.datetime | None = None
    folder: Path = Path(".")
    state: str = "complete"         # intended (written before the rename) | complete | abandoned (never renamed)
    stored: int | None = None       # its seq in the changed-rows store, once appended

    @property
    def path(self) -> Path:
        return self.folder / f"{self.name}.duckdb"

    @property
    def kept(self) -> bool:
        """Its whole file is still there."""
        return self.pruned_at is None and self.path.exists()

    @property
    def readable(self) -> bool:
        """Retention keeps it: as a whole file or in the changed-rows store (`state_file` reads it)."""
        return self.pruned_at is None and (self.stored is not None or self.path.exists())

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "published_at": self.published_at.isoformat(timespec="microseconds"),
                "sha256": self.sha256, "kind": self.kind, "restores": self.restores, "reason": self.reason,
                "gate": self.gate, "rows": self.rows,
                "pruned_at": self.pruned_at.isoformat(timespec="seconds") if self.pruned_at else None,
                "state": self.state, "stored": self.stored, "file": str(self.path) if self.kept else None}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _write_record(entry: Entry) -> None:
    """Write the entry's record atomically (a temporary file renamed over it)."""
    rec = entry.to_dict()
    rec.pop("file")
    target = entry.folder / f"{entry.name}.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rec, indent=1, ensure_ascii=False), encoding="utf-8")
    fsync_file(tmp)
    os.replace(tmp, target)
    fsync_file(target)     # the record (intended, completed) is on disk before the next step


def _read_record(path: Path) -> Entry:
    rec = json.loads(path.read_text(encoding="utf-8"))
    return Entry(name=path.stem, run_id=rec["run_id"], published_at=dt.datetime.fromisoformat(rec["published_at"]),
                 sha256=rec["sha256"], kind=rec.get("kind", "publish"), restores=rec.get("restores"),
                 reason=rec.get("reason"), gate=rec.get("gate") or {}, rows=rec.get("rows") or {},
                 pruned_at=dt.datetime.fromisoformat(rec["pruned_at"]) if rec.get("pruned_at") else None,
                 folder=path.parent, state=rec.get("state", "complete"), stored=rec.get("stored"))


def describe(path: Path) -> tuple[dict, dict]:
    """The gate verdict (the file's own publish record) and the row count of every table in a published file."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_catalog = current_database() order by 1, 2").fetchall()
        rows = {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables}
        gate = {}
        if ("audit", "publishes") in tables:
            got = con.execute("select gate_success, errors, warnings, message from audit.publishes "
                              "where status = 'published' order by published_at desc limit 1").fetchone()
            if got:
                gate = {"success": got[0], "errors": got[1], "warnings": got[2], "message": got[3]}
    return gate, rows


@contextmanager
def writing(settings: Settings, wait: bool = True) -> Iterator[bool]:
    """Hold the history lock (`flock` on history/.lock; released by the kernel if the process dies) and settle
    what a killed writer left (`recover`). Yields False when `wait` is False and another writer holds it."""
    folder = settings.history_dir
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        recover(settings)
        compact(settings)
        yield True
    finally:
        os.close(fd)


def begin(settings: Settings, run_id: str, sha256: str, kind: str = "publish", restores: str | None = None,
          reason: str | None = None, now: dt.datetime | None = None) -> Entry:
    """Write the intended record of a publish about to rename a file with this sha256 over the published file
    (fsynced: it exists before the rename does). Call inside `writing`; `complete` it after the rename."""
    when = now or utc_now()
    folder = settings.history_dir
    folder.mkdir(parents=True, exist_ok=True)
    entry = Entry(name=f"{when:%Y%m%dT%H%M%S%f}-{safe_id(run_id)}", run_id=run_id, published_at=when,
                  sha256=sha256, kind=kind, restores=restores, reason=reason, folder=folder, state="intended")
    _write_record(entry)
    return entry


def complete(settings: Settings, entry: Entry) -> Entry:
    """The rename is done: keep the published file (a hard link) as the entry's state, complete its record, then
    apply retention."""
    entry.path.unlink(missing_ok=True)       # a link a killed completion left
    try:
        os.link(settings.published_db, entry.path)
    except OSError:      # a file system without hard links: a copy
        shutil.copy2(settings.published_db, entry.path)
    fsync_file(entry.path)
    entry.gate, entry.rows = describe(entry.path)
    entry.state = "complete"
    _write_record(entry)
    compact(settings)
    prune(settings)
    return entry


def compact(settings: Settings) -> None:
    """Append to the changed-rows store, in published order, every complete state it lacks whose whole file is
    still there, and note each state's seq in its record (call holding the history lock). A failure is logged:
    the whole files stay until their state is in the store."""
    try:
        have = changes.stored(settings.history_dir)
        for e in _records(settings):
            if e.state != "complete":
                continue
            seq = have.get(e.name)
            if seq is None and e.pruned_at is None and e.path.exists():
                seq = changes.append(settings.history_dir, e.name, e.run_id, e.path)
            if seq is not None and e.stored != seq:
                e.stored = seq
                _write_record(e)
    except (OSError, duckdb.Error) as exc:
        log.warning("the publish history's changed-rows store could not be brought up to date (the whole files "
                    "are kept until it is): %s", exc)


def abandon(entry: Entry) -> None:
    """The rename never happened (it failed, or the process died before it): the record says so, and is not listed."""
    entry.state = "abandoned"
    entry.path.unlink(missing_ok=True)
    _write_record(entry)


def recover(settings: Settings) -> list[Entry]:
    """Settle the intended records a killed writer left (call holding the lock): complete when the published file
    has the intended sha256 and the newest complete record has another, abandoned otherwise. Returns them."""
    every = _records(settings)
    pending = [e for e in every if e.state == "intended"]
    if not pending:
        return []
    published = settings.published_db
    sha = sha256_file(published) if published.exists() else None
    done = [e for e in every if e.state == "complete"]
    for e in pending:      # oldest first: a later intended record wins over an earlier one with the same bytes
        if sha == e.sha256 and (not done or done[-1].sha256 != sha):
            log.warning("completing the history record of %s: the process publishing it stopped after its rename",
                        e.run_id)
            done.append(complete(settings, e))
        else:
            log.warning("the publish of %s never renamed its file over the published one: its history record is "
                        "marked abandoned", e.run_id)
            abandon(e)
    return pending


def record(settings: Settings, run_id: str, sha256: str, kind: str = "publish", restores: str | None = None,
           reason: str | None = None, now: dt.datetime | None = None) -> Entry:
    """Record the published file (already in place) as the state `run_id` published: intended, then complete."""
    with writing(settings):
        return complete(settings, begin(settings, run_id, sha256, kind, restores, reason, now))


def adopt_current(settings: Settings) -> Entry | None:
    """A published file with no history record (published before records were kept): record it under the run id
    and time of its own publish record, so the next publish does not lose it. Call inside `writing`."""
    published = settings.published_db
    if not published.exists() or any(settings.history_dir.glob("*.json")):
        return None
    with duckdb.connect(str(published), read_only=True) as con:
        try:
            got = con.execute("select run_id, published_at from audit.publishes where status = 'published' "
                              "order by published_at desc limit 1").fetchone()
        except duckdb.Error:
            got = None
    run_id, when = got if got else ("unknown", dt.datetime.fromtimestamp(published.stat().st_mtime, dt.UTC))
    when = when.replace(tzinfo=None) if when else utc_now()
    return complete(settings, begin(settings, run_id, sha256_file(published), now=when))


def _records(settings: Settings) -> list[Entry]:
    """Every record, whatever its state, oldest first."""
    if not settings.history_dir.is_dir():
        return []
    return sorted((_read_record(p) for p in settings.history_dir.glob("*.json")), key=lambda e: e.published_at)


def entries(settings: Settings) -> list[Entry]:
    """Every completed publish, oldest first (files kept before history records existed are not listed). An
    intended record a killed writer left is settled first when no writer is at work (else it is in progress)."""
    got = _records(settings)
    if any(e.state == "intended" for e in got):
        try:
            with writing(settings, wait=False) as mine:
                if mine:
                    got = _records(settings)
        except OSError as exc:     # a read-only history folder: list what is complete
            log.warning("could not settle the publish history in %s: %s", settings.history_dir, exc)
    return [e for e in got if e.state == "complete"]


# ------------------------------------------------------------------------------------------------ retention -------
def keep_set(published: list[tuple[str, dt.datetime]], days: int, monthly: int | None, floor: int) -> set[str]:
    """Which of these (name, published_at) states the policy keeps (module docstring); "now" is the newest time."""
    if not published:
        return set()
    ordered = sorted(published, key=lambda p: p[1])
    now = ordered[-1][1]
    keep = {name for name, _ in ordered[-max(floor, 1):]}
    keep |= {name for name, at in ordered if at >= now - dt.timedelta(days=days)}
    last_of_month: dict[tuple[int, int], str] = {}
    for name, at in ordered:
        last_of_month[(at.year, at.month)] = name      # ordered: the last one wins
    months = sorted(last_of_month)
    if monthly is not None:
        months = months[-monthly:] if monthly > 0 else []
    keep |= {last_of_month[m] for m in months}
    return keep


def prune(settings: Settings) -> list[Entry]:
    """Retention: the states the policy no longer keeps are pruned (file and cached rebuild deleted, record marked
    pruned, their row versions deleted from the store); of the states kept, only the newest `history_files` keep
    their whole file, an older one once its state is in the store. Returns the states pruned now."""
    live = [e for e in _records(settings) if e.pruned_at is None and e.state == "complete"]
    keep = keep_set([(e.name, e.published_at) for e in live], settings.history_days, settings.history_monthly,
                    settings.history_keep)
    gone = []
    for e in live:
        if e.name not in keep:
            e.path.unlink(missing_ok=True)
            _cached(settings, e).unlink(missing_ok=True)
            e.pruned_at = utc_now()
            _write_record(e)
            gone.append(e)
    kept = [e for e in live if e.name in keep]
    try:
        changes.retain(settings.history_dir, {e.name for e in kept if e.stored is not None})
    except duckdb.Error as exc:
        log.warning("pruned states' rows could not be deleted from the changed-rows store now (the next publish "
                    "does): %s", exc)
    for e in kept[:-max(settings.history_files, 1)]:
        if e.stored is not None:       # in the store: its whole file is no longer needed
            e.path.unlink(missing_ok=True)
    _trim_cache(settings, {e.name for e in kept if e.stored is not None and not e.path.exists()})
    return gone


def _trim_cache(settings: Settings, compacted: set[str]) -> None:
    """Keep rebuilt states only for readable compacted states, the `history_files` most recently built; delete
    what a killed rebuild left (a temporary file older than an hour)."""
    folder = settings.history_dir / "cache"
    if not folder.is_dir():
        return
    built = sorted(folder.glob("*.duckdb"), key=lambda p: p.stat().st_mtime, reverse=True)
    for i, p in enumerate(built):
        if p.stem not in compacted or i >= max(settings.history_files, 1):
            p.unlink(missing_ok=True)
    for p in folder.glob(".*.tmp*"):
        if p.stat().st_mtime < time.time() - 3600:
            p.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------ lookups ---------
def find(settings: Settings, run_id: str, need_file: bool = True) -> Entry:
    """The state a run published (its last, if a run was published twice)."""
    hist = entries(settings)
    got = [e for e in hist if e.run_id == run_id]
    if not got:
        known = ", ".join(e.run_id for e in hist[-3:]) or Msg("error.history.none_yet")
        raise HistoryError(Msg("error.history.no_run", run=repr(run_id), folder=settings.history_dir, latest=known))
    entry = got[-1]
    if need_file and not entry.readable:
        raise HistoryError(Msg("error.history.pruned", run=run_id, at=f"{entry.published_at:%Y-%m-%d %H:%M}",
                               pruned=f"{entry.pruned_at:%Y-%m-%d}"))
    return entry


def parse_moment(text: str) -> dt.datetime:
    """A date (the end of that day, UTC) or a date and time (UTC) given on the command line."""
    try:
        if len(text.strip()) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text.strip()), dt.time.max)
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise HistoryError(Msg("error.history.not_a_moment", value=repr(text))) from None
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def as_of(settings: Settings, when: str) -> Entry:
    """The state that was published at that moment (the last publish at or before it), with its file."""
    moment = parse_moment(when)
    hist = entries(settings)
    if not hist:
        raise HistoryError(Msg("error.history.empty", folder=settings.history_dir))
    before = [e for e in hist if e.published_at <= moment]
    if not before:
        raise HistoryError(Msg("error.history.before_first", when=when, run=hist[0].run_id,
                               at=f"{hist[0].published_at:%Y-%m-%d %H:%M:%S}"))
    entry = before[-1]
    if not entry.readable:
        kept = [e for e in hist if e.readable]
        near = [e for e in kept if e.published_at <= moment][-1:] + [e for e in kept if e.published_at > moment][:1]
        raise HistoryError(Msg("error.history.pruned_at", when=when, run=entry.run_id,
                               at=f"{entry.published_at:%Y-%m-%d %H:%M}",
                               near=", ".join(f"{e.run_id} ({e.published_at:%Y-%m-%d})" for e in near)
                               or Msg("error.history.none")))
    return entry


# ------------------------------------------------------------------------------------------------ reading ---------
def _cached(settings: Settings, entry: Entry) -> Path:
    return settings.history_dir / "cache" / f"{entry.name}.duckdb"


def state_file(settings: Settings, entry: Entry) -> Path:
    """The file of a published state, for every reader (`--as-of`, `diff`, rollback): its whole file while kept,
    else the state rebuilt from the changed-rows store into `history/cache/` (temp + rename), every table's row
    count and digest checked against the state's record. A pruned state, or a rebuild that does not match, is a
    HistoryError."""
    if entry.kept:
        return entry.path
    if not entry.readable:
        raise HistoryError(Msg("error.history.pruned", run=entry.run_id, at=f"{entry.published_at:%Y-%m-%d %H:%M}",
                               pruned=f"{entry.pruned_at:%Y-%m-%d}" if entry.pruned_at else "?"))
    cached = _cached(settings, entry)
    if cached.exists():
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{entry.name}.{os.getpid()}.tmp")
    try:
        changes.rebuild(settings.history_dir, entry.name, tmp)
        fsync_file(tmp)
        os.replace(tmp, cached)
    except changes.StoreDamaged as exc:
        raise HistoryError(Msg("error.history.store_damaged", run=entry.run_id, why=exc.args[0])) from None
    except duckdb.Error as exc:
        raise HistoryError(Msg("error.history.store_unreadable", run=entry.run_id,
                               why=" ".join(str(exc).split())[:200])) from None
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return cached


def content_digest(settings: Settings, entry: Entry) -> str:
    """The digest of a stored state's content (every table's rows and digest, as appended)."""
    return changes.content_digest(changes.state_tables(settings.history_dir, entry.name))


# ------------------------------------------------------------------------------------------------ diff ------------
def figures_sql(catalog: str) -> str:
    """The coverage figures of an attached published file, one row per regency, month and measure."""
    return " union all ".join(f"select regency_code, month_start, '{m}' as measure, cast({m} as decimal(18,2)) "
                              f"as value from {catalog}.marts.mart_coverage_monthly" for m in MEASURES)


def diff(a: Path, b: Path) -> list[dict]:
    """The coverage figures that differ between two published files, by regency, month and measure (old = a)."""
    with duckdb.connect() as con:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        cur = con.execute(
            f"with a as ({figures_sql('a')}), b as ({figures_sql('b')}) "
            "select coalesce(a.regency_code, b.regency_code) as regency_code, "
            "strftime(coalesce(a.month_start, b.month_start), '%Y-%m') as month, "
            "coalesce(a.measure, b.measure) as measure, a.value as old_value, b.value as new_value "
            "from a full join b on a.regency_code = b.regency_code and a.month_start = b.month_start "
            "and a.measure = b.measure where a.value is distinct from b.value "
            "or a.regency_code is null or b.regency_code is null order by 1, 2, 3")
        keys = [d[0] for d in cur.description]
        return [{k: _number(v) if k.endswith("_value") else v for k, v in zip(keys, r)} for r in cur.fetchall()]


def _number(v):
    """A figure as a plain number: whole numbers as int (counts, whole Rupiah), else float."""
    if v is None:
        return None
    return int(v) if v == int(v) else float(v)


# ------------------------------------------------------------------------------------------------ restatements ----
def record_figures(con: duckdb.DuckDBPyConnection, published: Path, run_id: str, published_at: dt.datetime,
                   loads: str, caused_by: str | None = None) -> int:
    """Store the published coverage figures that differ from the last stored ones (changed rows only) in the work
    warehouse's audit.published_figures, with what caused them: the loads this publish read that the previous one
    did not (per regency), or `caused_by` (a rollback). mart_restatements reads it. Returns the rows stored."""
    if not published.exists():
        return 0
    ids = sorted({int(x) for x in loads.split(",") if x.strip()})
    prev = con.execute("select input_loads from audit.publishes where published_sha256 is not null and run_id <> ? "
                       "order by published_at desc limit 1", [run_id]).fetchone()
    new = sorted(set(ids) - {int(x) for x in (prev[0] if prev and prev[0] else "").split(",") if x.strip()})
    con.execute("delete from audit.published_figures where run_id = ?", [run_id])   # a retried publish: again
    before = con.execute("select count(*) from audit.published_figures").fetchone()[0]
    con.execute(f"attach '{published}' as pub (read_only)")
    try:
        if not con.execute("select count(*) from information_schema.tables where table_catalog = 'pub' "
                           "and table_schema = 'marts' and table_name = 'mart_coverage_monthly'").fetchone()[0]:
            return 0
        con.execute(
            f"insert into audit.published_figures with now_figures as ({figures_sql('pub')}), "
            "last as (select * from audit.published_figures qualify row_number() over (partition by regency_code, "
            "month_start, measure order by published_at desc) = 1), "
            "new_loads as (select regency_code, string_agg('load ' || load_id || ' ' || file_name, ', ' "
            "order by load_id) as caused_by from audit.loads where list_contains(?, load_id) group by regency_code) "
            "select ?, ?, n.regency_code, n.month_start, n.measure, n.value, coalesce(?, nl.caused_by), ? "
            "from now_figures n left join last l on l.regency_code = n.regency_code "
            "and l.month_start = n.month_start and l.measure = n.measure "
            "left join new_loads nl on nl.regency_code = n.regency_code "
            "where l.regency_code is null or l.value is distinct from n.value",
            [new, run_id, published_at, caused_by, max(ids) if ids else None])
    finally:
        con.execute("detach pub")
    return con.execute("select count(*) from audit.published_figures").fetchone()[0] - before
