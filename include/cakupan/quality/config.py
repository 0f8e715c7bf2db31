"""The gate's thresholds from config/gate.yml (horizon, promise ceiling, month-over-month drop, raw rules); errors
name the file and the key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cakupan.core.config import ConfigError
from cakupan.core.files import load_yaml

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
        raise ConfigError(f"{path}: key '{section}' must be a mapping of settings (found {part!r})")
    value = part.get(key)
    if value is None:
        return getattr(GateConfig(), _FIELDS.get(f"{section}.{key}", key))
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            (kind is int and not float(value).is_integer()) or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{path}: key '{section}.{key}' must be a {'whole ' if kind is int else ''}number "
                          f"{bound} (found {value!r})")
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
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    by_regency = (data.get("promise") or {}).get("ceiling_by_regency") or {}
    if not isinstance(by_regency, dict) or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in by_regency.values()):
        raise ConfigError(f"{path}: key 'promise.ceiling_by_regency' must map regency codes to whole numbers of "
                          "workers, e.g. {\"73.72\": 60000}")
    return GateConfig(
        months_ahead=_number(path, data, "horizon", "months_ahead", int, 0, 120),
        ceiling_workers=_number(path, data, "promise", "ceiling_workers", int, 1),
        ceiling_by_regency={str(k): int(v) for k, v in by_regency.items()},
        drop_max_ratio=_number(path, data, "drop", "max_ratio", float, 0, 1),
        drop_min_workers=_number(path, data, "drop", "min_workers", int, 0),
        paid_months_before_period=_number(path, data, "raw", "paid_months_before_period", int, 0, 600),
    )
