"""Regency, rate and sector configuration (YAML under CAKUPAN_CONFIG); errors name the file and the key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from cakupan.core.contracts import SOURCES, all_contracts
from cakupan.core.files import load_yaml
from cakupan.core.messages import Msg
from cakupan.core.regions import build_alias_index, regencies


class ConfigError(ValueError):
    """A configuration file is wrong; the message names the file and the key."""


@dataclass(frozen=True)
class Regency:
    code: str
    name: str
    aliases: tuple[str, ...]
    inbox: str
    default_funding_source: str | None
    branch: str | None
    header_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    skip_sheets: tuple[str, ...] = ()
    path: Path | None = None


def _load_yaml(path: Path) -> dict:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(Msg("error.config.not_yaml", path=path, error=exc)) from None
    if not isinstance(data, dict):
        raise ConfigError(Msg("error.config.not_mapping", path=path))
    return data


def load_regency(path: Path) -> Regency:
    """Load one regency file and check every key."""
    data = _load_yaml(path)
    code = str(data.get("code", "")).strip()
    if not code:
        raise ConfigError(Msg("error.config.code_missing", path=path))
    if code not in regencies():
        raise ConfigError(Msg("error.config.code_unknown", path=path, code=repr(code)))
    aliases = data.get("aliases") or []
    if not isinstance(aliases, list):
        raise ConfigError(Msg("error.config.aliases", path=path))
    overrides = data.get("header_overrides") or {}
    if not isinstance(overrides, dict):
        raise ConfigError(Msg("error.config.overrides", path=path))
    contracts = all_contracts()
    for source, mapping in overrides.items():
        if source not in SOURCES:
            raise ConfigError(Msg("error.config.override_source", path=path, source=source, sources=", ".join(SOURCES)))
        for header, canonical in (mapping or {}).items():
            if canonical not in contracts[source].names:
                raise ConfigError(Msg("error.config.override_column", path=path, source=source, header=header, column=repr(canonical)))
    fs = data.get("default_funding_source")
    if fs is not None:
        from cakupan.ingest.parsing import ParseError, parse_funding_source
        try:
            fs = parse_funding_source(fs)
        except ParseError:
            raise ConfigError(Msg("error.config.funding_source", path=path, value=repr(fs))) from None
    sheet_rules = data.get("sheet_rules") or {}
    return Regency(
        code=code, name=str(data.get("name") or regencies()[code][1]), aliases=tuple(str(a) for a in aliases),
        inbox=str(data.get("inbox") or code), default_funding_source=fs, branch=data.get("branch"),
        header_overrides={k: dict(v or {}) for k, v in overrides.items()},
        skip_sheets=tuple(sheet_rules.get("skip") or ()), path=path,
    )


def load_regencies(config_dir: Path) -> dict[str, Regency]:
    """Load every config/regencies/*.yml, keyed by code."""
    folder = Path(config_dir) / "regencies"
    if not folder.is_dir():
        raise ConfigError(Msg("error.config.no_regency_folder", folder=folder, config_dir=config_dir))
    out: dict[str, Regency] = {}
    for path in sorted(folder.glob("*.y*ml")):
        r = load_regency(path)
        if r.code in out:
            raise ConfigError(Msg("error.config.code_twice", path=path, code=repr(r.code), other=out[r.code].path))
        out[r.code] = r
    return out


def alias_index(regs: dict[str, Regency]) -> dict[str, str]:
    """Map every configured alias and name to its regency code (the aliases of `regions.RegencyNames`); a name a
    configured Kabupaten and Kota share keeps its prefix (`regions.build_alias_index`)."""
    return build_alias_index((a, r.code) for r in regs.values() for a in (r.name, *r.aliases))


@dataclass(frozen=True)
class Rate:
    program: str
    segment: str
    valid_from: dt.date
    valid_to: dt.date | None
    monthly_amount: int


def load_rates(config_dir: Path) -> list[Rate]:
    """Load config/rates.yml."""
    path = Path(config_dir) / "rates.yml"
    data = _load_yaml(path)
    out = []
    for i, r in enumerate(data.get("rates") or []):
        try:
            out.append(Rate(str(r["program"]), str(r["segment"]), _date(r["valid_from"]),
                            _date(r["valid_to"]) if r.get("valid_to") else None, int(r["monthly_amount"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(Msg("error.config.rate", path=path, i=i, error=exc)) from None
    return out


def _date(v) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


@dataclass(frozen=True)
class Sector:
    code: str
    name: str
    keywords: tuple[str, ...]


@cache
def _load_sectors_cached(path: str, mtime: float) -> tuple[tuple[Sector, ...], str]:
    p = Path(path)
    data = _load_yaml(p)
    sectors = []
    for i, s in enumerate(data.get("sectors") or []):
        if "code" not in s:
            raise ConfigError(Msg("error.config.sector_code", path=p, i=i))
        sectors.append(Sector(s["code"], s.get("name", s["code"]), tuple(k.lower() for k in s.get("keywords") or ())))
    default = data.get("default", "lainnya")
    if default not in {s.code for s in sectors}:
        raise ConfigError(Msg("error.config.sector_default", path=p, value=repr(default)))
    return tuple(sectors), default


def load_sectors(config_dir: Path) -> tuple[tuple[Sector, ...], str]:
    """Load config/sectors.yml: the sectors in priority order and the default."""
    p = Path(config_dir) / "sectors.yml"
    return _load_sectors_cached(str(p), p.stat().st_mtime)



@dataclass(frozen=True)
class ExpectedDelivery:
    """One source a regency (None: the default for every regency without an entry) sends for every month, due by
    day `due_day` of the next month, from `first_month` (None: the first month it delivered)."""
    regency_code: str | None
    source: str
    due_day: int
    first_month: dt.date | None


CALENDAR_SOURCES = ("register", "contributions", "claims")


def _calendar(where: str, data, base: dict[str, int] | None = None) -> tuple[dict[str, int], dt.date | None]:
    """Read one `deliveries` mapping into ({source: due day}, first month); keys absent keep `base`."""
    if not isinstance(data, dict):
        raise ConfigError(Msg("error.config.calendar_mapping", where=where))
    unknown = set(data) - {"due_day", "sources", "from"}
    if unknown:
        raise ConfigError(Msg("error.config.calendar_unknown", where=where, keys=", ".join(sorted(unknown))))

    def day(key: str, v) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 31:
            raise ConfigError(Msg("error.config.calendar_day", where=where, key=key, value=repr(v)))
        return v

    base = dict(base or {})
    every = day("due_day", data["due_day"]) if "due_day" in data else next(iter(base.values()), 10)
    out = {s: every for s in base} if "due_day" in data else base
    if "sources" in data:
        sources = data["sources"]
        if isinstance(sources, list):
            sources = dict.fromkeys(sources)
        if not isinstance(sources, dict) or not sources:
            raise ConfigError(Msg("error.config.calendar_sources", where=where))
        for s in sources:
            if s not in CALENDAR_SOURCES:
                raise ConfigError(Msg("error.config.calendar_source", where=where, value=repr(s),
                                      sources=", ".join(CALENDAR_SOURCES)))
        out = {s: every if v is None else day(f"sources.{s}", v) for s, v in sources.items()}
    first = data.get("from")
    if first is not None:
        try:
            first = dt.date.fromisoformat(f"{str(first).strip()[:7]}-01")
        except ValueError:
            raise ConfigError(Msg("error.config.calendar_from", where=where, value=repr(first))) from None
    return out, first


def load_delivery_calendar(config_dir: Path) -> list[ExpectedDelivery]:
    """The default expected deliveries (config/deliveries.yml) and each configured regency's, its overrides applied."""
    path = Path(config_dir) / "deliveries.yml"
    data = _load_yaml(path) if path.exists() else {}
    default, first = _calendar(f"{path}: key 'default'", data.get("default") or {},
                               {"register": 10, "contributions": 10})
    if first is not None:
        raise ConfigError(Msg("error.config.calendar_default_from", path=path))
    out = [ExpectedDelivery(None, s, d, None) for s, d in default.items()]
    for reg in load_regencies(config_dir).values():
        raw = _load_yaml(reg.path).get("deliveries") if reg.path else None
        own, first = _calendar(f"{reg.path}: key 'deliveries'", raw or {}, default)
        out += [ExpectedDelivery(reg.code, s, d, first) for s, d in own.items()]
    return out
