"""The gate's thresholds from config/gate.yml (horizon, promise ceiling, month-over-month drop, raw rules); errors
name the file and the key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cakupan.core.config import ConfigError
from cakupan.core.files import load_yaml
from cakupan.core.messages import Msg

GATE_FILE = "gate.yml"


@dataclass(frozen=True)
class GateConfig:
    months_ahead: int = 1
    ceiling_workers: int = 3_000_000
    ceiling_by_regency: dict[str, int] = field(default_factory=dict)
    drop_max_ratio: float = 0.5
    drop_min_workers: int = 10
    paid_months_before_period: int = 12

    def horizon(self, today: dt.date | None = None) -> dt.date:
        """The last month a delivery or a published month may be: the current month plus `months_ahead`."""
        today = today or dt.date.today()
        months = today.year * 12 + today.month - 1 + self.months_ahead
        return dt.date(months // 12, months % 12 + 1, 1)


def _number(path: Path, data: dict, section: str, key: str, kind, low: float, high: float | None = None):
    """The value of `section.key`, checked; a key left out keeps the default."""
    part = data.get(section) or {}
    if not isinstance(part, dict):
        raise ConfigError(Msg("error.config.section_mapping", path=path, key=section, value=repr(part)))
    value = part.get(key)
    if value is None:
        return getattr(GateConfig(), _FIELDS.get(f"{section}.{key}", key))
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            (kind is int and not float(value).is_integer()) or value < low or (high is not None and value > high):
        bound = Msg("error.config.between", low=low, high=high) if high is not None else Msg("error.config.at_least",
                                                                                               low=low)
        raise ConfigError(Msg("error.config.whole_number" if kind is int else "error.config.number", path=path,
                              key=f"{section}.{key}", bound=bound, value=repr(value)))
    return kind(value)


_FIELDS = {"drop.max_ratio": "drop_max_ratio", "drop.min_workers": "drop_min_workers"}


def load_gate_config(config_dir: Path) -> GateConfig:
    """Read config/gate.yml; without the file or a key, the defaults above."""
    path = Path(config_dir) / GATE_FILE
    if not path.is_file():
        return GateConfig()
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(Msg("error.config.not_yaml", path=path, error=exc)) from None
    if not isinstance(data, dict):
        raise ConfigError(Msg("error.config.not_mapping", path=path))
    by_regency = (data.get("promise") or {}).get("ceiling_by_regency") or {}
    if not isinstance(by_regency, dict) or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in by_regency.values()):
        raise ConfigError(Msg("error.config.ceiling", path=path))
    return GateConfig(
        months_ahead=_number(path, data, "horizon", "months_ahead", int, 0, 120),
        ceiling_workers=_number(path, data, "promise", "ceiling_workers", int, 1),
        ceiling_by_regency={str(k): int(v) for k, v in by_regency.items()},
        drop_max_ratio=_number(path, data, "drop", "max_ratio", float, 0, 1),
        drop_min_workers=_number(path, data, "drop", "min_workers", int, 0),
        paid_months_before_period=_number(path, data, "raw", "paid_months_before_period", int, 0, 600),
    )
